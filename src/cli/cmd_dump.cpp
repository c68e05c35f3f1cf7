// pstkit dump --json [--full]: one JSON object per line for every folder and
// every item of every folder's contents table; with --recover, also the
// messages no contents table lists (orphans).
#include <algorithm>
#include <iostream>
#include <map>

#include "cli/cli.h"
#include "cli/folder_walk.h"
#include "cli/json_writer.h"
#include "pstkit/codepage.h"

namespace pstkit::cli {
namespace {

constexpr int kMaxEmbeddingDepth = 32;

class Dumper {
 public:
  Dumper(const Store& store, bool full) : store_(store), full_(full), out_(std::cout) {}

  bool damaged() const { return damaged_; }
  void flush() { out_.flush(); }
  // False once writing the output failed: the walk stops there.
  bool writing() const { return out_.ok(); }

  // With track_items, remembers every item and folder it printed, so that
  // orphans() can print the messages no contents table leads to.
  void track_items() { tracking_ = true; }

  // With a unit, only its rows of the folder's contents table, and the
  // folder's own line only from the unit that starts at row 0 (so the
  // units of a plan print every line of a full dump once).
  void folder(const FolderVisit& v, const WorkUnit* unit = nullptr) {
    if (tracking_) folder_paths_[v.nid] = v.path;
    if (!v.folder) {
      if (!unit || unit->first == 0) error_line(v.path, v.nid, v.error);
      else damaged_ = true;
      return;
    }
    auto contents = v.folder->content_nids();
    const uint64_t rows = contents ? contents->size() : 0;
    if (unit && contents) {
      std::string why, display;
      for (const auto& p : v.path) display += (display.empty() ? "" : "/") + p;
      if (!select_unit_rows(*unit, display, &*contents, &why)) {
        error_line(v.path, v.nid, Status::invalid_argument(why));
        damaged_ = true;
        return;
      }
    }
    if (unit && unit->first != 0) {
      if (!contents) {
        damaged_ = true;
        return;
      }
      for (Nid nid : *contents) {
        if (!out_.ok()) return;
        item(v.path, nid);
      }
      return;
    }
    out_.begin_object();
    out_.key("type");
    out_.string("folder");
    path("path", v.path);
    out_.key("nid");
    out_.number(v.nid);
    out_.key("items");
    out_.number(rows);
    out_.key("subfolders");
    out_.number(uint64_t(v.subfolders.size()));
    out_.key("content_count");
    out_.number(v.folder->content_count());
    out_.key("unread");
    out_.number(v.folder->unread_count());
    if (auto cls = v.folder->container_class(); !cls.empty()) {
      out_.key("container_class");
      out_.string(cls);
    }
    if (auto assoc = v.folder->associated_contents()) {
      out_.key("associated_items");
      out_.number(uint64_t(assoc->size()));
    }
    if (full_) {
      out_.key("properties");
      properties(v.folder->properties());
    }
    const Status err = !v.error.is_ok() ? v.error : contents.status();
    if (!err.is_ok()) {
      out_.key("error");
      out_.string(err.message());
      damaged_ = true;
    }
    out_.end_object();
    out_.end_line();
    if (!contents) return;
    for (Nid nid : *contents) {
      if (!out_.ok()) return;
      item(v.path, nid);
    }
  }

  // Salvage (--recover): normal messages in the NBT that no folder's contents
  // table lists, e.g. because the table was lost. Each is printed with
  // "orphan": true, under its parent folder's path when that folder was
  // printed (the NBT entry names the parent, MS-PST 2.2.2.7.7.4), else [].
  // Orphans that cannot be opened are skipped, not reported as damage: a
  // node from a stale NBT page is often a deleted message whose blocks
  // were reused. Returns {listed, skipped}.
  std::pair<size_t, size_t> orphans() {
    std::sort(printed_.begin(), printed_.end());
    size_t listed = 0, skipped = 0;
    (void)store_.db().for_each_node([&](const ndb::NodeEntry& e) {
      if (!out_.ok()) return false;
      if (ndb::nid_type(e.nid) != ndb::kNidTypeNormalMessage) return true;
      if (std::binary_search(printed_.begin(), printed_.end(), e.nid)) return true;
      auto m = store_.open_message(e.nid);
      if (!m) {
        ++skipped;
        return true;
      }
      auto parent = folder_paths_.find(e.parent_nid);
      print_item(parent != folder_paths_.end() ? parent->second : std::vector<std::string>{}, *m, e.parent_nid);
      ++listed;
      return true;
    });
    return {listed, skipped};
  }

 private:
  void path(const char* k, const std::vector<std::string>& p) {
    out_.key(k);
    out_.begin_array();
    for (const auto& s : p) out_.string(s);
    out_.end_array();
  }

  void error_line(const std::vector<std::string>& folder, Nid nid, const Status& s) {
    out_.begin_object();
    out_.key("type");
    out_.string("error");
    path("folder", folder);
    out_.key("nid");
    out_.number(nid);
    out_.key("error");
    out_.string(s.message());
    out_.end_object();
    out_.end_line();
    damaged_ = true;
  }

