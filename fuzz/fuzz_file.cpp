// Fuzzes the whole reading stack on a file image: header, both B-trees,
// blocks, heaps, property and table contexts, folders, messages,
// recipients, attachments (data hashed block by block) and bodies.
#include <cstddef>
#include <cstdint>

#include "pstkit/messaging.h"

using namespace pstkit;

namespace {

constexpr int kMaxFolders = 64;
constexpr int kMaxItems = 128;

void read_message(const Message& m, int depth) {
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ndb::Options options;
  options.cache_bytes = 1 << 20;
  auto db = ndb::Database::open_memory(Bytes(data, data + size), options);
  if (!db) return 0;
  size_t blocks = 0;
  (void)(*db)->for_each_block([&](const ndb::BlockEntry& e) {
    (void)(*db)->read_block(e.bid);
    return ++blocks < 256;
  });
  auto store = Store::open(std::move(*db));
  if (!store) return 0;
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
      if (auto m = (*store)->open_message(row.nid)) read_message(*m, 0);
    }
  }
  return 0;
}
