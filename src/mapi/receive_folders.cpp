// The receive folder table of a PST (receive_folders.h).
#include "mapi/receive_folders.h"

#include <algorithm>
#include <cctype>

#include "messaging/node_writer.h"
#include "pstkit/codepage.h"
#include "pstkit/ltp_builder.h"
#include "pstkit/ndb_writer.h"
#include "pstkit/property.h"
#include "pstkit/utf.h"

namespace pstkit::mapi::capi {
namespace {

constexpr Nid kNidReceiveFolderTable = 0x62B;  // MS-PST 2.4.1
constexpr uint16_t kFolderNidId = 0x6605;      // the receiving folder's NID
constexpr uint16_t kMessageClassId = 0x001A;   // PidTagMessageClass
constexpr PropTag kFolderNidTag = (PropTag(kFolderNidId) << 16) | ltp::kPtypInteger32;

bool ascii_equal(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// The class column's tag in this table (PtypString, or PtypString8 in ANSI files).
std::optional<PropTag> class_column(const std::vector<ltp::TableContext::Column>& columns) {
  for (const auto& c : columns) {
    if (ltp::tag_id(c.tag) == kMessageClassId) return c.tag;
  }
  return std::nullopt;
}

Result<std::string> class_text(const ltp::PropValue& v, uint32_t codepage) {
  if (v.type() == ltp::kPtypString8) {
    PSTKIT_ASSIGN_OR_RETURN(Bytes raw, v.as_string8());
    return decode_codepage(ByteView(raw), codepage);
  }
  return v.as_string();
}

}  // namespace

Result<std::vector<ReceiveFolder>> read_receive_folders(const Store& store) {
  std::vector<ReceiveFolder> out;
  auto node = store.db().open_node(kNidReceiveFolderTable);
  if (!node) {
    if (node.status().code() == Code::kNotFound) return out;
    return node.status().with_context("receive folder table");
  }
  auto tc = store.open_table(std::shared_ptr<const ndb::Node>(std::move(*node)));
  if (!tc) return tc.status().with_context("receive folder table");
  const auto class_tag = class_column(tc->columns());
  if (!class_tag) return out;
  for (size_t row = 0; row < tc->row_count(); ++row) {
    PSTKIT_ASSIGN_OR_RETURN(auto cls, tc->cell_by_tag(row, *class_tag));
    PSTKIT_ASSIGN_OR_RETURN(auto folder, tc->cell_by_tag(row, kFolderNidTag));
    if (!cls || !folder) continue;
    ReceiveFolder r;
    PSTKIT_ASSIGN_OR_RETURN(r.message_class, class_text(*cls, store.codepage()));
    PSTKIT_ASSIGN_OR_RETURN(int32_t nid, folder->as_i32());
    r.folder = Nid(uint32_t(nid));
    out.push_back(std::move(r));
  }
  return out;
}

Status write_receive_folder(StoreWriter& writer, const std::string& message_class, Nid folder) {
  // A shared store's writer may have given its lock up while idle.
  PSTKIT_RETURN_IF_ERROR(writer.begin_raw_change());
  const Store& store = writer.store();
  const ndb::FileFormat format = store.header().format;
  const bool ansi = format == ndb::FileFormat::kAnsi;
  const PropTag new_class_tag = (PropTag(kMessageClassId) << 16) | (ansi ? ltp::kPtypString8 : ltp::kPtypString);
  // The table as it is (Outlook's columns kept), or a new one.
  std::optional<ltp::TcBuilder> tc;
  if (auto node = store.db().open_node(kNidReceiveFolderTable); node) {
    auto existing = store.open_table(std::shared_ptr<const ndb::Node>(std::move(*node)));
    if (!existing) return existing.status().with_context("receive folder table");
    PSTKIT_ASSIGN_OR_RETURN(auto built, ltp::TcBuilder::from_existing(*existing, {}, format));
    tc.emplace(std::move(built));
  } else if (node.status().code() != Code::kNotFound) {
    return node.status().with_context("receive folder table");
  } else {
    PSTKIT_ASSIGN_OR_RETURN(auto built, ltp::TcBuilder::create(format, {ltp::TcBuilder::kRowIdTag, ltp::TcBuilder::kRowVerTag,
                                                                   kFolderNidTag, new_class_tag}));
    tc.emplace(std::move(built));
  }
  const PropTag class_tag = class_column(tc->columns()).value_or(new_class_tag);
  if (!class_column(tc->columns())) {
    PSTKIT_RETURN_IF_ERROR(tc->add_column(class_tag));
  }
  if (!tc->find_column(kFolderNidTag)) {
    PSTKIT_RETURN_IF_ERROR(tc->add_column(kFolderNidTag));
  }
  // The row of this class, if any, and the next free row id.
  auto stored_node = store.db().open_node(kNidReceiveFolderTable);
  std::optional<uint32_t> row_of_class;
  uint32_t next_row_id = 1;
  if (stored_node) {
    auto existing = store.open_table(std::shared_ptr<const ndb::Node>(std::move(*stored_node)));
    if (!existing) return existing.status().with_context("receive folder table");
    for (size_t row = 0; row < existing->row_count(); ++row) {
      PSTKIT_ASSIGN_OR_RETURN(uint32_t id, existing->row_id(row));
      next_row_id = std::max(next_row_id, id + 1);
      PSTKIT_ASSIGN_OR_RETURN(auto cls, existing->cell_by_tag(row, class_tag));
      if (!cls) continue;
      PSTKIT_ASSIGN_OR_RETURN(std::string text, class_text(*cls, store.codepage()));
      if (ascii_equal(text, message_class)) row_of_class = id;
    }
  }
  Bytes class_bytes;
  if (ltp::tag_type(class_tag) == ltp::kPtypString8) {
    class_bytes = encode_codepage(message_class, store.codepage());
  } else {
    class_bytes = utf8_to_utf16le(message_class);
  }
  const ltp::PropValue class_cell{class_tag, class_bytes};
  const ltp::PropValue folder_cell = ltp::int32_value(kFolderNidId, int32_t(folder));
  if (folder == 0) {
    if (!row_of_class) return Status::ok();
    tc->remove_row(*row_of_class);
  } else if (row_of_class) {
    PSTKIT_RETURN_IF_ERROR(tc->set_cell(*row_of_class, kFolderNidTag, ByteView(folder_cell.data)));
  } else {
    PSTKIT_RETURN_IF_ERROR(tc->add_row(next_row_id, {ltp::int32_value(ltp::tag_id(ltp::TcBuilder::kRowVerTag), 1),
                                                     folder_cell, class_cell}));
  }
  PSTKIT_ASSIGN_OR_RETURN(auto built, tc->build());
  return put_built_node(writer.db(), kNidReceiveFolderTable, 0, built);
}

namespace {

std::string ascii_lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::optional<Nid> ipm_inbox(const Store& store) {
  auto subtree = store.ipm_subtree_nid();
  if (!subtree) return std::nullopt;
  auto folder = store.open_folder(*subtree);
  if (!folder) return std::nullopt;
  auto rows = folder->subfolders();
  if (!rows) return std::nullopt;
  for (const auto& r : *rows) {
    if (ascii_lower(r.props.get_string(prop::kDisplayName).value_or("")) == "inbox") return r.nid;
  }
  return std::nullopt;
}

std::optional<Nid> default_receive_folder(const Store& store) {
  if (auto i = ipm_inbox(store)) return i;
  return store.ipm_subtree_nid();
}

Result<std::map<std::string, ReceiveFolder>> receive_folder_settings(const Store& store) {
  PSTKIT_ASSIGN_OR_RETURN(auto rows, read_receive_folders(store));
  std::map<std::string, ReceiveFolder> out;
  for (auto& r : rows) {
    if (r.message_class.empty() && r.folder == ndb::kNidRootFolder) continue;
    out[ascii_lower(r.message_class)] = std::move(r);
  }
  return out;
}

Result<ReceiveFolder> find_receive_folder(const Store& store, const std::string& message_class) {
  PSTKIT_ASSIGN_OR_RETURN(auto settings, receive_folder_settings(store));
  for (std::string prefix = ascii_lower(message_class);;) {
    if (auto it = settings.find(prefix); it != settings.end()) return it->second;
    if (prefix.empty()) break;
    const size_t dot = prefix.rfind('.');
    prefix = dot == std::string::npos ? std::string() : prefix.substr(0, dot);
  }
  auto folder = default_receive_folder(store);
  if (!folder) return Status::not_found("the store has no IPM subtree");
  return ReceiveFolder{std::string(), *folder};
}

}  // namespace pstkit::mapi::capi
