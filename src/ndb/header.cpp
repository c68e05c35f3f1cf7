// MS-PST 2.2.2.6 HEADER and 2.2.2.5 ROOT.
#include <algorithm>

#include "ndb/byte_source.h"
#include "pstkit/ndb.h"

namespace pstkit::ndb {

const char* format_name(FileFormat f) {
  switch (f) {
    case FileFormat::kAnsi: return "ANSI";
    case FileFormat::kUnicode: return "Unicode";
    case FileFormat::kUnicode4k: return "Unicode (4K pages)";
  }
  return "?";
}

const char* crypt_name(CryptMethod c) {
  switch (c) {
    case CryptMethod::kNone: return "none";
    case CryptMethod::kPermute: return "permute";
    case CryptMethod::kCyclic: return "cyclic";
  }
  return "?";
}

namespace {

constexpr uint32_t kMagic = 0x4E444221;  // "!BDN"
constexpr size_t kAnsiHeaderSize = 512;
constexpr size_t kUnicodeHeaderSize = 564;

}  // namespace

void set_format_sizes(Header& h) {
  switch (h.format) {
    case FileFormat::kAnsi:
      h.page_size = 512;
      h.block_align = 64;
      h.max_block_size = 8192;
      h.page_trailer_size = 12;
      h.block_trailer_size = 12;
      h.bid_size = 4;
      break;
    case FileFormat::kUnicode:
      h.page_size = 512;
      h.block_align = 64;
      h.max_block_size = 8192;
      h.page_trailer_size = 16;
      h.block_trailer_size = 16;
      h.bid_size = 8;
      break;
    case FileFormat::kUnicode4k:
      // libpff PFF format, "The 64-bit 4k page": 4 KiB pages with a 24-byte
      // trailer; blocks in 512-byte steps up to 64 KiB, 24-byte trailer.
      h.page_size = 4096;
      h.block_align = 512;
      h.max_block_size = 65536;
      h.page_trailer_size = 24;
      h.block_trailer_size = 24;
      h.bid_size = 8;
      break;
  }
}

Result<Header> parse_header(ByteView d, uint64_t file_size) {
  if (!d.has(0, 24)) return Status::truncated("header", 0, "file is shorter than the 24-byte header prefix");
  if (d.u32(0) != kMagic) return Status::corrupt("header", 0, "missing !BDN signature: not a PST/OST file");
  Header h;
  h.crc_partial = d.u32(4);
  h.magic_client = d.u16(8);
  h.ndb_version = d.u16(10);
  h.client_version = d.u16(12);
  h.platform_create = d.u8(14);
  h.platform_access = d.u8(15);
  if (h.ndb_version == 14 || h.ndb_version == 15) {
    h.format = FileFormat::kAnsi;
  } else if (h.ndb_version == 23 || h.ndb_version == 21) {
    h.format = FileFormat::kUnicode;
  } else if (h.ndb_version == 36) {
    h.format = FileFormat::kUnicode4k;
  } else {
    return Status::unsupported("header wVer " + std::to_string(h.ndb_version) +
                               " (known: 14/15 ANSI, 23 Unicode, 36 Unicode 4K-page OST)");
  }
  set_format_sizes(h);
  const size_t need = h.format == FileFormat::kAnsi ? kAnsiHeaderSize : kUnicodeHeaderSize;
  if (!d.has(0, need)) {
    return Status::truncated("header", 0, "file has " + std::to_string(d.size()) + " bytes, header needs " +
                                              std::to_string(need));
  }
  // dwCRCPartial covers the 471 bytes from wMagicClient (MS-PST 2.2.2.6).
  h.crc_partial_ok = compute_crc(d.data() + 8, 471) == h.crc_partial;

  if (h.format == FileFormat::kAnsi) {
    h.bid_next_b = d.u32(24);
    h.bid_next_p = d.u32(28);
    h.unique = d.u32(32);
    for (int i = 0; i < 32; ++i) h.nid_high_water[i] = d.u32(36 + 4 * i);
    // ROOT at 164 (40 bytes).
    h.file_eof = d.u32(168);
    h.amap_last = d.u32(172);
    h.amap_free = d.u32(176);
    h.pmap_free = d.u32(180);
    h.nbt_root = {d.u32(184), d.u32(188)};
    h.bbt_root = {d.u32(192), d.u32(196)};
    h.amap_valid = d.u8(200);
    if (d.u8(460) != 0x80) return Status::corrupt("header", 460, "bSentinel is not 0x80");
    h.crypt = CryptMethod(d.u8(461));
  } else {
    h.bid_next_p = d.u64(32);
    h.unique = d.u32(40);
    for (int i = 0; i < 32; ++i) h.nid_high_water[i] = d.u32(44 + 4 * i);
    // ROOT at 180 (72 bytes).
    h.file_eof = d.u64(184);
    h.amap_last = d.u64(192);
    h.amap_free = d.u64(200);
    h.pmap_free = d.u64(208);
    h.nbt_root = {d.u64(216), d.u64(224)};
    h.bbt_root = {d.u64(232), d.u64(240)};
    h.amap_valid = d.u8(248);
    if (d.u8(512) != 0x80) return Status::corrupt("header", 512, "bSentinel is not 0x80");
    h.crypt = CryptMethod(d.u8(513));
    h.bid_next_b = d.u64(516);
    h.crc_full = d.u32(524);
    // dwCRCFull covers the 516 bytes from wMagicClient.
    h.crc_full_ok = compute_crc(d.data() + 8, 516) == h.crc_full;
  }
  if (uint8_t(h.crypt) > 2) {
    return Status::unsupported("header bCryptMethod " + std::to_string(int(h.crypt)));
  }
  const uint64_t ps = h.page_size;
  auto check_root = [&](const Bref& r, const char* what) -> Status {
    if (r.ib == 0 || r.ib % (h.format == FileFormat::kUnicode4k ? ps : 512) != 0 || r.ib + ps > file_size) {
      return Status::corrupt("header", h.format == FileFormat::kAnsi ? 184 : 216,
                             std::string(what) + " root page offset " + hex(r.ib) + " is outside the file (" +
                                 std::to_string(file_size) + " bytes) or misaligned");
    }
    return Status::ok();
  };
  PSTKIT_RETURN_IF_ERROR(check_root(h.nbt_root, "NBT"));
  PSTKIT_RETURN_IF_ERROR(check_root(h.bbt_root, "BBT"));
  return h;
}

}  // namespace pstkit::ndb

