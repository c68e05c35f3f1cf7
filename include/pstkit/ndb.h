// NDB layer: the node database of [MS-PST] 2.2.
//
// A PST/OST file is a set of nodes (identified by NID), each with a data
// stream and an optional tree of subnodes, stored in blocks (identified by
// BID). Two B-trees index them: the NBT (nodes) and the BBT (blocks). This
// layer opens a file, validates its header, walks both B-trees and hands out
// a node's data as the sequence of its data blocks, decoded (trailer checked,
// decrypted, inflated for 4K-page OST). Memory is bounded by a block cache.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pstkit/bytes.h"
#include "pstkit/status.h"

namespace pstkit::ndb {

using Nid = uint32_t;
using Bid = uint64_t;

// MS-PST 2.2.2.6 wVer: 14/15 ANSI, 23 Unicode, 36 Unicode with 4 KiB pages (OST).
enum class FileFormat { kAnsi, kUnicode, kUnicode4k };
const char* format_name(FileFormat f);

// MS-PST 2.2.2.6 bCryptMethod.
enum class CryptMethod : uint8_t { kNone = 0, kPermute = 1, kCyclic = 2 };
const char* crypt_name(CryptMethod c);

// MS-PST 2.2.2.1 NID types (low 5 bits of a NID).
enum NidType : uint8_t {
  kNidTypeHid = 0x00,
  kNidTypeInternal = 0x01,
  kNidTypeNormalFolder = 0x02,
  kNidTypeSearchFolder = 0x03,
  kNidTypeNormalMessage = 0x04,
  kNidTypeAttachment = 0x05,
  kNidTypeSearchUpdateQueue = 0x06,
  kNidTypeSearchCriteriaObject = 0x07,
  kNidTypeAssocMessage = 0x08,
  kNidTypeContentsTableIndex = 0x0A,
  kNidTypeReceiveFolderTable = 0x0B,
  kNidTypeOutgoingQueueTable = 0x0C,
  kNidTypeHierarchyTable = 0x0D,
  kNidTypeContentsTable = 0x0E,
  kNidTypeAssocContentsTable = 0x0F,
  kNidTypeSearchContentsTable = 0x10,
  kNidTypeAttachmentTable = 0x11,
  kNidTypeRecipientTable = 0x12,
  kNidTypeSearchTableIndex = 0x13,
  kNidTypeLtp = 0x1F,
};
inline uint8_t nid_type(Nid nid) { return uint8_t(nid & 0x1f); }
inline uint32_t nid_index(Nid nid) { return nid >> 5; }
inline Nid make_nid(uint8_t type, uint32_t index) { return (index << 5) | type; }

// MS-PST 2.4.1 special internal NIDs.
inline constexpr Nid kNidMessageStore = 0x21;
inline constexpr Nid kNidNameToIdMap = 0x61;
inline constexpr Nid kNidNormalFolderTemplate = 0xA1;
inline constexpr Nid kNidSearchFolderTemplate = 0xC1;
inline constexpr Nid kNidRootFolder = 0x122;
inline constexpr Nid kNidSearchManagementQueue = 0x1E1;
inline constexpr Nid kNidSearchActivityList = 0x201;
inline constexpr Nid kNidHierarchyTableTemplate = 0x60D;
inline constexpr Nid kNidContentsTableTemplate = 0x60E;
inline constexpr Nid kNidAssocContentsTableTemplate = 0x60F;
inline constexpr Nid kNidSearchContentsTableTemplate = 0x610;
inline constexpr Nid kNidAttachmentTableTemplate = 0x671;
inline constexpr Nid kNidRecipientTableTemplate = 0x692;

// MS-PST 2.2.2.2: bit 1 of a BID marks an internal block (XBLOCK, SLBLOCK...);
// bit 0 is reserved (set by readers in some files) and ignored on lookup.
inline bool bid_is_internal(Bid bid) { return (bid & 2) != 0; }
inline Bid bid_key(Bid bid) { return bid & ~Bid{1}; }

// MS-PST 2.2.2.4 BREF.
struct Bref {
  Bid bid = 0;
  uint64_t ib = 0;  // file offset
};

// MS-PST 2.2.2.6 HEADER (and ROOT 2.2.2.5), normalised across formats.
struct Header {
  FileFormat format = FileFormat::kUnicode;
  uint16_t ndb_version = 0;     // wVer
  uint16_t client_version = 0;  // wVerClient
  uint16_t magic_client = 0;    // wMagicClient: 0x4D53 "SM" (PST), 0x4F53 "SO" (OST), "AB" (PAB)
  uint8_t platform_create = 0;
  uint8_t platform_access = 0;
  CryptMethod crypt = CryptMethod::kNone;
  uint32_t crc_partial = 0;  // dwCRCPartial as stored
  uint32_t crc_full = 0;     // dwCRCFull as stored (Unicode only)
  bool crc_partial_ok = false;
  bool crc_full_ok = true;   // ANSI has no full CRC
  uint32_t unique = 0;       // dwUnique
  uint64_t bid_next_b = 0;   // bidNextB (Unicode) / bidNextB (ANSI)
  uint64_t bid_next_p = 0;   // bidNextP
  uint32_t nid_high_water[32] = {};  // rgnid[]
  // ROOT
  uint64_t file_eof = 0;     // ibFileEof
  uint64_t amap_last = 0;    // ibAMapLast
  uint64_t amap_free = 0;    // cbAMapFree
  uint64_t pmap_free = 0;    // cbPMapFree
  Bref nbt_root;             // BREFNBT
  Bref bbt_root;             // BREFBBT
  uint8_t amap_valid = 0;    // fAMapValid: 0 invalid, 1/2 valid
  // Sizes that follow from the format.
  uint32_t page_size = 512;     // B-tree and map pages
  uint32_t block_align = 64;    // blocks are padded to a multiple of this
  uint32_t max_block_size = 8192;  // including trailer
  uint32_t page_trailer_size = 16;
  uint32_t block_trailer_size = 16;
  uint32_t bid_size = 8;
};

// Parses and validates the header in the first bytes of a file (needs at
// least 564 bytes for Unicode, 512 for ANSI). CRC mismatches are recorded in
// crc_*_ok, not returned as errors, so a checker can report them; structural
// impossibilities (bad magic, unknown version, crypt method) are errors.
Result<Header> parse_header(ByteView data, uint64_t file_size);

// Writes h into raw header bytes (keeping fields pstkit does not manage) and
// recomputes both CRCs.
void encode_header(const Header& h, Bytes& raw);
// Header bytes for a new, empty file (fields other than format and crypt
// are filled in by the writer).
Bytes new_header_bytes(FileFormat format, CryptMethod crypt);

// MS-PST 2.2.2.7.7.4 NBTENTRY.
struct NodeEntry {
  Nid nid = 0;
  Bid data_bid = 0;
  Bid subnode_bid = 0;
  Nid parent_nid = 0;
};

// MS-PST 2.2.2.7.7.3 BBTENTRY (+ 4K-page OST's inflated size).
struct BlockEntry {
  Bid bid = 0;
  uint64_t offset = 0;        // IB of the block
  uint32_t stored_size = 0;   // cb: bytes of data on disk (compressed size in OST 4K)
  uint32_t inflated_size = 0; // size after decompression (== stored_size unless compressed)
  uint16_t ref_count = 0;     // cRef
};

// MS-PST 2.2.2.8.3.3.1 SLENTRY.
struct SubnodeEntry {
  Nid nid = 0;
  Bid data_bid = 0;
  Bid subnode_bid = 0;
};

// A node's data stream and subnodes. Abstract so that upper layers can be
// tested on in-memory nodes (see make_memory_node).
class Node {
 public:
  virtual ~Node() = default;
  virtual Nid id() const = 0;
  // Total bytes in the data stream.
  virtual uint64_t size() const = 0;
  // Number of data blocks (the leaves of the data tree, MS-PST 2.2.2.8.3.2).
  virtual size_t block_count() const = 0;
  // Decoded bytes of data block i.
  virtual Result<SharedBytes> block(size_t i) const = 0;
  virtual Result<std::unique_ptr<Node>> subnode(Nid nid) const = 0;
  virtual Result<std::vector<SubnodeEntry>> subnodes() const = 0;

