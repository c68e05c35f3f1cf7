// pstkit show FILE NODE: one node presented for what it is: the message
// store, the name-to-ID map, a folder, a message (with its recipients and
// attachments, embedded messages to any depth), a table (columns and rows)
// or any other property context. Nodes that hold neither a property nor a
// table context (search queues, indexes) are named and not displayed.
#include <iostream>
#include <string_view>

#include "cli/cli.h"
#include "cli/output.h"
#include "pstkit/property_names.h"

namespace pstkit::cli {
namespace {

using json = nlohmann::json;

constexpr int kMaxDepth = 32;

// The name-to-ID map's properties from PidTagNameidBucketBase (0x1000) up
// are its hash buckets (MS-PST 2.4.7.5), not the tagged properties of those
// ids: "PidTagNameidBucketBase+9", not PidTagRtfCompressed.
std::string name_in(const Store& store, const PropertyBag& bag, bool name_map, PropTag tag) {
  const uint16_t id = ltp::tag_id(tag);
  const int32_t buckets = bag.get_i32(0x0001).value_or(0);  // PidTagNameidBucketCount
  if (name_map && ltp::tag_type(tag) == ltp::kPtypBinary && id > 0x1000 && id - 0x1000 < buckets) {
    return "PidTagNameidBucketBase+" + std::to_string(id - 0x1000);
  }
  return property_name(store, tag);
}

json props_json(const Store& store, const PropertyBag& bag, bool name_map = false) {
  json arr = json::array();
  for (const PropValue& v : bag.values()) {
    arr.push_back({{"tag", hex(v.tag)},
                   {"name", name_in(store, bag, name_map, v.tag)},
                   {"type", type_name(v.type()) ? type_name(v.type()) : hex(v.type())},
                   {"value", property_value_json(bag, v)}});
  }
  return arr;
}

void print_props(const Store& store, const PropertyBag& bag, const std::string& indent, bool name_map = false) {
  for (const PropValue& v : bag.values()) {
    char tag[16];
    std::snprintf(tag, sizeof tag, "0x%08X", v.tag);
    const char* tn = type_name(v.type());
    std::cout << indent << tag << "  " << name_in(store, bag, name_map, v.tag) << " (" << (tn ? tn : hex(v.type())) << ") = "
              << property_value_text(bag, v) << "\n";
  }
}

json message_json(const Store& store, const Message& m, int depth, bool* damaged);

void print_message(const Store& store, const Message& m, const std::string& indent, int depth, bool* damaged) {
  std::cout << indent << "Message " << m.nid() << " (" << hex(m.nid()) << "), class " << m.message_class()
            << ", code page " << m.codepage() << "\n";
  std::cout << indent << "Properties:\n";
  print_props(store, m.properties(), indent + "  ");
  auto recips = m.recipients();
  if (!recips) {
    std::cout << indent << "Recipients: <unreadable: " << recips.status().message() << ">\n";
    *damaged = true;
  } else {
    std::cout << indent << "Recipients: " << recips->size() << "\n";
    for (size_t i = 0; i < recips->size(); ++i) {
      std::cout << indent << "  Recipient " << i << ":\n";
      print_props(store, (*recips)[i], indent + "    ");
    }
  }
  auto nids = m.attachment_nids();
  if (!nids) {
    std::cout << indent << "Attachments: <unreadable: " << nids.status().message() << ">\n";
    *damaged = true;
    return;
  }
  std::cout << indent << "Attachments: " << nids->size() << "\n";
  for (Nid an : *nids) {
    auto a = m.open_attachment(an);
    if (!a) {
      std::cout << indent << "  Attachment " << an << ": <unreadable: " << a.status().message() << ">\n";
      *damaged = true;
      continue;
    }
    std::cout << indent << "  Attachment " << an << " (" << hex(an) << "), method " << a->method() << ", \""
              << a->filename() << "\"\n";
    print_props(store, a->properties(), indent + "    ");
    if (a->is_embedded_message()) {
      auto em = a->embedded_message();
      if (!em) {
        std::cout << indent << "    <embedded message unreadable: " << em.status().message() << ">\n";
        *damaged = true;
      } else if (depth < kMaxDepth) {
        print_message(store, *em, indent + "    ", depth + 1, damaged);
      }
    } else if (a->has_data()) {
      auto data = a->open_data();
      if (data) {
        Status err;
        std::string digest = sha256_hex(**data, &err);
        std::cout << indent << "    Data: " << (*data)->size() << " bytes, SHA-256 "
                  << (err.is_ok() ? digest : "<" + err.message() + ">") << "\n";
        if (!err.is_ok()) *damaged = true;
      }
    }
  }
}

json message_json(const Store& store, const Message& m, int depth, bool* damaged) {
  json j{{"nid", m.nid()}, {"class", m.message_class()}, {"codepage", m.codepage()}};
  j["properties"] = props_json(store, m.properties());
  json recipients = json::array();
  if (auto r = m.recipients()) {
    for (const auto& bag : *r) recipients.push_back(props_json(store, bag));
  } else {
    j["recipients_error"] = r.status().message();
    *damaged = true;
  }
  j["recipients"] = recipients;
  json atts = json::array();
  if (auto nids = m.attachment_nids()) {
    for (Nid an : *nids) {
      json aj{{"nid", an}};
      auto a = m.open_attachment(an);
      if (!a) {
        aj["error"] = a.status().message();
        *damaged = true;
      } else {
        aj["method"] = a->method();
        aj["filename"] = a->filename();
        aj["properties"] = props_json(store, a->properties());
        if (a->is_embedded_message() && depth < kMaxDepth) {
          if (auto em = a->embedded_message()) {
            aj["message"] = message_json(store, *em, depth + 1, damaged);
          } else {
            aj["error"] = em.status().message();
            *damaged = true;
          }
        } else if (auto data = a->open_data()) {
          Status err;
          aj["size"] = (*data)->size();
          aj["sha256"] = sha256_hex(**data, &err);
        }
      }
      atts.push_back(aj);
    }
  } else {
    j["attachments_error"] = nids.status().message();
    *damaged = true;
  }
  j["attachments"] = atts;
  return j;
}

// What a node is by its NID: the special NIDs of MS-PST 2.4.1 and the
// folder template tables of 2.4.4.2, else the nidType (2.2.2.1).
std::string node_kind(Nid nid) {
  switch (nid) {
    case ndb::kNidMessageStore: return "message store";
    case ndb::kNidNameToIdMap: return "name-to-ID map";
    case ndb::kNidNormalFolderTemplate: return "normal folder template";
    case ndb::kNidSearchFolderTemplate: return "search folder template";
    case ndb::kNidSearchManagementQueue: return "search management queue";
    case ndb::kNidSearchActivityList: return "search activity list";
    case 0x261: return "search domain object";
    case 0x281: return "search gatherer queue";
    case 0x2A1: return "search gatherer descriptor";
    case 0x321: return "search gatherer folder queue";
    case ndb::kNidHierarchyTableTemplate: return "hierarchy table template";
    case ndb::kNidContentsTableTemplate: return "contents table template";
    case ndb::kNidAssocContentsTableTemplate: return "associated contents table template";
    case ndb::kNidSearchContentsTableTemplate: return "search contents table template";
    case ndb::kNidAttachmentTableTemplate: return "attachment table template";
    case ndb::kNidRecipientTableTemplate: return "recipient table template";
    default: break;
  }
  switch (ndb::nid_type(nid)) {
    case ndb::kNidTypeHid: return "heap node";
    case ndb::kNidTypeInternal: return "internal node";
    case ndb::kNidTypeNormalFolder: return "folder";
    case ndb::kNidTypeSearchFolder: return "search folder";
    case ndb::kNidTypeNormalMessage: return "message";
    case ndb::kNidTypeAttachment: return "attachment";
    case ndb::kNidTypeSearchUpdateQueue: return "search update queue";
    case ndb::kNidTypeSearchCriteriaObject: return "search criteria object";
    case ndb::kNidTypeAssocMessage: return "associated message";
    case ndb::kNidTypeContentsTableIndex: return "contents table index";
    case ndb::kNidTypeReceiveFolderTable: return "receive folder table";
    case ndb::kNidTypeOutgoingQueueTable: return "outgoing queue table";
    case ndb::kNidTypeHierarchyTable: return "hierarchy table";
    case ndb::kNidTypeContentsTable: return "contents table";
    case ndb::kNidTypeAssocContentsTable: return "associated contents table";
    case ndb::kNidTypeSearchContentsTable: return "search contents table";
    case ndb::kNidTypeAttachmentTable: return "attachment table";
    case ndb::kNidTypeRecipientTable: return "recipient table";
    case ndb::kNidTypeSearchTableIndex: return "search table index";
    case ndb::kNidTypeLtp: return "LTP node";
    default: return "node of type " + hex(ndb::nid_type(nid));
  }
}

// Nodes whose kind says they hold a heap: when it does not open, the node is
// damaged rather than of a kind show does not display.
bool kind_is_heap(Nid nid) {
  switch (ndb::nid_type(nid)) {
    case ndb::kNidTypeReceiveFolderTable:
    case ndb::kNidTypeOutgoingQueueTable:
    case ndb::kNidTypeHierarchyTable:
    case ndb::kNidTypeContentsTable:
    case ndb::kNidTypeAssocContentsTable:
    case ndb::kNidTypeSearchContentsTable:
    case ndb::kNidTypeAttachmentTable:
    case ndb::kNidTypeRecipientTable:
    case ndb::kNidTypeAttachment:
      return true;
    default:
      return nid == ndb::kNidMessageStore || nid == ndb::kNidNameToIdMap || nid == ndb::kNidNormalFolderTemplate ||
             nid == ndb::kNidSearchFolderTemplate;
  }
}

std::string capitalized(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = char(s[0] - 'a' + 'A');
  return s;
}

std::string dump_json(const json& j, int indent = 2) {
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

int show_folder(const Store& store, const std::string& file, Nid nid, bool as_json) {
  auto f = store.open_folder(nid);
  if (!f) {
    print_error(file, f.status());
    return kExitBadInput;
  }
  auto subs = f->subfolders();
  auto contents = f->contents();
  auto assoc = f->associated_contents();
  const std::string kind = node_kind(nid);
  if (as_json) {
    json j{{"type", "folder"}, {"kind", kind}, {"nid", nid}, {"name", f->name()},
           {"properties", props_json(store, f->properties())}};
    if (subs) j["subfolders"] = subs->size();
    if (contents) j["items"] = contents->size();
    if (assoc) j["associated_items"] = assoc->size();
    std::cout << dump_json(j) << "\n";
  } else {
    std::cout << capitalized(kind) << " " << nid << " (" << hex(nid) << ") \"" << f->name() << "\"\nProperties:\n";
    print_props(store, f->properties(), "  ");
    std::cout << "Subfolders: " << (subs ? std::to_string(subs->size()) : "<unreadable>") << "\n"
              << "Items: " << (contents ? std::to_string(contents->size()) : "<unreadable>") << "\n"
              << "Associated items: " << (assoc ? std::to_string(assoc->size()) : "<unreadable>") << "\n";
  }
  return subs && contents && assoc ? kExitOk : kExitBadInput;
}

int show_message(const Store& store, const std::string& file, Nid nid, bool as_json) {
  auto m = store.open_message(nid);
  if (!m) {
    print_error(file, m.status());
    return kExitBadInput;
  }
  bool damaged = false;
  if (as_json) {
    json j = message_json(store, *m, 0, &damaged);
    j["type"] = "item";
    j["kind"] = node_kind(nid);
    std::cout << dump_json(j) << "\n";
  } else {
    print_message(store, *m, "", 0, &damaged);
  }
  return damaged ? kExitBadInput : kExitOk;
}

// A property context shown as its properties: the message store (MS-PST
// 2.4.3), the name-to-ID map (2.4.7, with its decoded entries), templates,
// attachments found in the NBT and anything else that is a PC.
int show_properties(const Store& store, Nid nid, const PropertyBag& bag, bool as_json) {
  const std::string kind = node_kind(nid);
  const bool store_node = nid == ndb::kNidMessageStore;
  const bool name_map = nid == ndb::kNidNameToIdMap;
  if (as_json) {
    json j{{"type", store_node ? "store" : name_map ? "name_map" : "properties"}, {"kind", kind}, {"nid", nid}};
    if (store_node) j["display_name"] = store.display_name();
    j["properties"] = props_json(store, bag, name_map);
    if (name_map) {
      json entries = json::array();
      for (const auto& [id, np] : store.names().entries()) {
        json e{{"id", hex(id)}, {"set", np.guid.to_string()}};
        if (const char* set = property_set_name(np.guid)) e["set_name"] = set;
        if (np.is_string) {
          e["string"] = np.name;
        } else {
          e["lid"] = hex(np.lid);
        }
        e["name"] = property_name(store, ltp::make_tag(id, 0));
        entries.push_back(std::move(e));
      }
      j["entries"] = std::move(entries);
    }
    std::cout << dump_json(j) << "\n";
    return kExitOk;
  }
  std::cout << capitalized(kind) << " " << nid << " (" << hex(nid) << ")";
  if (store_node) std::cout << " \"" << store.display_name() << "\"";
  std::cout << "\nProperties:\n";
  print_props(store, bag, "  ", name_map);
  if (name_map) {
    std::cout << "Entries: " << store.names().size() << "\n";
    for (const auto& [id, np] : store.names().entries()) {
      const char* set = property_set_name(np.guid);
      std::cout << "  " << hex(id) << "  " << (set ? set : np.guid.to_string()) << ":"
                << (np.is_string ? "\"" + np.name + "\"" : hex(np.lid)) << "  "
                << property_name(store, ltp::make_tag(id, 0)) << "\n";
    }
  }
  return kExitOk;
}

// A table context (MS-PST 2.3.4) shown as its columns and its rows, one at a
// time, so that a contents table of any size streams.
int show_table(const Store& store, Nid nid, Nid parent, const ltp::TableContext& tc, bool as_json) {
  const std::string kind = node_kind(nid);
  bool damaged = false;
  if (as_json) {
    json columns = json::array();
    for (const auto& c : tc.columns()) {
      const char* tn = type_name(ltp::tag_type(c.tag));
      columns.push_back({{"tag", hex(c.tag)}, {"name", property_name(store, c.tag)},
                         {"type", tn ? tn : hex(ltp::tag_type(c.tag))}});
    }
    std::cout << "{\"type\": \"table\", \"kind\": " << json(kind).dump() << ", \"nid\": " << nid
              << ", \"parent_nid\": " << parent << ", \"columns\": " << dump_json(columns, -1) << ", \"rows\": [";
    for (size_t i = 0; i < tc.row_count() && stdout_ok(); ++i) {
      json row{{"row", i}};
      if (auto id = tc.row_id(i)) row["row_id"] = *id;
      if (auto cells = tc.row(i)) {
        row["properties"] = props_json(store, PropertyBag(*cells, store.codepage_of(*cells)));
      } else {
        row["error"] = cells.status().message();
        damaged = true;
      }
      std::cout << (i ? ",\n  " : "\n  ") << dump_json(row, -1);
    }
    std::cout << "\n]}\n";
    return damaged ? kExitBadInput : kExitOk;
  }
  std::cout << capitalized(kind) << " " << nid << " (" << hex(nid) << ")";
  if (parent != 0) std::cout << " of " << parent << " (" << hex(parent) << ")";
  std::cout << ": " << tc.columns().size() << " columns, " << tc.row_count() << " rows\nColumns:\n";
  for (const auto& c : tc.columns()) {
    char tag[16];
    std::snprintf(tag, sizeof tag, "0x%08X", c.tag);
    const char* tn = type_name(ltp::tag_type(c.tag));
    std::cout << "  " << tag << "  " << property_name(store, c.tag) << " (" << (tn ? tn : hex(ltp::tag_type(c.tag)))
              << ")\n";
  }
  for (size_t i = 0; i < tc.row_count() && stdout_ok(); ++i) {
    auto id = tc.row_id(i);
    std::cout << "Row " << i;
    if (id) std::cout << ", row id " << *id << " (" << hex(*id) << ")";
    std::cout << ":\n";
    auto cells = tc.row(i);
    if (!cells) {
      std::cout << "  <unreadable: " << cells.status().message() << ">\n";
      damaged = true;
      continue;
    }
    print_props(store, PropertyBag(*cells, store.codepage_of(*cells)), "  ");
  }
  return damaged ? kExitBadInput : kExitOk;
}

// Any other node: by what its heap holds (MS-PST 2.3.1.2 bClientSig).
int show_node(const Store& store, const std::string& file, Nid nid, bool as_json) {
  const std::string kind = node_kind(nid);
  auto entry = store.db().find_node(nid);
  if (!entry) {
    if (ndb::nid_type(nid) == ndb::kNidTypeAttachment && entry.status().code() == Code::kNotFound) {
      std::cerr << "pstkit: " << file << ": node " << hex(nid)
                << " is not in the NBT: attachments are subnodes of their message, which show displays with them\n";
      return kExitBadInput;
    }
    print_error(file, entry.status());
    return kExitBadInput;
  }
  auto node = store.db().open_node(nid);
  if (!node) {
    print_error(file, node.status());
    return kExitBadInput;
  }
  std::shared_ptr<const ndb::Node> shared(std::move(*node));
  auto heap = ltp::Heap::open(shared, store.ltp_options());
  const uint8_t sig = heap ? heap->client_signature() : 0;
  if (sig == ltp::kClientPropertyContext) {
    auto pc = store.open_pc(shared);
    if (!pc) {
      print_error(file, pc.status().with_context(kind + " " + hex(nid)));
      return kExitBadInput;
    }
    std::vector<PropValue> values = (*pc)->all_readable();
    const uint32_t cp = store.codepage_of(values);
    return show_properties(store, nid, PropertyBag(std::move(values), cp), as_json);
  }
  if (sig == ltp::kClientTableContext) {
    auto tc = store.open_table(shared);
    if (!tc) {
      print_error(file, tc.status().with_context(kind + " " + hex(nid)));
      return kExitBadInput;
    }
    return show_table(store, nid, entry->parent_nid, *tc, as_json);
  }
  if (!heap && kind_is_heap(nid)) {
    print_error(file, heap.status().with_context(kind + " " + hex(nid)));
    return kExitBadInput;
  }
  const bool vowel = std::string_view("aeiouAEIOUL").find(kind[0]) != std::string_view::npos;  // "an LTP node"
  std::cerr << "pstkit: " << file << ": node " << hex(nid) << " is " << (vowel ? "an " : "a ") << kind << (heap ? " (heap of client signature " + hex(sig) + ")" : std::string())
            << "; show does not display it\n";
  return kExitBadInput;
}

}  // namespace

int cmd_show(const std::string& file, const std::string& item, bool as_json, const ReadOptions& read) {
  Nid nid = 0;
  if (!parse_nid(item, &nid)) {
    std::cerr << "pstkit: ITEM must be a node id (decimal or 0x hex), got '" << item << "'\n";
    return kExitUsage;
  }
  auto store = open_store_or_report(file, read);
  if (!store) return kExitBadInput;
  switch (ndb::nid_type(nid)) {
    case ndb::kNidTypeNormalFolder:
    case ndb::kNidTypeSearchFolder:
      return show_folder(*store, file, nid, as_json);
    case ndb::kNidTypeNormalMessage:
    case ndb::kNidTypeAssocMessage:
      return show_message(*store, file, nid, as_json);
    default:
      return show_node(*store, file, nid, as_json);
  }
}

}  // namespace pstkit::cli
