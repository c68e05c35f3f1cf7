// write_empty_store and NameMapBuilder: a new store has every node of the
// empty store Outlook creates (the corpus's outlook-pst-rs/Empty.pst), byte
// for byte when given that store's per-store values; fresh stores open with
// pstkit::Store, libpff and readpst, and pass pstkit's structural check.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "messaging/name_map_builder.h"
#include "messaging/node_writer.h"
#include "messaging/store_template.h"
#include "pstkit/check.h"
#include "pstkit/ltp.h"
#include "pstkit/ltp_builder.h"
#include "pstkit/messaging.h"
#include "pstkit/ndb.h"
#include "pstkit/ndb_writer.h"
#include "pstkit/property_names.h"
#include "pstkit/store_writer.h"
#include "pstkit/utf.h"

namespace pstkit {
namespace {

// ---------------------------------------------------------------------------
// Helpers

const std::string kCorpus = PSTKIT_SOURCE_DIR "/../shared/corpus/";
const std::string kEmptyPst = "outlook-pst-rs/Empty.pst";
constexpr auto kUnicode = ndb::FileFormat::kUnicode;
constexpr auto kAnsi = ndb::FileFormat::kAnsi;

bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

bool corpus_has(const std::string& rel) { return std::filesystem::exists(kCorpus + rel); }

// Corpus files are optional locally but required in CI.
#define REQUIRE_CORPUS(rel)                                    \
  if (!corpus_has(rel)) {                                      \
    if (in_ci()) FAIL() << "missing corpus file " << (rel);    \
    GTEST_SKIP() << "corpus file " << (rel) << " not present"; \
  }

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("pstkit-tmpl-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
  static inline int counter_ = 0;
};

// Creates a store file and commits it.
void make_store(const std::string& path, const NewStoreOptions& options, const StoreIdentity* identity = nullptr) {
  ndb::CreateOptions create;
  create.format = options.format;
  create.crypt = options.crypt;
  auto db = ndb::WritableDatabase::create(path, create);
  ASSERT_TRUE(db.is_ok()) << db.status().message();
  Status s = identity ? write_empty_store(**db, options, *identity) : write_empty_store(**db, options);
  ASSERT_TRUE(s.is_ok()) << s.message();
  s = (*db)->commit();
  ASSERT_TRUE(s.is_ok()) << s.message();
}

std::unique_ptr<ndb::Database> open_db(const std::string& path) {
  auto db = ndb::Database::open(path);
  EXPECT_TRUE(db.is_ok()) << path << ": " << db.status().message();
  return db.is_ok() ? std::move(*db) : nullptr;
}

std::map<Nid, ndb::NodeEntry> nodes_of(const ndb::Database& db) {
  std::map<Nid, ndb::NodeEntry> out;
  EXPECT_TRUE(db.for_each_node([&](const ndb::NodeEntry& e) {
    out[e.nid] = e;
    return true;
  }).is_ok());
  return out;
}

std::shared_ptr<const ndb::Node> node_of(const ndb::Database& db, Nid nid) {
  auto n = db.open_node(nid);
  EXPECT_TRUE(n.is_ok()) << hex(nid) << ": " << n.status().message();
  return n.is_ok() ? std::shared_ptr<const ndb::Node>(std::move(*n)) : nullptr;
}

Bytes data_of(const ndb::Database& db, Nid nid) {
  auto node = node_of(db, nid);
  if (!node) return {};
  auto data = node->read_all();
  EXPECT_TRUE(data.is_ok());
  return data.is_ok() ? *data : Bytes{};
}

ltp::Options options_for(const ndb::Database& db) {
  ltp::Options o;
  o.format = db.header().format;
  return o;
}

std::optional<ltp::PropertyContext> pc_of(const ndb::Database& db, Nid nid) {
  auto node = node_of(db, nid);
  if (!node) return std::nullopt;
  auto heap = ltp::Heap::open(node, options_for(db));
  if (!heap.is_ok() || heap->client_signature() != ltp::kClientPropertyContext) return std::nullopt;
  auto pc = ltp::PropertyContext::open(node, options_for(db));
  EXPECT_TRUE(pc.is_ok()) << hex(nid) << ": " << pc.status().message();
  return pc.is_ok() ? std::optional(std::move(*pc)) : std::nullopt;
}

std::optional<ltp::TableContext> tc_of(const ndb::Database& db, Nid nid) {
  auto node = node_of(db, nid);
  if (!node) return std::nullopt;
  auto heap = ltp::Heap::open(node, options_for(db));
  if (!heap.is_ok() || heap->client_signature() != ltp::kClientTableContext) return std::nullopt;
  auto tc = ltp::TableContext::open(node, options_for(db));
  EXPECT_TRUE(tc.is_ok()) << hex(nid) << ": " << tc.status().message();
  return tc.is_ok() ? std::optional(std::move(*tc)) : std::nullopt;
}

Guid guid_at(const Bytes& b, size_t at) {
  EXPECT_LE(at + 16, b.size());
  return at + 16 <= b.size() ? Guid::from_bytes(b.data() + at) : Guid{};
}

// The per-store values of an existing store made by Outlook, so that a
// store written with them can be compared byte for byte.
StoreIdentity identity_of(const ndb::Database& db) {
  StoreIdentity id;
  auto store = pc_of(db, ndb::kNidMessageStore);
  EXPECT_TRUE(store.has_value());
  if (!store) return id;
  auto key = store->get(prop::kRecordKey);
  auto history = store->get(0x0E34);  // PidTagReplVersionHistory: count, GUID, version
  EXPECT_TRUE(key.is_ok() && history.is_ok());
  if (key.is_ok()) id.record_key = guid_at(key->data, 0);
  if (history.is_ok()) id.replica = guid_at(history->data, 4);
  const Bytes state = data_of(db, 0xF01);
  id.index_state[0] = guid_at(state, 40);
  id.index_state[1] = guid_at(state, 56);
  if (state.size() >= 88) id.created = load_le64(state.data() + 80);
  return id;
}

// The tag of t as an ANSI store has it.
PropTag ansi_tag(PropTag t) { return tag_for_format(t, kAnsi); }

std::set<PropTag> tags_of(const ltp::PropertyContext& pc, bool to_ansi) {
  std::set<PropTag> out;
  for (PropTag t : pc.tags()) out.insert(to_ansi ? ansi_tag(t) : t);
  return out;
}

std::vector<PropTag> columns_of(const ltp::TableContext& tc, bool to_ansi) {
  std::vector<PropTag> out = ltp::template_columns(tc);
  if (to_ansi) std::transform(out.begin(), out.end(), out.begin(), ansi_tag);
  return out;
}

std::vector<uint32_t> row_ids_of(const ltp::TableContext& tc) {
  std::vector<uint32_t> out;
  for (size_t r = 0; r < tc.row_count(); ++r) {
    auto id = tc.row_id(r);
    EXPECT_TRUE(id.is_ok());
    if (id.is_ok()) out.push_back(*id);
  }
  return out;
}

// The names in a MS-PST 2.4.7.4 string stream, by offset (padding ignored:
// Outlook leaves whatever was in memory there).
std::map<uint32_t, Bytes> strings_of(const Bytes& stream) {
  std::map<uint32_t, Bytes> out;
  ByteView v(stream);
  for (size_t at = 0; v.has(at, 4);) {
    const uint32_t len = v.u32(at);
    EXPECT_TRUE(v.has(at + 4, len));
    if (!v.has(at + 4, len)) break;
    out[uint32_t(at)] = v.sub(at + 4, len).to_bytes();
    at = (at + 4 + len + 3) & ~size_t{3};
  }
  return out;
}

// Every property of two name maps is the same (streams compared by content).
void expect_same_name_maps(const ltp::PropertyContext& a, const ltp::PropertyContext& b) {
  auto va = a.all();
  auto vb = b.all();
  ASSERT_TRUE(va.is_ok() && vb.is_ok());
  ASSERT_EQ(va->size(), vb->size());
  for (size_t i = 0; i < va->size(); ++i) {
    const PropValue& x = (*va)[i];
    const PropValue& y = (*vb)[i];
    EXPECT_EQ(x.tag, y.tag);
    if (x.id() == 0x0004) {
      EXPECT_EQ(x.data.size(), y.data.size());
      EXPECT_EQ(strings_of(x.data), strings_of(y.data));
    } else {
      EXPECT_EQ(x.data, y.data) << "name map property " << hex(x.tag);
    }
  }
}

std::vector<std::pair<uint32_t, uint16_t>> block_shapes(const ndb::Database& db) {
  std::vector<std::pair<uint32_t, uint16_t>> out;  // size, reference count
  EXPECT_TRUE(db.for_each_block([&](const ndb::BlockEntry& e) {
    out.emplace_back(e.stored_size, e.ref_count);
    return true;
  }).is_ok());
  std::sort(out.begin(), out.end());
  return out;
}

// Every PC has the same property tags and every TC the same columns and
// row ids as the reference store's node; both have the same NIDs and parents.
void expect_same_schema(const ndb::Database& made, const ndb::Database& reference, bool to_ansi) {
  const auto made_nodes = nodes_of(made);
  const auto ref_nodes = nodes_of(reference);
  ASSERT_EQ(made_nodes.size(), ref_nodes.size());
  for (const auto& [nid, ref] : ref_nodes) {
    SCOPED_TRACE("node " + hex(nid));
    auto it = made_nodes.find(nid);
    ASSERT_NE(it, made_nodes.end());
    EXPECT_EQ(it->second.parent_nid, ref.parent_nid);
    if (auto ref_pc = pc_of(reference, nid)) {
      auto pc = pc_of(made, nid);
      ASSERT_TRUE(pc.has_value());
      EXPECT_EQ(tags_of(*pc, false), tags_of(*ref_pc, to_ansi));
    } else if (auto ref_tc = tc_of(reference, nid)) {
      auto tc = tc_of(made, nid);
      ASSERT_TRUE(tc.has_value());
      EXPECT_EQ(columns_of(*tc, false), columns_of(*ref_tc, to_ansi));
      EXPECT_EQ(row_ids_of(*tc), row_ids_of(*ref_tc));
      for (size_t c = 0; c < tc->columns().size() && c < ref_tc->columns().size(); ++c) {
        EXPECT_EQ(tc->columns()[c].offset, ref_tc->columns()[c].offset);
        EXPECT_EQ(tc->columns()[c].bit, ref_tc->columns()[c].bit);
      }
    } else {
      EXPECT_EQ(data_of(made, nid).size(), data_of(reference, nid).size());
    }
  }
}

struct FolderInfo {
  Nid nid = 0;
  Nid parent = 0;
  std::string name;
  int32_t count = 0;
  int32_t unread = 0;
  bool subfolders = false;
  size_t rows = 0;  // hierarchy table rows
  bool operator==(const FolderInfo&) const = default;
};

std::ostream& operator<<(std::ostream& out, const FolderInfo& f) {
  return out << hex(f.nid) << " parent " << hex(f.parent) << " '" << f.name << "' " << f.count << "/" << f.unread
             << " subfolders " << f.subfolders << " rows " << f.rows;
}

// The folder tree below the root, through the messaging layer.
std::vector<FolderInfo> folder_tree(const Store& store) {
  std::vector<FolderInfo> out;
  std::vector<Nid> todo = {ndb::kNidRootFolder};
  while (!todo.empty()) {
    const Nid nid = todo.front();
    todo.erase(todo.begin());
    auto folder = store.open_folder(nid);
    EXPECT_TRUE(folder.is_ok()) << hex(nid) << ": " << folder.status().message();
    if (!folder.is_ok()) continue;
    auto entry = store.db().find_node(nid);
    EXPECT_TRUE(entry.is_ok());
    auto children = folder->subfolders();
    EXPECT_TRUE(children.is_ok());
    FolderInfo info{nid, entry.is_ok() ? entry->parent_nid : 0, folder->name(), folder->content_count(),
                    folder->unread_count(), folder->has_subfolders(), children.is_ok() ? children->size() : 0};
    out.push_back(info);
    if (children.is_ok()) {
      for (const TableRow& row : *children) {
        // The hierarchy row repeats the child's own properties (MS-PST 2.4.4.3).
        auto child = store.open_folder(row.nid);
        EXPECT_TRUE(child.is_ok());
        if (child.is_ok()) {
          EXPECT_EQ(row.props.get_string(prop::kDisplayName), child->name());
        }
        todo.push_back(row.nid);
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const FolderInfo& a, const FolderInfo& b) { return a.nid < b.nid; });
  return out;
}

// Runs a command; returns its exit status (-1 when it could not run).
int run(const std::string& command) {
  const int rc = std::system((command + " >/dev/null 2>&1").c_str());
  return rc == -1 ? -1 : WEXITSTATUS(rc);
}

bool have_tool(const std::string& path) { return std::filesystem::exists(path); }

// ---------------------------------------------------------------------------
// The name-to-ID map

NamedProperty lid(const Guid& set, uint32_t id) {
  NamedProperty n;
  n.guid = set;
  n.lid = id;
  return n;
}

NamedProperty string_name(const Guid& set, const std::string& name) {
  NamedProperty n;
  n.guid = set;
  n.is_string = true;
  n.name = name;
  return n;
}

std::optional<ltp::PropertyContext> built_pc(const ltp::BuiltNode& built, ndb::FileFormat format) {
  std::map<Nid, std::vector<Bytes>> subnodes;
  for (const auto& [nid, sub] : built.subnodes) subnodes[nid] = sub.blocks;
  std::shared_ptr<const ndb::Node> node(ndb::make_memory_node(ndb::kNidNameToIdMap, built.blocks, subnodes));
  ltp::Options o;
  o.format = format;
  auto pc = ltp::PropertyContext::open(node, o);
  EXPECT_TRUE(pc.is_ok()) << pc.status().message();
  return pc.is_ok() ? std::optional(std::move(*pc)) : std::nullopt;
}

TEST(StoreTemplateNameMap, OutlooksInitialMapIsReproduced) {
  REQUIRE_CORPUS(kEmptyPst);
  auto reference = open_db(kCorpus + kEmptyPst);
  ASSERT_TRUE(reference);
  auto ref_pc = pc_of(*reference, ndb::kNidNameToIdMap);
  ASSERT_TRUE(ref_pc.has_value());
  auto map = NameMapBuilder::create(kUnicode);
  ASSERT_TRUE(map.is_ok());
  for (const NamedProperty& n : initial_named_properties()) ASSERT_TRUE(map->add(n).is_ok());
  EXPECT_EQ(map->size(), 35u);
  auto built = map->build();
  ASSERT_TRUE(built.is_ok()) << built.status().message();
  auto pc = built_pc(*built, kUnicode);
  ASSERT_TRUE(pc.has_value());
  // The same bucket count, GUID and entry streams, names and hash buckets.
  expect_same_name_maps(*pc, *ref_pc);
}

TEST(StoreTemplateNameMap, BucketsFollowTheSpecHash) {
  REQUIRE_CORPUS(kEmptyPst);
  auto reference = open_db(kCorpus + kEmptyPst);
  ASSERT_TRUE(reference);
  auto pc = pc_of(*reference, ndb::kNidNameToIdMap);
  ASSERT_TRUE(pc.has_value());
  auto entries = pc->get(0x0003);
  auto strings = pc->get(0x0004);
  ASSERT_TRUE(entries.is_ok() && strings.is_ok());
  // MS-PST 2.4.7.5: every entry is in bucket (id or CRC ^ wGuid) % 251, whose
  // record carries the CRC-32 of a string name instead of its offset.
  const ByteView ev(entries->data), sv(strings->data);
  for (size_t at = 0; at + 8 <= ev.size(); at += 8) {
    const uint32_t property_id = ev.u32(at);
    const uint16_t guid_field = ev.u16(at + 4);
    uint32_t hash = property_id;
    if (guid_field & 1) {
      const ByteView name = sv.sub(property_id + 4, sv.u32(property_id));
      hash = ndb::compute_crc(name.data(), name.size());
    }
    const uint32_t bucket = NameMapBuilder::bucket_of(hash, guid_field, 251);
    auto records = pc->get(uint16_t(0x1000 + bucket));
    ASSERT_TRUE(records.is_ok()) << "entry " << at / 8;
    Bytes record(8);
    store_le32(record.data(), hash);
    store_le32(record.data() + 4, load_le32(ev.data() + at + 4));
    bool found = false;
    for (size_t r = 0; r + 8 <= records->data.size(); r += 8) {
      found = found || std::equal(record.begin(), record.end(), records->data.begin() + long(r));
    }
    EXPECT_TRUE(found) << "entry " << at / 8;
  }
}

TEST(StoreTemplateNameMap, ExtendsAnExistingMapInPlace) {
  REQUIRE_CORPUS(kEmptyPst);
  auto reference = open_db(kCorpus + kEmptyPst);
  ASSERT_TRUE(reference);
  auto old_pc = pc_of(*reference, ndb::kNidNameToIdMap);
  ASSERT_TRUE(old_pc.has_value());
  auto map = NameMapBuilder::from_existing(*old_pc);
  ASSERT_TRUE(map.is_ok()) << map.status().message();
  EXPECT_EQ(map->size(), 35u);
  EXPECT_EQ(map->bucket_count(), 251u);
  const auto& initial = initial_named_properties();
  for (size_t i = 0; i < initial.size(); ++i) {
    EXPECT_EQ(map->find(initial[i]), std::optional<uint16_t>(uint16_t(0x8000 + i))) << i;
  }
  // Known names keep their ids; new ones follow (a new GUID is appended).
  EXPECT_EQ(*map->add(initial[7]), 0x8007);
  const Guid new_set = *Guid::parse("{6B1F7B66-3C2D-4B8E-9C2A-0123456789AB}");
  const std::vector<NamedProperty> added = {lid(property_sets::kPsetidAddress, 0x8005),
                                            string_name(property_sets::kPsPublicStrings, "pstkit-Tag"),
                                            string_name(new_set, "Größe"), lid(property_sets::kPsMapi, 0x0037)};
  for (size_t i = 0; i < added.size(); ++i) {
    auto id = map->add(added[i]);
    ASSERT_TRUE(id.is_ok()) << id.status().message();
    EXPECT_EQ(*id, 0x8023 + i);
  }
  EXPECT_EQ(*map->add(added[1]), 0x8024);
  EXPECT_EQ(map->size(), 39u);
  auto built = map->build();
  ASSERT_TRUE(built.is_ok()) << built.status().message();
  auto pc = built_pc(*built, kUnicode);
  ASSERT_TRUE(pc.has_value());

  // The streams grew at their ends; untouched buckets are unchanged.
  for (uint16_t id : {0x0002, 0x0003, 0x0004}) {
    auto before = old_pc->get(id);
    auto after = pc->get(id);
    ASSERT_TRUE(before.is_ok() && after.is_ok());
    ASSERT_GT(after->data.size(), before->data.size()) << hex(id);
    if (id != 0x0004) {
      EXPECT_TRUE(std::equal(before->data.begin(), before->data.end(), after->data.begin())) << hex(id);
    }
  }
  EXPECT_EQ(pc->get(0x0002)->data.size(), 16u * 8);  // PSETID_Address and the new set
  std::set<uint32_t> new_buckets;  // MS-PST 2.4.7.5, computed here independently
  for (size_t i = 0; i < added.size(); ++i) {
    const NamedProperty& n = added[i];
    const uint16_t guid_index = n.guid == property_sets::kPsMapi ? 1 : n.guid == property_sets::kPsPublicStrings ? 2
                                : n.guid == property_sets::kPsetidAddress ? 9 : 10;
    uint32_t hash = n.lid;
    if (n.is_string) {
      const Bytes utf16 = utf8_to_utf16le(n.name);
      hash = ndb::compute_crc(utf16.data(), utf16.size());
    }
    new_buckets.insert((hash ^ uint32_t(guid_index << 1 | (n.is_string ? 1 : 0))) % 251);
  }
  size_t changed = 0;
  for (uint16_t b = 0; b < 251; ++b) {
    auto before = old_pc->get(uint16_t(0x1000 + b));
    auto after = pc->get(uint16_t(0x1000 + b));
    if (!before.is_ok()) {
      changed += after.is_ok();
      EXPECT_EQ(after.is_ok(), new_buckets.count(b) == 1) << b;
      continue;
    }
    ASSERT_TRUE(after.is_ok());
    if (after->data != before->data) {
      ++changed;
      EXPECT_EQ(new_buckets.count(b), 1u) << b;
      EXPECT_TRUE(std::equal(before->data.begin(), before->data.end(), after->data.begin()));
    }
  }
  EXPECT_EQ(changed, new_buckets.size());

  // Reading it back: the messaging layer's map and a second builder agree.
  TempDir dir;
  auto db = ndb::WritableDatabase::create(dir.file("map.pst"), {});
  ASSERT_TRUE(db.is_ok());
  ASSERT_TRUE(put_built_node(**db, ndb::kNidNameToIdMap, 0, *built).is_ok());
  auto names = NameMap::load(**db);
  ASSERT_TRUE(names.is_ok()) << names.status().message();
  EXPECT_EQ(names->size(), 39u);
  for (size_t i = 0; i < added.size(); ++i) {
    const NamedProperty* n = names->find(uint16_t(0x8023 + i));
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n->guid, added[i].guid);
    EXPECT_EQ(n->is_string, added[i].is_string);
    EXPECT_EQ(n->name, added[i].name);
    EXPECT_EQ(n->lid, added[i].lid);
  }
  auto again = NameMapBuilder::from_existing(*pc);
  ASSERT_TRUE(again.is_ok());
  for (size_t i = 0; i < added.size(); ++i) EXPECT_EQ(again->find(added[i]), uint16_t(0x8023 + i));
}

// MS-PST 2.4.7.1 NAMEID records, decoded once for the reader (which skips a
// damaged entry) and the builder (which refuses to extend a damaged map).
TEST(StoreTemplateNameMap, DecodesNameIdsAndRefusesDamagedOnes) {
  using name_map_format::decode_nameid;
  const Guid set = *Guid::parse("{6B1F7B66-3C2D-4B8E-9C2A-0123456789AB}");
  Bytes guids(std::begin(set.bytes), std::end(set.bytes));
  Bytes strings = {6, 0, 0, 0, 'T', 0, 'a', 0, 'g', 0};
  auto nameid = [](uint32_t id, uint16_t guid_field, uint16_t index) {
    Bytes b(8);
    store_le32(b.data(), id);
    store_le16(b.data() + 4, guid_field);
    store_le16(b.data() + 6, index);
    return b;
  };
  Bytes entries;
  for (const Bytes& e : {nameid(0x8005, 1 << 1, 0),            // PS_MAPI, LID
                         nameid(0, (3 << 1) | 1, 1),            // first stream GUID, string at 0
                         nameid(0x1234, 4 << 1, 2),             // GUID index past the stream
                         nameid(4, (2 << 1) | 1, 3)}) {         // string past the string stream
    entries.insert(entries.end(), e.begin(), e.end());
  }
  uint16_t index = 0;
  auto a = decode_nameid(ByteView(entries), 0, ByteView(guids), ByteView(strings), &index);
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ(a->guid, property_sets::kPsMapi);
  EXPECT_FALSE(a->is_string);
  EXPECT_EQ(a->lid, 0x8005u);
  EXPECT_EQ(index, 0);
  auto b = decode_nameid(ByteView(entries), 8, ByteView(guids), ByteView(strings), &index);
  ASSERT_TRUE(b.is_ok());
  EXPECT_EQ(b->guid, set);
  EXPECT_TRUE(b->is_string);
  EXPECT_EQ(b->name, "Tag");
  EXPECT_EQ(index, 1);
  EXPECT_EQ(decode_nameid(ByteView(entries), 16, ByteView(guids), ByteView(strings), &index).status().code(),
            Code::kCorrupt);
  EXPECT_EQ(decode_nameid(ByteView(entries), 24, ByteView(guids), ByteView(strings), &index).status().code(),
            Code::kCorrupt);
  EXPECT_EQ(decode_nameid(ByteView(entries), 32, ByteView(guids), ByteView(strings), &index).status().code(),
            Code::kCorrupt);

  // The builder refuses to extend a map with a damaged entry.
  auto pc = ltp::PcBuilder::create(kUnicode);
  ASSERT_TRUE(pc.is_ok());
  ASSERT_TRUE(pc->set(ltp::make_tag(name_map_format::kStreamGuidId, ltp::kPtypBinary), ByteView(guids)).is_ok());
  ASSERT_TRUE(pc->set(ltp::make_tag(name_map_format::kStreamEntryId, ltp::kPtypBinary), ByteView(entries)).is_ok());
  ASSERT_TRUE(pc->set(ltp::make_tag(name_map_format::kStreamStringId, ltp::kPtypBinary), ByteView(strings)).is_ok());
  auto built = pc->build();
  ASSERT_TRUE(built.is_ok());
  auto read = ltp::PropertyContext::open(
      std::shared_ptr<const ndb::Node>(ndb::make_memory_node(ndb::kNidNameToIdMap, built->blocks)), {});
  ASSERT_TRUE(read.is_ok());
  auto map = NameMapBuilder::from_existing(*read);
  EXPECT_EQ(map.status().code(), Code::kCorrupt);
  EXPECT_NE(map.status().detail().find("entry 2: GUID index past the GUID stream"), std::string::npos)
      << map.status().message();
}

// A bigger map keeps its streams in subnodes (values over 3580 bytes); the
// rebuilt map reuses those it did not change.
TEST(StoreTemplateNameMap, ExtendsAMapWithStreamsInSubnodes) {
  REQUIRE_CORPUS("pstsdk/sample1.pst");
  auto source_db = open_db(kCorpus + "pstsdk/sample1.pst");
  ASSERT_TRUE(source_db);
  auto source = node_of(*source_db, ndb::kNidNameToIdMap);
  ASSERT_TRUE(source);
  auto old_pc = pc_of(*source_db, ndb::kNidNameToIdMap);
  ASSERT_TRUE(old_pc.has_value());
  auto map = NameMapBuilder::from_existing(*old_pc);
  ASSERT_TRUE(map.is_ok()) << map.status().message();
  const size_t before = map->size();
  EXPECT_GT(before, 100u);
  const NamedProperty extra = lid(property_sets::kPsetidCommon, 0x85FF);
  ASSERT_FALSE(map->find(extra).has_value());
  auto id = map->add(extra);
  ASSERT_TRUE(id.is_ok());
  EXPECT_EQ(*id, 0x8000 + before);
  auto built = map->build();
  ASSERT_TRUE(built.is_ok()) << built.status().message();
  EXPECT_FALSE(built->released_subnodes.empty());  // the entry stream grew into a new subnode

  std::map<Nid, std::vector<Bytes>> subnodes;
  for (const auto& [nid, sub] : built->subnodes) subnodes[nid] = sub.blocks;
  for (Nid nid : built->reused_subnodes) {
    auto sub = source->subnode(nid);
    ASSERT_TRUE(sub.is_ok());
    auto data = (*sub)->read_all();
    ASSERT_TRUE(data.is_ok());
    subnodes[nid] = {*data};
  }
  std::shared_ptr<const ndb::Node> node(ndb::make_memory_node(ndb::kNidNameToIdMap, built->blocks, subnodes));
  auto pc = ltp::PropertyContext::open(node, options_for(*source_db));
  ASSERT_TRUE(pc.is_ok()) << pc.status().message();
  auto again = NameMapBuilder::from_existing(*pc);
  ASSERT_TRUE(again.is_ok()) << again.status().message();
  EXPECT_EQ(again->size(), before + 1);
  EXPECT_EQ(again->find(extra), *id);
  // Every name the messaging layer knew keeps its id.
  auto names = NameMap::load(*source_db);
  ASSERT_TRUE(names.is_ok());
  for (const auto& [prop_id, name] : names->entries()) EXPECT_EQ(again->find(name), prop_id) << hex(prop_id);
}

TEST(StoreTemplateNameMap, EmptyMapAndLimits) {
  auto map = NameMapBuilder::create(kAnsi);
  ASSERT_TRUE(map.is_ok());
  EXPECT_FALSE(NameMapBuilder::create(kUnicode, 0).is_ok());
  auto built = map->build();
  ASSERT_TRUE(built.is_ok());
  auto pc = built_pc(*built, kAnsi);
  ASSERT_TRUE(pc.has_value());
  EXPECT_EQ(pc->get(0x0001)->as_i32().value(), 251);
  EXPECT_TRUE(pc->has(0x0002) && pc->has(0x0003) && pc->has(0x0004));
  EXPECT_EQ(pc->entries().size(), 4u);
  // A string name with no GUID (wGuid 0, MS-PST 2.4.7.1) is allowed.
  EXPECT_EQ(*map->add(string_name(Guid{}, "x")), 0x8000);
  EXPECT_FALSE(map->find(string_name(Guid{}, "X")).has_value());  // names are case-sensitive
}

// ---------------------------------------------------------------------------
// write_empty_store

// Given Outlook's per-store values, the store is Empty.pst node for node.
TEST(StoreTemplate, UnicodeStoreIsOutlooksEmptyStore) {
  REQUIRE_CORPUS(kEmptyPst);
  auto reference = open_db(kCorpus + kEmptyPst);
  ASSERT_TRUE(reference);
  const StoreIdentity identity = identity_of(*reference);
  TempDir dir;
  NewStoreOptions options;
  options.display_name = "Empty";
  make_store(dir.file("empty.pst"), options, &identity);
  auto made = open_db(dir.file("empty.pst"));
  ASSERT_TRUE(made);

  const auto made_nodes = nodes_of(*made);
  const auto ref_nodes = nodes_of(*reference);
  ASSERT_EQ(made_nodes.size(), 47u);
  ASSERT_EQ(ref_nodes.size(), 47u);
  for (const auto& [nid, ref] : ref_nodes) {
    SCOPED_TRACE("node " + hex(nid));
    auto it = made_nodes.find(nid);
    ASSERT_NE(it, made_nodes.end());
    EXPECT_EQ(it->second.parent_nid, ref.parent_nid);
    EXPECT_EQ(it->second.subnode_bid, 0u);
    if (nid == ndb::kNidNameToIdMap) {
      expect_same_name_maps(*pc_of(*made, nid), *pc_of(*reference, nid));
    } else {
      EXPECT_EQ(data_of(*made, nid), data_of(*reference, nid));
    }
  }
  // Template copies share their template's block as in Outlook's file, and
  // the header's NID counters agree.
  EXPECT_EQ(block_shapes(*made), block_shapes(*reference));
  for (int t = 0; t < 32; ++t) {
    EXPECT_EQ(made->header().nid_high_water[t], reference->header().nid_high_water[t]) << "rgnid[" << t << "]";
  }
}

// With fresh per-store values: the tree, the schema and the EntryIDs.
TEST(StoreTemplate, FreshUnicodeStore) {
  TempDir dir;
  NewStoreOptions options;
  options.display_name = "Archive 2024 — ü";
  options.ipm_subtree_name = "Top of Personal Folders";
  options.deleted_items_name = "Gelöschte Elemente";
  make_store(dir.file("fresh.pst"), options);
  auto store = Store::open(dir.file("fresh.pst"));
  ASSERT_TRUE(store.is_ok()) << store.status().message();
  const Store& s = **store;
  EXPECT_EQ(s.header().format, kUnicode);
  EXPECT_EQ(s.header().crypt, ndb::CryptMethod::kPermute);
  EXPECT_EQ(s.display_name(), options.display_name);
  EXPECT_EQ(s.ipm_subtree_nid(), store_nids::kIpmSubtree);
  EXPECT_EQ(s.deleted_items_nid(), store_nids::kDeletedItems);
  EXPECT_EQ(s.search_root_nid(), store_nids::kSearchRoot);
  EXPECT_FALSE(s.password_crc().has_value() && *s.password_crc() != 0);
  EXPECT_EQ(s.names().size(), 35u);

  // Every EntryID names its folder with this store's provider UID.
  const Bytes* key = s.properties().get_binary(prop::kRecordKey);
  ASSERT_NE(key, nullptr);
  ASSERT_EQ(key->size(), 16u);
  const Guid uid = Guid::from_bytes(key->data());
  EXPECT_FALSE(uid.is_null());
  EXPECT_EQ(key->at(7) >> 4, 4);  // a version 4 GUID
  for (auto [id, nid] : {std::pair{prop::kIpmSubtreeEntryId, store_nids::kIpmSubtree},
                         {prop::kIpmWastebasketEntryId, store_nids::kDeletedItems},
                         {uint16_t(0x35E6), store_nids::kCommonViews},
                         {prop::kFinderEntryId, store_nids::kSearchRoot}}) {
    const Bytes* entry_id = s.properties().get_binary(id);
    ASSERT_NE(entry_id, nullptr) << hex(id);
    EXPECT_EQ(*entry_id, make_entry_id(uid, nid));
  }

  const std::vector<FolderInfo> expected = {
      {ndb::kNidRootFolder, ndb::kNidRootFolder, "", 0, 0, true, 4},
      {store_nids::kSpamSearchFolder, ndb::kNidRootFolder, "SPAM Search Folder 2", 0, 0, false, 0},
      {store_nids::kIpmSubtree, ndb::kNidRootFolder, options.ipm_subtree_name, 0, 0, true, 1},
      {store_nids::kSearchRoot, ndb::kNidRootFolder, "Search Root", 0, 0, false, 0},
      {store_nids::kDeletedItems, store_nids::kIpmSubtree, options.deleted_items_name, 0, 0, false, 0},
      {store_nids::kCommonViews, ndb::kNidRootFolder, "IPM_COMMON_VIEWS", 0, 0, false, 0},
  };
  EXPECT_EQ(folder_tree(s), expected);

  // Two stores never share a provider UID.
  make_store(dir.file("other.pst"), options);
  auto other = Store::open(dir.file("other.pst"));
  ASSERT_TRUE(other.is_ok());
  EXPECT_NE(*(*other)->properties().get_binary(prop::kRecordKey), *key);

  if (corpus_has(kEmptyPst)) {
    auto reference = open_db(kCorpus + kEmptyPst);
    ASSERT_TRUE(reference);
    expect_same_schema(s.db(), *reference, false);
  }
}

// ANSI: the same nodes, with every text property and column PtypString8.
TEST(StoreTemplate, FreshAnsiStore) {
  TempDir dir;
  NewStoreOptions options;
  options.format = kAnsi;
  options.display_name = "Café";
  make_store(dir.file("ansi.pst"), options);
  auto store = Store::open(dir.file("ansi.pst"));
  ASSERT_TRUE(store.is_ok()) << store.status().message();
  const Store& s = **store;
  EXPECT_EQ(s.header().format, kAnsi);
  EXPECT_EQ(s.display_name(), "Café");
  EXPECT_EQ(s.names().size(), 35u);
  const std::vector<FolderInfo> expected = {
      {ndb::kNidRootFolder, ndb::kNidRootFolder, "", 0, 0, true, 4},
      {store_nids::kSpamSearchFolder, ndb::kNidRootFolder, "SPAM Search Folder 2", 0, 0, false, 0},
      {store_nids::kIpmSubtree, ndb::kNidRootFolder, "Top of Outlook data file", 0, 0, true, 1},
      {store_nids::kSearchRoot, ndb::kNidRootFolder, "Search Root", 0, 0, false, 0},
      {store_nids::kDeletedItems, store_nids::kIpmSubtree, "Deleted Items", 0, 0, false, 0},
      {store_nids::kCommonViews, ndb::kNidRootFolder, "IPM_COMMON_VIEWS", 0, 0, false, 0},
  };
  EXPECT_EQ(folder_tree(s), expected);
  // No PtypString anywhere.
  for (const auto& [nid, entry] : nodes_of(s.db())) {
    if (auto pc = pc_of(s.db(), nid)) {
      for (PropTag t : pc->tags()) EXPECT_NE(ltp::base_type(ltp::tag_type(t)), ltp::kPtypString) << hex(nid);
    } else if (auto tc = tc_of(s.db(), nid)) {
      for (const auto& c : tc->columns()) {
        EXPECT_NE(ltp::base_type(ltp::tag_type(c.tag)), ltp::kPtypString) << hex(nid);
      }
    }
  }
  if (corpus_has(kEmptyPst)) {
    auto reference = open_db(kCorpus + kEmptyPst);
    ASSERT_TRUE(reference);
    expect_same_schema(s.db(), *reference, true);
  }
  // Outlook's ANSI templates, byte for byte.
  if (corpus_has("pstsdk/sample2.pst")) {
    auto sample = open_db(kCorpus + "pstsdk/sample2.pst");
    ASSERT_TRUE(sample);
    for (Nid nid : {ndb::kNidHierarchyTableTemplate, ndb::kNidContentsTableTemplate,
                    ndb::kNidAssocContentsTableTemplate, ndb::kNidSearchContentsTableTemplate,
                    kNidReceiveFolderTable, ndb::kNidAttachmentTableTemplate, ndb::kNidRecipientTableTemplate,
                    kNidChangeHistoryTable, Nid{0xC01}}) {
      EXPECT_EQ(data_of(s.db(), nid), data_of(*sample, nid)) << hex(nid);
    }
  }
}

TEST(StoreTemplate, StructuralCheckIsClean) {
  TempDir dir;
  for (auto format : {kUnicode, kAnsi}) {
    for (auto crypt : {ndb::CryptMethod::kNone, ndb::CryptMethod::kPermute, ndb::CryptMethod::kCyclic}) {
      SCOPED_TRACE(std::string(ndb::format_name(format)) + " " + ndb::crypt_name(crypt));
      NewStoreOptions options;
      options.format = format;
      options.crypt = crypt;
      const std::string path = dir.file(std::string("c") + ndb::format_name(format) + ndb::crypt_name(crypt) + ".pst");
      make_store(path, options);
      auto report = check::check_file(path);
      ASSERT_TRUE(report.is_ok()) << report.status().message();
      for (const auto& f : report->findings) ADD_FAILURE() << f.code << ": " << f.message;
      EXPECT_EQ(report->errors, 0u);
      EXPECT_EQ(report->warnings, 0u);
      EXPECT_EQ(report->counters.nodes, 47u);
    }
  }
}

// libpff (pffinfo, pypff) and libpst (readpst) read both formats.
TEST(StoreTemplate, OtherReadersAcceptIt) {
  const bool have_pff = have_tool("/usr/bin/pffinfo");
  const bool have_pypff = run("/usr/bin/python3 -c 'import pypff'") == 0;
  const bool have_readpst = have_tool("/usr/bin/readpst");
  if (!(have_pff && have_pypff && have_readpst)) {
    if (in_ci()) FAIL() << "pff-tools, python3-pypff and pst-utils are needed";
    GTEST_SKIP() << "pff-tools, python3-pypff or pst-utils missing";
  }
  TempDir dir;
  for (auto format : {kUnicode, kAnsi}) {
    SCOPED_TRACE(ndb::format_name(format));
    NewStoreOptions options;
    options.format = format;
    const std::string path = dir.file(std::string("r") + ndb::format_name(format) + ".pst");
    make_store(path, options);
    EXPECT_EQ(run("/usr/bin/pffinfo '" + path + "'"), 0);
    // pypff walks the folder tree and finds the four folders below the root.
    const std::string script = dir.file("walk.py");
    {
      std::ofstream py(script);
      py << "import sys, pypff\n"
            "f = pypff.file()\n"
            "f.open(sys.argv[1])\n"
            "names = []\n"
            "def walk(folder):\n"
            "    for i in range(folder.number_of_sub_folders):\n"
            "        sub = folder.get_sub_folder(i)\n"
            "        names.append(sub.name)\n"
            "        walk(sub)\n"
            "walk(f.get_root_folder())\n"
            "want = {'Top of Outlook data file', 'Deleted Items', 'Search Root', 'SPAM Search Folder 2',\n"
            "        'IPM_COMMON_VIEWS'}\n"
            "sys.exit(0 if set(names) == want else 1)\n";
    }
    EXPECT_EQ(run("/usr/bin/python3 '" + script + "' '" + path + "'"), 0);
    const std::string out = dir.file(std::string("out-") + ndb::format_name(format));
    std::filesystem::create_directories(out);
    EXPECT_EQ(run("/usr/bin/readpst -j 0 -D -o '" + out + "' '" + path + "'"), 0);
  }
}

TEST(StoreTemplate, RefusesDatabasesThatAreNotNew) {
  TempDir dir;
  NewStoreOptions options;
  {
    auto db = ndb::WritableDatabase::create(dir.file("twice.pst"), {});
    ASSERT_TRUE(db.is_ok());
    ASSERT_TRUE(write_empty_store(**db, options).is_ok());
    EXPECT_EQ(write_empty_store(**db, options).code(), Code::kInvalidArgument);
  }
  {
    ndb::CreateOptions ansi;
    ansi.format = kAnsi;
    auto db = ndb::WritableDatabase::create(dir.file("mismatch.pst"), ansi);
    ASSERT_TRUE(db.is_ok());
    EXPECT_EQ(write_empty_store(**db, options).code(), Code::kInvalidArgument);
    EXPECT_TRUE(nodes_of(**db).empty());
  }
}

TEST(StoreTemplate, TextAndTagHelpers) {
  EXPECT_EQ(tag_for_format(0x3001001F, kAnsi), 0x3001001Eu);
  EXPECT_EQ(tag_for_format(0x8013101F, kAnsi), 0x8013101Eu);
  EXPECT_EQ(tag_for_format(0x3001001F, kUnicode), 0x3001001Fu);
  EXPECT_EQ(tag_for_format(0x0E340102, kAnsi), 0x0E340102u);
  EXPECT_EQ(string_type(kAnsi), ltp::kPtypString8);
  EXPECT_EQ(encode_text("É", kAnsi), Bytes{0xC9});
  EXPECT_EQ(encode_text("É", kUnicode), (Bytes{0xC9, 0x00}));
  Guid uid = *Guid::parse("{00112233-4455-6677-8899-AABBCCDDEEFF}");
  const Bytes id = make_entry_id(uid, 0x8022);
  ASSERT_EQ(id.size(), 24u);
  EXPECT_EQ(load_le32(id.data()), 0u);
  EXPECT_TRUE(std::equal(uid.bytes, uid.bytes + 16, id.begin() + 4));
  EXPECT_EQ(load_le32(id.data() + 20), 0x8022u);
  const StoreIdentity a = StoreIdentity::fresh();
  const StoreIdentity b = StoreIdentity::fresh();
  EXPECT_NE(a.record_key, b.record_key);
  EXPECT_GT(a.created, 133000000000000000ull);  // after 2022
}

}  // namespace
}  // namespace pstkit
