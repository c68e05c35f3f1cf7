// dump_nodes: every node of a PST as the NDB and LTP layers see it, for
// comparing files node by node (e.g. a written store with one Outlook wrote):
// the NBT entry, then a PC's properties, a TC's layout (columns in iBit order
// with offsets and sizes) and rows, another heap's allocations, or the raw
// data of a node that is not a heap; subnodes follow, indented.
//
//   dump_nodes FILE [NID...]     (NIDs in hex; all nodes when none)
//
// Not built by CMake; build it against a build directory's library:
//   g++ -std=c++20 -Iinclude tools/dump_nodes.cpp build/libpstkit.a -lz -lfmt -o dump_nodes
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "pstkit/ltp.h"
#include "pstkit/ltp_builder.h"
#include "pstkit/ndb.h"
#include "pstkit/property_names.h"

namespace {

using namespace pstkit;

constexpr size_t kMaxHexBytes = 4096;

std::string hex_bytes(ByteView b) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < b.size() && i < kMaxHexBytes; ++i) {
    s += digits[b.u8(i) >> 4];
    s += digits[b.u8(i) & 15];
  }
  if (b.size() > kMaxHexBytes) s += "...";
  return s;
}

std::string tag_label(ltp::PropTag tag) {
  const char* name = tag_name(ltp::tag_id(tag), ltp::tag_type(tag));
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", tag);
  return std::string(buf) + " " + (name ? name : "?");
}

std::string value_text(const ltp::PropValue& v) {
  std::string s = hex_bytes(v.data);
  if (v.type() == ltp::kPtypString) s += " \"" + ltp::utf16le_to_utf8(v.data) + "\"";
  if (v.type() == ltp::kPtypString8) s += " '" + std::string(v.data.begin(), v.data.end()) + "'";
  return s;
}

void dump_pc(const std::shared_ptr<const ndb::Node>& node, const ltp::Options& options, const std::string& indent) {
  auto pc = ltp::PropertyContext::open(node, options);
  if (!pc.is_ok()) {
    std::printf("%sPC error: %s\n", indent.c_str(), pc.status().message().c_str());
    return;
  }
  std::printf("%sPC, %zu properties\n", indent.c_str(), pc->entries().size());
  std::vector<Status> errors;
  for (const ltp::PropValue& v : pc->all_readable(&errors)) {
    std::printf("%s  %-50s %s\n", indent.c_str(), tag_label(v.tag).c_str(), value_text(v).c_str());
  }
  for (const Status& e : errors) std::printf("%s  error: %s\n", indent.c_str(), e.message().c_str());
}

void dump_tc(const std::shared_ptr<const ndb::Node>& node, const ltp::Options& options, const std::string& indent) {
  auto tc = ltp::TableContext::open(node, options);
  if (!tc.is_ok()) {
    std::printf("%sTC error: %s\n", indent.c_str(), tc.status().message().c_str());
    return;
  }
  using TC = ltp::TableContext;
  std::printf("%sTC, %zu rows of %u bytes, rgib %u %u %u %u; columns in iBit order:\n", indent.c_str(),
              tc->row_count(), tc->row_size(), tc->group_end(TC::kEnd4b), tc->group_end(TC::kEnd2b),
              tc->group_end(TC::kEnd1b), tc->group_end(TC::kEndBitmap));
  for (ltp::PropTag tag : ltp::template_columns(*tc)) {
    const TC::Column& c = tc->columns()[*tc->find_column(tag)];
    std::printf("%s  %-50s offset %3u size %u bit %u\n", indent.c_str(), tag_label(tag).c_str(), c.offset, c.size,
                c.bit);
  }
  for (size_t r = 0; r < tc->matrix_row_count(); ++r) {
    auto id = tc->row_id(r);
    std::printf("%s  row %zu, id %s\n", indent.c_str(), r, id.is_ok() ? hex(*id).c_str() : "?");
    auto cells = tc->row(r);
    if (!cells.is_ok()) {
      std::printf("%s    error: %s\n", indent.c_str(), cells.status().message().c_str());
      continue;
    }
    for (const ltp::PropValue& v : *cells) {
      std::printf("%s    %-50s %s\n", indent.c_str(), tag_label(v.tag).c_str(), value_text(v).c_str());
    }
  }
}

void dump_node(const std::shared_ptr<const ndb::Node>& node, const ltp::Options& options, const std::string& indent) {
  auto heap = ltp::Heap::open(node, options);
  if (heap.is_ok() && heap->client_signature() == ltp::kClientPropertyContext) {
    dump_pc(node, options, indent);
  } else if (heap.is_ok() && heap->client_signature() == ltp::kClientTableContext) {
    dump_tc(node, options, indent);
  } else if (heap.is_ok()) {
    std::printf("%sheap, bClientSig %s, user root %s\n", indent.c_str(), hex(heap->client_signature()).c_str(),
                hex(heap->user_root()).c_str());
    for (const ltp::HeapBlockInfo& block : heap->blocks()) {
      for (const ltp::HeapAllocation& a : block.allocations) {
        auto bytes = heap->get(a.hid);
        std::printf("%s  %s: %s\n", indent.c_str(), hex(a.hid).c_str(),
                    bytes.is_ok() ? hex_bytes(*bytes).c_str() : bytes.status().message().c_str());
      }
    }
  } else {
    auto data = node->read_all();
    std::printf("%sdata, %llu bytes: %s\n", indent.c_str(), static_cast<unsigned long long>(node->size()),
                data.is_ok() ? hex_bytes(*data).c_str() : data.status().message().c_str());
  }
  auto subnodes = node->subnodes();
  if (!subnodes.is_ok()) {
    std::printf("%ssubnodes: %s\n", indent.c_str(), subnodes.status().message().c_str());
    return;
  }
  for (const ndb::SubnodeEntry& s : *subnodes) {
    std::printf("%ssubnode %s data %s subnodes %s\n", indent.c_str(), hex(s.nid).c_str(), hex(s.data_bid).c_str(),
                hex(s.subnode_bid).c_str());
    auto sub = node->subnode(s.nid);
    if (sub.is_ok()) dump_node(std::shared_ptr<const ndb::Node>(std::move(*sub)), options, indent + "    ");
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE [NID...]\n", argv[0]);
    return 2;
  }
  auto db = ndb::Database::open(argv[1]);
  if (!db.is_ok()) {
    std::fprintf(stderr, "%s: %s\n", argv[1], db.status().message().c_str());
    return 1;
  }
  std::vector<ndb::NodeEntry> entries;
  Status s = (*db)->for_each_node([&](const ndb::NodeEntry& e) {
    entries.push_back(e);
    return true;
  });
  if (!s.is_ok()) std::fprintf(stderr, "NBT: %s\n", s.message().c_str());
  ltp::Options options;
  options.format = (*db)->header().format;
  for (const ndb::NodeEntry& e : entries) {
    bool wanted = argc == 2;
    for (int i = 2; i < argc; ++i) wanted = wanted || std::strtoul(argv[i], nullptr, 16) == e.nid;
    if (!wanted) continue;
    std::printf("node %s parent %s data %s subnodes %s\n", hex(e.nid).c_str(), hex(e.parent_nid).c_str(),
                hex(e.data_bid).c_str(), hex(e.subnode_bid).c_str());
    auto node = (*db)->open_node(e.nid);
    if (!node.is_ok()) {
      std::printf("  error: %s\n", node.status().message().c_str());
      continue;
    }
    dump_node(std::shared_ptr<const ndb::Node>(std::move(*node)), options, "  ");
  }
  return s.is_ok() ? 0 : 1;
}
