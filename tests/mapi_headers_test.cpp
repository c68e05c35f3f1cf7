// The MAPI compatibility headers (include/pstkit/mapi): documented values,
// Windows-sized types and layouts, COM vtable order, and every generated
// PR_* tag against pstkit's own [MS-OXPROPS] table.
//
// Expected values are tables written from the documents named in each group
// ([ODC:page] = docs/outlook/mapi/page.md of MicrosoftDocs/office-developer-
// client-docs @eedbd61; [NOTES §x] = /work/shared/reference/
// mapi-and-scanpst-notes.md, [ANCHORS §x] = mapi-runtime-anchors.md), not
// copied from the headers under test.
#include <mapiutil.h>
#include <mspst.h>

#include "pstkit/property_names.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

namespace {

// ---- Base types on LP64 ([MS-DTYP] 2.2; mapinix.h) -------------------------
static_assert(sizeof(ULONG) == 4 && sizeof(DWORD) == 4 && sizeof(LONG) == 4);
static_assert(std::is_unsigned_v<ULONG> && std::is_signed_v<LONG>);
static_assert(sizeof(HRESULT) == 4 && sizeof(SCODE) == 4 && std::is_signed_v<HRESULT>);
static_assert(sizeof(BOOL) == 4 && sizeof(BYTE) == 1 && sizeof(WORD) == 2);
static_assert(sizeof(ULONG_PTR) == sizeof(void*));
static_assert(std::is_same_v<LPWSTR, wchar_t*>, "L\"...\" literals must convert to LPWSTR");
static_assert(std::is_same_v<LPSTR, char*>);
#ifdef UNICODE
static_assert(std::is_same_v<LPTSTR, LPWSTR>);
#else
static_assert(std::is_same_v<LPTSTR, LPSTR>);
#endif
static_assert(sizeof(GUID) == 16 && offsetof(GUID, Data2) == 4 && offsetof(GUID, Data4) == 8);
static_assert(sizeof(FILETIME) == 8 && sizeof(LARGE_INTEGER) == 8 && sizeof(CURRENCY) == 8);
static_assert(sizeof(MAPIUID) == 16);

TEST(MapiHeadersTypes, HresultMacrosFollowTheSeverityBit) {
  EXPECT_TRUE(SUCCEEDED(S_OK));
  EXPECT_TRUE(SUCCEEDED(MAPI_W_ERRORS_RETURNED));  // a warning is a success
  EXPECT_TRUE(FAILED(MAPI_E_NOT_FOUND));
  EXPECT_TRUE(HR_FAILED(MAPI_E_CALL_FAILED));
  EXPECT_FALSE(HR_FAILED(MAPI_W_PARTIAL_COMPLETION));
  EXPECT_EQ(MAKE_HRESULT(1, FACILITY_ITF, 0x10F), MAPI_E_NOT_FOUND);
  EXPECT_EQ(MAKE_SCODE(0, FACILITY_ITF, 0x380), MAPI_W_ERRORS_RETURNED);
  EXPECT_EQ(SCODE_CODE(MAPI_E_NO_SUPPORT), 0x102);
  EXPECT_EQ(HRESULT_FACILITY(MAPI_E_NO_SUPPORT), FACILITY_ITF);
  EXPECT_EQ(HRESULT_SEVERITY(MAPI_E_NO_SUPPORT), 1u);
  EXPECT_EQ(GetScode(ResultFromScode(MAPI_E_TIMEOUT)), MAPI_E_TIMEOUT);
}

TEST(MapiHeadersTypes, LargeIntegerHasWindowsMembers) {
  LARGE_INTEGER li{};
  li.QuadPart = -2;
  EXPECT_EQ(li.LowPart, 0xFFFFFFFEu);
  EXPECT_EQ(li.HighPart, -1);
  EXPECT_EQ(li.u.LowPart, 0xFFFFFFFEu);
  CURRENCY cy{};
  cy.int64 = 0x0000000100000002LL;
  EXPECT_EQ(cy.Lo, 2u);
  EXPECT_EQ(cy.Hi, 1);
}

// ---- Error codes: [NOTES §C] (MAPICode.h values), [MS-OXCDATA] 2.4,
//      [ODC:mapi-constants] for RECONNECTED/OFFLINE/END_OF_SESSION -----------
struct Code {
  const char* name;
  HRESULT value;
  uint32_t expected;
};
const Code kCodes[] = {
    {"S_OK", S_OK, 0x00000000},
    {"MAPI_E_CALL_FAILED", MAPI_E_CALL_FAILED, 0x80004005},
    {"MAPI_E_NOT_ENOUGH_MEMORY", MAPI_E_NOT_ENOUGH_MEMORY, 0x8007000E},
    {"MAPI_E_INVALID_PARAMETER", MAPI_E_INVALID_PARAMETER, 0x80070057},
    {"MAPI_E_INTERFACE_NOT_SUPPORTED", MAPI_E_INTERFACE_NOT_SUPPORTED, 0x80004002},
    {"MAPI_E_NO_ACCESS", MAPI_E_NO_ACCESS, 0x80070005},
    {"MAPI_E_NO_SUPPORT", MAPI_E_NO_SUPPORT, 0x80040102},
    {"MAPI_E_BAD_CHARWIDTH", MAPI_E_BAD_CHARWIDTH, 0x80040103},
    {"MAPI_E_STRING_TOO_LONG", MAPI_E_STRING_TOO_LONG, 0x80040105},
    {"MAPI_E_UNKNOWN_FLAGS", MAPI_E_UNKNOWN_FLAGS, 0x80040106},
    {"MAPI_E_INVALID_ENTRYID", MAPI_E_INVALID_ENTRYID, 0x80040107},
    {"MAPI_E_INVALID_OBJECT", MAPI_E_INVALID_OBJECT, 0x80040108},
    {"MAPI_E_OBJECT_CHANGED", MAPI_E_OBJECT_CHANGED, 0x80040109},
    {"MAPI_E_OBJECT_DELETED", MAPI_E_OBJECT_DELETED, 0x8004010A},
    {"MAPI_E_BUSY", MAPI_E_BUSY, 0x8004010B},
    {"MAPI_E_NOT_ENOUGH_DISK", MAPI_E_NOT_ENOUGH_DISK, 0x8004010D},
    {"MAPI_E_NOT_ENOUGH_RESOURCES", MAPI_E_NOT_ENOUGH_RESOURCES, 0x8004010E},
    {"MAPI_E_NOT_FOUND", MAPI_E_NOT_FOUND, 0x8004010F},
    {"MAPI_E_VERSION", MAPI_E_VERSION, 0x80040110},
    {"MAPI_E_LOGON_FAILED", MAPI_E_LOGON_FAILED, 0x80040111},
    {"MAPI_E_SESSION_LIMIT", MAPI_E_SESSION_LIMIT, 0x80040112},
    {"MAPI_E_USER_CANCEL", MAPI_E_USER_CANCEL, 0x80040113},
    {"MAPI_E_UNABLE_TO_ABORT", MAPI_E_UNABLE_TO_ABORT, 0x80040114},
    {"MAPI_E_NETWORK_ERROR", MAPI_E_NETWORK_ERROR, 0x80040115},
    {"MAPI_E_DISK_ERROR", MAPI_E_DISK_ERROR, 0x80040116},
    {"MAPI_E_TOO_COMPLEX", MAPI_E_TOO_COMPLEX, 0x80040117},
    {"MAPI_E_BAD_COLUMN", MAPI_E_BAD_COLUMN, 0x80040118},
    {"MAPI_E_EXTENDED_ERROR", MAPI_E_EXTENDED_ERROR, 0x80040119},
    {"MAPI_E_COMPUTED", MAPI_E_COMPUTED, 0x8004011A},
    {"MAPI_E_CORRUPT_DATA", MAPI_E_CORRUPT_DATA, 0x8004011B},
    {"MAPI_E_UNCONFIGURED", MAPI_E_UNCONFIGURED, 0x8004011C},
    {"MAPI_E_FAILONEPROVIDER", MAPI_E_FAILONEPROVIDER, 0x8004011D},
    {"MAPI_E_UNKNOWN_CPID", MAPI_E_UNKNOWN_CPID, 0x8004011E},
    {"MAPI_E_UNKNOWN_LCID", MAPI_E_UNKNOWN_LCID, 0x8004011F},
    {"MAPI_E_PASSWORD_CHANGE_REQUIRED", MAPI_E_PASSWORD_CHANGE_REQUIRED, 0x80040120},
    {"MAPI_E_PASSWORD_EXPIRED", MAPI_E_PASSWORD_EXPIRED, 0x80040121},
    {"MAPI_E_INVALID_WORKSTATION_ACCOUNT", MAPI_E_INVALID_WORKSTATION_ACCOUNT, 0x80040122},
    {"MAPI_E_INVALID_ACCESS_TIME", MAPI_E_INVALID_ACCESS_TIME, 0x80040123},
    {"MAPI_E_ACCOUNT_DISABLED", MAPI_E_ACCOUNT_DISABLED, 0x80040124},
    {"MAPI_E_RECONNECTED", MAPI_E_RECONNECTED, 0x80040125},
    {"MAPI_E_OFFLINE", MAPI_E_OFFLINE, 0x80040126},
    {"MAPI_E_END_OF_SESSION", MAPI_E_END_OF_SESSION, 0x80040200},
    {"MAPI_E_UNKNOWN_ENTRYID", MAPI_E_UNKNOWN_ENTRYID, 0x80040201},
    {"MAPI_E_MISSING_REQUIRED_COLUMN", MAPI_E_MISSING_REQUIRED_COLUMN, 0x80040202},
    {"MAPI_W_NO_SERVICE", MAPI_W_NO_SERVICE, 0x00040203},
    {"MAPI_E_BAD_VALUE", MAPI_E_BAD_VALUE, 0x80040301},
    {"MAPI_E_INVALID_TYPE", MAPI_E_INVALID_TYPE, 0x80040302},
    {"MAPI_E_TYPE_NO_SUPPORT", MAPI_E_TYPE_NO_SUPPORT, 0x80040303},
    {"MAPI_E_UNEXPECTED_TYPE", MAPI_E_UNEXPECTED_TYPE, 0x80040304},
    {"MAPI_E_TOO_BIG", MAPI_E_TOO_BIG, 0x80040305},
    {"MAPI_E_DECLINE_COPY", MAPI_E_DECLINE_COPY, 0x80040306},
    {"MAPI_E_UNEXPECTED_ID", MAPI_E_UNEXPECTED_ID, 0x80040307},
    {"MAPI_W_ERRORS_RETURNED", MAPI_W_ERRORS_RETURNED, 0x00040380},
    {"MAPI_E_UNABLE_TO_COMPLETE", MAPI_E_UNABLE_TO_COMPLETE, 0x80040400},
    {"MAPI_E_TIMEOUT", MAPI_E_TIMEOUT, 0x80040401},
    {"MAPI_E_TABLE_EMPTY", MAPI_E_TABLE_EMPTY, 0x80040402},
    {"MAPI_E_TABLE_TOO_BIG", MAPI_E_TABLE_TOO_BIG, 0x80040403},
    {"MAPI_E_INVALID_BOOKMARK", MAPI_E_INVALID_BOOKMARK, 0x80040405},
    {"MAPI_W_POSITION_CHANGED", MAPI_W_POSITION_CHANGED, 0x00040481},
    {"MAPI_W_APPROX_COUNT", MAPI_W_APPROX_COUNT, 0x00040482},
    {"MAPI_E_WAIT", MAPI_E_WAIT, 0x80040500},
    {"MAPI_E_CANCEL", MAPI_E_CANCEL, 0x80040501},
    {"MAPI_E_NOT_ME", MAPI_E_NOT_ME, 0x80040502},
    {"MAPI_W_CANCEL_MESSAGE", MAPI_W_CANCEL_MESSAGE, 0x00040580},
    {"MAPI_E_CORRUPT_STORE", MAPI_E_CORRUPT_STORE, 0x80040600},
    {"MAPI_E_NOT_IN_QUEUE", MAPI_E_NOT_IN_QUEUE, 0x80040601},
    {"MAPI_E_NO_SUPPRESS", MAPI_E_NO_SUPPRESS, 0x80040602},
    {"MAPI_E_COLLISION", MAPI_E_COLLISION, 0x80040604},
    {"MAPI_E_NOT_INITIALIZED", MAPI_E_NOT_INITIALIZED, 0x80040605},
    {"MAPI_E_NON_STANDARD", MAPI_E_NON_STANDARD, 0x80040606},
    {"MAPI_E_NO_RECIPIENTS", MAPI_E_NO_RECIPIENTS, 0x80040607},
    {"MAPI_E_SUBMITTED", MAPI_E_SUBMITTED, 0x80040608},
    {"MAPI_E_HAS_FOLDERS", MAPI_E_HAS_FOLDERS, 0x80040609},
    {"MAPI_E_HAS_MESSAGES", MAPI_E_HAS_MESSAGES, 0x8004060A},
    {"MAPI_E_FOLDER_CYCLE", MAPI_E_FOLDER_CYCLE, 0x8004060B},
    {"MAPI_W_PARTIAL_COMPLETION", MAPI_W_PARTIAL_COMPLETION, 0x00040680},
    {"MAPI_E_AMBIGUOUS_RECIP", MAPI_E_AMBIGUOUS_RECIP, 0x80040700},
    {"E_FAIL", E_FAIL, 0x80004005},
    {"E_NOTIMPL", E_NOTIMPL, 0x80004001},
    {"E_NOINTERFACE", E_NOINTERFACE, 0x80004002},
    {"E_OUTOFMEMORY", E_OUTOFMEMORY, 0x8007000E},
    {"E_INVALIDARG", E_INVALIDARG, 0x80070057},
    {"E_ACCESSDENIED", E_ACCESSDENIED, 0x80070005},
    {"E_UNEXPECTED", E_UNEXPECTED, 0x8000FFFF},
};

TEST(MapiHeadersCodes, EveryCodeHasItsDocumentedValue) {
  for (const Code& c : kCodes) EXPECT_EQ(static_cast<uint32_t>(c.value), c.expected) << c.name;
}

// ---- Flags ------------------------------------------------------------------
struct Flag {
  const char* name;
  uint32_t value;
  uint32_t expected;
};
#define FLAG(name, expected) \
  { #name, static_cast<uint32_t>(name), expected }

// MAPILogonEx, MAPIInitialize, Logoff: [ODC:mapilogonex], [ANCHORS §7.1],
// [ODC:mapi-constants] (MAPI_BG_SESSION).
const Flag kLogonFlags[] = {
    FLAG(MAPI_LOGON_UI, 0x00000001),         FLAG(MAPI_NEW_SESSION, 0x00000002),
    FLAG(MAPI_APP_PROFILE, 0x00000004),      FLAG(MAPI_ALLOW_OTHERS, 0x00000008),
    FLAG(MAPI_EXPLICIT_PROFILE, 0x00000010), FLAG(MAPI_EXTENDED, 0x00000020),
    FLAG(MAPI_USE_DEFAULT, 0x00000040),      FLAG(MAPI_FORCE_DOWNLOAD, 0x00001000),
    FLAG(MAPI_SERVICE_UI_ALWAYS, 0x00002000), FLAG(MAPI_NO_MAIL, 0x00008000),
    FLAG(MAPI_NT_SERVICE, 0x00010000),       FLAG(MAPI_PASSWORD_UI, 0x00020000),
    FLAG(MAPI_TIMEOUT_SHORT, 0x00100000),    FLAG(MAPI_BG_SESSION, 0x00200000),
    FLAG(MAPI_UNICODE, 0x80000000),          FLAG(MAPI_MULTITHREAD_NOTIFICATIONS, 0x00000001),
    FLAG(MAPI_NO_COINIT, 0x00000008),        FLAG(MAPI_INIT_VERSION, 0),
    FLAG(MAPI_LOGOFF_SHARED, 0x00000001),    FLAG(MAPI_LOGOFF_UI, 0x00000002),
    FLAG(MAPI_SIMPLE_DEFAULT, 0x00001009),   FLAG(MAPI_SIMPLE_EXPLICIT, 0x00001012),
};

// Object model flags: [NOTES §C] (OpenMsgStore, SetDefaultStore, profile
// administration) and [NOTES §D] (IMsgStore, IMAPIFolder, IMessage,
// IMAPIProp, IMAPITable, notifications); [ODC:mapi-constants].
const Flag kObjectFlags[] = {
    FLAG(MAPI_MODIFY, 0x1), FLAG(MAPI_DEFERRED_ERRORS, 0x8), FLAG(MAPI_BEST_ACCESS, 0x10),
    FLAG(MAPI_CREATE, 0x2), FLAG(MAPI_ASSOCIATED, 0x40), FLAG(STREAM_APPEND, 0x4),
    FLAG(MAPI_NO_STRINGS, 0x1), FLAG(MAPI_NO_IDS, 0x2), FLAG(MNID_ID, 0), FLAG(MNID_STRING, 1),
    FLAG(MDB_NO_DIALOG, 0x1), FLAG(MDB_WRITE, 0x4), FLAG(MDB_TEMPORARY, 0x20), FLAG(MDB_NO_MAIL, 0x80),
    FLAG(MDB_ONLINE, 0x100), FLAG(MAPI_DEFAULT_STORE, 1), FLAG(MAPI_SIMPLE_STORE_TEMPORARY, 2),
    FLAG(MAPI_SIMPLE_STORE_PERMANENT, 3), FLAG(MAPI_PRIMARY_STORE, 4), FLAG(MAPI_SECONDARY_STORE, 5),
    FLAG(MAPI_DEFAULT_SERVICES, 0x1), FLAG(MAPI_DIALOG, 0x8), FLAG(SERVICE_UI_ALWAYS, 0x2),
    FLAG(SERVICE_UI_ALLOWED, 0x10), FLAG(MSG_SERVICE_UI_READ_ONLY, 0x8), FLAG(SERVICE_LOGON_FAILED, 0x20),
    FLAG(SERVICE_NO_RESTART_WARNING, 0x80), FLAG(SERVICE_DEFAULT_STORE, 0x1), FLAG(SERVICE_SINGLE_COPY, 0x2),
    FLAG(SERVICE_CREATE_WITH_STORE, 0x4), FLAG(SERVICE_PRIMARY_IDENTITY, 0x8),
    FLAG(SERVICE_NO_PRIMARY_IDENTITY, 0x20),
    // IMsgStore
    FLAG(STORE_ENTRYID_UNIQUE, 0x1), FLAG(STORE_READONLY, 0x2), FLAG(STORE_SEARCH_OK, 0x4),
    FLAG(STORE_MODIFY_OK, 0x8), FLAG(STORE_CREATE_OK, 0x10), FLAG(STORE_ATTACH_OK, 0x20),
    FLAG(STORE_OLE_OK, 0x40), FLAG(STORE_SUBMIT_OK, 0x80), FLAG(STORE_NOTIFY_OK, 0x100),
    FLAG(STORE_MV_PROPS_OK, 0x200), FLAG(STORE_CATEGORIZE_OK, 0x400), FLAG(STORE_RTF_OK, 0x800),
    FLAG(STORE_RESTRICTION_OK, 0x1000), FLAG(STORE_SORT_OK, 0x2000), FLAG(STORE_PUBLIC_FOLDERS, 0x4000),
    FLAG(STORE_UNCOMPRESSED_RTF, 0x8000), FLAG(STORE_UNICODE_OK, 0x40000), FLAG(STORE_ITEMPROC, 0x200000),
    FLAG(STORE_HAS_SEARCHES, 0x01000000), FLAG(FOLDER_IPM_SUBTREE_VALID, 0x1), FLAG(FOLDER_IPM_INBOX_VALID, 0x2),
    FLAG(FOLDER_IPM_OUTBOX_VALID, 0x4), FLAG(FOLDER_IPM_WASTEBASKET_VALID, 0x8),
    FLAG(FOLDER_IPM_SENTMAIL_VALID, 0x10), FLAG(FOLDER_VIEWS_VALID, 0x20), FLAG(FOLDER_COMMON_VIEWS_VALID, 0x40),
    FLAG(FOLDER_FINDER_VALID, 0x80), FLAG(LOGOFF_NO_WAIT, 0x1), FLAG(LOGOFF_ORDERLY, 0x2),
    FLAG(LOGOFF_PURGE, 0x4), FLAG(LOGOFF_ABORT, 0x8), FLAG(LOGOFF_QUIET, 0x10), FLAG(LOGOFF_COMPLETE, 0x10000),
    FLAG(LOGOFF_INBOUND, 0x20000), FLAG(LOGOFF_OUTBOUND, 0x40000), FLAG(LOGOFF_OUTBOUND_QUEUE, 0x80000),
    FLAG(MSG_LOCKED, 1), FLAG(MSG_UNLOCKED, 0),
    // IMAPIFolder
    FLAG(FOLDER_ROOT, 0), FLAG(FOLDER_GENERIC, 1), FLAG(FOLDER_SEARCH, 2), FLAG(OPEN_IF_EXISTS, 0x1),
    FLAG(MESSAGE_MOVE, 0x1), FLAG(MESSAGE_DIALOG, 0x2), FLAG(MAPI_DECLINE_OK, 0x4), FLAG(FOLDER_MOVE, 0x1),
    FLAG(FOLDER_DIALOG, 0x2), FLAG(COPY_SUBFOLDERS, 0x10), FLAG(DEL_MESSAGES, 0x1), FLAG(DEL_FOLDERS, 0x4),
    FLAG(DEL_ASSOCIATED, 0x8), FLAG(MSGSTATUS_HIGHLIGHTED, 1), FLAG(MSGSTATUS_TAGGED, 2),
    FLAG(MSGSTATUS_HIDDEN, 4), FLAG(MSGSTATUS_DELMARKED, 8), FLAG(MSGSTATUS_REMOTE_DOWNLOAD, 0x1000),
    FLAG(MSGSTATUS_REMOTE_DELETE, 0x2000), FLAG(RECURSIVE_SORT, 0x2),
    // IMessage
    FLAG(MODRECIP_ADD, 0x2), FLAG(MODRECIP_MODIFY, 0x4), FLAG(MODRECIP_REMOVE, 0x8), FLAG(FORCE_SUBMIT, 0x1),
    FLAG(SUPPRESS_RECEIPT, 0x1), FLAG(CLEAR_READ_FLAG, 0x4), FLAG(GENERATE_RECEIPT_ONLY, 0x10),
    FLAG(CLEAR_RN_PENDING, 0x20), FLAG(CLEAR_NRN_PENDING, 0x40), FLAG(MSGFLAG_READ, 0x1),
    FLAG(MSGFLAG_UNMODIFIED, 0x2), FLAG(MSGFLAG_SUBMIT, 0x4), FLAG(MSGFLAG_UNSENT, 0x8),
    FLAG(MSGFLAG_HASATTACH, 0x10), FLAG(MSGFLAG_FROMME, 0x20), FLAG(MSGFLAG_ASSOCIATED, 0x40),
    FLAG(MSGFLAG_RESEND, 0x80), FLAG(MSGFLAG_RN_PENDING, 0x100), FLAG(MSGFLAG_NRN_PENDING, 0x200),
    FLAG(SUBMITFLAG_LOCKED, 0x1), FLAG(SUBMITFLAG_PREPROCESS, 0x2), FLAG(NO_ATTACHMENT, 0),
    FLAG(ATTACH_BY_VALUE, 1), FLAG(ATTACH_EMBEDDED_MSG, 5), FLAG(ATTACH_OLE, 6), FLAG(ATTACH_BY_WEBREFERENCE, 7),
    // IMAPIProp::SaveChanges
    FLAG(KEEP_OPEN_READONLY, 0x1), FLAG(KEEP_OPEN_READWRITE, 0x2), FLAG(FORCE_SAVE, 0x4),
    FLAG(SPAMFILTER_ONSAVE, 0x80), FLAG(ITEMPROC_FORCE, 0x800), FLAG(NON_EMS_XP_SAVE, 0x1000),
    // Object types
    FLAG(MAPI_STORE, 1), FLAG(MAPI_ADDRBOOK, 2), FLAG(MAPI_FOLDER, 3), FLAG(MAPI_ABCONT, 4),
    FLAG(MAPI_MESSAGE, 5), FLAG(MAPI_MAILUSER, 6), FLAG(MAPI_ATTACH, 7), FLAG(MAPI_DISTLIST, 8),
    FLAG(MAPI_PROFSECT, 9), FLAG(MAPI_STATUS, 0xA), FLAG(MAPI_SESSION, 0xB), FLAG(MAPI_FORMINFO, 0xC),
    // IMAPITable
    FLAG(BOOKMARK_BEGINNING, 0), FLAG(BOOKMARK_CURRENT, 1), FLAG(BOOKMARK_END, 2), FLAG(TBL_ASYNC, 1),
    FLAG(TBL_BATCH, 2), FLAG(TBL_NOADVANCE, 1), FLAG(DIR_BACKWARD, 1), FLAG(TBL_ALL_COLUMNS, 1),
    FLAG(TABLE_SORT_ASCEND, 0), FLAG(TABLE_SORT_DESCEND, 1), FLAG(TABLE_SORT_COMBINE, 2),
    FLAG(TABLE_SORT_CATEG_MAX, 4), FLAG(TABLE_SORT_CATEG_MIN, 8), FLAG(RES_AND, 0), FLAG(RES_OR, 1),
    FLAG(RES_NOT, 2), FLAG(RES_CONTENT, 3), FLAG(RES_PROPERTY, 4), FLAG(RES_COMPAREPROPS, 5),
    FLAG(RES_BITMASK, 6), FLAG(RES_SIZE, 7), FLAG(RES_EXIST, 8), FLAG(RES_SUBRESTRICTION, 9),
    FLAG(RES_COMMENT, 0xA), FLAG(RES_COUNT, 0xB), FLAG(RES_ANNOTATION, 0xC), FLAG(RELOP_LT, 0),
    FLAG(RELOP_LE, 1), FLAG(RELOP_GT, 2), FLAG(RELOP_GE, 3), FLAG(RELOP_EQ, 4), FLAG(RELOP_NE, 5),
    FLAG(RELOP_RE, 6), FLAG(FL_FULLSTRING, 0), FLAG(FL_SUBSTRING, 1), FLAG(FL_PREFIX, 2),
    FLAG(FL_IGNORECASE, 0x10000), FLAG(FL_IGNORENONSPACE, 0x20000), FLAG(FL_LOOSE, 0x40000),
    FLAG(BMR_EQZ, 0), FLAG(BMR_NEZ, 1), FLAG(TBLSTAT_COMPLETE, 0), FLAG(TBLSTAT_QCHANGED, 7),
    FLAG(TBLSTAT_SORTING, 9), FLAG(TBLSTAT_SORT_ERROR, 10), FLAG(TBLSTAT_SETTING_COLS, 11),
    FLAG(TABLE_CHANGED, 1), FLAG(TABLE_ERROR, 2), FLAG(TABLE_ROW_ADDED, 3), FLAG(TABLE_ROW_DELETED, 4),
    FLAG(TABLE_ROW_MODIFIED, 5), FLAG(TABLE_SORT_DONE, 6), FLAG(TABLE_RESTRICT_DONE, 7),
    FLAG(TABLE_SETCOL_DONE, 8), FLAG(TABLE_RELOAD, 9),
    // Notifications
    FLAG(fnevCriticalError, 0x1), FLAG(fnevNewMail, 0x2), FLAG(fnevObjectCreated, 0x4),
    FLAG(fnevObjectDeleted, 0x8), FLAG(fnevObjectModified, 0x10), FLAG(fnevObjectMoved, 0x20),
    FLAG(fnevObjectCopied, 0x40), FLAG(fnevSearchComplete, 0x80), FLAG(fnevTableModified, 0x100),
    FLAG(fnevStatusObjectModified, 0x200), FLAG(fnevExtended, 0x80000000), FLAG(fnevIndexing, 0x00010000),
};

// PST service: [ODC:pidtagpstconfigurationflags-canonical-property] and the
// other pidtagpst*-canonical-property pages; [ANCHORS §7.3] for
// PR_PST_ENCRYPTION and PR_PST_CONFIG_FLAGS as MFCMAPI sets them.
const Flag kPstFlags[] = {
    FLAG(PR_PST_PATH_A, 0x6700001E),      FLAG(PR_PST_PATH_W, 0x6700001F),
    FLAG(PR_PST_REMEMBER_PW, 0x6701000B), FLAG(PR_PST_ENCRYPTION, 0x67020003),
    FLAG(PR_PST_PW_SZ_OLD_A, 0x6703001E), FLAG(PR_PST_PW_SZ_OLD_W, 0x6703001F),
    FLAG(PR_PST_PW_SZ_NEW_A, 0x6704001E), FLAG(PR_PST_PW_SZ_NEW_W, 0x6704001F),
    FLAG(PR_PST_CONFIG_FLAGS, 0x67700003), FLAG(PR_PST_PATH_HINT_W, 0x6771001F),
    FLAG(PST_CONFIG_UNICODE, 0x80000000), FLAG(PST_CONFIG_CREATE_NOWARN, 0x1),
    FLAG(PST_CONFIG_PRESERVE_DISPLAY_NAME, 0x2), FLAG(PSTF_NO_ENCRYPTION, 0x80000000),
    FLAG(PSTF_COMPRESSABLE_ENCRYPTION, 0x40000000), FLAG(PSTF_BEST_ENCRYPTION, 0x20000000),
};

// Property types: [ODC:property-types]; MV_FLAG [NOTES §D].
const Flag kTypes[] = {
    FLAG(PT_UNSPECIFIED, 0x0), FLAG(PT_NULL, 0x1),    FLAG(PT_I2, 0x2),       FLAG(PT_LONG, 0x3),
    FLAG(PT_R4, 0x4),          FLAG(PT_DOUBLE, 0x5),  FLAG(PT_CURRENCY, 0x6), FLAG(PT_APPTIME, 0x7),
    FLAG(PT_ERROR, 0xA),       FLAG(PT_BOOLEAN, 0xB), FLAG(PT_OBJECT, 0xD),   FLAG(PT_I8, 0x14),
    FLAG(PT_STRING8, 0x1E),    FLAG(PT_UNICODE, 0x1F), FLAG(PT_SYSTIME, 0x40), FLAG(PT_CLSID, 0x48),
    FLAG(PT_SVREID, 0xFB),     FLAG(PT_SRESTRICT, 0xFD), FLAG(PT_ACTIONS, 0xFE), FLAG(PT_BINARY, 0x102),
    FLAG(MV_FLAG, 0x1000),     FLAG(PT_MV_LONG, 0x1003), FLAG(PT_MV_STRING8, 0x101E),
    FLAG(PT_MV_UNICODE, 0x101F), FLAG(PT_MV_BINARY, 0x1102), FLAG(PT_MV_CLSID, 0x1048),
    FLAG(PT_MV_SYSTIME, 0x1040),
};

// Property tags clients use: [NOTES §D] tables (store, folder and message
// properties) and the canonical property pages.
const Flag kTags[] = {
    FLAG(PR_IPM_SUBTREE_ENTRYID, 0x35E00102), FLAG(PR_IPM_OUTBOX_ENTRYID, 0x35E20102),
    FLAG(PR_IPM_WASTEBASKET_ENTRYID, 0x35E30102), FLAG(PR_IPM_SENTMAIL_ENTRYID, 0x35E40102),
    FLAG(PR_VIEWS_ENTRYID, 0x35E50102), FLAG(PR_COMMON_VIEWS_ENTRYID, 0x35E60102),
    FLAG(PR_FINDER_ENTRYID, 0x35E70102), FLAG(PR_VALID_FOLDER_MASK, 0x35DF0003),
    FLAG(PR_FOLDER_TYPE, 0x36010003), FLAG(PR_CONTENT_COUNT, 0x36020003), FLAG(PR_CONTENT_UNREAD, 0x36030003),
    FLAG(PR_SUBFOLDERS, 0x360A000B), FLAG(PR_ASSOC_CONTENT_COUNT, 0x36170003),
    FLAG(PR_CONTAINER_HIERARCHY, 0x360E000D), FLAG(PR_CONTAINER_CONTENTS, 0x360F000D),
    FLAG(PR_FOLDER_ASSOCIATED_CONTENTS, 0x3610000D), FLAG(PR_MESSAGE_CLASS_W, 0x001A001F),
    FLAG(PR_MESSAGE_CLASS_A, 0x001A001E), FLAG(PR_CLIENT_SUBMIT_TIME, 0x00390040),
    FLAG(PR_MESSAGE_DELIVERY_TIME, 0x0E060040), FLAG(PR_MESSAGE_FLAGS, 0x0E070003),
    FLAG(PR_MESSAGE_SIZE, 0x0E080003), FLAG(PR_PARENT_ENTRYID, 0x0E090102), FLAG(PR_HASATTACH, 0x0E1B000B),
    FLAG(PR_CREATION_TIME, 0x30070040), FLAG(PR_LAST_MODIFICATION_TIME, 0x30080040),
    FLAG(PR_SEARCH_KEY, 0x300B0102), FLAG(PR_RECORD_KEY, 0x0FF90102), FLAG(PR_ENTRYID, 0x0FFF0102),
    FLAG(PR_INSTANCE_KEY, 0x0FF60102), FLAG(PR_ATTACH_NUM, 0x0E210003), FLAG(PR_ATTACH_METHOD, 0x37050003),
    FLAG(PR_ATTACH_DATA_BIN, 0x37010102), FLAG(PR_ATTACH_DATA_OBJ, 0x3701000D),
    FLAG(PR_SUBMIT_FLAGS, 0x0E140003), FLAG(PR_SUBJECT_W, 0x0037001F), FLAG(PR_SUBJECT_A, 0x0037001E),
    FLAG(PR_DISPLAY_NAME_W, 0x3001001F), FLAG(PR_OBJECT_TYPE, 0x0FFE0003), FLAG(PR_NULL, 0x00000001),
};

void expect_table(const Flag* begin, const Flag* end) {
  for (const Flag* f = begin; f != end; ++f) EXPECT_EQ(f->value, f->expected) << f->name;
}

TEST(MapiHeadersFlags, LogonAndInitialiseFlagsHaveTheirDocumentedValues) {
  expect_table(std::begin(kLogonFlags), std::end(kLogonFlags));
}
TEST(MapiHeadersFlags, ObjectModelFlagsHaveTheirDocumentedValues) {
  expect_table(std::begin(kObjectFlags), std::end(kObjectFlags));
}
TEST(MapiHeadersFlags, PstServicePropertiesHaveTheirDocumentedValues) {
  expect_table(std::begin(kPstFlags), std::end(kPstFlags));
}
TEST(MapiHeadersFlags, PropertyTypesHaveTheirDocumentedValues) {
  expect_table(std::begin(kTypes), std::end(kTypes));
}
TEST(MapiHeadersTags, ClientTagsHaveTheirDocumentedValues) { expect_table(std::begin(kTags), std::end(kTags)); }

// ---- Tag macros (prop_tag.md, prop_type.md, prop_id.md, change_prop_type.md)
static_assert(PROP_TAG(PT_LONG, 0x3602) == 0x36020003u);
static_assert(PROP_TYPE(0x0037001Fu) == PT_UNICODE && PROP_ID(0x0037001Fu) == 0x0037u);
static_assert(CHANGE_PROP_TYPE(PR_SUBJECT_W, PT_STRING8) == PR_SUBJECT_A);
static_assert(CHANGE_PROP_TYPE(PR_SUBJECT_A, PT_ERROR) == 0x0037000Au);
static_assert(MVI_PROP(PROP_TAG(PT_LONG, 0x1234)) == 0x12343003u);

TEST(MapiHeadersTags, TcharFormFollowsUnicode) {
  // Without UNICODE (this file), PT_TSTRING and the bare PR_* names are 8-bit;
  // tests/mapi_unicode_tags.cpp is compiled with UNICODE defined and
  // asserts the wide forms there.
  EXPECT_EQ(PT_TSTRING, PT_STRING8);
  EXPECT_EQ(PR_SUBJECT, PR_SUBJECT_A);
  EXPECT_EQ(PR_DISPLAY_NAME, PR_DISPLAY_NAME_A);
  EXPECT_EQ(PR_PST_PATH, PR_PST_PATH_A);
  EXPECT_EQ(PT_MV_TSTRING, PT_MV_STRING8);
  EXPECT_EQ(PR_SERVICE_SUPPORT_FILES, PR_SERVICE_SUPPORT_FILES_A);
}

// Every generated tag against pstkit's own table of [MS-OXPROPS] names
// (tools/property_names.tsv), an independent source: the identifier must be
// the one MS-OXPROPS gives the page's canonical name, and the type one of
// that name's documented types (PT_STRING8 and PT_UNICODE are the two forms
// of one string property). It found the three misprinted pages that
// tools/mapi/gen_mapitags.py now corrects (PidTagMailboxOwnerName's
// identifier; PidTagReportDispositionToNames/-EmailAddresses, multi-valued).
struct XRef {
  const char* canonical;
  const char* pr_name;
  ULONG tag;
};
const XRef kXRef[] = {
#include "mapi_tags_xref.inc"
};

bool same_kind(uint16_t a, uint16_t b) {
  auto norm = [](uint16_t t) -> uint16_t {
    if (t == PT_STRING8) return PT_UNICODE;
    if (t == PT_MV_STRING8) return PT_MV_UNICODE;
    return t;
  };
  return norm(a) == norm(b);
}

TEST(MapiHeadersTags, GeneratedTagsAgreeWithMsOxprops) {
  size_t checked = 0, unknown = 0;
  std::string mismatches;
  for (const XRef& x : kXRef) {
    bool found_name = false, agrees = false;
    for (const pstkit::TagInfo& t : pstkit::all_tags()) {
      if (std::strcmp(t.name, x.canonical) != 0) continue;
      found_name = true;
      if (t.id == PROP_ID(x.tag) && same_kind(t.type, static_cast<uint16_t>(PROP_TYPE(x.tag)))) agrees = true;
    }
    if (!found_name) {
      ++unknown;  // the MAPI reference documents more names than MS-OXPROPS
      continue;
    }
    ++checked;
    if (!agrees) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "%s (%s) = 0x%08X\n", x.pr_name, x.canonical, static_cast<unsigned>(x.tag));
      mismatches += buf;
    }
  }
  EXPECT_EQ(mismatches, "");
  EXPECT_GT(checked, 900u) << "unknown to MS-OXPROPS table: " << unknown;
}

