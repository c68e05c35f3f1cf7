// Salvage: reading a file whose B-trees are damaged (the NDB half of
// repair; not to be confused with recovering an interrupted commit,
// docs/COMMIT_PROTOCOL.md).
//
// Every block and B-tree page carries a trailer naming its own BID, with a
// signature that depends on its file offset and a CRC of its bytes
// (MS-PST 2.2.2.7.1, 2.2.2.8.1, 5.3, 5.5). A linear scan of the file can
// therefore find every intact block and page without the B-trees. A
// salvaged database indexes nodes and blocks from what the NBT and BBT
// still give and fills the gaps from such a scan:
//   - blocks: every block whose trailer, signature and CRC hold, wherever
//     the BBT is unreadable or points at a damaged copy;
//   - nodes: every NBT entry reachable through readable pages, plus, for the
//     key ranges under unreadable pages, the entries of NBT leaf pages found
//     by the scan: for each NID the newest (by page BID) whose blocks can be
//     found. A leaf page whose CRC fails still gives the entries that read
//     as real ones (node type, known blocks, a folder or no parent). An entry
//     that a newer intact page spans without listing was deleted since.
// Entries of stale NBT pages outside those ranges are nodes that were
// deleted; they come back only with SalvageOptions::include_deleted. When
// the header is inferred (open_salvaged_inferring) its roots are a guess;
// if the guessed trees disagree (nodes naming blocks the BBT lacks, no
// message store or root folder) they are an old or partial tree, and every
// NID and intact block they lack is taken from the scan (a block a newer
// BBT leaf spans without listing stays freed).
//
// Memory: lookups go through the B-trees wherever they are readable (a
// bounded page cache); only entries under unreadable pages, other copies of
// damaged blocks and, on request, deleted nodes and their blocks are held,
// at about 32 bytes each.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pstkit/ndb.h"

namespace pstkit::ndb {

struct SalvageOptions {
  // Also bring back nodes found only in stale NBT pages outside the damaged
  // ranges (deleted nodes whose pages were not overwritten).
  bool include_deleted = false;
};

// What the salvaged index was built from.
struct SalvageReport {
  uint64_t bytes_scanned = 0;
  // B-tree pages the NBT/BBT walk could not read, with why.
  std::vector<std::string> tree_errors;
  size_t nodes_from_tree = 0;      // NBT entries read through the tree
  size_t nodes_from_scan = 0;      // added from NBT leaf pages found by the scan
  size_t nbt_pages_found = 0;      // intact NBT leaf pages seen by the scan (stale ones too)
  size_t nbt_pages_crc_failed = 0; // NBT leaf pages whose CRC fails: their sane entries are used
  size_t blocks_from_tree = 0;     // BBT entries whose block is intact where the BBT says
  size_t blocks_relocated = 0;     // BBT entries whose copy is damaged but another intact copy exists
  size_t blocks_from_scan = 0;     // intact blocks under unreadable BBT pages (or deleted, on request)
  size_t damaged_blocks = 0;       // BBT entries with no intact copy anywhere
  size_t unreferenced_blocks = 0;  // intact blocks no BBT entry names (freed space): not listed, but
                                   // found for a scanned node entry that names one when the trees
                                   // are damaged or their roots inferred
  // Blocks and B-tree pages whose CRC (or a trailer field) failed and whose
  // single flipped bit the CRC located and salvage undid (MS-PST 5.3); the
  // data read from them is the original's. Blocks are counted as the scan
  // finds them; a block whose trailer BID or size is the flipped bit is
  // found only through the BBT, corrected when read, and not counted here.
  struct BitCorrection {
    std::string structure;  // "block", "NBT page", "BBT page"
    uint64_t id = 0;        // BID
    uint64_t offset = 0;
    std::string what;
  };
  size_t blocks_corrected = 0;
  size_t pages_corrected = 0;
  std::vector<BitCorrection> corrections;  // by offset
  bool tree_intact() const { return tree_errors.empty(); }
};

// Opens a file (or an in-memory image) for reading with a salvaged index.
// Fails only when the header cannot be parsed; report (optional) says what
// was recovered.
Result<std::unique_ptr<Database>> open_salvaged(const std::string& path, const Options& options = {},
                                                 const SalvageOptions& recovery = {},
                                                 SalvageReport* report = nullptr);
Result<std::unique_ptr<Database>> open_salvaged_memory(Bytes image, const Options& options = {},
                                                        const SalvageOptions& recovery = {},
                                                        SalvageReport* report = nullptr);

// What a file whose header does not parse was read as: found in the file
// itself by scanning it for intact blocks and B-tree pages.
struct HeaderInference {
  bool inferred = false;  // the header did not parse; the fields below were inferred
  Status header_error;    // why it did not parse
  FileFormat format = FileFormat::kUnicode;  // the format under which the most intact blocks and pages were found
  CryptMethod crypt = CryptMethod::kNone;    // the encoding that decodes the most heap blocks
  // The newest intact B-tree pages that no other page names as a child
  // (bid 0: none found; then every node and block comes from the scan).
  Bref nbt_root;
  Bref bbt_root;
  size_t blocks_found = 0;  // intact blocks of that format
  size_t pages_found = 0;   // intact NBT and BBT pages of that format
  size_t heap_blocks_decoded = 0;  // external blocks that decode to a heap with crypt
  bool found_anything() const { return blocks_found + pages_found > 0; }
};

// open_salvaged when the header parses; otherwise a header inferred from the
// file (format, encoding and B-tree roots, see HeaderInference) -- a file
// cut short of a header, a destroyed header, or no PST at all. Fails only
// when the file cannot be read: one with nothing recognisable opens as an
// empty database. Bounded memory on any input: a scan window, plus about 24
// bytes per intact B-tree page found.
Result<std::unique_ptr<Database>> open_salvaged_inferring(const std::string& path, const Options& options = {},
                                                          const SalvageOptions& recovery = {},
                                                          SalvageReport* report = nullptr,
                                                          HeaderInference* inference = nullptr);
Result<std::unique_ptr<Database>> open_salvaged_inferring_memory(Bytes image, const Options& options = {},
                                                                 const SalvageOptions& recovery = {},
                                                                 SalvageReport* report = nullptr,
                                                                 HeaderInference* inference = nullptr);

}  // namespace pstkit::ndb
