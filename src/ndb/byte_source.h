// Where a database's bytes come from: a file (pread) or memory.
#pragma once

#include <memory>
#include <string>

#include "pstkit/bytes.h"
#include "pstkit/status.h"

namespace pstkit::ndb {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual uint64_t size() const = 0;
  // Reads exactly len bytes at offset; a short read is an error.
  virtual Status read(uint64_t offset, size_t len, uint8_t* out) const = 0;
};

Result<std::unique_ptr<ByteSource>> open_file_source(const std::string& path);
std::unique_ptr<ByteSource> make_memory_source(Bytes data);

struct Header;
struct BlockEntry;
// Reads and parses the header at the start of the file (parse_header).
Result<Header> read_header(const ByteSource& src);
// Sets the sizes that follow from h.format (page, block alignment, trailers,
// BID width), as parse_header does.
void set_format_sizes(Header& h);
// Reads one block at e.offset and decodes it: trailer checked (and its CRC
// when verify_crc), decrypted if external, inflated for 4K-page OST.
Result<Bytes> read_block_from(const Header& h, const ByteSource& src, const BlockEntry& e, bool verify_crc);
// The same for a block already read: disk_block is its on-disk form
// (block_disk_size(h, e.stored_size) bytes at e.offset).
Result<Bytes> decode_block(const Header& h, const BlockEntry& e, ByteView disk_block, bool verify_crc);

}  // namespace pstkit::ndb