// ---- Structure layouts (the structure pages; Windows x64 has the same
//      offsets since ULONG is 32 bits and pointers are 64) ---------------------
static_assert(sizeof(SPropValue) == 24 && offsetof(SPropValue, Value) == 8);
static_assert(sizeof(union _PV) == 16);
static_assert(offsetof(SPropTagArray, aulPropTag) == 4);
static_assert(sizeof(SPropProblem) == 12 && offsetof(SPropProblemArray, aProblem) == 4);
static_assert(sizeof(SRow) == 16 && offsetof(SRow, lpProps) == 8 && offsetof(SRowSet, aRow) == 8);
static_assert(sizeof(ADRENTRY) == 16 && offsetof(ADRLIST, aEntries) == 8);
static_assert(sizeof(SSortOrder) == 8 && offsetof(SSortOrderSet, aSort) == 12);
static_assert(offsetof(ENTRYID, ab) == 4 && sizeof(SBinary) == 16 && sizeof(SBinaryArray) == 16);
static_assert(sizeof(SRestriction) == 32 && offsetof(SRestriction, res) == 8);
static_assert(sizeof(MAPINAMEID) == 24 && offsetof(MAPINAMEID, Kind) == 16);
static_assert(offsetof(NOTIFICATION, info) == 8);
static_assert(sizeof(MAPIINIT_0) == 8 && sizeof(MAPIUID) == 16);
static_assert(std::is_same_v<ENTRYLIST, SBinaryArray>);

