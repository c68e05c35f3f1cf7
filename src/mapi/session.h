// IMAPISession and MAPILogonEx over the session core (pstkit/mapi_session.h):
// the hooks through which the session reaches objects other parts of the
// runtime build. Internal to src/mapi.
//
// The session does not build store or profile administration objects
// itself: it calls the functions installed here (by default the runtime's
// own: com_admin.h, pst_store.h); tests install others. Without one, the
// method that needs it returns MAPI_E_NO_SUPPORT.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pstkit/mapi/mapispi.h"
#include "pstkit/mapi/mapix.h"
#include "pstkit/mapi_session.h"
#include "pstkit/mapi_table.h"

namespace pstkit::mapi::capi {

// The rows store provider logons give the session's status table through
// their support object's IMAPISupport::ModifyStatusRow (status-tables.md).
// While a logon has one, it stands in the table for the runtime's row of
// its provider (the columns MAPI computes stay the runtime's); it goes when
// the logon ends. One per IMAPISession object: the member that opened the
// store sees the row.
class ProviderStatusRows {
 public:
  struct Row {
    ProviderUid provider_uid{};     // the provider whose runtime row it stands for
    std::vector<PropValue> values;  // what the provider gave, one value per property ID
  };
  // A new row for `logon` (replacing its old one), or with `update`
  // (STATUSROW_UPDATE) the values merged into its row, by property ID.
  void set(const void* logon, const ProviderUid& provider_uid, std::vector<PropValue> values, bool update);
  // Forgets the logon's row and its IMSLogon (add_logon).
  void remove(const void* logon);
  // The rows, in the order their logons first set them.
  std::vector<Row> rows() const;

  // The IMSLogon of a store the provider opened (no reference taken: the
  // caller removes it before releasing it), through which the provider's
  // row of the status table opens (imslogon-openstatusentry.md).
  void add_logon(const void* logon, const ProviderUid& provider_uid, LPMSLOGON ms_logon);
  // The provider's first such IMSLogon with a reference for the caller, or
  // null.
  LPMSLOGON logon_of(const ProviderUid& provider_uid) const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<const void*, Row>> rows_;
  struct Logon {
    const void* key;
    ProviderUid provider_uid;
    LPMSLOGON ms_logon;
  };
  std::vector<Logon> logons_;
};

// What IMAPISession::OpenMsgStore (and OpenEntry/Advise for a store) asks
// the store provider to open. The session has checked the flags and found
// the store among its logged-on providers.
struct StoreOpenRequest {
  ULONG_PTR ui_param = 0;
  // OpenMsgStore's flags (MDB_NO_DIALOG, MDB_WRITE, MDB_TEMPORARY,
  // MDB_NO_MAIL, MDB_ONLINE, MAPI_BEST_ACCESS, MAPI_DEFERRED_ERRORS), with
  // MDB_WRITE dropped when MAPI_BEST_ACCESS fell back to read-only.
  ULONG flags = 0;
  LPCIID interface_id = nullptr;  // the caller's lpInterface (may be null)
  bool write = false;             // open for writing
  Bytes entry_id;                 // the store's PR_ENTRYID
  SessionProvider provider;       // the store provider: service, path, record key, display name
  std::string profile;
  LPMAPISESSION session = nullptr;  // the session opening it (no reference taken)
  // Where an opener may explain a failure (a provider's MAPIERROR), for
  // the session's GetLastError; may be null.
  std::string* error_detail = nullptr;
  // The session's provider status rows (ModifyStatusRow); may be null.
  std::shared_ptr<ProviderStatusRows> status_rows;
};
using StoreOpener = std::function<HRESULT(const StoreOpenRequest&, LPMDB*)>;
// Installs the function that opens stores (an empty one removes it);
// returns the previous one. Thread-safe.
StoreOpener set_store_opener(StoreOpener opener);

// IMAPISession::AdminServices: an IMsgServiceAdmin over the session's
// profile (`profile`, the name at logon; `profile_id` survives renames).
// `flags` are the session's MAPILogonEx flags (MAPI_LOGON_UI lets the
// service administration prompt). By default com_admin.h's objects.
using AdminServicesHook =
    std::function<HRESULT(const std::string& profile, const std::string& profile_id, ULONG flags, LPSERVICEADMIN*)>;
AdminServicesHook set_admin_services_hook(AdminServicesHook hook);

// IMAPISession::OpenProfileSection: the section `uid` of the session's
// profile. By default com_admin.h's IProfSect.
using ProfileSectionHook = std::function<HRESULT(const std::string& profile, const std::string& profile_id,
                                                 const MAPIUID& uid, LPCIID interface_id, ULONG flags, LPPROFSECT*)>;
ProfileSectionHook set_profile_section_hook(ProfileSectionHook hook);

}  // namespace pstkit::mapi::capi
