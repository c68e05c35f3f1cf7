// MS-PST 2.2.2.7.2-2.2.2.7.6 allocation maps and 2.6.1.3.7 (what an AMap
// rebuild would produce): every page and block the B-trees reach must be
// marked allocated, and cbAMapFree must equal the free space the AMaps
// record. PMap, FMap and FPMap are deprecated; only their trailers are
// checked. The DList may legally be overwritten, so its problems are
// warnings.
#include <algorithm>

#include "check/context.h"
#include "check/map_layout.h"
#include "ndb/page.h"

namespace pstkit::check {

namespace {

const char* map_name(uint8_t type) {
  switch (type) {
    case ndb::kPageAMap: return "AMap page";
    case ndb::kPagePMap: return "PMap page";
    case ndb::kPageFMap: return "FMap page";
    case ndb::kPageFPMap: return "FPMap page";
  }
  return "map page";
}

// Bit n of rgbAMapBits maps slot n; the first slot is the most significant
// bit of the first byte (the AMap's own page is byte 0 = 0xFF either way;
// MSB-first is what the corpus files' allocations agree with).
bool slot_allocated(ByteView bits, uint64_t slot) { return (bits.u8(size_t(slot / 8)) >> (7 - slot % 8)) & 1; }

// A map page whose trailer is sound, or nothing.
struct MapPageData {
  bool usable = false;
  Bytes raw;
};

MapPageData read_map_page(Context& c, const MapPage& p) {
  const ndb::Header& h = c.header;
  const char* name = map_name(p.type);
  MapPageData out;
  out.raw.resize(h.page_size);
  if (!c.db.read_raw(p.offset, out.raw.size(), out.raw.data()).is_ok()) return out;
  ++c.sink.report().counters.pages;
  c.sink.report().counters.bytes += h.page_size;
  const ndb::PageTrailer t = ndb::read_page_trailer(h, out.raw);
  if (t.ptype != p.type || t.ptype_repeat != p.type) {
    c.add(Issue::kPageType, name, p.offset, p.offset,
          "ptype " + hex(t.ptype) + "/" + hex(t.ptype_repeat) + " where the " + name + " belongs, expected " +
              hex(p.type));
    return out;
  }
  bool ok = true;
  const uint32_t crc = ndb::page_crc(h, out.raw);
  if (crc != t.crc) {
    c.add(Issue::kPageCrc, name, p.offset, p.offset, "CRC " + hex(crc) + " does not match the trailer's " + hex(t.crc));
    ok = false;
  }
  // MS-PST 2.2.2.7.1: map pages have wSig 0 and their offset as BID.
  if (t.signature != 0) {
    c.add(Issue::kPageSignature, name, p.offset, p.offset, "wSig " + hex(t.signature) + ", expected 0");
  }
  if (t.bid != p.offset) {
    c.add(Issue::kPageBid, name, p.offset, p.offset, "trailer BID " + hex(t.bid) + ", expected its offset");
  }
  out.usable = ok;
  return out;
}

class AmapChecker {
 public:
  explicit AmapChecker(Context& c) : c_(c), m_(map_layout(c.header)) {}

  void run();

 private:
  // Compares AMap `index` with the extents in its range; returns its free slots.
  uint64_t compare(uint64_t index, ByteView bits);
  void check_dlist();

