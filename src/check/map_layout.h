// Where the allocation-map pages of a file are (MS-PST 2.2.2.7.2-2.2.2.7.6;
// libpff "The allocation table" for 4K-page OST files).
#pragma once

#include <cstdint>
#include <functional>

#include "pstkit/ndb.h"

namespace pstkit::check {

struct MapLayout {
  uint64_t first_amap = 0;    // offset of AMap 0, where the data section starts
  uint64_t amap_span = 0;     // bytes one AMap maps (its own page included)
  uint32_t slot = 0;          // bytes per AMap bit
  uint32_t bits_at = 0;       // offset of rgbAMapBits in the page (ANSI: after dwPadding)
  uint32_t bits_bytes = 0;    // size of rgbAMapBits
  uint64_t dlist_offset = 0;  // where a DList page would be
  bool has_pmaps = false;     // PMap/FMap/FPMap pages (not seen in 4K-page files)
};

MapLayout map_layout(const ndb::Header& h);
MapLayout map_layout(ndb::FileFormat format);

// AMaps needed to map [first_amap, end).
uint64_t amap_count(const MapLayout& m, uint64_t end);
inline uint64_t amap_offset(const MapLayout& m, uint64_t index) { return m.first_amap + index * m.amap_span; }

struct MapPage {
  uint64_t offset = 0;
  uint8_t type = 0;  // ndb::PageType
};
// Calls fn for every AMap, PMap, FMap and FPMap page that maps
// [first_amap, end), by offset: visited, not listed (there is one for
// every 248 KB of the file).
void for_each_map_page(const ndb::Header& h, uint64_t end, const std::function<void(const MapPage&)>& fn);

}  // namespace pstkit::check
