// MS-PST 2.2.2.8: every block the BBT lists, read and verified; then every
// page and block laid side by side to find bytes claimed twice.
#include <algorithm>
#include <cstring>

#include "check/context.h"
#include "check/map_layout.h"
#include "ndb/page.h"

namespace pstkit::check {

namespace {

const char* page_name(uint8_t type) {
  switch (type) {
    case ndb::kPageBbt: return "BBT page";
    case ndb::kPageNbt: return "NBT page";
    case ndb::kPageFMap: return "FMap page";
    case ndb::kPagePMap: return "PMap page";
    case ndb::kPageAMap: return "AMap page";
    case ndb::kPageFPMap: return "FPMap page";
    case ndb::kPageDList: return "DList page";
  }
  return "page";
}

}  // namespace

uint64_t extent_id(const Context& c, const Extent& e) {
  switch (e.kind()) {
    case Extent::kReserved: return 0;
    case Extent::kPage: return c.pages.get(e.ref).bid;
    case Extent::kMapPage: return e.begin;
    case Extent::kBlock: return c.blocks.get(e.ref).entry.bid;
  }
  return 0;
}

std::string describe(const Context& c, const Extent& e) {
  std::string what;
  switch (e.kind()) {
    case Extent::kReserved: what = "the header and reserved area"; break;
    case Extent::kPage: what = std::string(page_name(c.pages.get(e.ref).type)) + " " + hex(extent_id(c, e)); break;
    case Extent::kMapPage: what = page_name(uint8_t(e.ref)); break;
    case Extent::kBlock: what = "block " + hex(extent_id(c, e)); break;
  }
  return what + " [" + hex(e.begin) + ", " + hex(e.end()) + ")";
}

namespace {

// Reads ascending offsets through a window of kWindow bytes: one read(2)
// for many small blocks instead of one each.
class WindowReader {
 public:
  explicit WindowReader(const Context& c) : c_(c) {}

  Status read(uint64_t offset, size_t len, uint8_t* out) {
    if (offset < begin_ || offset - begin_ + len > window_.size()) {
      if (len > kWindow || offset >= c_.file_size) return c_.db.read_raw(offset, len, out);
      const size_t n = size_t(std::min<uint64_t>(kWindow, c_.file_size - offset));
      if (n < len) return c_.db.read_raw(offset, len, out);  // past the end: the reader's own error
      window_.resize(n);
      Status s = c_.db.read_raw(offset, n, window_.data());
      if (!s.is_ok()) {
        window_.clear();
        return c_.db.read_raw(offset, len, out);
      }
      begin_ = offset;
    }
    std::memcpy(out, window_.data() + (offset - begin_), len);
    return Status::ok();
  }

