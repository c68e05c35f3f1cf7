// write_empty_store: the nodes of a new, empty store as Outlook writes them.
//
// Modelled on an empty Unicode store created by Outlook (47 nodes) and the
// small Outlook-written stores of the test corpus: every node, property tag,
// table column (in Outlook's iBit order) and row is reproduced here through
// the LTP builders; only the per-store values (provider UID, the GUIDs and
// times of internal nodes, display names) differ. ANSI stores have the same
// nodes with every text property and column PtypString8 (MS-PST 2.2.1.2).
//
// The folders (MS-PST 2.4.4; 2.7.3 lists the minimum, which this exceeds):
//   0x122  root folder (nidParent itself), rows 0x8022 0x8042 0x2223 0x8082
//   0x8022 IPM subtree ("Top of Outlook data file"), row 0x8062
//   0x8042 search root (the finder)
//   0x8062 Deleted Items (the wastebasket)
//   0x8082 IPM_COMMON_VIEWS
//   0x2223 "SPAM Search Folder 2", a search folder with its update queue
//          0x2226, criteria object 0x2227 and contents table 0x2230
// A folder's tables share the template's data block (one more reference)
// where they are copies of it, as Outlook does.
#include "messaging/store_template.h"

#include <chrono>
#include <random>

#include "messaging/name_map_builder.h"
#include "messaging/node_writer.h"
#include "pstkit/codepage.h"
#include "pstkit/property_names.h"
#include "pstkit/utf.h"

