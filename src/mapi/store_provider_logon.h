// Stores of third-party store providers (loaded from their libraries
// through MSProviderInit): IMSProvider::Logon with a support object
// (IMAPISupport) per store. docs/MAPI.md "Store providers from libraries".
// Internal to src/mapi.
#pragma once

#include <string>

#include "mapi/session.h"

namespace pstkit::mapi::capi {

// Opens the store of `request.provider`, a store provider loaded from a
// library, through its IMSProvider::Logon (imsprovider-logon.md). On
// failure returns the provider's error and sets *error to what its
// MAPIERROR said ("" when it gave none). MAPI_E_NO_SUPPORT when the
// provider was not loaded from a library.
HRESULT logon_library_store(const StoreOpenRequest& request, LPMDB* out, std::string* error);

}  // namespace pstkit::mapi::capi