TEST(MapiHeadersLayout, SizeMacrosMatchTheSizedStructures) {
  EXPECT_EQ(CbNewSPropTagArray(3), 16u);
  EXPECT_EQ(CbNewSPropTagArray(0), 4u);
  EXPECT_EQ(CbNewADRLIST(2), 8u + 2 * sizeof(ADRENTRY));
  EXPECT_EQ(CbNewSRowSet(2), 8u + 2 * sizeof(SRow));
  EXPECT_EQ(CbNewSSortOrderSet(2), 12u + 2 * sizeof(SSortOrder));
  EXPECT_EQ(CbNewSPropProblemArray(2), 4u + 2 * sizeof(SPropProblem));
  EXPECT_EQ(CbNewENTRYID(20), 24u);
  EXPECT_EQ(CbNewSPropAttrArray(5), 24u);

  SizedSPropTagArray(3, tags) = {3, {PR_ENTRYID, PR_DISPLAY_NAME_W, PR_SUBFOLDERS}};
  EXPECT_EQ(sizeof(tags), CbNewSPropTagArray(3));
  EXPECT_EQ(CbSPropTagArray(reinterpret_cast<LPSPropTagArray>(&tags)), sizeof(tags));
  EXPECT_EQ(reinterpret_cast<LPSPropTagArray>(&tags)->aulPropTag[2], PR_SUBFOLDERS);

  SizedSSortOrderSet(2, sort) = {2, 0, 0, {{PR_MESSAGE_DELIVERY_TIME, TABLE_SORT_DESCEND}, {PR_SUBJECT_W, TABLE_SORT_ASCEND}}};
  EXPECT_EQ(sizeof(sort), CbNewSSortOrderSet(2));
  EXPECT_EQ(CbSSortOrderSet(reinterpret_cast<LPSSortOrderSet>(&sort)), sizeof(sort));

  SizedADRLIST(2, adr) = {};
  EXPECT_EQ(sizeof(adr), CbNewADRLIST(2));
  SizedSRowSet(3, rows) = {};
  EXPECT_EQ(sizeof(rows), CbNewSRowSet(3));
  SizedENTRYID(20, eid) = {};
  EXPECT_EQ(sizeof(eid), CbNewENTRYID(20));
}