namespace pstkit {
namespace {

using ltp::make_tag;
using ltp::PropTag;
using ltp::TcBuilder;

// ---- Property tags ([MS-OXPROPS]; [MS-PST] 2.1.2 for the PST-internal
// ones). Outlook also writes a few undocumented ids; they are named here by
// id and described by what Empty.pst-like stores hold in them.
constexpr PropTag kImportance = make_tag(0x0017, ltp::kPtypInteger32);
constexpr PropTag kMessageClass = make_tag(0x001A, ltp::kPtypString);
constexpr PropTag kExpiryTime = make_tag(0x0015, ltp::kPtypTime);
constexpr PropTag kReplyTime = make_tag(0x0030, ltp::kPtypTime);
constexpr PropTag kSensitivity = make_tag(0x0036, ltp::kPtypInteger32);
constexpr PropTag kSubject = make_tag(0x0037, ltp::kPtypString);
constexpr PropTag kClientSubmitTime = make_tag(0x0039, ltp::kPtypTime);
constexpr PropTag kSentRepresentingName = make_tag(0x0042, ltp::kPtypString);
constexpr PropTag kMessageToMe = make_tag(0x0057, ltp::kPtypBoolean);
constexpr PropTag kMessageCcMe = make_tag(0x0058, ltp::kPtypBoolean);
constexpr PropTag kConversationTopic = make_tag(0x0070, ltp::kPtypString);
constexpr PropTag kConversationIndex = make_tag(0x0071, ltp::kPtypBinary);
constexpr PropTag kRecipientType = make_tag(0x0C15, ltp::kPtypInteger32);
constexpr PropTag kDisplayCc = make_tag(0x0E03, ltp::kPtypString);
constexpr PropTag kDisplayTo = make_tag(0x0E04, ltp::kPtypString);
constexpr PropTag kParentDisplay = make_tag(0x0E05, ltp::kPtypString);
constexpr PropTag kMessageDeliveryTime = make_tag(0x0E06, ltp::kPtypTime);
constexpr PropTag kMessageFlags = make_tag(0x0E07, ltp::kPtypInteger32);
constexpr PropTag kMessageSize = make_tag(0x0E08, ltp::kPtypInteger32);
constexpr PropTag kResponsibility = make_tag(0x0E0F, ltp::kPtypBoolean);
constexpr PropTag kSpoolerStatus = make_tag(0x0E10, ltp::kPtypInteger32);
constexpr PropTag kSubmitFlags = make_tag(0x0E14, ltp::kPtypInteger32);
constexpr PropTag kMessageStatus = make_tag(0x0E17, ltp::kPtypInteger32);
constexpr PropTag kAttachSize = make_tag(0x0E20, ltp::kPtypInteger32);
constexpr PropTag kExchangeRemoteHeader = make_tag(0x0E2A, ltp::kPtypBoolean);
constexpr PropTag kToDoItemFlags = make_tag(0x0E2B, ltp::kPtypInteger32);
constexpr PropTag kReplItemid = make_tag(0x0E30, ltp::kPtypBinary);
constexpr PropTag kRepl0E31 = make_tag(0x0E31, ltp::kPtypBinary);  // undocumented, tombstone tables
constexpr PropTag kReplChangenum = make_tag(0x0E33, ltp::kPtypInteger64);
constexpr PropTag kReplVersionHistory = make_tag(0x0E34, ltp::kPtypBinary);
constexpr PropTag kRepl0E37 = make_tag(0x0E37, ltp::kPtypBinary);  // undocumented, change history
constexpr PropTag kReplFlags = make_tag(0x0E38, ltp::kPtypInteger32);
constexpr PropTag kReplCopiedfromVersionhistory = make_tag(0x0E3C, ltp::kPtypBinary);
constexpr PropTag kReplCopiedfromItemid = make_tag(0x0E3D, ltp::kPtypBinary);
constexpr PropTag kRepl0E3E = make_tag(0x0E3E, ltp::kPtypBinary);  // undocumented, tombstone tables
constexpr PropTag kProp0EA2 = make_tag(0x0EA2, ltp::kPtypInteger32);  // undocumented, contents tables
constexpr PropTag kRecordKey = make_tag(0x0FF9, ltp::kPtypBinary);
constexpr PropTag kObjectType = make_tag(0x0FFE, ltp::kPtypInteger32);
constexpr PropTag kEntryId = make_tag(0x0FFF, ltp::kPtypBinary);
constexpr PropTag kInternetMessageId = make_tag(0x1035, ltp::kPtypString);
constexpr PropTag kIconIndex = make_tag(0x1080, ltp::kPtypInteger32);
constexpr PropTag kFlagStatus = make_tag(0x1090, ltp::kPtypInteger32);
constexpr PropTag kFollowupIcon = make_tag(0x1095, ltp::kPtypInteger32);
constexpr PropTag kItemTemporaryFlags = make_tag(0x1097, ltp::kPtypInteger32);
constexpr PropTag kAttributeHidden = make_tag(0x10F4, ltp::kPtypBoolean);
constexpr PropTag kDisplayName = make_tag(0x3001, ltp::kPtypString);
constexpr PropTag kAddressType = make_tag(0x3002, ltp::kPtypString);
constexpr PropTag kEmailAddress = make_tag(0x3003, ltp::kPtypString);
constexpr PropTag kComment = make_tag(0x3004, ltp::kPtypString);
constexpr PropTag kCreationTime = make_tag(0x3007, ltp::kPtypTime);
constexpr PropTag kLastModificationTime = make_tag(0x3008, ltp::kPtypTime);
constexpr PropTag kSearchKey = make_tag(0x300B, ltp::kPtypBinary);
constexpr PropTag kConversationId = make_tag(0x3013, ltp::kPtypBinary);
constexpr PropTag kFolder3020 = make_tag(0x3020, ltp::kPtypBinary);  // undocumented, hierarchy tables
constexpr PropTag kFolder3021 = make_tag(0x3021, ltp::kPtypBinary);  // undocumented, hierarchy tables
constexpr PropTag kValidFolderMask = make_tag(0x35DF, ltp::kPtypInteger32);
constexpr PropTag kIpmSubtreeEntryId = make_tag(0x35E0, ltp::kPtypBinary);
constexpr PropTag kIpmWastebasketEntryId = make_tag(0x35E3, ltp::kPtypBinary);
constexpr PropTag kCommonViewsEntryId = make_tag(0x35E6, ltp::kPtypBinary);
constexpr PropTag kFinderEntryId = make_tag(0x35E7, ltp::kPtypBinary);
constexpr PropTag kContentCount = make_tag(0x3602, ltp::kPtypInteger32);
constexpr PropTag kContentUnreadCount = make_tag(0x3603, ltp::kPtypInteger32);
constexpr PropTag kSubfolders = make_tag(0x360A, ltp::kPtypBoolean);
constexpr PropTag kContainerClass = make_tag(0x3613, ltp::kPtypString);
constexpr PropTag kExtendedFolderFlags = make_tag(0x36DA, ltp::kPtypBinary);
constexpr PropTag kFolder36DE = make_tag(0x36DE, ltp::kPtypInteger32);  // undocumented, hierarchy tables
constexpr PropTag kAttachFilename = make_tag(0x3704, ltp::kPtypString);
constexpr PropTag kAttachMethod = make_tag(0x3705, ltp::kPtypInteger32);
constexpr PropTag kRenderingPosition = make_tag(0x370B, ltp::kPtypInteger32);
constexpr PropTag kDisplayType = make_tag(0x3900, ltp::kPtypInteger32);
constexpr PropTag k7BitDisplayName = make_tag(0x39FF, ltp::kPtypString);
constexpr PropTag kSendRichInfo = make_tag(0x3A40, ltp::kPtypBoolean);
constexpr PropTag kSecureSubmitFlags = make_tag(0x65C6, ltp::kPtypInteger32);
// Receive folder table: the NID of the folder receiving a message class.
constexpr PropTag kReceiveFolderNid = make_tag(0x6605, ltp::kPtypInteger32);
// Search criteria object: undocumented; 0 in a new store.
constexpr PropTag kSearchCriteria660B = make_tag(0x660B, ltp::kPtypInteger32);
constexpr PropTag kPstBodyPrefix = make_tag(0x6619, ltp::kPtypString);
constexpr PropTag kPstLrNoRestrictions = make_tag(0x6633, ltp::kPtypBoolean);
constexpr PropTag kPstHiddenCount = make_tag(0x6635, ltp::kPtypInteger32);
constexpr PropTag kPstHiddenUnread = make_tag(0x6636, ltp::kPtypInteger32);
constexpr PropTag kLongTermEntryIdFromTable = make_tag(0x6670, ltp::kPtypBinary);
constexpr PropTag kLatestPstEnsure = make_tag(0x66FA, ltp::kPtypInteger32);
constexpr PropTag kStore66FC = make_tag(0x66FC, ltp::kPtypInteger32);  // undocumented, store PC
constexpr PropTag kFolder672D = make_tag(0x672D, ltp::kPtypInteger32);  // undocumented, hierarchy tables
constexpr PropTag kFolder6730 = make_tag(0x6730, ltp::kPtypInteger64);  // undocumented, hierarchy tables
constexpr PropTag kFolder6731 = make_tag(0x6731, ltp::kPtypInteger32);  // undocumented, hierarchy tables
constexpr PropTag kFolder6732 = make_tag(0x6732, ltp::kPtypString);     // undocumented, hierarchy tables
constexpr PropTag kFolder6733 = make_tag(0x6733, ltp::kPtypString);     // undocumented, hierarchy tables
constexpr PropTag kLtpParentNid = make_tag(0x67F1, ltp::kPtypInteger32);
constexpr PropTag kPstPassword = make_tag(0x67FF, ltp::kPtypInteger32);
constexpr PropTag kOfflineAddressBookName = make_tag(0x6800, ltp::kPtypString);
constexpr PropTag kSendOutlookRecallReport = make_tag(0x6803, ltp::kPtypBoolean);
constexpr PropTag kOfflineAddressBookTruncatedProperties =
    make_tag(0x6805, ltp::kPtypInteger32 | ltp::kPtypMultipleFlag);
constexpr PropTag kMapiFormComposeCommand = make_tag(0x682F, ltp::kPtypString);
constexpr PropTag kSearchFolderLastUsed = make_tag(0x6834, ltp::kPtypInteger32);
constexpr PropTag kSearchFolderExpiration = make_tag(0x683A, ltp::kPtypInteger32);
constexpr PropTag kSearchFolderTemplateId = make_tag(0x6841, ltp::kPtypInteger32);
constexpr PropTag kSearchFolderId = make_tag(0x6842, ltp::kPtypBinary);
constexpr PropTag kSearchFolder6843 = make_tag(0x6843, ltp::kPtypBinary);  // undocumented as binary
constexpr PropTag kSearchFolderStorageType = make_tag(0x6846, ltp::kPtypInteger32);
constexpr PropTag kSearchFolderTag = make_tag(0x6847, ltp::kPtypInteger32);
constexpr PropTag kSearchFolderEfpFlags = make_tag(0x6848, ltp::kPtypInteger32);
constexpr PropTag kWlinkCalendarColor = make_tag(0x6853, ltp::kPtypInteger32);
constexpr PropTag kFai685D = make_tag(0x685D, ltp::kPtypInteger32);  // undocumented, root FAI table
constexpr PropTag kProp6E01 = make_tag(0x6E01, ltp::kPtypInteger32);  // undocumented, contents tables
constexpr PropTag kViewDescriptorFlags = make_tag(0x7003, ltp::kPtypInteger32);
constexpr PropTag kViewDescriptorLinkTo = make_tag(0x7004, ltp::kPtypBinary);
constexpr PropTag kViewDescriptorViewFolder = make_tag(0x7005, ltp::kPtypBinary);
constexpr PropTag kViewDescriptorName = make_tag(0x7006, ltp::kPtypString);
constexpr PropTag kViewDescriptorVersion = make_tag(0x7007, ltp::kPtypInteger32);
constexpr PropTag kRoamingDatatypes = make_tag(0x7C06, ltp::kPtypInteger32);

// ---- Named properties of a new store, in the order Outlook maps them.
constexpr Guid kPsetidRemote = Guid::from_fields(0x00062014, 0, 0, 0xC000000000000046);

enum InitialName : uint16_t {
  kBusyStatus, kRecurring, kRecurrenceType, kAppointmentRecur, kAppointmentStartWhole,
  kAppointmentEndWhole, kClipStart, kClipEnd, kTimeZoneStruct, kContentClassHeader, kDrmLicense,
  kHashedPuzzleHeader, kPuzzleIdHeader, kInternetAccountName, kInternetAccountStamp, kStoreTypePrivate,
  kSideEffects, kHeaderItem, kIsMentioned, kKeywords, kRemoteTransferSize, kSmartNoAttach,
  kRemoteAttachment, kReminderSet, kCommon85A8, kReminderTime, kTaskStartDate, kTaskDueDate,
  kTaskComplete, kAuthDomainHeader, kDoNotForward, kImapDeleted, kTaskStatus,
  kPendingStateForSiteMailboxDocument, kCurrentVersion, kInitialNameCount
};

NamedProperty lid_name(const Guid& set, uint32_t lid) {
  NamedProperty n;
  n.guid = set;
  n.lid = lid;
  return n;
}

NamedProperty string_name(const Guid& set, std::string name) {
  NamedProperty n;
  n.guid = set;
  n.is_string = true;
  n.name = std::move(name);
  return n;
}

// ---- Values

PropValue value(PropTag tag, Bytes data) { return PropValue{tag, std::move(data)}; }
PropValue int32_value(PropTag tag, uint32_t v) {
  Bytes b(4);
  store_le32(b.data(), v);
  return value(tag, std::move(b));
}
PropValue bool_value(PropTag tag, bool v) { return value(tag, Bytes{uint8_t(v ? 1 : 0)}); }

void random_guid(std::random_device& random, Guid& g) {
  for (size_t i = 0; i < sizeof g.bytes; i += 4) store_le32(g.bytes + i, random());
  // RFC 4122 version 4 (random), in the on-disk layout of MS-DTYP 2.3.4.
  g.bytes[7] = uint8_t((g.bytes[7] & 0x0F) | 0x40);
  g.bytes[8] = uint8_t((g.bytes[8] & 0x3F) | 0x80);
}

// One store being written.
class TemplateWriter {
 public:
  TemplateWriter(ndb::WritableDatabase& db, const NewStoreOptions& options, const StoreIdentity& identity)
      : db_(db), options_(options), identity_(identity), format_(db.header().format) {}

