// pstkit dump --json [--full]: one JSON object per line for every folder and
// every item of every folder's contents table.
#include <iostream>

#include "cli/cli.h"
#include "cli/folder_walk.h"

namespace pstkit::cli {
namespace {

using json = nlohmann::json;

constexpr int kMaxEmbeddingDepth = 32;

void emit(const json& j) {
  std::cout << j.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
}

json error_json(const std::vector<std::string>& folder, Nid nid, const Status& s) {
  return json{{"type", "error"}, {"folder", folder}, {"nid", nid}, {"error", s.message()}};
}

json properties_json(const Store& store, const PropertyBag& bag) {
  json props = json::object();
  for (const PropValue& v : bag.values()) {
    std::string key = property_name(store, v.id());
    if (props.contains(key)) key += "_" + hex(v.tag);
    props[key] = property_value_json(bag, v);
  }
  return props;
}

// Everything about one message, recursively through embedded messages.
json full_message_json(const Store& store, const Message& m, int depth, bool* damaged) {
  json j;
  j["properties"] = properties_json(store, m.properties());
  if (auto body = m.body_text()) j["body"] = *body;
  if (auto html = m.body_html()) j["html"] = std::string(html->begin(), html->end());
  if (auto rtf = m.body_rtf(); !rtf) {
    j["rtf_error"] = rtf.status().message();
    *damaged = true;
  } else if (rtf->has_value()) {
    j["rtf"] = std::string((*rtf)->begin(), (*rtf)->end());
  }
  json recipients = json::array();
  if (auto rows = m.recipients()) {
    for (const auto& r : *rows) recipients.push_back(properties_json(store, r));
  } else {
    j["recipients_error"] = rows.status().message();
    *damaged = true;
  }
  j["recipients"] = std::move(recipients);
  json attachments = json::array();
  auto nids = m.attachment_nids();
  if (!nids) {
    j["attachments_error"] = nids.status().message();
    *damaged = true;
  } else {
    for (Nid an : *nids) {
      json a;
      a["nid"] = an;
      auto att = m.open_attachment(an);
      if (!att) {
        a["error"] = att.status().message();
        *damaged = true;
        attachments.push_back(std::move(a));
        continue;
      }
      a["method"] = att->method();
      a["filename"] = att->filename();
      a["properties"] = properties_json(store, att->properties());
      if (att->is_embedded_message()) {
        auto em = att->embedded_message();
        if (!em) {
          a["error"] = em.status().message();
          *damaged = true;
        } else if (depth >= kMaxEmbeddingDepth) {
          a["error"] = "embedded messages nested deeper than " + std::to_string(kMaxEmbeddingDepth);
        } else {
          json inner = full_message_json(store, *em, depth + 1, damaged);
          inner["class"] = em->message_class();
          inner["subject"] = em->subject();
          a["message"] = std::move(inner);
        }
      } else if (att->properties().has(prop::kAttachDataBin)) {
        auto data = att->open_data();
        if (!data) {
          a["error"] = data.status().message();
          *damaged = true;
        } else {
          Status err;
          std::string digest = sha256_hex(**data, &err);
          a["size"] = (*data)->size();
          if (err.is_ok()) {
            a["sha256"] = digest;
          } else {
            a["error"] = err.message();
            *damaged = true;
          }
        }
      }
      attachments.push_back(std::move(a));
    }
  }
  j["attachment_list"] = std::move(attachments);
  return j;
}

}  // namespace

int cmd_dump(const std::string& file, const DumpOptions& options) {
  auto store = open_store_or_report(file);
  if (!store) return kExitBadInput;
  std::ios::sync_with_stdio(false);
  bool damaged = false;
  const bool ok = walk_folders(*store, [&](const FolderVisit& v) {
    if (!v.folder) {
      emit(error_json(v.path, v.nid, v.error));
      damaged = true;
      return;
    }
    auto contents = v.folder->contents();
    json fj{{"type", "folder"},
            {"path", v.path},
            {"nid", v.nid},
            {"items", contents ? contents->size() : 0},
            {"subfolders", v.subfolders.size()},
            {"content_count", v.folder->content_count()},
            {"unread", v.folder->unread_count()}};
    if (auto cls = v.folder->container_class(); !cls.empty()) fj["container_class"] = cls;
    if (auto assoc = v.folder->associated_contents()) fj["associated_items"] = assoc->size();
    if (options.full) fj["properties"] = properties_json(*store, v.folder->properties());
    if (!v.error.is_ok()) fj["error"] = v.error.message();
    if (!contents) fj["error"] = contents.status().message();
    emit(fj);
    if (!contents) {
      damaged = true;
      return;
    }
    for (const TableRow& row : *contents) {
      auto m = store->open_message(row.nid);
      if (!m) {
        emit(error_json(v.path, row.nid, m.status()));
        damaged = true;
        continue;
      }
      json ij{{"type", "item"}, {"folder", v.path}, {"nid", row.nid}, {"class", m->message_class()},
              {"subject", m->subject()}};
      auto atts = m->attachment_nids();
      ij["attachments"] = atts ? atts->size() : 0;
      if (!atts) {
        ij["error"] = atts.status().message();
        damaged = true;
      }
      const PropertyBag& p = m->properties();
      if (auto t = p.get_time(prop::kMessageDeliveryTime)) ij["delivered"] = filetime_to_iso(*t);
      if (auto t = p.get_time(prop::kClientSubmitTime)) ij["submitted"] = filetime_to_iso(*t);
      if (auto s = p.get_string(prop::kSenderName)) ij["sender"] = *s;
      if (auto s = p.get_i32(prop::kMessageSize)) ij["size"] = *s;
      if (options.full) {
        json full = full_message_json(*store, *m, 0, &damaged);
        for (auto& [k, val] : full.items()) ij[k] = std::move(val);
      }
      emit(ij);
    }
  });
  std::cout.flush();
  return ok && !damaged ? kExitOk : kExitBadInput;
}

}  // namespace pstkit::cli