// ---- GUIDs (mapiguid.h) -------------------------------------------------------
bool guid_is(const GUID& g, uint32_t d1, uint16_t d2, uint16_t d3, const uint8_t (&d4)[8]) {
  return g.Data1 == d1 && g.Data2 == d2 && g.Data3 == d3 && std::memcmp(g.Data4, d4, 8) == 0;
}
constexpr uint8_t kOle[8] = {0xC0, 0, 0, 0, 0, 0, 0, 0x46};

TEST(MapiHeadersGuids, DocumentedValues) {
  // [ODC:mapi-constants]: PS_PUBLIC_STRINGS, PS_INTERNET_HEADERS, PSETID_*,
  // IID_IMessageRaw, IID_IMSCapabilities; [ODC:imsgserviceadmin2-
  // createmsgserviceex]: IID_IMsgServiceAdmin2; [NOTES §B]: the shutdown IIDs.
  EXPECT_TRUE(guid_is(PS_PUBLIC_STRINGS, 0x00020329, 0, 0, kOle));
  EXPECT_TRUE(guid_is(PS_INTERNET_HEADERS, 0x00020386, 0, 0, kOle));
  EXPECT_TRUE(guid_is(PSETID_Appointment, 0x00062002, 0, 0, kOle));
  EXPECT_TRUE(guid_is(PSETID_Common, 0x00062008, 0, 0, kOle));
  constexpr uint8_t kMeeting[8] = {0x98, 0xDA, 0x00, 0xAA, 0x00, 0x3F, 0x13, 0x05};
  EXPECT_TRUE(guid_is(PSETID_Meeting, 0x6ED8DA90, 0x450B, 0x101B, kMeeting));
  EXPECT_TRUE(guid_is(IID_IMsgServiceAdmin2, 0x00020387, 0, 0, kOle));
  EXPECT_TRUE(guid_is(IID_IMessageRaw, 0x0002038A, 0, 0, kOle));
  EXPECT_TRUE(guid_is(IID_IMSCapabilities, 0x00020393, 0, 0, kOle));
  EXPECT_TRUE(guid_is(IID_IMAPIClientShutdown, 0x00020397, 0, 0, kOle));
  EXPECT_TRUE(guid_is(IID_IMAPIProviderShutdown, 0x00020398, 0, 0, kOle));
  EXPECT_TRUE(guid_is(IID_IUnknown, 0, 0, 0, kOle));
  EXPECT_TRUE(guid_is(IID_IStream, 0x0000000C, 0, 0, kOle));
  // The core interfaces as numbered by Microsoft (mapiguid.h header comment).
  EXPECT_TRUE(guid_is(IID_IMAPISession, 0x00020300, 0, 0, kOle));
  EXPECT_TRUE(guid_is(IID_IMAPITable, 0x00020301, 0, 0, kOle));
  EXPECT_TRUE(guid_is(IID_IMsgStore, 0x00020306, 0, 0, kOle));
  EXPECT_TRUE(guid_is(IID_IMessage, 0x00020307, 0, 0, kOle));
  EXPECT_TRUE(guid_is(IID_IAttachment, 0x00020308, 0, 0, kOle));
  EXPECT_TRUE(guid_is(IID_IMAPIFolder, 0x0002030C, 0, 0, kOle));
  EXPECT_TRUE(guid_is(IID_IProfAdmin, 0x0002031C, 0, 0, kOle));
  EXPECT_TRUE(guid_is(IID_IMsgServiceAdmin, 0x0002031D, 0, 0, kOle));
  // The same values as pstkit's own property-set constants.
  EXPECT_EQ(std::memcmp(&PS_MAPI, &PS_MAPI, sizeof(GUID)), 0);
  EXPECT_EQ(pstkit::property_sets::kPsPublicStrings.to_string(), "{00020329-0000-0000-C000-000000000046}");
}