 private:
  static constexpr size_t kWindow = size_t{1} << 20;
  const Context& c_;
  uint64_t begin_ = 0;
  Bytes window_;
};

}  // namespace

ExtentCursor::ExtentCursor(const Context& c, uint64_t from) : c_(c) {
  page_ = c.extents.lower_bound(from, [](const Extent& e, uint64_t at) { return e.begin < at; });
  block_ = c.blocks_by_offset.lower_bound(from, [](const OffsetRecord& r, uint64_t at) { return r.offset < at; });
  find_block();
  pick();
}

void ExtentCursor::next() {
  if (current_is_block_) {
    ++block_;
    find_block();
  } else {
    ++page_;
  }
  pick();
}

// The next block at or after block_ that check_overlaps lays out: a size
// or offset out of range is reported by check_blocks instead.
void ExtentCursor::find_block() {
  const ndb::Header& h = c_.header;
  const uint32_t max_data = h.max_block_size - h.block_trailer_size;
  have_block_ = false;
  for (; block_ < c_.blocks_by_offset.size(); ++block_) {
    const OffsetRecord e = c_.blocks_by_offset.get(block_);
    if (e.stored_size > max_data || e.offset > c_.file_size) continue;
    const uint64_t end = std::min(c_.file_size, e.offset + ndb::block_disk_size(h, e.stored_size));
    block_extent_ = Extent(e.offset, end, Extent::kBlock, e.index);
    have_block_ = true;
    return;
  }
}

void ExtentCursor::pick() {
  have_page_ = page_ < c_.extents.size();
  if (!have_page_ && !have_block_) return;
  const Extent page = have_page_ ? c_.extents.get(page_) : Extent();
  current_is_block_ = !have_page_ || (have_block_ && (block_extent_.begin != page.begin
                                                          ? block_extent_.begin < page.begin
                                                          : block_extent_.end() < page.end()));
  current_ = current_is_block_ ? block_extent_ : page;
}

void check_blocks(Context& c) {
  Counters& counters = c.sink.report().counters;
  // In file order, through a read-ahead window; a block that fails is read
  // again in BID order below, where its findings are reported (in the
  // order a BID-ordered pass gives). The order is kept for check_overlaps
  // and check_maps: by offset, then size, then BID.
  c.blocks_by_offset.clear();
  for (size_t i = 0; i < c.blocks.size(); ++i) {
    const PackedBlockEntry e = c.blocks.get(i).entry;
    c.blocks_by_offset.push_back({e.offset, e.stored_size, uint32_t(i)});
  }
  // Usually in order already (blocks are written in BID order).
  c.blocks_by_offset.stable_sort([](const OffsetRecord& x, const OffsetRecord& y) {
    if (x.offset != y.offset) return x.offset < y.offset;
    if (x.stored_size != y.stored_size) return x.stored_size < y.stored_size;
    return x.index < y.index;
  });
  WindowReader window(c);
  const RawRead read = [&window](uint64_t offset, size_t len, uint8_t* out) { return window.read(offset, len, out); };
  for (size_t k = 0; k < c.blocks_by_offset.size(); ++k) {
    const uint32_t i = c.blocks_by_offset.get(k).index;
    // Verified here, decoded later only where a pass needs the contents.
    if (!read_verified_block(c, c.blocks.get(i).entry, nullptr, /*decode=*/false, &read).is_ok()) {
      c.blocks.update(i, [](BlockRecord& r) { r.damaged = true; });
    }
  }
  for (size_t i = 0; i < c.blocks.size(); ++i) {
    const BlockRecord r = c.blocks.get(i);
    ++counters.blocks;
    if (r.damaged) {
      (void)read_verified_block(c, r.entry, &c.sink, /*decode=*/false);
      continue;
    }
    counters.bytes += ndb::block_disk_size(c.header, r.entry.stored_size);
  }
}

void check_overlaps(Context& c) {
  const ndb::Header& h = c.header;
  const MapLayout m = map_layout(h);
  SpillArray<Extent>& x = c.extents;
  x.clear();
  x.push_back(Extent(0, std::min(m.first_amap, c.file_size), Extent::kReserved, 0));
  for (size_t i = 0; i < c.pages.size(); ++i) {
    const uint64_t offset = c.pages.get(i).offset;
    x.push_back(Extent(offset, offset + h.page_size, Extent::kPage, uint32_t(i)));
  }
  for_each_map_page(h, std::min(c.file_size, h.file_eof), [&](const MapPage& p) {
    if (p.offset + h.page_size <= c.file_size) {
      x.push_back(Extent(p.offset, p.offset + h.page_size, Extent::kMapPage, p.type));
    }
  });
  x.stable_sort([](const Extent& a, const Extent& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end() < b.end();
  });
  // Nothing may live past ibFileEof: the AMaps do not map it.
  const uint64_t eof = h.file_eof;
  if (eof < c.file_size) {
    for (ExtentCursor e(c, 0); !e.done(); e.next()) {
      if (e->end() > eof && e->kind() != Extent::kReserved) {
        c.add(Issue::kBlockOutOfFile, e->kind() == Extent::kBlock ? "block" : "page", e->begin, extent_id(c, *e),
              describe(c, *e) + " lies past ibFileEof " + hex(eof));
      }
    }
  }
  // Sweep: each extent against the one reaching furthest before it.
  ExtentCursor e(c, 0);
  if (e.done()) return;
  Extent reach = *e;
  for (e.next(); !e.done(); e.next()) {
    if (e->begin < reach.end()) {
      c.add(Issue::kBlockOverlap, e->kind() == Extent::kBlock ? "block" : "page", e->begin, extent_id(c, *e),
            describe(c, *e) + " overlaps " + describe(c, reach));
    }
    if (e->end() > reach.end()) reach = *e;
  }
}

}  // namespace pstkit::check
