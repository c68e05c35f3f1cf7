// MS-PST 2.2.2.8.3: data trees (XBLOCK/XXBLOCK) and subnode trees
// (SLBLOCK/SIBLOCK), flattened for random access.
#pragma once

#include <functional>
#include <vector>

#include "pstkit/ndb.h"

namespace pstkit::ndb {

using BlockReader = std::function<Result<SharedBytes>(Bid)>;

struct DataTree {
  std::vector<Bid> leaves;  // data blocks in stream order
  uint64_t total_size = 0;
  // The leaves each XBLOCK spans and its lcbTotal (MS-PST 2.2.2.8.3.2.1),
  // in stream order; a tree of one block is one chunk. They give the size
  // of a run of leaves without looking each one up in the BBT.
  struct Chunk {
    size_t first = 0;
    size_t count = 0;
    uint64_t total = 0;
  };
  std::vector<Chunk> chunks;
};

// data_bid 0 is an empty stream; an external BID is a single block.
Result<DataTree> load_data_tree(const Header& h, Bid data_bid, const BlockReader& read);

// All SLENTRYs reachable from subnode_bid (0: none), sorted by NID.
Result<std::vector<SubnodeEntry>> load_subnode_tree(const Header& h, Bid subnode_bid, const BlockReader& read);

// A node over the blocks of db (which must outlive it).
std::unique_ptr<Node> make_file_node(const Database* db, Nid nid, DataTree tree, Bid subnode_bid);

}  // namespace pstkit::ndb