TEST(MapiHeadersGuids, OneObjectPerGuidAndEquality) {
  EXPECT_TRUE(IsEqualIID(IID_IMAPITable, IID_IMAPITable));
  EXPECT_FALSE(IsEqualIID(IID_IMAPITable, IID_IMAPIFolder));
  EXPECT_TRUE(IID_IMessage == IID_IMessage);
  EXPECT_TRUE(IID_IMessage != IID_IAttachment);
  LPCIID lpiid = &IID_IMAPIFolder;  // what OpenEntry callers pass
  EXPECT_TRUE(IsEqualGUID(*lpiid, IID_IMAPIFolder));
}

// ---- COM vtable order -----------------------------------------------------------
// No virtual destructor, no virtual inheritance: one vtable pointer and the
// COM methods only.
static_assert(!std::has_virtual_destructor_v<IUnknown> && !std::has_virtual_destructor_v<IMAPIFolder>);
static_assert(std::is_abstract_v<IMAPIFolder> && std::is_abstract_v<IMAPISession>);
static_assert(sizeof(IUnknown) == sizeof(void*) && sizeof(IMAPIFolder) == sizeof(void*) &&
              sizeof(IMsgServiceAdmin) == sizeof(void*) && sizeof(IStream) == sizeof(void*));
static_assert(std::is_base_of_v<IMAPIContainer, IMAPIFolder> && std::is_base_of_v<IMAPIProp, IMsgStore> &&
              std::is_base_of_v<IMAPIProp, IAttach> && std::is_base_of_v<IMAPIProp, IProfSect> &&
              std::is_base_of_v<ISequentialStream, IStream>);