  void item(const std::vector<std::string>& folder, Nid nid) {
    if (tracking_) printed_.push_back(nid);
    auto m = store_.open_message(nid);
    if (!m) {
      error_line(folder, nid, m.status());
      return;
    }
    print_item(folder, *m, 0);
  }

  // orphan_parent: nonzero for an orphan (see orphans()).
  void print_item(const std::vector<std::string>& folder, const Message& m, Nid orphan_parent) {
    out_.begin_object();
    out_.key("type");
    out_.string("item");
    path("folder", folder);
    out_.key("nid");
    out_.number(m.nid());
    if (orphan_parent != 0) {
      out_.key("orphan");
      out_.boolean(true);
      out_.key("parent_nid");
      out_.number(orphan_parent);
    }
    auto atts = m.attachment_nids();
    summary(m, atts ? atts->size() : 0);
    if (!atts) {
      out_.key("error");
      out_.string(atts.status().message());
      damaged_ = true;
    }
    if (full_) details(m, atts ? *atts : std::vector<Nid>{}, 0);
    out_.end_object();
    out_.end_line();
  }

  void summary(const Message& m, size_t attachments) {
    out_.key("class");
    out_.string(m.message_class());
    out_.key("subject");
    out_.string(m.subject());
    out_.key("attachments");
    out_.number(uint64_t(attachments));
    const PropertyBag& p = m.properties();
    if (auto t = p.get_time(prop::kMessageDeliveryTime)) {
      out_.key("delivered");
      out_.string(filetime_to_iso(*t));
    }
    if (auto t = p.get_time(prop::kClientSubmitTime)) {
      out_.key("submitted");
      out_.string(filetime_to_iso(*t));
    }
    if (auto s = p.get_string(prop::kSenderName)) {
      out_.key("sender");
      out_.string(*s);
    }
    if (auto s = p.get_i32(prop::kMessageSize)) {
      out_.key("size");
      out_.number(*s);
    }
  }

  // Bodies appear once, under "body" and "html" (decoded) and "rtf"
  // (decompressed, as {"base64": ...}); the properties that hold them point
  // there.
  void details(const Message& m, const std::vector<Nid>& attachment_nids, int depth) {
    out_.key("properties");
    properties(m.properties());
    if (auto body = m.body_text()) {
      out_.key("body");
      out_.string(*body);
    }
    if (auto html = m.body_html()) {
      out_.key("html");
      out_.string(decode_html(m, *html));
    }
    auto rtf = m.body_rtf();
    if (!rtf) {
      out_.key("rtf_error");
      out_.string(rtf.status().message());
      damaged_ = true;
    } else if (rtf->has_value()) {
      // RTF is a byte format (its text is in its own \ansicpg, \bin
      // groups are raw binary): kept byte for byte, as base64.
      out_.key("rtf");
      out_.begin_object();
      out_.key("base64");
      out_.base64_string(**rtf);
      out_.end_object();
    }
    out_.key("recipients");
    out_.begin_array();
    auto rows = m.recipients();
    if (rows) {
      for (const auto& r : *rows) properties(r);
    }
    out_.end_array();
    if (!rows) {
      out_.key("recipients_error");
      out_.string(rows.status().message());
      damaged_ = true;
    }
    out_.key("attachment_list");
    out_.begin_array();
    for (Nid an : attachment_nids) attachment(m, an, depth);
    out_.end_array();
  }

  void attachment(const Message& m, Nid an, int depth) {
    out_.begin_object();
    out_.key("nid");
    out_.number(an);
    auto att = m.open_attachment(an);
    if (!att) {
      out_.key("error");
      out_.string(att.status().message());
      damaged_ = true;
      out_.end_object();
      return;
    }
    out_.key("method");
    out_.number(att->method());
    out_.key("filename");
    out_.string(att->filename());
    out_.key("properties");
    properties(att->properties());
    if (att->is_embedded_message()) {
      auto em = att->embedded_message();
      if (!em) {
        out_.key("error");
        out_.string(em.status().message());
        damaged_ = true;
      } else if (depth >= kMaxEmbeddingDepth) {
        out_.key("error");
        out_.string("embedded messages nested deeper than " + std::to_string(kMaxEmbeddingDepth));
        damaged_ = true;
      } else {
        out_.key("message");
        out_.begin_object();
        auto inner = em->attachment_nids();
        summary(*em, inner ? inner->size() : 0);
        details(*em, inner ? *inner : std::vector<Nid>{}, depth + 1);
        out_.end_object();
      }
    } else if (att->has_data()) {
      auto data = att->open_data();
      if (!data) {
        out_.key("error");
        out_.string(data.status().message());
        damaged_ = true;
      } else {
        Status err;
        std::string digest = sha256_hex(**data, &err);
        out_.key("size");
        out_.number(uint64_t((*data)->size()));
        if (err.is_ok()) {
          out_.key("sha256");
          out_.string(digest);
        } else {
          out_.key("error");
          out_.string(err.message());
          damaged_ = true;
        }
      }
    }
    out_.end_object();
  }

