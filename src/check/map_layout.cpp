#include "check/map_layout.h"

#include "ndb/page.h"

namespace pstkit::check {

MapLayout map_layout(ndb::FileFormat format) {
  MapLayout m;
  switch (format) {
    case ndb::FileFormat::kAnsi:
    case ndb::FileFormat::kUnicode:
      // MS-PST 2.2.2.7.2: first AMap at 0x4400, one every 496*8*64 bytes.
      m.first_amap = 0x4400;
      m.slot = 64;
      m.bits_at = format == ndb::FileFormat::kAnsi ? 4 : 0;
      m.bits_bytes = 496;
      m.dlist_offset = 0x4200;  // MS-PST 2.2.2.7.4
      m.has_pmaps = true;
      break;
    case ndb::FileFormat::kUnicode4k:
      // libpff: first AMap at 0x22000, 4072 bytes of bits, one bit per
      // 512 bytes; the DList at 0x21000.
      m.first_amap = 0x22000;
      m.slot = 512;
      m.bits_at = 0;
      m.bits_bytes = 4072;
      m.dlist_offset = 0x21000;
      m.has_pmaps = false;
      break;
  }
  m.amap_span = uint64_t(m.bits_bytes) * 8 * m.slot;
  return m;
}

MapLayout map_layout(const ndb::Header& h) { return map_layout(h.format); }

uint64_t amap_count(const MapLayout& m, uint64_t end) {
  if (end <= m.first_amap) return 0;
  return (end - m.first_amap + m.amap_span - 1) / m.amap_span;
}

void for_each_map_page(const ndb::Header& h, uint64_t end, const std::function<void(const MapPage&)>& fn) {
  const MapLayout m = map_layout(h);
  const uint64_t n = amap_count(m, end);
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t at = amap_offset(m, i);
    fn(MapPage{at, ndb::kPageAMap});
    if (!m.has_pmaps) continue;
    // MS-PST 2.2.2.7.3: a PMap after every eighth AMap, starting at 0x4600.
    if (i % 8 == 0) fn(MapPage{at + 512, ndb::kPagePMap});
    // FMaps (one byte per AMap, 496 AMaps each) start after the 128 AMaps
    // the header's rgbFM covers, at 0x4800 + 128 * 253952.
    if (i >= 128 && (i - 128) % 496 == 0) fn(MapPage{at + 1024, ndb::kPageFMap});
    // FPMaps (one bit per PMap, 496 * 8 PMaps each; Unicode only) start
    // after the 64 * 128 AMaps rgbFP covers, at 0x4A00 + 8192 * 253952.
    if (h.format == ndb::FileFormat::kUnicode && i >= 8192 && (i - 8192) % (496 * 8 * 8) == 0) {
      fn(MapPage{at + 1536, ndb::kPageFPMap});
    }
  }
}

}  // namespace pstkit::check