// The vtable slot a pointer to a virtual member function designates, from its
// Itanium C++ ABI representation (2.3): {ptr, adj}, where ptr is 1 + the
// slot's byte offset (x86-64); on ARM the virtual bit is in adj and ptr is
// the offset.
template <typename F>
long vtable_slot(F pmf) {
  struct Rep {
    uintptr_t ptr;
    ptrdiff_t adj;
  } rep;
  static_assert(sizeof(pmf) == sizeof(rep));
  std::memcpy(&rep, &pmf, sizeof rep);
#if defined(__arm__) || defined(__aarch64__)
  if (!(rep.adj & 1)) return -1;
  return static_cast<long>(rep.ptr / sizeof(void*));
#else
  if (!(rep.ptr & 1)) return -1;
  return static_cast<long>((rep.ptr - 1) / sizeof(void*));
#endif
}

// Orders from the "Vtable order" tables of [ODC:<iface>iunknown] /
// [ODC:<iface>imapiprop] / [ODC:<iface>imapicontainer]; each interface's
// first method follows the last of its base.
TEST(MapiHeadersVtable, IUnknownComesFirst) {
  EXPECT_EQ(vtable_slot(&IUnknown::QueryInterface), 0);
  EXPECT_EQ(vtable_slot(&IUnknown::AddRef), 1);
  EXPECT_EQ(vtable_slot(&IUnknown::Release), 2);
  EXPECT_EQ(vtable_slot(&IMAPIFolder::QueryInterface), 0);
  EXPECT_EQ(vtable_slot(&IMAPIFolder::Release), 2);
}

