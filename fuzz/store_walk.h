// The store walk shared by the file-level fuzz targets: every folder
// (bounded), the items of each, and everything of every item.
#pragma once

#include <vector>

#include "pstkit/eml_export.h"
#include "pstkit/messaging.h"

namespace pstkit::fuzz {

constexpr int kMaxFolders = 64;
constexpr int kMaxItems = 128;

inline void read_message(const Message& m, int depth) {
  (void)m.subject();
  (void)m.body_text();
  (void)m.body_html();
  (void)m.body_rtf();
  (void)m.recipients();
  auto atts = m.attachment_nids();
  if (!atts) return;
  for (Nid a : *atts) {
    auto att = m.open_attachment(a);
    if (!att) continue;
    if (att->is_embedded_message() && depth < 4) {
      if (auto em = att->embedded_message()) read_message(*em, depth + 1);
    } else if (auto data = att->open_data()) {
      for (size_t i = 0; i < (*data)->block_count() && i < 64; ++i) (void)(*data)->block(i);
    }
  }
}

// Reads the store over db: bounded numbers of blocks, folders and items.
inline void walk_store(std::unique_ptr<ndb::Database> db) {
  size_t blocks = 0;
  (void)db->for_each_block([&](const ndb::BlockEntry& e) {
    (void)db->read_block(e.bid);
    return ++blocks < 256;
  });
  auto store = Store::open(std::move(db));
  if (!store) return;
  std::vector<Nid> pending{ndb::kNidRootFolder};
  int folders = 0, items = 0;
  while (!pending.empty() && folders < kMaxFolders) {
    const Nid nid = pending.back();
    pending.pop_back();
    ++folders;
    auto f = (*store)->open_folder(nid);
    if (!f) continue;
    if (auto subs = f->subfolders()) {
      for (const auto& r : *subs) pending.push_back(r.nid);
    }
    (void)f->associated_contents();
    auto contents = f->contents();
    if (!contents) continue;
    for (const auto& row : *contents) {
      if (++items > kMaxItems) break;
      auto m = (*store)->open_message(row.nid);
      if (!m) continue;
      read_message(*m, 0);
      // The EML writer reads everything again through its own paths
      // (stored headers, RTF rendering, embedded messages, MIME text).
      (void)message_to_eml(*m);
    }
  }
}

}  // namespace pstkit::fuzz
