// Reading one block the way the checker trusts it: every field of the
// BLOCKTRAILER checked against the BBT entry (MS-PST 2.2.2.8.1), then
// decoded (MS-PST 5.1/5.2) and, in 4K-page OST files, inflated.
#include <string>

#include "check/context.h"
#include "ndb/inflate.h"
#include "ndb/page.h"

namespace pstkit::check {

namespace {

struct Problem {
  Issue issue;
  uint64_t offset;
  std::string message;
};

Status report(FindingSink* sink, const ndb::BlockEntry& e, std::vector<Problem>& problems) {
  if (sink != nullptr) {
    for (Problem& p : problems) sink->add(p.issue, "block", p.offset, e.bid, std::move(p.message));
  }
  return Status::corrupt("block", e.offset,
                         problems.empty() ? std::string("damaged") : "block " + hex(e.bid) + " is damaged");
}

}  // namespace

Result<Bytes> read_verified_block(const Context& c, const ndb::BlockEntry& e, FindingSink* sink, bool decode,
                                  const RawRead* read_bytes) {
  const ndb::Header& h = c.header;
  std::vector<Problem> problems;
  const uint32_t max_data = h.max_block_size - h.block_trailer_size;
  const std::string name = "block " + hex(e.bid);
  if (e.stored_size > max_data) {
    problems.push_back({Issue::kBlockSize, e.offset,
                        name + ": cb " + std::to_string(e.stored_size) + " exceeds the maximum " +
                            std::to_string(max_data)});
    return report(sink, e, problems);
  }
  if (e.offset % h.block_align != 0) {
    problems.push_back({Issue::kBlockAlignment, e.offset,
                        name + " at " + hex(e.offset) + " is not " + std::to_string(h.block_align) +
                            "-byte aligned"});
  }
  const uint64_t disk = ndb::block_disk_size(h, e.stored_size);
  if (e.offset > c.file_size || disk > c.file_size - e.offset) {
    problems.push_back({Issue::kBlockOutOfFile, e.offset,
                        name + " of " + std::to_string(disk) + " bytes at " + hex(e.offset) +
                            " extends past the end of the file (" + std::to_string(c.file_size) +
                            " bytes): truncated?"});
    return report(sink, e, problems);
  }
  Bytes raw(disk);
  Status read = read_bytes != nullptr ? (*read_bytes)(e.offset, raw.size(), raw.data())
                                      : c.db.read_raw(e.offset, raw.size(), raw.data());
  if (!read.is_ok()) {
    problems.push_back({Issue::kBlockOutOfFile, e.offset, name + ": " + read.message()});
    return report(sink, e, problems);
  }
  const ndb::BlockTrailer t = ndb::read_block_trailer(h, raw);
  const uint64_t trailer_at = e.offset + disk - h.block_trailer_size;
  if (t.cb != e.stored_size) {
    problems.push_back({Issue::kBlockTrailer, trailer_at,
                        name + ": trailer cb " + std::to_string(t.cb) + ", the BBT says " +
                            std::to_string(e.stored_size)});
  }
  if (ndb::bid_key(t.bid) != ndb::bid_key(e.bid)) {
    problems.push_back({Issue::kBlockTrailer, trailer_at,
                        name + ": trailer BID " + hex(t.bid) + " differs from the BBT's"});
  }
  // MS-PST 5.5: wSig from the block's offset and BID.
  const uint16_t sig = ndb::compute_signature(e.offset, e.bid);
  if (t.signature != sig) {
    problems.push_back({Issue::kBlockSignature, trailer_at,
                        name + ": wSig " + hex(t.signature) + ", expected " + hex(sig)});
  }
  // MS-PST 5.3: the CRC covers the cb stored bytes, before decoding.
  const uint32_t crc = ndb::compute_crc(raw.data(), e.stored_size);
  if (crc != t.crc) {
    problems.push_back({Issue::kBlockCrc, e.offset,
                        name + ": CRC " + hex(crc) + " does not match the trailer's " + hex(t.crc)});
  }
  if (!problems.empty()) return report(sink, e, problems);

  raw.resize(e.stored_size);
  const bool compressed = ndb::block_is_compressed(h, e);
  // Verification alone needs no decoding, unless the block must inflate.
  if (!decode && !compressed) return raw;
  // MS-PST 5: only external (data) blocks are encoded.
  if (!ndb::bid_is_internal(e.bid)) {
    if (h.crypt == ndb::CryptMethod::kPermute) {
      ndb::decode_permute(raw.data(), raw.size());
    } else if (h.crypt == ndb::CryptMethod::kCyclic) {
      ndb::code_cyclic(raw.data(), raw.size(), uint32_t(e.bid));
    }
  }
  if (compressed) {
    // libpff PFF format: 4K-page OST blocks may be zlib streams.
    if (e.inflated_size > max_data) {
      problems.push_back({Issue::kBlockInflate, e.offset,
                          name + ": inflated size " + std::to_string(e.inflated_size) + " exceeds the maximum " +
                              std::to_string(max_data)});
      return report(sink, e, problems);
    }
    Bytes out(e.inflated_size);
    if (std::string why; !ndb::inflate_stream(raw.data(), raw.size(), out.data(), out.size(), &why)) {
      problems.push_back({Issue::kBlockInflate, e.offset,
                          name + ": does not inflate to " + std::to_string(e.inflated_size) + " bytes (" + why + ")"});
      return report(sink, e, problems);
    }
    return out;
  }
  return raw;
}

}  // namespace pstkit::check
