// pstkit info FILE: format, encoding, size, header fields and counts.
#include <iostream>
#include <map>

#include "cli/cli.h"

namespace pstkit::cli {
namespace {

const char* nid_type_name(uint8_t t) {
  switch (t) {
    case ndb::kNidTypeInternal: return "internal";
    case ndb::kNidTypeNormalFolder: return "folders";
    case ndb::kNidTypeSearchFolder: return "search_folders";
    case ndb::kNidTypeNormalMessage: return "messages";
    case ndb::kNidTypeAttachment: return "attachments";
    case ndb::kNidTypeAssocMessage: return "associated_messages";
    case ndb::kNidTypeHierarchyTable: return "hierarchy_tables";
    case ndb::kNidTypeContentsTable: return "contents_tables";
    case ndb::kNidTypeAssocContentsTable: return "associated_contents_tables";
    case ndb::kNidTypeSearchContentsTable: return "search_contents_tables";
    case ndb::kNidTypeSearchUpdateQueue: return "search_update_queues";
    case ndb::kNidTypeSearchCriteriaObject: return "search_criteria";
    default: return nullptr;
  }
}

std::string client_name(uint16_t magic) {
  if (magic == 0x4D53) return "PST";
  if (magic == 0x4F53) return "OST";
  if (magic == 0x4241) return "PAB";
  return hex(magic);
}

// How the store's code page was chosen, as the user would say it.
std::string codepage_source(const Store& store) {
  if (store.codepage_source() == CodepageSource::kOption) return "--codepage";
  return codepage_source_name(store.codepage_source());
}

}  // namespace

int cmd_info(const std::string& file, bool as_json, const ReadOptions& read) {
  auto store = open_store_or_report(file, read);
  if (!store) return kExitBadInput;
  const ndb::Database& db = store->db();
  const ndb::Header& h = db.header();

  std::map<std::string, uint64_t> nodes_by_type;
  uint64_t node_count = 0, block_count = 0, block_bytes = 0;
  Status s1 = db.for_each_node([&](const ndb::NodeEntry& e) {
    ++node_count;
    const char* n = nid_type_name(ndb::nid_type(e.nid));
    ++nodes_by_type[n ? n : "other"];
    return true;
  });
  Status s2 = db.for_each_block([&](const ndb::BlockEntry& e) {
    ++block_count;
    block_bytes += e.stored_size;
    return true;
  });

  nlohmann::json j;
  j["file"] = file;
  j["size"] = db.file_size();
  j["kind"] = client_name(h.magic_client);
  j["format"] = ndb::format_name(h.format);
  j["ndb_version"] = h.ndb_version;
  j["client_version"] = h.client_version;
  j["encoding"] = ndb::crypt_name(h.crypt);
  j["header"] = {{"crc_partial", hex(h.crc_partial)},
                 {"crc_partial_ok", h.crc_partial_ok},
                 {"crc_full_ok", h.crc_full_ok},
                 {"bid_next_block", h.bid_next_b},
                 {"bid_next_page", h.bid_next_p},
                 {"unique", h.unique},
                 {"file_eof", h.file_eof},
                 {"amap_last", h.amap_last},
                 {"amap_free", h.amap_free},
                 {"pmap_free", h.pmap_free},
                 {"amap_valid", h.amap_valid},
                 {"nbt_root", {{"bid", h.nbt_root.bid}, {"offset", h.nbt_root.ib}}},
                 {"bbt_root", {{"bid", h.bbt_root.bid}, {"offset", h.bbt_root.ib}}}};
  j["store"] = {{"display_name", store->display_name()}, {"codepage", store->codepage()},
                {"codepage_source", codepage_source(*store)},
                {"named_properties", store->names().size()}};
  if (auto crc = store->password_crc()) j["store"]["password_crc"] = hex(*crc);
  j["counts"] = {{"nodes", node_count}, {"blocks", block_count}, {"block_bytes", block_bytes}};
  for (const auto& [k, v] : nodes_by_type) j["counts"][k] = v;
  const bool ok = s1.is_ok() && s2.is_ok();
  if (!s1.is_ok()) j["error"] = s1.message();
  if (!s2.is_ok()) j["error"] = s2.message();

  if (as_json) {
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    std::cout << "File:            " << file << "\n"
              << "Size:            " << db.file_size() << " bytes\n"
              << "Kind:            " << client_name(h.magic_client) << ", " << ndb::format_name(h.format)
              << " (wVer " << h.ndb_version << ", client " << h.client_version << ")\n"
              << "Encoding:        " << ndb::crypt_name(h.crypt) << "\n"
              << "Header CRCs:     partial " << (h.crc_partial_ok ? "ok" : "BAD") << ", full "
              << (h.crc_full_ok ? "ok" : "BAD") << "\n"
              << "Store name:      " << store->display_name() << "\n"
              << "Password:        "
              << (store->password_crc() ? "set (CRC " + hex(*store->password_crc()) + ")" : std::string("none"))
              << "\n"
              << "Code page:       " << store->codepage() << " (" << codepage_source(*store) << ")\n"
              << "File EOF:        " << h.file_eof << "\n"
              << "AMap:            last " << hex(h.amap_last) << ", free " << h.amap_free << " bytes, "
              << (h.amap_valid ? "valid" : "INVALID (needs rebuild)") << "\n"
              << "Next BID:        block " << hex(h.bid_next_b) << ", page " << hex(h.bid_next_p) << "\n"
              << "NBT root:        " << hex(h.nbt_root.ib) << "  BBT root: " << hex(h.bbt_root.ib) << "\n"
              << "Nodes:           " << node_count << "\n"
              << "Blocks:          " << block_count << " (" << block_bytes << " bytes)\n"
              << "Named props:     " << store->names().size() << "\n";
    for (const auto& [k, v] : nodes_by_type) std::cout << "  " << k << ": " << v << "\n";
    if (!ok) std::cout << "Error:           " << (s1.is_ok() ? s2 : s1).message() << "\n";
  }
  if (!ok) print_error(file, s1.is_ok() ? s2 : s1);
  return ok ? kExitOk : kExitBadInput;
}

}  // namespace pstkit::cli
