// The profile core's own tag and flag constants (pstkit/mapi_profiles.h)
// against pstkit's MAPI headers, and the catalog's names against mapitags.h.
// Apart from mapi_profiles_test.cpp: mapinix.h's LOCK_WRITE clashes with
// <sys/file.h>, which that test needs.
#include <gtest/gtest.h>

#include "mapitags.h"
#include "mapix.h"
#include "mspst.h"
#include "pstkit/mapi_profiles.h"

namespace pstkit::mapi {
namespace {

TEST(MapiProfilesTest, TagsAndFlagsMatchTheMapiHeaders) {
  EXPECT_EQ(tags::kDisplayName, static_cast<uint32_t>(PR_DISPLAY_NAME_W));
  EXPECT_EQ(tags::kProviderDisplay, static_cast<uint32_t>(PR_PROVIDER_DISPLAY_W));
  EXPECT_EQ(tags::kResourceFlags, static_cast<uint32_t>(PR_RESOURCE_FLAGS));
  EXPECT_EQ(tags::kProviderDllName, static_cast<uint32_t>(PR_PROVIDER_DLL_NAME_W));
  EXPECT_EQ(tags::kProviderUid, static_cast<uint32_t>(PR_PROVIDER_UID));
  EXPECT_EQ(tags::kProviderOrdinal, static_cast<uint32_t>(PR_PROVIDER_ORDINAL));
  EXPECT_EQ(tags::kMdbProvider, static_cast<uint32_t>(PR_MDB_PROVIDER));
  EXPECT_EQ(tags::kServiceName, static_cast<uint32_t>(PR_SERVICE_NAME_W));
  EXPECT_EQ(tags::kServiceDllName, static_cast<uint32_t>(PR_SERVICE_DLL_NAME_W));
  EXPECT_EQ(tags::kServiceEntryName, static_cast<uint32_t>(PR_SERVICE_ENTRY_NAME));
  EXPECT_EQ(tags::kServiceUid, static_cast<uint32_t>(PR_SERVICE_UID));
  EXPECT_EQ(tags::kServiceSupportFiles, static_cast<uint32_t>(PR_SERVICE_SUPPORT_FILES_W));
  EXPECT_EQ(tags::kServiceDeleteFiles, static_cast<uint32_t>(PR_SERVICE_DELETE_FILES_W));
  EXPECT_EQ(tags::kResourceType, static_cast<uint32_t>(PR_RESOURCE_TYPE));
  EXPECT_EQ(tags::kPstPath, static_cast<uint32_t>(PR_PST_PATH_W));
  EXPECT_EQ(tags::kPstRememberPw, static_cast<uint32_t>(PR_PST_REMEMBER_PW));
  EXPECT_EQ(tags::kPstEncryption, static_cast<uint32_t>(PR_PST_ENCRYPTION));
  EXPECT_EQ(tags::kPstConfigFlags, static_cast<uint32_t>(PR_PST_CONFIG_FLAGS));
  EXPECT_EQ(kServiceSingleCopy, static_cast<uint32_t>(SERVICE_SINGLE_COPY));
  EXPECT_EQ(kServiceDefaultStore, static_cast<uint32_t>(SERVICE_DEFAULT_STORE));
  EXPECT_EQ(kMapiStoreProvider, static_cast<uint32_t>(MAPI_STORE_PROVIDER));
  EXPECT_EQ(kMapiAbProvider, static_cast<uint32_t>(MAPI_AB_PROVIDER));
  EXPECT_EQ(kMapiTransportProvider, static_cast<uint32_t>(MAPI_TRANSPORT_PROVIDER));
  EXPECT_EQ(kPstConfigUnicode, static_cast<uint32_t>(PST_CONFIG_UNICODE));
  EXPECT_EQ(kPstConfigCreateNowarn, static_cast<uint32_t>(PST_CONFIG_CREATE_NOWARN));
  // Every name the catalog accepts resolves to the header's tag.
  EXPECT_EQ(*parse_tag_name("PR_PST_PATH_A"), static_cast<uint32_t>(PR_PST_PATH_A));
  EXPECT_EQ(*parse_tag_name("PR_PST_PATH_HINT"), static_cast<uint32_t>(PR_PST_PATH_HINT_W));
  EXPECT_EQ(*parse_tag_name("PR_SERVICE_DELETE_FILES_A"), static_cast<uint32_t>(PR_SERVICE_DELETE_FILES_A));
  EXPECT_EQ(*parse_tag_name("PR_PROFILE_NAME"), static_cast<uint32_t>(PR_PROFILE_NAME_W));
  EXPECT_EQ(*parse_tag_name("PR_RESOURCE_PATH"), static_cast<uint32_t>(PR_RESOURCE_PATH_W));
  EXPECT_EQ(*parse_tag_name("PR_IDENTITY_DISPLAY"), static_cast<uint32_t>(PR_IDENTITY_DISPLAY_W));
  EXPECT_EQ(*parse_tag_name("PR_IDENTITY_ENTRYID"), static_cast<uint32_t>(PR_IDENTITY_ENTRYID));
  EXPECT_EQ(*parse_tag_name("PR_PST_PW_SZ_OLD"), static_cast<uint32_t>(PR_PST_PW_SZ_OLD_W));
  EXPECT_EQ(*parse_tag_name("PR_PST_PW_SZ_NEW"), static_cast<uint32_t>(PR_PST_PW_SZ_NEW_W));
  EXPECT_FALSE(parse_tag_name("PR_SERVICE_ENTRY_NAME_W").is_ok());  // 8-bit only
  EXPECT_EQ(tag_display_name(PR_PST_PATH_A), "PR_PST_PATH_A");
  EXPECT_EQ(tag_display_name(PR_PST_PATH_W), "PR_PST_PATH_W");
  EXPECT_EQ(tag_display_name(0x66000003), "0x66000003");
}

}  // namespace
}  // namespace pstkit::mapi