  // The whole data stream. Fails rather than allocate past max_bytes.
  Result<Bytes> read_all(uint64_t max_bytes = uint64_t{1} << 31) const;
  // Copies [offset, offset+len) of the stream into out.
  Status read(uint64_t offset, size_t len, uint8_t* out) const;
  // Appends data blocks [first, first + count) to out, decoded: for reading
  // a large stream piece by piece into a buffer that is reused. Unlike
  // block(i), it does not go through (or fill) the block cache. On failure
  // out may hold some of the blocks.
  Status append_blocks(size_t first, size_t count, Bytes* out) const;

 protected:
  // Appends data blocks [first, first + count) to out, failing rather than
  // let out grow past max_bytes. Block by block here; file nodes decode
  // from the file straight into out, without the block cache.
  virtual Status read_blocks(size_t first, size_t count, uint64_t max_bytes, Bytes* out) const;
};

// A node built from in-memory blocks, for tests and fuzzers.
std::unique_ptr<Node> make_memory_node(Nid nid, std::vector<Bytes> blocks,
                                       std::map<Nid, std::vector<Bytes>> subnodes = {});

struct Options {
  // Upper bound on decoded blocks kept in memory. Readers keep the blocks of
  // the object they work on themselves (heaps hold theirs), so the cache only
  // spares re-reads across objects; it is small because every cached block
  // is resident memory: 16 MiB made a full dump's peak RSS grow with the file
  // up to 16 MiB, for no measurable speed (docs/BENCHMARKS.md).
  size_t cache_bytes = size_t{2} << 20;
  // Verify block CRCs on every read (check always does).
  bool verify_block_crc = true;
  // A file opened by path is read under the shared readers lock, held until
  // the database is destroyed; commits of other processes wait for it
  // (docs/COMMIT_PROTOCOL.md). How long to wait for a commit in progress:
  // negative: $PSTKIT_LOCK_TIMEOUT seconds, else 60 s.
  std::chrono::milliseconds lock_timeout{-1};
};

class Database {
 public:
  virtual ~Database() = default;

