// MAPI's notification utility for service providers: what
// IMAPISupport::Subscribe, Unsubscribe and Notify do (imapisupport-
// subscribe.md, imapisupport-unsubscribe.md, imapisupport-notify.md,
// notifkey.md). Internal to src/mapi.
//
// Registrations are process-wide and found by their notification key, a
// binary-comparable byte string the provider chooses (notifkey.md: "a
// notification key ... should work across multiple processes"; here it
// works across the logons of this process), so a Notify through one logon's
// support object reaches the sinks subscribed through another.
#pragma once

#include "pstkit/mapi/mapidefs.h"
#include "pstkit/mapi_entry_id.h"

namespace pstkit::mapi::capi {

// Registers `sink` (AddRef'd; released by unsubscribe) for the events of
// `event_mask` on `key`, on behalf of `owner` (the support object). With
// `sync` (NOTIFY_SYNC) notify calls the sink before it returns; otherwise
// its notifications are queued to the delivery thread. *connection: a
// non-zero number unique in the process.
HRESULT support_subscribe(const void* owner, ByteView key, ULONG event_mask, bool sync, LPMAPIADVISESINK sink,
                          ULONG_PTR* connection);

// Cancels `owner`'s registration `connection` and releases its sink (a
// delivery under way keeps its own reference: imapisupport-unsubscribe.md
// "the Release call is delayed until the OnNotify method returns").
// MAPI_E_NOT_FOUND when `owner` has no such registration.
HRESULT support_unsubscribe(const void* owner, ULONG_PTR connection);

// Cancels every registration of `owner` (its logon ended), then waits for
// the queued deliveries to finish, so that none outlives the logon.
void support_unsubscribe_all(const void* owner);

// Sends the notifications to every sink registered for `key` whose mask has
// their event type: each sink gets, in one OnNotify call, a copy of the
// ones it asked for (MAPI memory, freed when OnNotify returns). `unicode`
// (MAPI_UNICODE): the strings in them are wide. A NOTIFY_SYNC sink is
// called now; if it returns CALLBACK_DISCONTINUE nothing more is sent and
// *canceled is set (notifcallback.md). MAPI_E_INVALID_PARAMETER for an
// event type or structure that cannot be copied.
HRESULT support_notify(ByteView key, ULONG count, const NOTIFICATION* notifications, bool unicode, bool* canceled);

}  // namespace pstkit::mapi::capi
