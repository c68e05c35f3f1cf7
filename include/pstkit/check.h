// Read-only structural verification of a PST/OST file (`pstkit check`).
//
// The checker walks every structure it can reach -- header, both B-trees,
// every block, the allocation maps, data and subnode trees, heaps, property
// and table contexts, folder tables -- and reports each deviation from
// [MS-PST] as a Finding. It never stops at the first problem: a damaged
// structure is reported and skipped, and everything still reachable is
// checked. Output is bounded by a per-code cap.
//
// Finding codes are stable; tools may match on them. Each code has one
// severity. Errors mean the file violates the format in a way that loses or
// misreads data; warnings are deviations that real Outlook files also show
// (leaks, stale hints); info notes what was not checked and why.
//
//   code                 sev  meaning
//   -------------------- ---  ---------------------------------------------------
//   HEADER_TRUNCATED     E    file is shorter than the HEADER (MS-PST 2.2.2.6)
//   HEADER_CRC_PARTIAL   E    dwCRCPartial does not match its 471 bytes
//   HEADER_CRC_FULL      E    dwCRCFull does not match its 516 bytes (Unicode)
//   HEADER_CLIENT_MAGIC  W    wMagicClient is not "SM", "SO" or "AB"
//   HEADER_SENTINEL      E    bSentinel is not 0x80
//   HEADER_CRYPT         E    bCryptMethod is not 0, 1 or 2
//   HEADER_ROOT          E    BREFNBT/BREFBBT outside the file or misaligned (2.2.2.5)
//   HEADER_FILE_EOF      E    the file is shorter than ibFileEof: truncated
//   FILE_TAIL            W    the file has bytes past ibFileEof (no structure may lie there)
//   HEADER_AMAP_LAST     E    ibAMapLast is not the last AMap below ibFileEof
//   HEADER_AMAP_VALID    W    fAMapValid says the maps cannot be trusted; map comparisons skipped
//   HEADER_FMAP          I    deprecated rgbFM/rgbFP are not all 0xFF
//   HEADER_BID_NEXT      E    bidNextB/bidNextP not above every BID in use (2.2.2.6)
//   HEADER_NID_NEXT      W    rgnid[t] below a nidIndex of type t in use
//   FILE_UNREADABLE      E    the file could not be opened past the header (detail in message)
//   PAGE_OUT_OF_FILE     E    a page reference points outside the file or is misaligned
//   PAGE_TYPE            E    ptype/ptypeRepeat differ from the expected page type (2.2.2.7.1)
//   PAGE_CRC             E    page dwCRC does not match (5.3)
//   PAGE_SIGNATURE       E    page wSig does not match (5.5; 0 for map pages)
//   PAGE_BID             E    page trailer BID differs from the BREF (map pages: from their offset)
//   BTREE_FORMAT         E    cbEnt, cEnt or cEntMax impossible for the page (2.2.2.7.7.1)
//   BTREE_LEVEL          E    cLevel does not decrease by one towards the leaves
//   BTREE_ORDER          E    keys not strictly ascending, within or across pages
//   BTREE_BRANCH_KEY     E    a branch key differs from the first key of its child page
//   BTREE_CYCLE          E    a page is reached twice
//   BLOCK_OUT_OF_FILE    E    a block extends past the end of the file or past ibFileEof
//   BLOCK_ALIGNMENT      E    a block offset is not aligned (64 bytes; 512 in 4K-page files)
//   BLOCK_SIZE           E    BBT cb larger than a block can hold
//   BLOCK_TRAILER        E    block trailer cb or BID differs from the BBT entry (2.2.2.8.1)
//   BLOCK_SIGNATURE      E    block wSig does not match (5.5)
//   BLOCK_CRC            E    block dwCRC does not match (5.3)
//   BLOCK_INFLATE        E    a 4K-page OST block does not inflate to its stated size
//   BLOCK_OVERLAP        E    two blocks or pages share bytes
//   BID_MISSING          E    a referenced BID is not in the BBT
//   REFCOUNT_LOW         E    cRef below 1 + the references found (2.2.2.7.7.3.1)
//   REFCOUNT_HIGH        W    cRef above 1 + the references found (a leak)
//   BLOCK_ORPHAN         W    a block no node, data tree or subnode tree references
//   DATA_TREE            E    XBLOCK/XXBLOCK malformed, wrong block kind, lcbTotal mismatch
//   SUBNODE_TREE         E    SLBLOCK/SIBLOCK malformed, wrong block kind, NIDs not ascending
//   AMAP_PAGE            E    an AMap page is missing or does not map itself (2.2.2.7.2)
//   AMAP_MISMATCH        E    space used by a page or block is marked free in the AMap
//   AMAP_LEAK            W    space marked allocated that nothing uses (one finding per AMap)
//   AMAP_FREE_TOTAL      E    cbAMapFree differs from the free space the AMaps record
//   DLIST_PAGE           W    the DList page is damaged (it may be overwritten; 2.2.2.7.4)
//   DLIST_ENTRY          W    DList entries disagree with the AMaps
//   NODE_REQUIRED        E    a mandatory node (message store, name map, root folder) is missing (2.7)
//   NBT_PARENT           E    nidParent names a node that is missing or not a folder (2.2.2.7.7.4.1)
//   NODE_DATA            E    a node's data or subnodes cannot be read
//   HN                   E    a Heap-on-Node header or page map is invalid (2.3.1)
//   BTH                  E    a BTree-on-Heap is invalid (2.3.2)
//   PC                   E    a Property Context cannot be opened (2.3.3)
//   PC_VALUE             E    a property value cannot be read
//   TC                   E    a Table Context cannot be opened (2.3.4)
//   TC_ROWS              E    the TC row index and row matrix disagree
//   TC_CELL              E    a TC cell cannot be read
//   FOLDER_TABLE         E    a folder's hierarchy/contents/FAI table is missing or unreadable (2.4.4)
//   FOLDER_HIERARCHY     E    a hierarchy table row names a missing node or one with another parent
//   FOLDER_CONTENTS      E    a contents/FAI table row names a missing message or one with another parent
//   FOLDER_UNLISTED      W    a node whose nidParent is a folder is absent from that folder's table
//   SEARCH_QUEUE         E    the search management queue (0x1E1) is not a whole number of 20-byte
//                             SUDs, or its head (nidParent) is past its end or off a SUD (2.4.8.3)
//   CHECK_LIMIT          I    part of the check was skipped because a limit was reached
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "pstkit/ndb.h"
#include "pstkit/status.h"