  // HTML bodies are stored as bytes in the message's Internet code page.
  static std::string decode_html(const Message& m, const Bytes& html) {
    uint32_t cp = m.codepage();
    if (auto cpid = m.properties().get_i32(prop::kInternetCodepage); cpid && *cpid > 0) cp = uint32_t(*cpid);
    return decode_codepage(ByteView(html), cp);
  }

  void properties(const PropertyBag& bag) {
    out_.begin_object();
    std::string last;
    for (const PropValue& v : bag.values()) {
      std::string name = property_name(store_, v.tag);
      if (name == last) name += "_" + hex(v.tag);
      last = name;
      out_.key(name);
      const uint16_t id = v.id();
      if (id == prop::kBody || id == prop::kHtml || id == prop::kRtfCompressed) {
        out_.begin_object();
        out_.key("see");
        out_.string(id == prop::kBody ? "body" : id == prop::kHtml ? "html" : "rtf");
        out_.end_object();
      } else {
        value(bag, v);
      }
    }
    out_.end_object();
  }

  void value(const PropertyBag& bag, const PropValue& v) {
    const uint16_t type = v.type();
    if (!ltp::is_multi_valued(type)) {
      scalar(bag, type, v);
      return;
    }
    auto elems = v.mv_elements();
    if (!elems) {
      out_.begin_object();
      out_.key("error");
      out_.string(elems.status().message());
      out_.key("base64");
      out_.base64_string(v.data);
      out_.end_object();
      return;
    }
    out_.begin_array();
    PropValue one;
    one.tag = ltp::make_tag(v.id(), ltp::base_type(type));
    for (auto& e : *elems) {
      one.data = std::move(e);
      scalar(bag, ltp::base_type(type), one);
    }
    out_.end_array();
  }

  void scalar(const PropertyBag& bag, uint16_t type, const PropValue& v) {
    using namespace ltp;
    switch (type) {
      case kPtypInteger16:
        if (auto r = v.as_i16()) return out_.number(int64_t(*r));
        break;
      case kPtypInteger32:
        if (auto r = v.as_i32()) return out_.number(int64_t(*r));
        break;
      case kPtypErrorCode:
        if (auto r = v.as_i32()) return out_.string(hex(uint32_t(*r)));
        break;
      case kPtypInteger64:
        if (auto r = v.as_i64()) return out_.number(*r);
        break;
      case kPtypBoolean:
        if (auto r = v.as_bool()) return out_.boolean(*r);
        break;
      case kPtypFloating32:
        if (auto r = v.as_float()) return out_.number(double(*r));
        break;
      case kPtypFloating64:
      case kPtypFloatingTime:
        if (auto r = v.as_double()) return out_.number(*r);
        break;
      case kPtypCurrency:
        if (auto r = v.as_currency()) return out_.number(double(*r) / 10000.0);
        break;
      case kPtypTime:
        if (auto r = v.as_time()) return out_.string(filetime_to_iso(*r));
        break;
      case kPtypGuid:
        if (v.data.size() == 16) return out_.string(pstkit::Guid::from_bytes(v.data.data()).to_string());
        break;
      case kPtypString:
      case kPtypString8:
        return out_.string(bag.decode_string(v));
      default:
        break;
    }
    out_.begin_object();
    out_.key("base64");
    out_.base64_string(v.data);
    out_.end_object();
  }

  const Store& store_;
  bool full_;
  JsonWriter out_;
  bool damaged_ = false;
  bool tracking_ = false;
  std::vector<Nid> printed_;                            // items printed (tracking only)
  std::map<Nid, std::vector<std::string>> folder_paths_;  // folders printed (tracking only)
};

}  // namespace

int cmd_dump(const std::string& file, const DumpOptions& options, const ReadOptions& read) {
  auto store = open_store_or_report(file, read);
  if (!store) return kExitBadInput;
  Dumper dumper(*store, options.full);
  // Orphans belong to no folder's rows, so to no unit: a full dump lists them.
  if (read.recover && !options.unit) dumper.track_items();
  const WorkUnit* unit = options.unit ? &*options.unit : nullptr;
  bool unit_found = false;
  const bool ok = walk_folders(*store, [&](const FolderVisit& v) {
    if (unit && v.nid != unit->folder_nid) return true;  // --unit: only its folder
    unit_found = true;
    dumper.folder(v, unit);
    return dumper.writing();
  });
  if (unit && !unit_found) {
    std::cerr << "pstkit: unit " << unit->id << ": " << file << " has no folder " << hex(unit->folder_nid)
              << " (the file changed since it was planned)\n";
    return kExitBadInput;
  }
  if (read.recover && !options.unit) {
    const auto [listed, skipped] = dumper.orphans();
    dumper.flush();
    if (listed + skipped > 0) {
      std::cerr << "pstkit: " << file << ": " << listed << " orphan messages listed (\"orphan\": true), " << skipped
                << " unreadable orphan nodes skipped\n";
    }
  }
  dumper.flush();
  return ok && !dumper.damaged() ? kExitOk : kExitBadInput;
}

}  // namespace pstkit::cli
