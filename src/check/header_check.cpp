// MS-PST 2.2.2.6 HEADER and 2.2.2.5 ROOT, checked from the raw bytes so
// that a header the reader refuses can still be described.
#include <algorithm>

#include "check/context.h"
#include "check/map_layout.h"

namespace pstkit::check {

namespace {

constexpr uint16_t kClientPst = 0x4D53;  // "SM"
constexpr uint16_t kClientOst = 0x4F53;  // "SO"
constexpr uint16_t kClientPab = 0x4241;  // "AB"

// Field offsets that differ between the ANSI and Unicode headers.
struct HeaderLayout {
  size_t size;
  size_t root;  // ROOT structure
  size_t rgb_fm;
  size_t sentinel;
  bool wide;    // 8-byte ROOT fields
};

const HeaderLayout kAnsiLayout{512, 164, 204, 460, false};
const HeaderLayout kUnicodeLayout{564, 180, 256, 512, true};

void check_bref(ByteView head, const HeaderLayout& l, const ndb::Header& fmt, size_t at, const char* tree,
                uint64_t file_size, FindingSink& sink) {
  const uint64_t bid = l.wide ? head.u64(at) : head.u32(at);
  const uint64_t ib = l.wide ? head.u64(at + 8) : head.u32(at + 4);
  const uint64_t align = fmt.format == ndb::FileFormat::kUnicode4k ? fmt.page_size : 512;
  if (ib == 0 || ib % align != 0 || ib > file_size || fmt.page_size > file_size - ib) {
    sink.add(Issue::kHeaderRoot, "header", at, bid,
             std::string(tree) + " root page BREF (bid " + hex(bid) + ", ib " + hex(ib) +
                 ") is outside the file (" + std::to_string(file_size) + " bytes) or not " +
                 std::to_string(align) + "-byte aligned");
  }
}

}  // namespace

void check_header(ByteView head, uint64_t file_size, FindingSink& sink) {
  if (!head.has(0, 24)) {
    sink.add(Issue::kHeaderTruncated, "header", 0, kNone,
             "file has " + std::to_string(file_size) + " bytes, less than the header's first 24");
    return;
  }
  const uint16_t version = head.u16(10);
  ndb::Header fmt;
  if (version == 14 || version == 15) {
    fmt.format = ndb::FileFormat::kAnsi;
  } else if (version == 36) {
    fmt.format = ndb::FileFormat::kUnicode4k;
    fmt.page_size = 4096;
  } else if (version >= 21) {
    fmt.format = ndb::FileFormat::kUnicode;
  } else {
    return;  // the caller reports an unknown version as unsupported
  }
  const HeaderLayout& l = fmt.format == ndb::FileFormat::kAnsi ? kAnsiLayout : kUnicodeLayout;
  if (!head.has(0, l.size)) {
    sink.add(Issue::kHeaderTruncated, "header", 0, kNone,
             "file has " + std::to_string(file_size) + " bytes; a " + ndb::format_name(fmt.format) +
                 " header needs " + std::to_string(l.size));
    return;
  }

  // dwCRCPartial covers 471 bytes from wMagicClient; dwCRCFull 516 (Unicode).
  const uint32_t partial = ndb::compute_crc(head.data() + 8, 471);
  if (partial != head.u32(4)) {
    sink.add(Issue::kHeaderCrcPartial, "header", 4, kNone,
             "dwCRCPartial " + hex(head.u32(4)) + ", computed " + hex(partial));
  }
  if (l.wide) {
    const uint32_t full = ndb::compute_crc(head.data() + 8, 516);
    if (full != head.u32(524)) {
      sink.add(Issue::kHeaderCrcFull, "header", 524, kNone,
               "dwCRCFull " + hex(head.u32(524)) + ", computed " + hex(full));
    }
  }
  const uint16_t client = head.u16(8);
  if (client != kClientPst && client != kClientOst && client != kClientPab) {
    sink.add(Issue::kHeaderClientMagic, "header", 8, kNone, "wMagicClient " + hex(client));
  }
  if (head.u8(l.sentinel) != 0x80) {
    sink.add(Issue::kHeaderSentinel, "header", l.sentinel, kNone,
             "bSentinel " + hex(head.u8(l.sentinel)) + ", expected 0x80");
  }
  const uint8_t crypt = head.u8(l.sentinel + 1);
  // 0x10 (NDB_CRYPT_EDPCRYPTED) is valid but unsupported; the caller says so.
  if (crypt > 2 && crypt != 0x10) {
    sink.add(Issue::kHeaderCrypt, "header", l.sentinel + 1, kNone, "bCryptMethod " + hex(crypt));
  }
  // rgbFM and rgbFP are deprecated and must be all 0xFF; readers ignore them.
  const ByteView fm = head.sub(l.rgb_fm, 256);
  if (std::any_of(fm.data(), fm.data() + fm.size(), [](uint8_t b) { return b != 0xFF; })) {
    sink.add(Issue::kHeaderFmap, "header", l.rgb_fm, kNone, "rgbFM/rgbFP are not all 0xFF");
  }

  // ROOT (MS-PST 2.2.2.5).
  const size_t r = l.root;
  const size_t w = l.wide ? 8 : 4;
  auto field = [&](size_t i) -> uint64_t { return l.wide ? head.u64(r + 4 + i * w) : head.u32(r + 4 + i * w); };
  const uint64_t eof = field(0);
  const uint64_t amap_last = field(1);
  const size_t bref_nbt = r + 4 + 4 * w;
  const size_t bref_bbt = bref_nbt + 2 * w;
  const uint8_t amap_valid = head.u8(bref_bbt + 2 * w);
  if (eof > file_size) {
    sink.add(Issue::kHeaderFileEof, "header", r + 4, kNone,
             "ibFileEof is " + std::to_string(eof) + " but the file has " + std::to_string(file_size) +
                 " bytes: truncated by " + std::to_string(eof - file_size) + " bytes");
  } else if (eof < file_size) {
    sink.add(Issue::kFileTail, "header", r + 4, kNone,
             "ibFileEof is " + std::to_string(eof) + " but the file has " + std::to_string(file_size) +
                 " bytes (" + std::to_string(file_size - eof) + " bytes past the end)");
  }
  const MapLayout m = map_layout(fmt.format);
  const uint64_t amaps = amap_count(m, eof);
  const uint64_t expected_last = amaps == 0 ? 0 : amap_offset(m, amaps - 1);
  if (amaps > 0 && amap_last != expected_last) {
    sink.add(Issue::kHeaderAmapLast, "header", r + 4 + w, kNone,
             "ibAMapLast " + hex(amap_last) + ", expected " + hex(expected_last) + " for ibFileEof " + hex(eof));
  }
  check_bref(head, l, fmt, bref_nbt, "NBT", file_size, sink);
  check_bref(head, l, fmt, bref_bbt, "BBT", file_size, sink);
  if (amap_valid == 0) {
    sink.add(Issue::kHeaderAmapValid, "header", bref_bbt + 2 * w, kNone,
             "fAMapValid is 0 (INVALID_AMAP): the allocation maps may be stale; they are not compared");
  } else if (amap_valid > 2) {
    sink.add(Issue::kHeaderAmapValid, "header", bref_bbt + 2 * w, kNone,
             "fAMapValid " + hex(amap_valid) + " is not a defined value; the allocation maps are not compared");
  }
}

}  // namespace pstkit::check
