// StoreWriter's state: the writable database, a Store view over it, and the
// folder edits (PCs, and table edits made in place) staged in memory until
// they are flushed.
#pragma once

#include <map>
#include <memory>
#include <optional>

#include "pstkit/ltp_builder.h"
#include "pstkit/ltp_editor.h"
#include "messaging/name_map_builder.h"
#include "messaging/search_updates.h"
#include "pstkit/store_writer.h"

namespace pstkit {

// Text in the file's native string type: PtypString (UTF-16LE) in Unicode
// files, PtypString8 (Windows-1252) in ANSI ones; *type receives which.
Bytes encode_text(ndb::FileFormat format, const std::string& utf8, uint16_t* type);

// A folder's staged changes. Each part is loaded from the file on first use.
struct FolderEdit {
  Nid parent = 0;
  std::optional<ltp::PcBuilder> pc;
  // Tables are edited in place (memory follows the rows changed, not the
  // folder's size).
  std::optional<ltp::TableEditor> hierarchy;
  std::optional<ltp::TableEditor> contents;
  std::optional<ltp::TableEditor> associated;
};

struct StoreWriter::Impl {
  std::unique_ptr<ndb::WritableDatabase> db;
  std::unique_ptr<Store> view;
  ndb::FileFormat format = ndb::FileFormat::kUnicode;
  std::map<Nid, FolderEdit> folders;
  // Column sets of new tables, from the file's templates (MS-PST 2.4.4.4,
  // 2.4.4.5, 2.4.5.2, 2.4.6.1).
  std::vector<ltp::PropTag> hierarchy_columns, contents_columns, associated_columns, attachment_columns,
      recipient_columns;
  uint32_t row_version = 1;
  // Code page of the message being built (ANSI files encode text in it).
  uint32_t text_codepage = 1252;
  // ANSI files: the code page the store's strings are read with (recorded
  // or inferred, Store::codepage); folder names and messages that name no
  // code page are written in it, so that they read back as written.
  uint32_t store_codepage = 1252;
  // A folder's text in the file's native string type, *type receives which.
  Bytes encode_folder_text(const std::string& utf8, uint16_t* type) const;
  // SUDs of this transaction's changes, appended to the SMQ by flush().
  SearchUpdates search;

  Status init();
  Status load_templates();

  // Shared writing (StoreWriter::set_release_when_idle): the writer lock is
  // given up while nothing is staged.
  bool release_when_idle = false;
  // Before a change: takes the writer lock again if it was given up, and
  // forgets what was read from an older state when another writer committed.
  Status begin_change();
  // What was read from the file before is stale: reload the view.
  Status forget_stale_state();

  // Staged folder parts.
  Result<FolderEdit*> edit(Nid folder);
  Result<ltp::PcBuilder*> folder_pc(Nid folder);
  Result<ltp::TableEditor*> folder_table(Nid folder, uint8_t nid_type);
  // Writes an empty table of this type for folder (new folders, search
  // folders without one).
  Status put_empty_table(Nid folder, uint8_t nid_type);
  // Writes every staged folder change to the database.
  Status flush();

  // Updates the folder's row in its parent's hierarchy table from its PC.
  Status sync_hierarchy_row(Nid folder);
  // The staged PC's properties, read back through a PC reader.
  Result<std::vector<PropValue>> staged_folder_props(Nid folder);
  // Row cells for columns, taken from props (same id; 8- and 16-bit string
  // types are interchangeable).
  static std::vector<PropValue> row_cells(const std::vector<ltp::TableContext::Column>& columns,
                                          const std::vector<PropValue>& props);

  Result<ltp::BuiltNode> build_attachment(const NewAttachment& a, uint32_t index, std::vector<PropValue>* props,
                                          int depth);
  // The id of a named property, registering it (MS-PST 2.4.7) if new.
  Result<uint16_t> named_id(const NamedProperty& name);
  std::unique_ptr<class NameMapBuilder> names;  // loaded by named_id
  bool names_dirty = false;
  Status flush_names();
  Result<std::vector<PropValue>> message_props(Nid message);
  Status add_contents_row(Nid folder, Nid message, bool associated, const std::vector<PropValue>& props);
  Status adjust_counts(Nid folder, int32_t count_delta, int32_t unread_delta);
  Result<std::vector<ndb::SubnodeEntry>> subnodes_of(Nid nid);
};

}  // namespace pstkit