  // Opens a file read-only. Errors name the structure and offset at fault.
  static Result<std::unique_ptr<Database>> open(const std::string& path, const Options& options = {});
  // Opens an in-memory image (fuzzing, tests).
  static Result<std::unique_ptr<Database>> open_memory(Bytes image, const Options& options = {});

  virtual const Header& header() const = 0;
  virtual uint64_t file_size() const = 0;

  virtual Result<NodeEntry> find_node(Nid nid) const = 0;
  virtual Result<BlockEntry> find_block(Bid bid) const = 0;
  // Visits NBT/BBT leaf entries in key order; stops early when visit returns
  // false. Fails on the first unreadable page.
  virtual Status for_each_node(const std::function<bool(const NodeEntry&)>& visit) const = 0;
  virtual Status for_each_block(const std::function<bool(const BlockEntry&)>& visit) const = 0;

  // Decoded contents of one block: trailer checked, decrypted (external
  // blocks only) and inflated.
  virtual Result<SharedBytes> read_block(Bid bid) const = 0;
  // Raw bytes of the file (bounds-checked).
  virtual Status read_raw(uint64_t offset, size_t len, uint8_t* out) const = 0;

  // Node from the NBT, or a subnode reached from it.
  virtual Result<std::unique_ptr<Node>> open_node(Nid nid) const = 0;
  // Node from explicit data/subnode BIDs (used for subnodes and by check).
  virtual Result<std::unique_ptr<Node>> open_node(Nid nid, Bid data_bid, Bid subnode_bid) const = 0;

  // Whether nodes may exist in the file that for_each_node does not list
  // (a salvaged index whose NBT is damaged or whose roots were inferred):
  // repair then looks for them by their blocks.
  virtual bool index_may_be_incomplete() const { return false; }
};

// MS-PST 5.1 permutative ("compressible") and 5.2 cyclic encodings, in place.
void decode_permute(uint8_t* data, size_t size);
void encode_permute(uint8_t* data, size_t size);
void code_cyclic(uint8_t* data, size_t size, uint32_t key);  // symmetric

// MS-PST 5.3 CRC-32 (the table-driven "weak" CRC).
uint32_t compute_crc(const uint8_t* data, size_t size, uint32_t seed = 0);
// MS-PST 5.5 block signature.
uint16_t compute_signature(uint64_t ib, uint64_t bid);

}  // namespace pstkit::ndb