#define SLOTS(iface, first, ...)                                                        \
  do {                                                                                  \
    long expected = (first);                                                            \
    for (long got : {__VA_ARGS__}) EXPECT_EQ(got, expected++) << #iface " method " << expected - 1 - (first); \
  } while (0)
#define S(iface, m) vtable_slot(&iface::m)

TEST(MapiHeadersVtable, PropertyObjectsInDocumentedOrder) {
  // imapipropiunknown.md
  SLOTS(IMAPIProp, 3, S(IMAPIProp, GetLastError), S(IMAPIProp, SaveChanges), S(IMAPIProp, GetProps),
        S(IMAPIProp, GetPropList), S(IMAPIProp, OpenProperty), S(IMAPIProp, SetProps), S(IMAPIProp, DeleteProps),
        S(IMAPIProp, CopyTo), S(IMAPIProp, CopyProps), S(IMAPIProp, GetNamesFromIDs), S(IMAPIProp, GetIDsFromNames));
  // imapicontainerimapiprop.md
  SLOTS(IMAPIContainer, 14, S(IMAPIContainer, GetContentsTable), S(IMAPIContainer, GetHierarchyTable),
        S(IMAPIContainer, OpenEntry), S(IMAPIContainer, SetSearchCriteria), S(IMAPIContainer, GetSearchCriteria));
  // imapifolderimapicontainer.md
  SLOTS(IMAPIFolder, 19, S(IMAPIFolder, CreateMessage), S(IMAPIFolder, CopyMessages), S(IMAPIFolder, DeleteMessages),
        S(IMAPIFolder, CreateFolder), S(IMAPIFolder, CopyFolder), S(IMAPIFolder, DeleteFolder),
        S(IMAPIFolder, SetReadFlags), S(IMAPIFolder, GetMessageStatus), S(IMAPIFolder, SetMessageStatus),
        S(IMAPIFolder, SaveContentsSort), S(IMAPIFolder, EmptyFolder));
  // imsgstoreimapiprop.md
  SLOTS(IMsgStore, 14, S(IMsgStore, Advise), S(IMsgStore, Unadvise), S(IMsgStore, CompareEntryIDs),
        S(IMsgStore, OpenEntry), S(IMsgStore, SetReceiveFolder), S(IMsgStore, GetReceiveFolder),
        S(IMsgStore, GetReceiveFolderTable), S(IMsgStore, StoreLogoff), S(IMsgStore, AbortSubmit),
        S(IMsgStore, GetOutgoingQueue), S(IMsgStore, SetLockState), S(IMsgStore, FinishedMsg),
        S(IMsgStore, NotifyNewMail));
  // imessageimapiprop.md
  SLOTS(IMessage, 14, S(IMessage, GetAttachmentTable), S(IMessage, OpenAttach), S(IMessage, CreateAttach),
        S(IMessage, DeleteAttach), S(IMessage, GetRecipientTable), S(IMessage, ModifyRecipients),
        S(IMessage, SubmitMessage), S(IMessage, SetReadFlag));
  // iattachimapiprop.md, iprofsectimapiprop.md: IMAPIProp's methods only.
  EXPECT_EQ(S(IAttach, GetIDsFromNames), 13);
  EXPECT_EQ(S(IProfSect, GetIDsFromNames), 13);
  // imapistatusimapiprop.md: IMAPIProp's methods, then its own four.
  static_assert(std::is_base_of_v<IMAPIProp, IMAPIStatus>);
  SLOTS(IMAPIStatus, 14, S(IMAPIStatus, ValidateState), S(IMAPIStatus, SettingsDialog),
        S(IMAPIStatus, ChangePassword), S(IMAPIStatus, FlushQueues));
}

TEST(MapiHeadersVtable, TablesSessionsAndAdministrationInDocumentedOrder) {
  // imapitableiunknown.md
  SLOTS(IMAPITable, 3, S(IMAPITable, GetLastError), S(IMAPITable, Advise), S(IMAPITable, Unadvise),
        S(IMAPITable, GetStatus), S(IMAPITable, SetColumns), S(IMAPITable, QueryColumns), S(IMAPITable, GetRowCount),
        S(IMAPITable, SeekRow), S(IMAPITable, SeekRowApprox), S(IMAPITable, QueryPosition), S(IMAPITable, FindRow),
        S(IMAPITable, Restrict), S(IMAPITable, CreateBookmark), S(IMAPITable, FreeBookmark), S(IMAPITable, SortTable),
        S(IMAPITable, QuerySortOrder), S(IMAPITable, QueryRows), S(IMAPITable, Abort), S(IMAPITable, ExpandRow),
        S(IMAPITable, CollapseRow), S(IMAPITable, WaitForCompletion), S(IMAPITable, GetCollapseState),
        S(IMAPITable, SetCollapseState));
  // imapisessioniunknown.md
  SLOTS(IMAPISession, 3, S(IMAPISession, GetLastError), S(IMAPISession, GetMsgStoresTable),
        S(IMAPISession, OpenMsgStore), S(IMAPISession, OpenAddressBook), S(IMAPISession, OpenProfileSection),
        S(IMAPISession, GetStatusTable), S(IMAPISession, OpenEntry), S(IMAPISession, CompareEntryIDs),
        S(IMAPISession, Advise), S(IMAPISession, Unadvise), S(IMAPISession, MessageOptions),
        S(IMAPISession, QueryDefaultMessageOpt), S(IMAPISession, EnumAdrTypes), S(IMAPISession, QueryIdentity),
        S(IMAPISession, Logoff), S(IMAPISession, SetDefaultStore), S(IMAPISession, AdminServices),
        S(IMAPISession, ShowForm), S(IMAPISession, PrepareForm));
  // iprofadminiunknown.md
  SLOTS(IProfAdmin, 3, S(IProfAdmin, GetLastError), S(IProfAdmin, GetProfileTable), S(IProfAdmin, CreateProfile),
        S(IProfAdmin, DeleteProfile), S(IProfAdmin, ChangeProfilePassword), S(IProfAdmin, CopyProfile),
        S(IProfAdmin, RenameProfile), S(IProfAdmin, SetDefaultProfile), S(IProfAdmin, AdminServices));
  // imsgserviceadminiunknown.md
  SLOTS(IMsgServiceAdmin, 3, S(IMsgServiceAdmin, GetLastError), S(IMsgServiceAdmin, GetMsgServiceTable),
        S(IMsgServiceAdmin, CreateMsgService), S(IMsgServiceAdmin, DeleteMsgService),
        S(IMsgServiceAdmin, CopyMsgService), S(IMsgServiceAdmin, RenameMsgService),
        S(IMsgServiceAdmin, ConfigureMsgService), S(IMsgServiceAdmin, OpenProfileSection),
        S(IMsgServiceAdmin, MsgServiceTransportOrder), S(IMsgServiceAdmin, AdminProviders),
        S(IMsgServiceAdmin, SetPrimaryIdentity), S(IMsgServiceAdmin, GetProviderTable));
  // iprovideradminiunknown.md
  SLOTS(IProviderAdmin, 3, S(IProviderAdmin, GetLastError), S(IProviderAdmin, GetProviderTable),
        S(IProviderAdmin, CreateProvider), S(IProviderAdmin, DeleteProvider), S(IProviderAdmin, OpenProfileSection));
  // imapiadvisesinkiunknown.md, imapiprogressiunknown.md, the shutdown pages.
  EXPECT_EQ(S(IMAPIAdviseSink, OnNotify), 3);
  SLOTS(IMAPIProgress, 3, S(IMAPIProgress, Progress), S(IMAPIProgress, GetFlags), S(IMAPIProgress, GetMax),
        S(IMAPIProgress, GetMin), S(IMAPIProgress, SetLimits));
  SLOTS(IMAPIClientShutdown, 3, S(IMAPIClientShutdown, QueryFastShutdown),
        S(IMAPIClientShutdown, NotifyProcessShutdown), S(IMAPIClientShutdown, DoFastShutdown));
  SLOTS(IMAPIProviderShutdown, 3, S(IMAPIProviderShutdown, QueryFastShutdown),
        S(IMAPIProviderShutdown, NotifyProcessShutdown), S(IMAPIProviderShutdown, DoFastShutdown));
  // IStream ([MS-DCOM]/objidl): ISequentialStream's Read, Write, then IStream's.
  SLOTS(IStream, 3, S(IStream, Read), S(IStream, Write), S(IStream, Seek), S(IStream, SetSize), S(IStream, CopyTo),
        S(IStream, Commit), S(IStream, Revert), S(IStream, LockRegion), S(IStream, UnlockRegion), S(IStream, Stat),
        S(IStream, Clone));
}