namespace pstkit::ndb {

void encode_header(const Header& h, Bytes& raw) {
  // Fields pstkit does not manage (dwReserved1/2, rgbReserved2/3, bLockSemaphore)
  // keep the bytes raw already holds (MS-PST 2.2.2.6: leave them unchanged).
  const bool ansi = h.format == FileFormat::kAnsi;
  raw.resize(std::max<size_t>(raw.size(), ansi ? 512 : 564), 0);
  uint8_t* d = raw.data();
  store_le32(d, kMagic);
  store_le16(d + 8, h.magic_client);
  store_le16(d + 10, h.ndb_version);
  store_le16(d + 12, h.client_version);
  d[14] = h.platform_create;
  d[15] = h.platform_access;
  if (ansi) {
    store_le32(d + 24, uint32_t(h.bid_next_b));
    store_le32(d + 28, uint32_t(h.bid_next_p));
    store_le32(d + 32, h.unique);
    for (int i = 0; i < 32; ++i) store_le32(d + 36 + 4 * i, h.nid_high_water[i]);
    store_le32(d + 168, uint32_t(h.file_eof));
    store_le32(d + 172, uint32_t(h.amap_last));
    store_le32(d + 176, uint32_t(h.amap_free));
    store_le32(d + 180, uint32_t(h.pmap_free));
    store_le32(d + 184, uint32_t(h.nbt_root.bid));
    store_le32(d + 188, uint32_t(h.nbt_root.ib));
    store_le32(d + 192, uint32_t(h.bbt_root.bid));
    store_le32(d + 196, uint32_t(h.bbt_root.ib));
    d[200] = h.amap_valid;
    d[460] = 0x80;
    d[461] = uint8_t(h.crypt);
  } else {
    store_le64(d + 32, h.bid_next_p);
    store_le32(d + 40, h.unique);
    for (int i = 0; i < 32; ++i) store_le32(d + 44 + 4 * i, h.nid_high_water[i]);
    store_le64(d + 184, h.file_eof);
    store_le64(d + 192, h.amap_last);
    store_le64(d + 200, h.amap_free);
    store_le64(d + 208, h.pmap_free);
    store_le64(d + 216, h.nbt_root.bid);
    store_le64(d + 224, h.nbt_root.ib);
    store_le64(d + 232, h.bbt_root.bid);
    store_le64(d + 240, h.bbt_root.ib);
    d[248] = h.amap_valid;
    d[512] = 0x80;
    d[513] = uint8_t(h.crypt);
    store_le64(d + 516, h.bid_next_b);
    store_le32(d + 524, compute_crc(d + 8, 516));
  }
  store_le32(d + 4, compute_crc(d + 8, 471));
}

Bytes new_header_bytes(FileFormat format, CryptMethod crypt) {
  Header h;
  h.format = format;
  const bool ansi = format == FileFormat::kAnsi;
  h.ndb_version = ansi ? 14 : 23;
  h.client_version = 19;
  h.magic_client = 0x4D53;  // "SM"
  h.platform_create = 1;
  h.platform_access = 1;
  h.crypt = crypt;
  Bytes raw(ansi ? 512 : 564, 0);
  // rgbFM and rgbFP are deprecated and all 0xFF (MS-PST 2.2.2.6).
  const size_t fm = ansi ? 204 : 256;
  std::fill(raw.begin() + long(fm), raw.begin() + long(fm + 256), 0xFF);
  encode_header(h, raw);
  return raw;
}

}  // namespace pstkit::ndb