  Status write();

 private:
  PropTag tag(PropTag t) const { return tag_for_format(t, format_); }
  PropValue text(PropTag t, std::string_view utf8) const { return value(tag(t), encode_text(utf8, format_)); }
  PropValue entry_id(PropTag t, Nid nid) const { return value(t, make_entry_id(identity_.record_key, nid)); }
  // A named property column (the map was built from initial_named_properties).
  Result<PropTag> named(InitialName name, uint16_t type) const;

  Status check_new_database();
  Status allocate_folder_nids();
  Status write_name_map();
  Status write_store();
  Status write_templates();
  Status write_root_folder();
  Status write_spam_search_folder();
  Status write_ipm_subtree();
  Status write_search_root();
  Status write_deleted_items();
  Status write_common_views();

  Status put_pc(Nid nid, Nid parent, const std::vector<PropValue>& values);
  // A table; returns its data block for sharing.
  Result<ndb::Bid> put_table(Nid nid, const std::vector<PropTag>& columns,
                             const std::vector<std::pair<Nid, std::vector<PropValue>>>& rows = {});
  // Another node over an existing block (a copy of a template table).
  Status put_shared(Nid nid, ndb::Bid data);
  // The PC of a folder with no items: MS-PST 2.4.4.1.1's four properties.
  std::vector<PropValue> folder_properties(std::string_view name, bool has_subfolders) const;
  // A hierarchy table row for such a folder (MS-PST 2.4.4.4.1 copied columns).
  std::pair<Nid, std::vector<PropValue>> folder_row(Nid nid, std::string_view name, bool has_subfolders,
                                                    uint32_t row_version) const;