// ---- An implementation through the interfaces, as a provider would write it:
//      a one-row table answering QueryRows, called through LPMAPITABLE ------
class OneRowTable final : public IMAPITable {
 public:
  STDMETHODIMP QueryInterface(REFIID riid, void** ppv) override {
    if (IsEqualIID(riid, IID_IUnknown) || IsEqualIID(riid, IID_IMAPITable)) {
      *ppv = this;
      AddRef();
      return S_OK;
    }
    *ppv = nullptr;
    return MAPI_E_INTERFACE_NOT_SUPPORTED;
  }
  STDMETHODIMP_(ULONG) AddRef() override { return ++refs_; }
  STDMETHODIMP_(ULONG) Release() override { return --refs_; }
  STDMETHODIMP GetLastError(HRESULT, ULONG, LPMAPIERROR*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP Advise(ULONG, LPMAPIADVISESINK, ULONG_PTR*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP Unadvise(ULONG_PTR) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP GetStatus(ULONG* status, ULONG* type) override {
    *status = TBLSTAT_COMPLETE;
    *type = TBLTYPE_SNAPSHOT;
    return S_OK;
  }
  STDMETHODIMP SetColumns(LPSPropTagArray cols, ULONG) override {
    columns_ = cols->cValues;
    return S_OK;
  }
  STDMETHODIMP QueryColumns(ULONG, LPSPropTagArray*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP GetRowCount(ULONG, ULONG* count) override {
    *count = 1;
    return S_OK;
  }
  STDMETHODIMP SeekRow(BOOKMARK, LONG, LONG*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP SeekRowApprox(ULONG, ULONG) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP QueryPosition(ULONG*, ULONG*, ULONG*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP FindRow(LPSRestriction, BOOKMARK, ULONG) override { return MAPI_E_NOT_FOUND; }
  STDMETHODIMP Restrict(LPSRestriction res, ULONG) override {
    last_restriction_type_ = res ? res->rt : ~0u;
    return S_OK;
  }
  STDMETHODIMP CreateBookmark(BOOKMARK*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP FreeBookmark(BOOKMARK) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP SortTable(LPSSortOrderSet, ULONG) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP QuerySortOrder(LPSSortOrderSet*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP QueryRows(LONG, ULONG, LPSRowSet* rows) override {
    static SPropValue value{};
    value.ulPropTag = PR_DISPLAY_NAME_W;
    value.Value.lpszW = const_cast<LPWSTR>(L"Inbox");
    row_.cRows = 1;
    row_.aRow[0].cValues = 1;
    row_.aRow[0].lpProps = &value;
    *rows = reinterpret_cast<LPSRowSet>(&row_);
    return S_OK;
  }
  STDMETHODIMP Abort() override { return MAPI_E_UNABLE_TO_ABORT; }
  STDMETHODIMP ExpandRow(ULONG, LPBYTE, ULONG, ULONG, LPSRowSet*, ULONG*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP CollapseRow(ULONG, LPBYTE, ULONG, ULONG*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP WaitForCompletion(ULONG, ULONG, ULONG*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP GetCollapseState(ULONG, ULONG, LPBYTE, ULONG*, LPBYTE*) override { return MAPI_E_NO_SUPPORT; }
  STDMETHODIMP SetCollapseState(ULONG, ULONG, LPBYTE, BOOKMARK*) override { return MAPI_E_NO_SUPPORT; }

  virtual ~OneRowTable() = default;
  ULONG columns_ = 0;
  ULONG last_restriction_type_ = ~0u;
  ULONG refs_ = 1;

 private:
  SizedSRowSet(1, row_) = {};
};

TEST(MapiHeadersInterfaces, ClientCallsReachTheImplementation) {
  OneRowTable impl;
  LPMAPITABLE lpTable = &impl;
  SizedSPropTagArray(1, cols) = {1, {PR_DISPLAY_NAME_W}};
  ASSERT_EQ(lpTable->SetColumns(reinterpret_cast<LPSPropTagArray>(&cols), 0), S_OK);
  EXPECT_EQ(impl.columns_, 1u);

  // A restriction built as Microsoft's samples build them.
  SPropValue sv{};
  sv.ulPropTag = PR_DISPLAY_NAME_W;
  sv.Value.lpszW = const_cast<LPWSTR>(L"Inbox");
  SRestriction res{};
  res.rt = RES_CONTENT;
  res.res.resContent.ulFuzzyLevel = FL_FULLSTRING | FL_IGNORECASE;
  res.res.resContent.ulPropTag = PR_DISPLAY_NAME_W;
  res.res.resContent.lpProp = &sv;
  ASSERT_EQ(lpTable->Restrict(&res, TBL_BATCH), S_OK);
  EXPECT_EQ(impl.last_restriction_type_, RES_CONTENT);

  LPSRowSet rows = nullptr;
  ASSERT_EQ(lpTable->QueryRows(10, 0, &rows), S_OK);
  ASSERT_EQ(rows->cRows, 1u);
  EXPECT_EQ(rows->aRow[0].lpProps[0].ulPropTag, PR_DISPLAY_NAME_W);
  EXPECT_EQ(std::wcscmp(rows->aRow[0].lpProps[0].Value.lpszW, L"Inbox"), 0);

  void* unk = nullptr;
  EXPECT_EQ(lpTable->QueryInterface(IID_IMAPITable, &unk), S_OK);
  EXPECT_EQ(unk, static_cast<void*>(&impl));
  EXPECT_EQ(lpTable->QueryInterface(IID_IMessage, &unk), MAPI_E_INTERFACE_NOT_SUPPORTED);
  EXPECT_EQ(unk, nullptr);
  EXPECT_EQ(lpTable->Release(), 1u);
}

}  // namespace
