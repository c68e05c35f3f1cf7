// Messaging layer ([MS-PST] 2.4): the message store, folders, messages,
// recipients, attachments and named properties, on top of the LTP layer.
//
// Objects hold shared references to what they read, so each stays valid on
// its own as long as the Store it came from is alive.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pstkit/guid.h"
#include "pstkit/ltp.h"
#include "pstkit/ndb.h"
#include "pstkit/property.h"
#include "pstkit/status.h"

namespace pstkit {

using ltp::PropTag;
using ltp::PropValue;
using ndb::Nid;

// Well-known property ids used by the messaging layer ([MS-OXPROPS]).
namespace prop {
inline constexpr uint16_t kImportance = 0x0017;
inline constexpr uint16_t kMessageClass = 0x001A;
inline constexpr uint16_t kSubject = 0x0037;
inline constexpr uint16_t kClientSubmitTime = 0x0039;
inline constexpr uint16_t kSentRepresentingName = 0x0042;
inline constexpr uint16_t kMessageDeliveryTime = 0x0E06;
inline constexpr uint16_t kMessageFlags = 0x0E07;
inline constexpr uint16_t kMessageSize = 0x0E08;
inline constexpr uint16_t kHasAttachments = 0x0E1B;
inline constexpr uint16_t kAttachSize = 0x0E20;
inline constexpr uint16_t kRecipientType = 0x0C15;
inline constexpr uint16_t kSenderName = 0x0C1A;
inline constexpr uint16_t kSenderEmailAddress = 0x0C1F;
inline constexpr uint16_t kBody = 0x1000;
inline constexpr uint16_t kRtfCompressed = 0x1009;
inline constexpr uint16_t kHtml = 0x1013;
inline constexpr uint16_t kInternetCodepage = 0x3FDE;
inline constexpr uint16_t kMessageCodepage = 0x3FFD;
inline constexpr uint16_t kDisplayName = 0x3001;
inline constexpr uint16_t kAddressType = 0x3002;
inline constexpr uint16_t kEmailAddress = 0x3003;
inline constexpr uint16_t kContentCount = 0x3602;
inline constexpr uint16_t kContentUnread = 0x3603;
inline constexpr uint16_t kSubfolders = 0x360A;
inline constexpr uint16_t kContainerClass = 0x3613;
inline constexpr uint16_t kAttachDataBin = 0x3701;  // also PR_ATTACH_DATA_OBJ
inline constexpr uint16_t kAttachExtension = 0x3703;
inline constexpr uint16_t kAttachFilename = 0x3704;
inline constexpr uint16_t kAttachMethod = 0x3705;
inline constexpr uint16_t kAttachLongFilename = 0x3707;
inline constexpr uint16_t kAttachMimeTag = 0x370E;
inline constexpr uint16_t kAttachContentId = 0x3712;
inline constexpr uint16_t kIpmSubtreeEntryId = 0x35E0;
inline constexpr uint16_t kIpmWastebasketEntryId = 0x35E3;
inline constexpr uint16_t kFinderEntryId = 0x35E7;
inline constexpr uint16_t kRecordKey = 0x0FF9;
inline constexpr uint16_t kPstPassword = 0x67FF;
inline constexpr uint16_t kLtpRowId = 0x67F2;
inline constexpr uint16_t kSmtpAddress = 0x39FE;
inline constexpr uint16_t kSentRepresentingAddressType = 0x0064;
inline constexpr uint16_t kSentRepresentingEmailAddress = 0x0065;
inline constexpr uint16_t kTransportMessageHeaders = 0x007D;
inline constexpr uint16_t kSenderAddressType = 0x0C1E;
inline constexpr uint16_t kInternetMessageId = 0x1035;
inline constexpr uint16_t kInternetReferences = 0x1039;
inline constexpr uint16_t kInReplyToId = 0x1042;
inline constexpr uint16_t kLastVerbExecuted = 0x1081;
inline constexpr uint16_t kFlagStatus = 0x1090;
inline constexpr uint16_t kCreationTime = 0x3007;
inline constexpr uint16_t kSearchKey = 0x300B;
inline constexpr uint16_t kSenderSmtpAddress = 0x5D01;
inline constexpr uint16_t kSentRepresentingSmtpAddress = 0x5D02;
}  // namespace prop

// MS-OXCMSG 2.2.2.9 PidTagAttachMethod.
enum AttachMethod : int32_t {
  kAttachNone = 0,
  kAttachByValue = 1,
  kAttachByReference = 2,
  kAttachByRefResolve = 3,
  kAttachByRefOnly = 4,
  kAttachEmbeddedMessage = 5,
  kAttachOle = 6,
};

// MS-PST 2.4.7 Named Property Lookup Map: ids 0x8000+ map to a property set
// GUID and either a numeric id (LID) or a string name.
struct NamedProperty {
  Guid guid{};
  bool is_string = false;
  uint32_t lid = 0;
  std::string name;  // UTF-8, when is_string
};

class NameMap {
 public:
  NameMap() = default;
  // Loads node 0x61. A store without one yields an empty map.
  static Result<NameMap> load(const ndb::Database& db);
  // Mapping of property id (>= 0x8000), if known.
  const NamedProperty* find(uint16_t prop_id) const;
  // The id a property set and LID, or set and string name, was given; the
  // lowest one when a damaged map gives it several.
  std::optional<uint16_t> id_of(const Guid& set, uint32_t lid) const;
  std::optional<uint16_t> id_of(const Guid& set, std::string_view name) const;
  size_t size() const { return by_id_.size(); }
  const std::map<uint16_t, NamedProperty>& entries() const { return by_id_; }