  ndb::WritableDatabase& db_;
  const NewStoreOptions& options_;
  const StoreIdentity& identity_;
  ndb::FileFormat format_;
  std::optional<NameMapBuilder> names_;
  ndb::Bid hierarchy_template_ = 0;
  ndb::Bid contents_template_ = 0;
  ndb::Bid assoc_contents_template_ = 0;
  ndb::Bid search_contents_template_ = 0;
};

// ---- Table columns, in iBit order (the order Outlook added them). Row id
// and row version come first in every table (MS-PST 2.3.4.4.1).

std::vector<PropTag> with_row_columns(std::initializer_list<PropTag> columns) {
  std::vector<PropTag> out = {TcBuilder::kRowIdTag, TcBuilder::kRowVerTag};
  out.insert(out.end(), columns.begin(), columns.end());
  return out;
}

std::vector<PropTag> append(std::vector<PropTag> base, const std::vector<PropTag>& more) {
  base.insert(base.end(), more.begin(), more.end());
  return base;
}

// MS-PST 2.4.4.4.1 hierarchy table template (0x60D).
std::vector<PropTag> hierarchy_columns() {
  return with_row_columns({kDisplayName, kContentCount, kContentUnreadCount, kSubfolders, kReplItemid,
                           kReplChangenum, kReplVersionHistory, kReplFlags, kContainerClass, kPstHiddenCount,
                           kPstHiddenUnread});
}

// MS-PST 2.4.4.5.1 contents table template (0x60E).
std::vector<PropTag> contents_columns() {
  return with_row_columns({kMessageStatus, kMessageClass, kMessageFlags, kImportance, kSentRepresentingName,
                           kSubject, kMessageDeliveryTime, kClientSubmitTime, kMessageSize, kDisplayTo,
                           kDisplayCc, kMessageToMe, kMessageCcMe, kSensitivity, kItemTemporaryFlags,
                           kConversationTopic, kConversationIndex, kConversationId, kSecureSubmitFlags,
                           kLastModificationTime, kReplItemid, kReplChangenum, kReplVersionHistory,
                           kReplCopiedfromItemid, kReplCopiedfromVersionhistory, kReplFlags});
}

// MS-PST 2.4.4.6.1 FAI contents table template (0x60F).
std::vector<PropTag> assoc_contents_columns() {
  return with_row_columns({kMessageStatus, kMessageClass, kMessageFlags, kDisplayName, kViewDescriptorFlags,
                           kViewDescriptorLinkTo, kViewDescriptorViewFolder, kViewDescriptorName,
                           kViewDescriptorVersion, kOfflineAddressBookName, kSendOutlookRecallReport,
                           kOfflineAddressBookTruncatedProperties, kMapiFormComposeCommand});
}

// MS-PST 2.4.8.6.2.1 search folder contents table template (0x610).
std::vector<PropTag> search_contents_columns() {
  return with_row_columns({kLtpParentNid, kParentDisplay, kMessageStatus, kMessageClass, kMessageFlags,
                           kImportance, kSentRepresentingName, kSubject, kMessageDeliveryTime, kMessageSize,
                           kDisplayTo, kDisplayCc, kMessageToMe, kMessageCcMe, kSensitivity,
                           kExchangeRemoteHeader, kLastModificationTime});
}

// MS-PST 2.4.6.1.1 attachment table template (0x671).
std::vector<PropTag> attachment_columns() {
  return with_row_columns({kRenderingPosition, kAttachSize, kAttachMethod, kAttachFilename});
}

// MS-PST 2.4.5.3.1 recipient table template (0x692).
std::vector<PropTag> recipient_columns() {
  return with_row_columns({kResponsibility, kAddressType, kEmailAddress, kEntryId, kDisplayName, kRecipientType,
                           kSearchKey, kRecordKey, kObjectType, kDisplayType, kSendRichInfo, k7BitDisplayName});
}

// ---- TemplateWriter

Result<PropTag> TemplateWriter::named(InitialName name, uint16_t type) const {
  auto id = names_->find(initial_named_properties()[name]);
  if (!id) return Status::not_found("named property " + std::to_string(int(name)) + " of a new store");
  return tag(make_tag(*id, type));
}

Status TemplateWriter::put_pc(Nid nid, Nid parent, const std::vector<PropValue>& values) {
  PSTKIT_ASSIGN_OR_RETURN(auto pc, ltp::PcBuilder::create(format_));
  for (const PropValue& v : values) PSTKIT_RETURN_IF_ERROR(pc.set(v));
  PSTKIT_ASSIGN_OR_RETURN(auto built, pc.build());
  return put_built_node(db_, nid, parent, built);
}

Result<ndb::Bid> TemplateWriter::put_table(Nid nid, const std::vector<PropTag>& columns,
                                           const std::vector<std::pair<Nid, std::vector<PropValue>>>& rows) {
  std::vector<PropTag> typed;
  typed.reserve(columns.size());
  for (PropTag c : columns) typed.push_back(tag(c));
  PSTKIT_ASSIGN_OR_RETURN(auto tc, TcBuilder::create(format_, typed));
  for (const auto& [row_id, cells] : rows) PSTKIT_RETURN_IF_ERROR(tc.add_row(row_id, cells));
  PSTKIT_ASSIGN_OR_RETURN(auto built, tc.build());
  PSTKIT_ASSIGN_OR_RETURN(ndb::SubnodeEntry e, write_built_node(db_, nid, built));
  PSTKIT_RETURN_IF_ERROR(db_.put_node({nid, e.data_bid, e.subnode_bid, 0}));
  return e.data_bid;
}

Status TemplateWriter::put_shared(Nid nid, ndb::Bid data) {
  // MS-PST 2.2.2.7.7.3.1: each node referring to the block holds a reference.
  PSTKIT_RETURN_IF_ERROR(db_.add_ref(data));
  return db_.put_node({nid, data, 0, 0});
}

std::vector<PropValue> TemplateWriter::folder_properties(std::string_view name, bool has_subfolders) const {
  return {text(kDisplayName, name), int32_value(kContentCount, 0), int32_value(kContentUnreadCount, 0),
          bool_value(kSubfolders, has_subfolders)};
}

std::pair<Nid, std::vector<PropValue>> TemplateWriter::folder_row(Nid nid, std::string_view name,
                                                                  bool has_subfolders,
                                                                  uint32_t row_version) const {
  std::vector<PropValue> cells = folder_properties(name, has_subfolders);
  cells.push_back(int32_value(TcBuilder::kRowVerTag, row_version));
  return {nid, std::move(cells)};
}

Status TemplateWriter::check_new_database() {
  if (format_ != ndb::FileFormat::kAnsi && format_ != ndb::FileFormat::kUnicode) {
    return Status::unsupported(std::string("a new store in a ") + ndb::format_name(format_) + " file");
  }
  if (format_ != options_.format) {
    return Status::invalid_argument(std::string("store options ask for ") + ndb::format_name(options_.format) +
                                    " but the database is " + ndb::format_name(format_));
  }
  bool empty = true;
  PSTKIT_RETURN_IF_ERROR(db_.for_each_node([&](const ndb::NodeEntry&) { return empty = false; }));
  if (!empty) return Status::invalid_argument("write_empty_store needs a database with no nodes");
  return Status::ok();
}

Status TemplateWriter::allocate_folder_nids() {
  // Outlook's new folders take the first NIDs of rgnid (MS-PST 2.2.2.6), and
  // so do their three tables: the header's NID counters then match Outlook's.
  for (Nid expected : {store_nids::kIpmSubtree, store_nids::kSearchRoot, store_nids::kDeletedItems,
                       store_nids::kCommonViews}) {
    for (uint8_t type : {ndb::kNidTypeNormalFolder, ndb::kNidTypeHierarchyTable, ndb::kNidTypeContentsTable,
                         ndb::kNidTypeAssocContentsTable}) {
      const Nid nid = db_.allocate_nid(type);
      if (nid != ndb::make_nid(type, ndb::nid_index(expected))) {
        return Status::invalid_argument("rgnid of a new file gave " + hex(nid) + ", not the NID Outlook uses");
      }
    }
  }
  return Status::ok();
}

Status TemplateWriter::write_name_map() {
  PSTKIT_ASSIGN_OR_RETURN(auto names, NameMapBuilder::create(format_));
  for (const NamedProperty& name : initial_named_properties()) PSTKIT_RETURN_IF_ERROR(names.add(name).status());
  PSTKIT_ASSIGN_OR_RETURN(auto built, names.build());
  names_ = std::move(names);
  return put_built_node(db_, ndb::kNidNameToIdMap, 0, built);
}

Status TemplateWriter::write_store() {
  // MS-PST 2.4.3.1's required properties plus those Outlook adds.
  Bytes history(24, 0);  // PidTagReplVersionHistory: one (GUID, version) entry
  store_le32(history.data(), 1);
  std::copy(identity_.replica.bytes, identity_.replica.bytes + 16, history.begin() + 4);
  store_le32(history.data() + 20, 1);
  const Bytes record_key(identity_.record_key.bytes, identity_.record_key.bytes + 16);
  // PidTagValidFolderMask: IPM subtree, wastebasket, common views and finder
  // entry IDs are valid (0x01 | 0x08 | 0x40 | 0x80).
  constexpr uint32_t kValidFolders = 0x01 | 0x08 | 0x40 | 0x80;
  return put_pc(ndb::kNidMessageStore, 0,
                // In Outlook's order, which is the order of their heap allocations.
                {value(kRecordKey, record_key), text(kDisplayName, options_.display_name),
                 value(kReplVersionHistory, std::move(history)), int32_value(kReplFlags, 0),
                 int32_value(kValidFolderMask, kValidFolders), entry_id(kIpmSubtreeEntryId, store_nids::kIpmSubtree),
                 entry_id(kFinderEntryId, store_nids::kSearchRoot),
                 entry_id(kIpmWastebasketEntryId, store_nids::kDeletedItems),
                 entry_id(kCommonViewsEntryId, store_nids::kCommonViews), bool_value(kPstLrNoRestrictions, true),
                 // MS-PST 2.1.2 PidTagLatestPstEnsure: the revision of the
                 // store's contents Outlook last brought it up to.
                 int32_value(kLatestPstEnsure, 0x000E0011),
                 // Undocumented; the value Outlook left in its empty store.
                 int32_value(kStore66FC, 0x0018B2B3),
                 // MS-PST 2.4.3.3: no password.
                 int32_value(kPstPassword, 0)});
}

Status TemplateWriter::write_templates() {
  // MS-PST 2.4.4.2 folder template tables, shared by the folders' tables.
  PSTKIT_ASSIGN_OR_RETURN(hierarchy_template_, put_table(ndb::kNidHierarchyTableTemplate, hierarchy_columns()));
  PSTKIT_ASSIGN_OR_RETURN(contents_template_, put_table(ndb::kNidContentsTableTemplate, contents_columns()));
  PSTKIT_ASSIGN_OR_RETURN(assoc_contents_template_,
                          put_table(ndb::kNidAssocContentsTableTemplate, assoc_contents_columns()));
  PSTKIT_ASSIGN_OR_RETURN(search_contents_template_,
                          put_table(ndb::kNidSearchContentsTableTemplate, search_contents_columns()));
  // The receive folder table: message class "" (every class) goes to the root folder.
  PSTKIT_RETURN_IF_ERROR(
      put_table(kNidReceiveFolderTable, with_row_columns({kReceiveFolderNid, kMessageClass}),
                {{1, {int32_value(TcBuilder::kRowVerTag, 2), int32_value(kReceiveFolderNid, ndb::kNidRootFolder),
                      text(kMessageClass, "")}}})
          .status());
  // The outgoing queue: empty, nothing is waiting to be sent.
  PSTKIT_RETURN_IF_ERROR(
      put_table(kNidOutgoingQueueTable, with_row_columns({kSubmitFlags, kSpoolerStatus, kClientSubmitTime})).status());
  PSTKIT_RETURN_IF_ERROR(put_table(ndb::kNidAttachmentTableTemplate, attachment_columns()).status());
  PSTKIT_RETURN_IF_ERROR(put_table(ndb::kNidRecipientTableTemplate, recipient_columns()).status());
  // Replication tables (NID types 0x16-0x18): change history, tombstones,
  // tombstone dates; empty in a store that never synchronised.
  PSTKIT_RETURN_IF_ERROR(
      put_table(kNidChangeHistoryTable, with_row_columns({kReplChangenum, kRepl0E37, kReplFlags})).status());
  PSTKIT_RETURN_IF_ERROR(put_table(kNidTombstoneTable,
                                   with_row_columns({kRepl0E3E, kRepl0E31, kReplItemid, kReplFlags,
                                                     kReplVersionHistory, kReplChangenum, kMessageClass}))
                             .status());
  return put_table(kNidTombstoneDateTable, with_row_columns({kCreationTime, kReplChangenum})).status();
}

Status TemplateWriter::write_root_folder() {
  const Nid root = ndb::kNidRootFolder;
  // MS-PST 2.4.4.1.2: the root folder is its own parent.
  PSTKIT_RETURN_IF_ERROR(put_pc(root, root, folder_properties("", true)));
  // Row versions as Outlook leaves them in a new store.
  PSTKIT_RETURN_IF_ERROR(
      put_table(ndb::make_nid(ndb::kNidTypeHierarchyTable, ndb::nid_index(root)), hierarchy_columns(),
                {folder_row(store_nids::kIpmSubtree, options_.ipm_subtree_name, true, 0x0F),
                 folder_row(store_nids::kSearchRoot, "Search Root", false, 0x06),
                 folder_row(store_nids::kSpamSearchFolder, "SPAM Search Folder 2", false, 0x0C),
                 folder_row(store_nids::kCommonViews, "IPM_COMMON_VIEWS", false, 0x11)})
          .status());
  PSTKIT_RETURN_IF_ERROR(
      put_shared(ndb::make_nid(ndb::kNidTypeContentsTable, ndb::nid_index(root)), contents_template_));
  // The root's FAI table has columns beyond the template's.
  return put_table(ndb::make_nid(ndb::kNidTypeAssocContentsTable, ndb::nid_index(root)),
                   append(assoc_contents_columns(), {kLastModificationTime, kRoamingDatatypes, kFai685D}))
      .status();
}

Status TemplateWriter::write_spam_search_folder() {
  const Nid folder = store_nids::kSpamSearchFolder;
  const uint32_t index = ndb::nid_index(folder);
  PSTKIT_RETURN_IF_ERROR(put_pc(folder, ndb::kNidRootFolder, folder_properties("SPAM Search Folder 2", false)));
  // Its search update queue (MS-PST 2.4.8.6.3; empty: nothing pending) and
  // search criteria object (2.4.8.6.4).
  PSTKIT_RETURN_IF_ERROR(db_.put_node({ndb::make_nid(ndb::kNidTypeSearchUpdateQueue, index), 0, 0, 0}));
  PSTKIT_RETURN_IF_ERROR(
      put_pc(ndb::make_nid(ndb::kNidTypeSearchCriteriaObject, index), 0, {int32_value(kSearchCriteria660B, 0)}));
  return put_shared(ndb::make_nid(ndb::kNidTypeSearchContentsTable, index), search_contents_template_);
}

Status TemplateWriter::write_ipm_subtree() {
  const Nid folder = store_nids::kIpmSubtree;
  const uint32_t index = ndb::nid_index(folder);
  PSTKIT_RETURN_IF_ERROR(put_pc(folder, ndb::kNidRootFolder, folder_properties(options_.ipm_subtree_name, true)));
  PSTKIT_RETURN_IF_ERROR(
      put_table(ndb::make_nid(ndb::kNidTypeHierarchyTable, index),
                append(hierarchy_columns(), {kFolder3020, kLongTermEntryIdFromTable, kAttributeHidden,
                                             kExtendedFolderFlags, kFolder36DE, kFolder672D, kWlinkCalendarColor,
                                             kFolder6731, kFolder6730, kFolder6732, kFolder6733, kFolder3021}),
                {folder_row(store_nids::kDeletedItems, options_.deleted_items_name, false, 0x0E)})
          .status());
  // The contents table has columns for named properties too.
  std::vector<PropTag> columns = contents_columns();
  struct Column {
    PropTag tag = 0;  // a tagged property, or
    InitialName name = kInitialNameCount;
    uint16_t type = 0;  // a named one of this type
  };
  const Column more[] = {
      {kIconIndex}, {0, kSideEffects, ltp::kPtypInteger32}, {0, kHeaderItem, ltp::kPtypInteger32}, {kContentCount},
      {kFollowupIcon}, {kFlagStatus}, {0, kIsMentioned, ltp::kPtypBoolean},
      {0, kKeywords, ltp::kPtypString | ltp::kPtypMultipleFlag}, {0, kRemoteTransferSize, ltp::kPtypInteger32},
      {0, kSmartNoAttach, ltp::kPtypBoolean}, {0, kRemoteAttachment, ltp::kPtypBoolean},
      {0, kReminderSet, ltp::kPtypBoolean}, {kSearchKey}, {kInternetMessageId}, {0, kCommon85A8, ltp::kPtypBinary},
      {0, kReminderTime, ltp::kPtypTime}, {0, kTaskStartDate, ltp::kPtypTime}, {0, kTaskDueDate, ltp::kPtypTime},
      {0, kTaskComplete, ltp::kPtypBoolean}, {kToDoItemFlags}, {kProp6E01}, {kProp0EA2},
      {0, kAuthDomainHeader, ltp::kPtypString}, {0, kDoNotForward, ltp::kPtypBoolean},
      {0, kImapDeleted, ltp::kPtypInteger32}, {0, kTaskStatus, ltp::kPtypInteger32},
      {0, kPendingStateForSiteMailboxDocument, ltp::kPtypInteger32}, {kReplyTime}, {kExpiryTime},
      {0, kCurrentVersion, ltp::kPtypInteger32}, {kPstBodyPrefix},
  };
  for (const Column& c : more) {
    if (c.tag != 0) {
      columns.push_back(c.tag);
    } else {
      PSTKIT_ASSIGN_OR_RETURN(PropTag t, named(c.name, c.type));
      columns.push_back(t);
    }
  }
  PSTKIT_RETURN_IF_ERROR(put_table(ndb::make_nid(ndb::kNidTypeContentsTable, index), columns).status());
  return put_shared(ndb::make_nid(ndb::kNidTypeAssocContentsTable, index), assoc_contents_template_);
}

Status TemplateWriter::write_search_root() {
  const Nid folder = store_nids::kSearchRoot;
  const uint32_t index = ndb::nid_index(folder);
  PSTKIT_RETURN_IF_ERROR(put_pc(folder, ndb::kNidRootFolder, folder_properties("Search Root", false)));
  PSTKIT_RETURN_IF_ERROR(
      put_table(ndb::make_nid(ndb::kNidTypeHierarchyTable, index),
                append(hierarchy_columns(), {kFolder3020, kLongTermEntryIdFromTable, kExtendedFolderFlags,
                                             kCreationTime, kFolder672D, kWlinkCalendarColor, kFolder6731,
                                             kFolder6730, kFolder6732, kFolder6733}))
          .status());
  PSTKIT_RETURN_IF_ERROR(put_shared(ndb::make_nid(ndb::kNidTypeContentsTable, index), contents_template_));
  return put_shared(ndb::make_nid(ndb::kNidTypeAssocContentsTable, index), assoc_contents_template_);
}

Status TemplateWriter::write_deleted_items() {
  const Nid folder = store_nids::kDeletedItems;
  const uint32_t index = ndb::nid_index(folder);
  std::vector<PropValue> props = folder_properties(options_.deleted_items_name, false);
  props.push_back(text(kComment, "Deleted Items folder"));
  PSTKIT_RETURN_IF_ERROR(put_pc(folder, store_nids::kIpmSubtree, props));
  PSTKIT_RETURN_IF_ERROR(put_shared(ndb::make_nid(ndb::kNidTypeHierarchyTable, index), hierarchy_template_));
  PSTKIT_RETURN_IF_ERROR(put_shared(ndb::make_nid(ndb::kNidTypeContentsTable, index), contents_template_));
  return put_shared(ndb::make_nid(ndb::kNidTypeAssocContentsTable, index), assoc_contents_template_);
}

Status TemplateWriter::write_common_views() {
  const Nid folder = store_nids::kCommonViews;
  const uint32_t index = ndb::nid_index(folder);
  std::vector<PropValue> props = folder_properties("IPM_COMMON_VIEWS", false);
  props.push_back(text(kComment, ""));
  PSTKIT_RETURN_IF_ERROR(put_pc(folder, ndb::kNidRootFolder, props));
  PSTKIT_RETURN_IF_ERROR(put_shared(ndb::make_nid(ndb::kNidTypeHierarchyTable, index), hierarchy_template_));
  PSTKIT_RETURN_IF_ERROR(put_shared(ndb::make_nid(ndb::kNidTypeContentsTable, index), contents_template_));
  // Its FAI table holds the views and search folder definitions, so has
  // their columns.
  return put_table(ndb::make_nid(ndb::kNidTypeAssocContentsTable, index),
                   append(assoc_contents_columns(),
                          {kLastModificationTime, kSearchFolderLastUsed, kSearchFolderExpiration,
                           kSearchFolderTemplateId, kSearchFolderStorageType, kSearchFolderId, kSearchFolder6843,
                           kSearchFolderTag, kSearchFolderEfpFlags, kWlinkCalendarColor}))
      .status();
}

Status TemplateWriter::write() {
  PSTKIT_RETURN_IF_ERROR(check_new_database());
  PSTKIT_RETURN_IF_ERROR(allocate_folder_nids());
  PSTKIT_RETURN_IF_ERROR(write_name_map());
  PSTKIT_RETURN_IF_ERROR(write_store());
  PSTKIT_RETURN_IF_ERROR(write_templates());
  PSTKIT_RETURN_IF_ERROR(write_root_folder());
  PSTKIT_RETURN_IF_ERROR(write_search_internal_nodes(db_));
  PSTKIT_RETURN_IF_ERROR(write_undocumented_internal_nodes(db_, identity_));
  PSTKIT_RETURN_IF_ERROR(write_spam_search_folder());
  PSTKIT_RETURN_IF_ERROR(write_ipm_subtree());
  PSTKIT_RETURN_IF_ERROR(write_search_root());
  PSTKIT_RETURN_IF_ERROR(write_deleted_items());
  return write_common_views();
}

}  // namespace

StoreIdentity StoreIdentity::fresh() {
  std::random_device random;
  StoreIdentity id;
  random_guid(random, id.record_key);
  random_guid(random, id.replica);
  random_guid(random, id.index_state[0]);
  random_guid(random, id.index_state[1]);
  // FILETIME: 100 ns units since 1601-01-01.
  const auto since_1970 = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  id.created = uint64_t(since_1970.count() / 100) + 116444736000000000ull;
  return id;
}

Bytes make_entry_id(const Guid& record_key, Nid nid) {
  Bytes id(24, 0);
  std::copy(record_key.bytes, record_key.bytes + 16, id.begin() + 4);
  store_le32(id.data() + 20, nid);
  return id;
}

uint16_t string_type(ndb::FileFormat format) {
  return format == ndb::FileFormat::kAnsi ? ltp::kPtypString8 : ltp::kPtypString;
}

PropTag tag_for_format(PropTag tag, ndb::FileFormat format) {
  if (format != ndb::FileFormat::kAnsi || ltp::base_type(ltp::tag_type(tag)) != ltp::kPtypString) return tag;
  return make_tag(ltp::tag_id(tag), uint16_t((ltp::tag_type(tag) & ltp::kPtypMultipleFlag) | ltp::kPtypString8));
}

Bytes encode_text(std::string_view utf8, ndb::FileFormat format) {
  if (format == ndb::FileFormat::kAnsi) return encode_codepage(utf8, kCodepageWindows1252);
  return utf8_to_utf16le(utf8);
}

const std::vector<NamedProperty>& initial_named_properties() {
  using namespace property_sets;
  static const std::vector<NamedProperty> names = {
      lid_name(kPsetidAppointment, 0x8205),  // PidLidBusyStatus
      lid_name(kPsetidAppointment, 0x8223),  // PidLidRecurring
      lid_name(kPsetidAppointment, 0x8231),  // PidLidRecurrenceType
      lid_name(kPsetidAppointment, 0x8216),  // PidLidAppointmentRecur
      lid_name(kPsetidAppointment, 0x820D),  // PidLidAppointmentStartWhole
      lid_name(kPsetidAppointment, 0x820E),  // PidLidAppointmentEndWhole
      lid_name(kPsetidAppointment, 0x8235),  // PidLidClipStart
      lid_name(kPsetidAppointment, 0x8236),  // PidLidClipEnd
      lid_name(kPsetidAppointment, 0x8233),  // PidLidTimeZoneStruct
      string_name(kPsInternetHeaders, "content-class"),
      string_name(kPsPublicStrings, "DRMLicense"),
      string_name(kPsInternetHeaders, "x-cr-hashedpuzzle"),
      string_name(kPsInternetHeaders, "x-cr-puzzleid"),
      lid_name(kPsetidCommon, 0x8580),  // PidLidInternetAccountName
      lid_name(kPsetidCommon, 0x8581),  // PidLidInternetAccountStamp
      string_name(kPsPublicStrings, "urn:schemas-microsoft-com:office:outlook#storetypeprivate"),
      lid_name(kPsetidCommon, 0x8510),  // PidLidSideEffects
      lid_name(kPsetidCommon, 0x8578),  // PidLidHeaderItem
      string_name(kPsetidMessaging, "IsMentioned"),
      string_name(kPsPublicStrings, "Keywords"),  // PidNameKeywords
      lid_name(kPsetidRemote, 0x8F05),  // PidLidRemoteTransferSize
      lid_name(kPsetidCommon, 0x8514),  // PidLidSmartNoAttach
      lid_name(kPsetidRemote, 0x8F07),  // PidLidRemoteAttachment
      lid_name(kPsetidCommon, 0x8503),  // PidLidReminderSet
      lid_name(kPsetidCommon, 0x85A8),  // undocumented
      lid_name(kPsetidCommon, 0x8502),  // PidLidReminderTime
      lid_name(kPsetidTask, 0x8104),    // PidLidTaskStartDate
      lid_name(kPsetidTask, 0x8105),    // PidLidTaskDueDate
      lid_name(kPsetidTask, 0x811C),    // PidLidTaskComplete
      string_name(kPsInternetHeaders, "x-ms-exchange-organization-authdomain"),
      string_name(kPsPublicStrings, "DoNotForward"),
      lid_name(kPsetidCommon, 0x8570),  // PidLidImapDeleted
      lid_name(kPsetidTask, 0x8101),    // PidLidTaskStatus
      lid_name(kPsetidCommon, 0x85E0),  // PidLidPendingStateForSiteMailboxDocument
      lid_name(kPsetidCommon, 0x8552),  // PidLidCurrentVersion
  };
  static_assert(kInitialNameCount == 35);
  return names;
}

Status write_empty_store(ndb::WritableDatabase& db, const NewStoreOptions& options, const StoreIdentity& identity) {
  return TemplateWriter(db, options, identity).write();
}

Status write_empty_store(ndb::WritableDatabase& db, const NewStoreOptions& options) {
  return write_empty_store(db, options, StoreIdentity::fresh());
}

}  // namespace pstkit
