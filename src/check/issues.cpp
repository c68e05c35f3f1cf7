// The code table; its order follows enum Issue.
#include "check/issues.h"

#include <array>

namespace pstkit::check {
namespace {

constexpr Severity E = Severity::kError;
constexpr Severity W = Severity::kWarning;
constexpr Severity I = Severity::kInfo;

constexpr std::array<CodeInfo, size_t(Issue::kCount)> kCodes = {{
    {"HEADER_TRUNCATED", E, "file is shorter than the HEADER"},
    {"HEADER_CRC_PARTIAL", E, "dwCRCPartial does not match its 471 bytes"},
    {"HEADER_CRC_FULL", E, "dwCRCFull does not match its 516 bytes"},
    {"HEADER_CLIENT_MAGIC", W, "wMagicClient is not \"SM\", \"SO\" or \"AB\""},
    {"HEADER_SENTINEL", E, "bSentinel is not 0x80"},
    {"HEADER_CRYPT", E, "bCryptMethod is not 0, 1 or 2"},
    {"HEADER_ROOT", E, "BREFNBT/BREFBBT outside the file or misaligned"},
    {"HEADER_FILE_EOF", E, "the file is shorter than ibFileEof: truncated"},
    {"FILE_TAIL", W, "the file has bytes past ibFileEof"},
    {"HEADER_AMAP_LAST", E, "ibAMapLast is not the last AMap below ibFileEof"},
    {"HEADER_AMAP_VALID", W, "fAMapValid says the maps cannot be trusted"},
    {"HEADER_FMAP", I, "deprecated rgbFM/rgbFP are not all 0xFF"},
    {"HEADER_BID_NEXT", E, "bidNextB/bidNextP not above every BID in use"},
    {"HEADER_NID_NEXT", W, "rgnid[t] below a nidIndex of type t in use"},
    {"FILE_UNREADABLE", E, "the file could not be opened past the header"},
    {"PAGE_OUT_OF_FILE", E, "a page reference points outside the file or is misaligned"},
    {"PAGE_TYPE", E, "ptype/ptypeRepeat differ from the expected page type"},
    {"PAGE_CRC", E, "page dwCRC does not match"},
    {"PAGE_SIGNATURE", E, "page wSig does not match"},
    {"PAGE_BID", E, "page trailer BID differs from the BREF or the page offset"},
    {"BTREE_FORMAT", E, "cbEnt, cEnt or cEntMax impossible for the page"},
    {"BTREE_LEVEL", E, "cLevel does not decrease by one towards the leaves"},
    {"BTREE_ORDER", E, "keys not strictly ascending"},
    {"BTREE_BRANCH_KEY", E, "a branch key differs from the first key of its child page"},
    {"BTREE_CYCLE", E, "a page is reached twice"},
    {"BLOCK_OUT_OF_FILE", E, "a block extends past the end of the file"},
    {"BLOCK_ALIGNMENT", E, "a block offset is not aligned"},
    {"BLOCK_SIZE", E, "BBT cb larger than a block can hold"},
    {"BLOCK_TRAILER", E, "block trailer cb or BID differs from the BBT entry"},
    {"BLOCK_SIGNATURE", E, "block wSig does not match"},
    {"BLOCK_CRC", E, "block dwCRC does not match"},
    {"BLOCK_INFLATE", E, "a 4K-page OST block does not inflate to its stated size"},
    {"BLOCK_OVERLAP", E, "two blocks or pages share bytes"},
    {"BID_MISSING", E, "a referenced BID is not in the BBT"},
    {"REFCOUNT_LOW", E, "cRef below 1 + the references found"},
    {"REFCOUNT_HIGH", W, "cRef above 1 + the references found"},
    {"BLOCK_ORPHAN", W, "a block nothing references"},
    {"DATA_TREE", E, "XBLOCK/XXBLOCK malformed, wrong block kind or lcbTotal mismatch"},
    {"SUBNODE_TREE", E, "SLBLOCK/SIBLOCK malformed, wrong block kind or NIDs not ascending"},
    {"AMAP_PAGE", E, "an AMap page is missing or does not map itself"},
    {"AMAP_MISMATCH", E, "space used by a page or block is marked free"},
    {"AMAP_LEAK", W, "space marked allocated that nothing uses"},
    {"AMAP_FREE_TOTAL", E, "cbAMapFree differs from the free space the AMaps record"},
    {"DLIST_PAGE", W, "the DList page is damaged"},
    {"DLIST_ENTRY", W, "DList entries disagree with the AMaps"},
    {"NODE_REQUIRED", E, "a mandatory node is missing"},
    {"NBT_PARENT", E, "nidParent names a node that is missing or not a folder"},
    {"NODE_DATA", E, "a node's data or subnodes cannot be read"},
    {"HN", E, "a Heap-on-Node header or page map is invalid"},
    {"BTH", E, "a BTree-on-Heap is invalid"},
    {"PC", E, "a Property Context cannot be opened"},
    {"PC_VALUE", E, "a property value cannot be read"},
    {"TC", E, "a Table Context cannot be opened"},
    {"TC_ROWS", E, "the TC row index and row matrix disagree"},
    {"TC_CELL", E, "a TC cell cannot be read"},
    {"FOLDER_TABLE", E, "a folder's hierarchy/contents/FAI table is missing or unreadable"},
    {"FOLDER_HIERARCHY", E, "a hierarchy table row names a missing node or one with another parent"},
    {"FOLDER_CONTENTS", E, "a contents/FAI table row names a missing message or one with another parent"},
    {"FOLDER_UNLISTED", W, "a node whose nidParent is a folder is absent from that folder's table"},
    {"SEARCH_QUEUE", E, "the search management queue is not a whole number of SUDs, or its head is off them"},
    {"CHECK_LIMIT", I, "part of the check was skipped because a limit was reached"},
}};

}  // namespace

const CodeInfo& issue_info(Issue issue) { return kCodes[size_t(issue)]; }

std::span<const CodeInfo> finding_codes() { return kCodes; }

const char* severity_name(Severity s) {
  switch (s) {
    case Severity::kError: return "error";
    case Severity::kWarning: return "warning";
    case Severity::kInfo: return "info";
  }
  return "?";
}

size_t Report::count(const std::string& code) const {
  size_t n = 0;
  for (const Finding& f : findings) n += f.code == code;
  return n;
}

}  // namespace pstkit::check