 private:
  // Builds the reverse indexes once, after by_id_ is complete: exporters
  // look names up for every item, and an OST maps thousands of names.
  void index();

  struct ByLid {
    Guid set;
    uint32_t lid;
    uint16_t id;
  };
  struct ByName {
    Guid set;
    std::string name;
    uint16_t id;
  };
  std::map<uint16_t, NamedProperty> by_id_;
  std::vector<ByLid> by_lid_;    // sorted by (set, lid, id)
  std::vector<ByName> by_name_;  // sorted by (set, name, id)
};

class Store;

// A property set read from a PC or a table row, with text decoded through
// the object's code page.
class PropertyBag {
 public:
  PropertyBag() = default;
  PropertyBag(std::vector<PropValue> values, uint32_t codepage);

  const std::vector<PropValue>& values() const { return values_; }
  const PropValue* find(uint16_t id) const;
  bool has(uint16_t id) const { return find(id) != nullptr; }
  uint32_t codepage() const { return codepage_; }

  // PtypString or PtypString8 (through the code page) as UTF-8.
  std::optional<std::string> get_string(uint16_t id) const;
  std::optional<int32_t> get_i32(uint16_t id) const;
  std::optional<int64_t> get_i64(uint16_t id) const;
  std::optional<bool> get_bool(uint16_t id) const;
  std::optional<uint64_t> get_time(uint16_t id) const;
  const Bytes* get_binary(uint16_t id) const;

  // Any string-typed value (single or multi) decoded to UTF-8 with the bag's
  // code page.
  std::string decode_string(const PropValue& v) const;

 private:
  std::vector<PropValue> values_;  // sorted by id
  uint32_t codepage_ = 1252;
};

// "RE: " style subject prefixes are stored as \x01<len> before the subject
// (MS-OXCMSG 2.2.1.46 PidTagSubjectPrefix); this strips the marker.
std::string normalize_subject(std::string s);

class Message;

// MS-PST 2.4.6.3 attachment object.
class Attachment {
 public:
  Nid nid() const { return nid_; }
  const PropertyBag& properties() const { return props_; }
  int32_t method() const;
  std::string filename() const;  // long name, else short name
  // True when PidTagAttachDataBinary is present (it is not in properties():
  // stream it with open_data()).
  bool has_data() const;
  // Size of the attachment's data (PR_ATTACH_DATA_BIN), 0 if none.
  uint64_t data_size() const;
  // Streams the data in blocks (for hashing without loading it whole).
  Result<std::unique_ptr<ndb::Node>> open_data() const;
  Result<Bytes> read_data(uint64_t max_bytes = uint64_t{1} << 31) const;
  bool is_embedded_message() const;
  Result<Message> embedded_message() const;