  Context& c_;
  MapLayout m_;
  bool compare_ = false;           // fAMapValid and the B-trees allow a comparison
  bool all_amaps_usable_ = true;
  std::vector<int64_t> free_slots_;  // per AMap; -1 when unusable
};

void AmapChecker::run() {
  const ndb::Header& h = c_.header;
  // fAMapValid 0 means a crash during allocation; HEADER_AMAP_VALID said so.
  compare_ = (h.amap_valid == 1 || h.amap_valid == 2) && c_.nbt_complete && c_.bbt_complete;
  const uint64_t end = std::min(h.file_eof, c_.file_size);
  const uint64_t amaps = amap_count(m_, h.file_eof);
  free_slots_.assign(size_t(std::min<uint64_t>(amaps, amap_count(m_, c_.file_size))), -1);
  if (amaps > free_slots_.size()) {
    c_.add(Issue::kAmapPage, "AMap page", amap_offset(m_, free_slots_.size()), kNone,
           std::to_string(amaps - free_slots_.size()) + " of " + std::to_string(amaps) +
               " AMap pages lie past the end of the file");
    all_amaps_usable_ = false;
  }
  for_each_map_page(h, end, [&](const MapPage& p) {
    if (p.offset > c_.file_size || h.page_size > c_.file_size - p.offset) return;  // counted above
    MapPageData page = read_map_page(c_, p);
    if (p.type != ndb::kPageAMap) return;
    const uint64_t index = (p.offset - m_.first_amap) / m_.amap_span;
    if (!page.usable) {
      all_amaps_usable_ = false;
      return;
    }
    const ByteView bits = ByteView(page.raw).sub(m_.bits_at, m_.bits_bytes);
    // The AMap maps itself (MS-PST 2.2.2.7.2): its own page's slots are set.
    const uint32_t own = h.page_size / m_.slot;
    for (uint32_t s = 0; s < own; ++s) {
      if (!slot_allocated(bits, s)) {
        c_.add(Issue::kAmapPage, "AMap page", p.offset, p.offset, "the AMap does not mark its own page allocated");
        break;
      }
    }
    if (index < free_slots_.size()) free_slots_[index] = int64_t(compare(index, bits));
  });
  if (compare_ && all_amaps_usable_) {
    uint64_t free_bytes = 0;
    for (int64_t f : free_slots_) free_bytes += uint64_t(f) * m_.slot;
    if (free_bytes != h.amap_free) {
      c_.add(Issue::kAmapFreeTotal, "header", kNone, kNone,
             "cbAMapFree is " + std::to_string(h.amap_free) + " but the AMaps record " + std::to_string(free_bytes) +
                 " free bytes");
    }
  }
  check_dlist();
}

uint64_t AmapChecker::compare(uint64_t index, ByteView bits) {
  const uint64_t begin = amap_offset(m_, index);
  const uint64_t span_end = begin + m_.amap_span;
  const uint64_t slots = uint64_t(m_.bits_bytes) * 8;
  uint64_t free = 0;
  for (uint64_t s = 0; s < slots; ++s) free += !slot_allocated(bits, s);
  if (!compare_) return free;

  std::vector<bool> used(slots, false);
  const uint64_t longest = std::max<uint64_t>(c_.header.max_block_size, c_.header.page_size);
  for (ExtentCursor it(c_, begin > longest ? begin - longest : 0); !it.done() && it->begin < span_end; it.next()) {
    if (it->end() <= begin || it->kind() == Extent::kReserved) continue;
    const uint64_t first = (std::max(it->begin, begin) - begin) / m_.slot;
    const uint64_t last = (std::min(it->end(), span_end) - begin + m_.slot - 1) / m_.slot;
    uint64_t unmarked = 0;
    for (uint64_t s = first; s < last; ++s) {
      used[s] = true;
      unmarked += !slot_allocated(bits, s);
    }
    if (unmarked > 0) {
      c_.add(Issue::kAmapMismatch, "AMap page", begin, extent_id(c_, *it),
             describe(c_, *it) + " is in use but " + std::to_string(unmarked) + " of its " + std::to_string(last - first) +
                 " slots are marked free");
    }
  }
  // Allocated but unused: Outlook reserves pages ahead (PMap) and leaks
  // some, so this is a warning, summed per AMap.
  // Slots past the end of the file (a file smaller than one AMap span) are
  // not space anything could use.
  const uint64_t in_file = c_.file_size > begin ? std::min(slots, (c_.file_size - begin) / m_.slot) : 0;
  uint64_t leaked = 0;
  for (uint64_t s = 0; s < in_file; ++s) leaked += !used[s] && slot_allocated(bits, s);
  if (leaked > 0) {
    c_.add(Issue::kAmapLeak, "AMap page", begin, begin,
           std::to_string(leaked * m_.slot) + " bytes marked allocated are used by no page or block");
  }
  return free;
}

// MS-PST 2.2.2.7.4 DLISTPAGE: bFlags, cEntDList, wPadding, ulCurrentPage,
// rgDListPageEnt of (dwPageNum:20, dwFreeSlots:12).
void AmapChecker::check_dlist() {
  const ndb::Header& h = c_.header;
  const uint64_t at = m_.dlist_offset;
  if (at + h.page_size > c_.file_size) return;
  Bytes raw(h.page_size);
  if (!c_.db.read_raw(at, raw.size(), raw.data()).is_ok()) return;
  const ndb::PageTrailer t = ndb::read_page_trailer(h, raw);
  if (t.ptype != ndb::kPageDList || t.ptype_repeat != ndb::kPageDList) return;  // no DList: optional
  ++c_.sink.report().counters.pages;
  const uint32_t crc = ndb::page_crc(h, raw);
  if (crc != t.crc) {
    c_.add(Issue::kDlistPage, "DList page", at, t.bid,
           "CRC " + hex(crc) + " does not match the trailer's " + hex(t.crc) + "; readers must rebuild it from the AMaps");
    return;
  }
  const uint16_t sig = ndb::compute_signature(at, t.bid);
  if (t.signature != sig) {
    c_.add(Issue::kDlistPage, "DList page", at, t.bid, "wSig " + hex(t.signature) + ", expected " + hex(sig));
  }
  if (h.format == ndb::FileFormat::kUnicode4k) return;  // entry layout not documented for 4K pages
  const ByteView v(raw);
  const size_t count = v.u8(1);
  const size_t room = (h.format == ndb::FileFormat::kAnsi ? 480 : 476) / 4;
  if (count > room) {
    c_.add(Issue::kDlistEntry, "DList page", at, t.bid,
           "cEntDList " + std::to_string(count) + " exceeds the " + std::to_string(room) + " entries a page holds");
    return;
  }
  for (size_t i = 0; i < count; ++i) {
    const uint32_t e = v.u32(8 + 4 * i);
    const uint32_t page = e & 0xFFFFF;
    const uint32_t free = e >> 20;
    if (page >= free_slots_.size()) {
      c_.add(Issue::kDlistEntry, "DList page", at, t.bid,
             "entry " + std::to_string(i) + " names AMap " + std::to_string(page) + " of " +
                 std::to_string(free_slots_.size()));
    } else if (compare_ && free_slots_[page] >= 0 && uint64_t(free_slots_[page]) != free) {
      c_.add(Issue::kDlistEntry, "DList page", at, t.bid,
             "entry " + std::to_string(i) + " gives AMap " + std::to_string(page) + " " + std::to_string(free) +
                 " free slots, the AMap has " + std::to_string(free_slots_[page]));
    }
  }
}

}  // namespace

void check_maps(Context& c) { AmapChecker(c).run(); }

}  // namespace pstkit::check
