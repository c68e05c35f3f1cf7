// pstkit show FILE ITEM: every property of one folder or message, with its
// recipients and attachments (embedded messages to any depth).
#include <iostream>

#include "cli/cli.h"
#include "pstkit/property_names.h"

namespace pstkit::cli {
namespace {

using json = nlohmann::json;

constexpr int kMaxDepth = 32;

json props_json(const Store& store, const PropertyBag& bag) {
  json arr = json::array();
  for (const PropValue& v : bag.values()) {
    arr.push_back({{"tag", hex(v.tag)},
                   {"name", property_name(store, v.tag)},
                   {"type", type_name(v.type()) ? type_name(v.type()) : hex(v.type())},
                   {"value", property_value_json(bag, v)}});
  }
  return arr;
}

void print_props(const Store& store, const PropertyBag& bag, const std::string& indent) {
  for (const PropValue& v : bag.values()) {
    char tag[16];
    std::snprintf(tag, sizeof tag, "0x%08X", v.tag);
    const char* tn = type_name(v.type());
    std::cout << indent << tag << "  " << property_name(store, v.tag) << " (" << (tn ? tn : hex(v.type())) << ") = "
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

}  // namespace

int cmd_show(const std::string& file, const std::string& item, bool as_json, const ReadOptions& read) {
  Nid nid = 0;
  if (!parse_nid(item, &nid)) {
    std::cerr << "pstkit: ITEM must be a node id (decimal or 0x hex), got '" << item << "'\n";
    return kExitUsage;
  }
  auto store = open_store_or_report(file, read);
  if (!store) return kExitBadInput;
  bool damaged = false;
  const uint8_t type = ndb::nid_type(nid);
  if (type == ndb::kNidTypeNormalFolder || type == ndb::kNidTypeSearchFolder) {
    auto f = store->open_folder(nid);
    if (!f) {
      print_error(file, f.status());
      return kExitBadInput;
    }
    auto subs = f->subfolders();
    auto contents = f->contents();
    auto assoc = f->associated_contents();
    if (as_json) {
      json j{{"type", "folder"}, {"nid", nid}, {"name", f->name()}, {"properties", props_json(*store, f->properties())}};
      if (subs) j["subfolders"] = subs->size();
      if (contents) j["items"] = contents->size();
      if (assoc) j["associated_items"] = assoc->size();
      std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    } else {
      std::cout << "Folder " << nid << " (" << hex(nid) << ") \"" << f->name() << "\"\nProperties:\n";
      print_props(*store, f->properties(), "  ");
      std::cout << "Subfolders: " << (subs ? std::to_string(subs->size()) : "<unreadable>") << "\n"
                << "Items: " << (contents ? std::to_string(contents->size()) : "<unreadable>") << "\n"
                << "Associated items: " << (assoc ? std::to_string(assoc->size()) : "<unreadable>") << "\n";
    }
    return subs && contents && assoc ? kExitOk : kExitBadInput;
  }
  auto m = store->open_message(nid);
  if (!m) {
    print_error(file, m.status());
    return kExitBadInput;
  }
  if (as_json) {
    json j = message_json(*store, *m, 0, &damaged);
    j["type"] = "item";
    std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    print_message(*store, *m, "", 0, &damaged);
  }
  return damaged ? kExitBadInput : kExitOk;
}

}  // namespace pstkit::cli