 private:
  friend class Message;
  const Store* store_ = nullptr;
  Nid nid_ = 0;
  std::shared_ptr<const ndb::Node> node_;
  std::shared_ptr<const ltp::PropertyContext> pc_;
  PropertyBag props_;
};

// MS-PST 2.4.5 message objects (also embedded messages, 2.4.6.3.2).
class Message {
 public:
  Nid nid() const { return nid_; }
  const PropertyBag& properties() const { return props_; }
  std::string subject() const;
  std::string message_class() const;
  uint32_t codepage() const { return props_.codepage(); }

  // One PropertyBag per recipient row (MS-PST 2.4.5.2).
  Result<std::vector<PropertyBag>> recipients() const;
  // Attachment table rows (MS-PST 2.4.6.1) with the attachment subnode ids.
  Result<std::vector<Nid>> attachment_nids() const;
  Result<std::vector<PropertyBag>> attachment_rows() const;
  Result<Attachment> open_attachment(Nid attachment_nid) const;

  // Bodies, decoded: plain text as UTF-8, HTML as bytes as stored (its
  // charset is in the HTML), RTF decompressed (MS-OXRTFCP).
  std::optional<std::string> body_text() const;
  std::optional<Bytes> body_html() const;
  Result<std::optional<Bytes>> body_rtf() const;

 private:
  friend class Store;
  friend class Attachment;
  const Store* store_ = nullptr;
  Nid nid_ = 0;
  std::shared_ptr<const ndb::Node> node_;
  PropertyBag props_;
};

// A row of a folder's hierarchy or contents table.
struct TableRow {
  Nid nid = 0;  // dwRowID: the child folder's or message's NID
  PropertyBag props;
};

// MS-PST 2.4.4 folder objects.
// A folder's contents table read a row at a time (Folder::content_rows):
// the node ids of its items in table order, with no list of them in memory,
// so that a walk over a folder of any size holds the same few blocks.
// nid() may be called from several threads at once (the reader's caches
// are locked; the table is not changed).
class ContentRows {
 public:
  size_t size() const { return table_ ? table_->row_count() : 0; }
  // The node id in row `row` (< size()).
  Result<Nid> nid(size_t row) const;

 private:
  friend class Folder;
  std::optional<ltp::TableContext> table_;  // none: the folder has no contents table
};

class Folder {
 public:
  Nid nid() const { return nid_; }
  const PropertyBag& properties() const { return props_; }
  std::string name() const;
  int32_t content_count() const;
  int32_t unread_count() const;
  bool has_subfolders() const;
  std::string container_class() const;

  // Rows of the hierarchy (0x..D), contents (0x..E) and associated contents
  // (0x..F) tables (MS-PST 2.4.4.4-2.4.4.5). A missing table is empty.
  Result<std::vector<TableRow>> subfolders() const;
  Result<std::vector<TableRow>> contents() const;
  // Just the NIDs of the contents table's rows, in table order: what a walk
  // over every message needs, at 4 bytes a row however large the folder.
  Result<std::vector<Nid>> content_nids() const;
  // The same rows, read when asked for. Fails as content_nids() does: every
  // row is read once here (a damaged row fails the folder, not its item).
  Result<ContentRows> content_rows() const;
  Result<std::vector<TableRow>> associated_contents() const;