namespace pstkit::check {

enum class Severity : uint8_t { kError, kWarning, kInfo };
const char* severity_name(Severity s);  // "error", "warning", "info"

// Offset or id not applicable.
inline constexpr uint64_t kNone = ~uint64_t{0};

struct Finding {
  std::string code;       // stable UPPER_SNAKE code from the table above
  Severity severity = Severity::kError;
  std::string structure;  // e.g. "NBT page", "block", "AMap page", "TC"
  uint64_t offset = kNone;  // file offset of the structure
  uint64_t id = kNone;      // NID or BID the finding concerns
  std::string message;
};

// One row of the code table above.
struct CodeInfo {
  const char* code;
  Severity severity;
  const char* meaning;
};
std::span<const CodeInfo> finding_codes();

struct Counters {
  uint64_t pages = 0;   // B-tree and map pages examined
  uint64_t blocks = 0;  // blocks examined (BBT entries)
  uint64_t nodes = 0;   // NBT entries
  uint64_t bytes = 0;   // bytes of pages and blocks read and verified
  uint64_t heaps = 0;   // heaps (PCs, TCs, BTHs) checked, in nodes and subnodes
};

struct Report {
  std::vector<Finding> findings;  // in the order found, at most the cap per code
  Counters counters;
  // Totals by severity, including findings dropped by the cap.
  uint64_t errors = 0;
  uint64_t warnings = 0;
  uint64_t infos = 0;
  // Findings dropped by the per-code cap.
  std::map<std::string, uint64_t> suppressed;

  bool clean() const { return errors == 0; }
  // Findings (kept ones) with this code.
  size_t count(const std::string& code) const;
};

struct CheckOptions {
  // At most this many findings are kept per code; the rest are counted.
  size_t max_findings_per_code = 1000;
  // Heaps, BTHs, PCs and TCs of every node and subnode (the slowest part).
  bool check_ltp = true;
  // Folder hierarchy and contents tables against the NBT.
  bool check_folders = true;
  // Decoded-block cache of the checker (and of the database check_file opens).
  size_t cache_bytes = size_t{16} << 20;
};

// Checks a file. Fails only when it cannot be read at all or is not a
// PST/OST file (no "!BDN" magic, unknown version or encryption); a damaged
// header is reported as findings.
Result<Report> check_file(const std::string& path, const CheckOptions& options = {});

// Checks an opened database (its header parsed).
Report check_database(const ndb::Database& db, const CheckOptions& options = {});

}  // namespace pstkit::check
