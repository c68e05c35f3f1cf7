// Opening any file as the source of a rebuild (pstkit/repair.h): the
// salvaged index, over the file's own header when it parses and over one
// inferred from the file when it does not (ndb::open_salvaged_inferring).
#include "pstkit/ndb_salvage.h"
#include "pstkit/repair.h"

namespace pstkit::repair {
namespace {

std::string describe_root(const char* tree, const ndb::Bref& root) {
  if (root.bid == 0) return std::string(tree) + ": no root page found (every entry comes from the scan)";
  return std::string(tree) + " root: page " + hex(root.bid) + " at offset " + hex(root.ib);
}

}  // namespace

Result<std::unique_ptr<ndb::Database>> open_for_rebuild(const std::string& path, bool include_deleted,
                                                         std::vector<Change>* notes) {
  ndb::SalvageOptions salvage;
  salvage.include_deleted = include_deleted;
  ndb::SalvageReport report;
  ndb::HeaderInference inferred;
  PSTKIT_ASSIGN_OR_RETURN(auto db, ndb::open_salvaged_inferring(path, {}, salvage, &report, &inferred));
  if (notes == nullptr) return db;
  if (inferred.inferred) {
    if (!inferred.found_anything()) {
      notes->push_back({"STORE_REBUILT", "header", kNone, 0,
                        "the header could not be read (" + inferred.header_error.message() +
                            ") and nothing recognisable as PST or OST data was found: the file is read as an "
                            "empty store"});
    } else {
      notes->push_back({"STORE_REBUILT", "header", kNone, 0,
                        "the header could not be read (" + inferred.header_error.message() +
                            "); inferred from the file: format " + ndb::format_name(inferred.format) +
                            " (" + std::to_string(inferred.blocks_found) + " intact blocks, " +
                            std::to_string(inferred.pages_found) + " B-tree pages), encoding " +
                            ndb::crypt_name(inferred.crypt) + " (" +
                            std::to_string(inferred.heap_blocks_decoded) + " heap blocks decode with it), " +
                            describe_root("NBT", inferred.nbt_root) + ", " +
                            describe_root("BBT", inferred.bbt_root)});
    }
  }
  // MS-PST 5.3: a single flipped bit the CRC located, undone in what was read.
  for (const auto& c : report.corrections) {
    notes->push_back({"BIT_CORRECTED", c.structure, c.id, c.offset, c.what});
  }
  if (!report.tree_intact()) {
    notes->push_back({"STORE_REBUILT", "B-tree", kNone, kNone,
                      std::to_string(report.tree_errors.size()) + " B-tree subtrees could not be read (first: " +
                          report.tree_errors.front() + "); " + std::to_string(report.nodes_from_scan) +
                          " nodes and " + std::to_string(report.blocks_from_scan) +
                          " blocks were found by a scan of the file instead"});
  }
  return db;
}

}  // namespace pstkit::repair