 private:
  friend class Store;
  Result<std::vector<TableRow>> read_table(uint8_t nid_type) const;
  const Store* store_ = nullptr;
  Nid nid_ = 0;
  PropertyBag props_;
};

struct StoreOptions {
  ndb::Options ndb;
  // Code page for 8-bit strings when neither the object nor the store names
  // one and none can be inferred.
  uint32_t default_codepage = 1252;
  // When nonzero, the store's code page (for objects that name none), in
  // place of the recorded or inferred one (pstkit --codepage).
  uint32_t codepage_override = 0;
  // An ANSI store that records no code page gets one inferred from a
  // sample of its items (see Store::codepage_source).
  bool infer_codepage = true;
  // Salvage (dump --recover): a message store node (0x21) that cannot be
  // read opens with no store properties instead of failing, so the folders
  // and items are still read; Store::store_damage() says why.
  bool tolerate_unreadable_store = false;
};

// Where Store::codepage() came from.
enum class CodepageSource : uint8_t {
  kDefault,   // StoreOptions::default_codepage: nothing recorded or inferable
  kRecorded,  // the message store's PidTagMessageCodepage
  kItems,     // the most common code page of a sample of items (Store::own_codepage)
  kBytes,     // the bytes of a sample of the store's 8-bit strings (detect_codepage)
  kOption,    // StoreOptions::codepage_override
};
// "default", "recorded", "inferred from items", "inferred from bytes", "option".
const char* codepage_source_name(CodepageSource source);

// MS-PST 2.4.3 the message store.
class Store {
 public:
  static Result<std::unique_ptr<Store>> open(const std::string& path, const StoreOptions& options = {});
  static Result<std::unique_ptr<Store>> open(std::unique_ptr<ndb::Database> db, const StoreOptions& options = {});
  // A store over a database the caller keeps alive (e.g. a WritableDatabase).
  static Result<std::unique_ptr<Store>> open_view(const ndb::Database& db, const StoreOptions& options = {});
  // Re-reads the store properties and the name-to-ID map (after writes).
  Status reload();

  const ndb::Database& db() const { return *db_; }
  const ndb::Header& header() const { return db_->header(); }
  const NameMap& names() const { return names_; }
  const PropertyBag& properties() const { return props_; }
  std::string display_name() const;
  // PidTagPstPassword as stored (a CRC-32 of the password), if set.
  std::optional<uint32_t> password_crc() const;
  // The code page of 8-bit strings of objects that name none (folders,
  // and messages without PidTagMessageCodepage/PidTagInternetCodepage).
  uint32_t codepage() const { return codepage_; }
  CodepageSource codepage_source() const { return codepage_source_; }
  // Why the message store's own properties could not be read (OK when they
  // were; only with StoreOptions::tolerate_unreadable_store).
  const Status& store_damage() const { return store_damage_; }

  // NIDs named by the store's entry IDs (MS-PST 2.4.3.2), if present.
  std::optional<Nid> ipm_subtree_nid() const;
  std::optional<Nid> deleted_items_nid() const;
  std::optional<Nid> search_root_nid() const;

  Result<Folder> root_folder() const { return open_folder(ndb::kNidRootFolder); }
  Result<Folder> open_folder(Nid nid) const;
  Result<Message> open_message(Nid nid) const;

  // Opens a PC from a node (used for messages, attachments, embedded messages).
  Result<std::shared_ptr<const ltp::PropertyContext>> open_pc(std::shared_ptr<const ndb::Node> node) const;
  Result<ltp::TableContext> open_table(std::shared_ptr<const ndb::Node> node,
                                       ltp::RowIndex row_index = ltp::RowIndex::kKeep) const;
  ltp::Options ltp_options() const;
  // The code page an object's 8-bit strings are in (MS-OXCMSG 2.2.1.x):
  // PidTagMessageCodepage, else the Windows ANSI page of the script of
  // PidTagInternetCodepage (ansi_codepage_for), else the store's.
  uint32_t codepage_of(const std::vector<PropValue>& values) const;
  // The code page an object's values name themselves; nullopt when none.
  static std::optional<uint32_t> own_codepage(const std::vector<PropValue>& values);
  // codepage_of a message's own properties (read from its node).
  uint32_t message_codepage(Nid nid) const;
  Result<Message> make_message(Nid nid, std::shared_ptr<const ndb::Node> node) const;

 private:
  std::optional<Nid> nid_from_entry_id(uint16_t id) const;
  // store_codepage.cpp: the code page of an ANSI store that records none.
  std::pair<uint32_t, CodepageSource> infer_codepage() const;

  std::unique_ptr<ndb::Database> owned_db_;
  const ndb::Database* db_ = nullptr;
  StoreOptions options_;
  NameMap names_;
  PropertyBag props_;
  uint32_t codepage_ = 1252;
  CodepageSource codepage_source_ = CodepageSource::kDefault;
  Status store_damage_;
};

}  // namespace pstkit
