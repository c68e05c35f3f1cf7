// fix_store's state (src/repair/fix_store.cpp, fix_messages.cpp).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pstkit/guid.h"
#include "pstkit/ltp.h"
#include "pstkit/ltp_builder.h"
#include "pstkit/messaging.h"
#include "pstkit/ndb_writer.h"
#include "pstkit/repair.h"
#include "util/spill_array.h"

namespace pstkit::repair {

// Little-endian property values and the current time as a FILETIME, for the
// properties repair sets (shared by fix_store.cpp and fix_messages.cpp).
inline Bytes le32(uint32_t v) {
  Bytes b(4);
  store_le32(b.data(), v);
  return b;
}
inline Bytes le64(uint64_t v) {
  Bytes b(8);
  store_le64(b.data(), v);
  return b;
}
inline uint64_t filetime_now() {
  using namespace std::chrono;
  const auto since_unix = duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count() / 100;
  return uint64_t(since_unix) + 116444736000000000ull;  // 100 ns ticks since 1601
}

class MemoryEnv;

// The store's folders and messages: NID -> nidParent, in NID order. One
// entry a message, so the objects read from the NBT are kept in a
// SpillArray (memory within its budget, whatever the file's size: issue
// 8); the few objects repair adds (folders it creates) in a map beside it.
class ObjectIndex {
 public:
  using Nid = ndb::Nid;
  struct Object {
    Nid nid = 0;
    Nid parent = 0;
  };

  void clear();
  // An object as the NBT lists it (each NID once), then finish_loading().
  void load(Nid nid, Nid parent);
  void finish_loading();
  size_t count(Nid nid) const { return parent_of(nid) ? 1 : 0; }
  std::optional<Nid> parent_of(Nid nid) const;
  // Sets the parent of nid, adding it when absent.
  void set(Nid nid, Nid parent);
  void erase(Nid nid);
  // The first error of the temporary file the entries spilled to, or ok.
  const Status& status() const { return loaded_.status(); }

  // Iteration in NID order with std::map's guarantees under change: the
  // parent read is the current one, objects added after the current NID
  // are visited, erased ones are not.
  class Iter {
   public:
    std::pair<Nid, Nid> operator*() const { return current_; }
    Iter& operator++() {
      advance(true);
      return *this;
    }
    bool operator==(const Iter& o) const { return done_ == o.done_; }

   private:
    friend class ObjectIndex;
    explicit Iter(const ObjectIndex* index) : index_(index) { advance(false); }
    Iter() = default;
    void advance(bool past_current);

    const ObjectIndex* index_ = nullptr;
    size_t next_loaded_ = 0;
    std::pair<Nid, Nid> current_{};
    bool done_ = true;
  };
  Iter begin() const { return Iter(this); }
  Iter end() const { return Iter(); }

 private:
  struct Loaded {
    Nid nid = 0;
    Nid parent = 0;
    bool erased = false;
  };
  // Index of nid's entry in loaded_, or SIZE_MAX.
  size_t find_loaded(Nid nid) const;

  SpillArray<Loaded> loaded_;  // sorted by nid
  std::map<Nid, Nid> added_;   // NIDs not in loaded_
};

// scanpst's name for the folder of items that belong nowhere.
inline constexpr const char* kLostAndFoundName = "Lost and Found";
// Where deleted items brought back go (issue 8, `--deleted`).
inline constexpr const char* kRecoveredDeletedName = "Recovered Deleted Items";

class StoreFixer {
 public:
  StoreFixer(ndb::WritableDatabase& db, const RebuildOptions& options, RebuildReport* report);
  ~StoreFixer();
  Status run();

 private:
  using Nid = ndb::Nid;

  void note(const char* code, const std::string& structure, uint64_t id, const std::string& action);
  Result<ltp::PropertyContext> open_pc(Nid nid) const;
  std::vector<PropValue> readable_props(Nid nid) const;
  bool exists(Nid nid) const;
  // Rewrites a PC with edit applied; the node's other subnodes stay.
  Status rewrite_pc(Nid nid, const std::function<Status(ltp::PcBuilder&)>& edit);
  Status set_parent(Nid nid, Nid parent);
  Bytes text(const std::string& utf8, uint16_t* type) const;
  Status put_folder_pc(Nid nid, Nid parent, const std::string& name);
  // A new folder at nid (PC as StoreWriter::create_folder makes it; empty
  // tables where it has none).
  Status create_folder(Nid nid, Nid parent, const std::string& name);

  Result<const ndb::Database*> template_store(const std::optional<Guid>& record_key);
  Status copy_from_template(const ndb::Database& tmpl, Nid nid);
  std::string required_defect(Nid nid) const;
  std::optional<Nid> store_entry_nid(uint16_t prop_id) const;
  Status set_store_entry_id(uint16_t prop_id, Nid nid);
  std::optional<Guid> record_key() const;
  Status ensure_required();
  Status load_columns();
  // A normal folder with one of these display names (below parent when
  // given); the one with the most subfolders.
  std::optional<Nid> folder_named(const std::vector<std::string>& names, std::optional<Nid> parent) const;
  const std::vector<ltp::PropTag>& columns_for(uint8_t table_type) const;

  Status take_inventory();
  Status fix_object_pcs();
  // Rewrites a PC whose BTH is invalid or whose values do not all read;
  // true when values were lost.
  Result<bool> mend_pc(Nid nid, Nid parent, const ltp::PropertyContext& pc, const char* structure);
  Status rebuild_pc(Nid nid, Nid parent, const ltp::PropertyContext& pc, const std::vector<PropValue>& values);

  Result<Nid> lost_and_found();
  Status move_to_lost_and_found(Nid nid, const std::string& why);
  Status fix_hierarchy();
  // A lost folder's name as a surviving hierarchy table row gives it.
  std::optional<std::string> listed_name(Nid folder) const;
  Status recover_deleted();

  // fix_name_map.cpp
  std::string name_map_defect() const;
  int32_t highest_named_index() const;
  Status fix_name_map();
  // fix_search.cpp
  Status fix_search_queue();
  Status fix_search_folder(Nid folder);
  // fix_messages.cpp
  Status fix_messages(const std::vector<Nid>& kids);
  Status fix_message(Nid nid);
  Status fix_counts(Nid folder, const std::vector<Nid>& kids);
  // expected: the NIDs the table must list, ascending, each once.
  Status fix_table(Nid folder, uint8_t type, const std::vector<Nid>& expected);
  Status commit_if_large();

  // Changes staged before fix_store commits between folders.
  static constexpr uint64_t kChangesPerCommit = 4096;
  uint64_t staged_changes_ = 0;

  ndb::WritableDatabase& db_;
  const RebuildOptions& options_;
  RebuildReport* report_;
  ndb::FileFormat format_ = ndb::FileFormat::kUnicode;
  ltp::Options ltp_options_;
  std::unique_ptr<MemoryEnv> template_env_;
  std::unique_ptr<ndb::WritableDatabase> template_db_;
  std::vector<ltp::PropTag> hierarchy_columns_, contents_columns_, associated_columns_, attachment_columns_,
      recipient_columns_;
  // Folders and messages: NID -> nidParent (message contents are read one
  // at a time).
  ObjectIndex objects_;
  // Objects whose properties changed: their table rows are rewritten.
  std::set<Nid> changed_objects_;
  Nid ipm_ = 0;
  Nid lost_and_found_ = 0;
};

}  // namespace pstkit::repair
