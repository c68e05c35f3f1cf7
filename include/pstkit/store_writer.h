// Messaging-layer writes ([MS-PST] 2.4, 2.6.3): create a store; create,
// rename, move and delete folders; create, modify, copy, move and delete
// messages with recipients and attachments. Every change is staged in the
// underlying WritableDatabase and becomes durable atomically at commit().
//
// Everything Outlook keeps consistent is kept consistent here: hierarchy,
// contents and associated-contents tables and their rows, PidTagContentCount,
// PidTagContentUnreadCount, PidTagSubfolders, PidTagMessageSize, parent
// links, reference counts and the allocation maps; and every folder and
// message change queues its search update descriptor (SUD) to the search
// management queue, as [MS-PST] 2.6.3 requires (src/messaging/search_updates.h).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pstkit/messaging.h"
#include "pstkit/ndb_writer.h"

namespace pstkit {

struct NewStoreOptions {
  ndb::FileFormat format = ndb::FileFormat::kUnicode;
  ndb::CryptMethod crypt = ndb::CryptMethod::kPermute;
  std::string display_name = "Personal Folders";
  // PidTagDisplayName of the IPM subtree, as Outlook names it.
  std::string ipm_subtree_name = "Top of Outlook data file";
  std::string deleted_items_name = "Deleted Items";
};

// Creates, in an empty WritableDatabase, the nodes of an empty store the way
// Outlook does: message store, name-to-ID map, root folder, IPM subtree,
// Deleted Items, search root and spam search folder, the table templates and
// the search-related internal nodes (src/messaging/store_template.cpp).
Status write_empty_store(ndb::WritableDatabase& db, const NewStoreOptions& options);

// A property to set: its tag and value in PropValue encoding. For named
// properties (id >= 0x8000 not yet mapped), use NamedValue.
struct NamedValue {
  NamedProperty name;
  uint16_t type = 0;
  Bytes data;
};

// Content of a new attachment.
struct NewAttachment {
  std::vector<PropValue> properties;  // PidTagAttachMethod, names, MIME tag, content id...
  std::vector<NamedValue> named;
  Bytes data;                         // PidTagAttachDataBinary (by value)
  // An embedded message (PidTagAttachMethod 5) instead of data.
  std::shared_ptr<struct NewMessage> embedded;
};

// Content of a new message.
struct NewMessage {
  std::vector<PropValue> properties;  // PidTagMessageClass, PidTagSubject, bodies, dates...
  std::vector<NamedValue> named;
  std::vector<std::vector<PropValue>> recipients;  // one property list per recipient row
  std::vector<NewAttachment> attachments;
  bool associated = false;            // an FAI message (associated contents table)
};

class StoreWriter {
 public:
  // Creates a new PST file holding an empty store.
  static Result<std::unique_ptr<StoreWriter>> create(const std::string& path, const NewStoreOptions& options,
                                                     const ndb::WriterOptions& writer = {});
  // Opens an existing store for writing (recovering an interrupted commit).
  static Result<std::unique_ptr<StoreWriter>> open(const std::string& path, const ndb::WriterOptions& writer = {});
  ~StoreWriter();

  // The store as it is now, uncommitted changes included. Each call flushes
  // staged changes and reloads the view, so references into an earlier
  // call's result (names().entries()...) do not survive the next call.
  const Store& store() const;
  // The store for reading items — messages with their recipients and
  // attachments — and the store's code page, as they are now. Unlike
  // store(), it writes nothing first: items are written when they are
  // created or changed, while folder edits (PCs, tables, the search queue)
  // stay staged until commit. Reading a message back after each save of a
  // batch thus costs no table writes (each store() call writes every staged
  // table anew). Folders, tables and the name map read through it are as of
  // the last store() or commit: read those through store().
  const Store& item_store() const;
  ndb::WritableDatabase& db();

  // NID of the IPM subtree ("Top of Outlook data file").
  Nid ipm_subtree() const;
  // Finds a folder by path of display names below the IPM subtree.
  Result<Nid> find_folder(const std::vector<std::string>& path) const;

  Result<Nid> create_folder(Nid parent, const std::string& name, const std::string& container_class = "IPF.Note");
  Status rename_folder(Nid folder, const std::string& name);
  Status move_folder(Nid folder, Nid new_parent);
  // Deletes a folder with everything in it.
  Status delete_folder(Nid folder);
  // Sets or replaces properties of a folder (strings converted to the
  // file's string type); its row in the parent's hierarchy table follows.
  // PidTagDisplayName through here is a rename. The counts and
  // PidTagSubfolders the writer maintains are refused (kInvalidArgument).
  Status set_folder_properties(Nid folder, const std::vector<PropValue>& properties);
  Status remove_folder_properties(Nid folder, const std::vector<uint16_t>& prop_ids);

  Result<Nid> create_message(Nid folder, const NewMessage& message);
  // Sets or replaces properties of a message (named ones registered).
  Status set_message_properties(Nid message, const std::vector<PropValue>& properties,
                                const std::vector<NamedValue>& named = {});
  Status remove_message_properties(Nid message, const std::vector<uint16_t>& prop_ids);
  // Replaces a message's recipient table with these rows (one property list
  // per recipient; PidTagRowid is renumbered 0..n-1).
  Status replace_recipients(Nid message, const std::vector<std::vector<PropValue>>& recipients);
  Result<Nid> add_attachment(Nid message, const NewAttachment& attachment);
  Status delete_attachment(Nid message, Nid attachment);
  Result<Nid> copy_message(Nid message, Nid to_folder);
  Status move_message(Nid message, Nid to_folder);
  Status delete_message(Nid message);

  // The id (>= 0x8000) of a named property, registering it in the map.
  Result<uint16_t> named_property_id(const NamedProperty& name);

  bool has_changes() const;
  Status commit();
  Status rollback();
  // Between transactions of a long job (an import's batches): lets writers
  // waiting for the file commit, then continues from the file as they left
  // it (ndb::WritableDatabase::yield_to_other_writers). Ids of folders and
  // messages stay valid unless another writer deleted them.
  Status let_other_writers_commit();

  // Writers sharing the file (several processes' MAPI stores, docs/MAPI.md
  // "Shared stores"): with release_when_idle on, the writer lock is held
  // only from the first change to its commit or rollback; the first change
  // after takes it again (bounded wait: a kBusy error) and continues from
  // the file as other writers left it. Turning it off takes the lock again.
  Status set_release_when_idle(bool on);
  // Before a change made through db() directly (a node StoreWriter has no
  // method for): takes the writer lock again when it was given up while
  // idle, continuing from the file as other writers left it.
  Status begin_raw_change();
  // Gives the writer lock up if release_when_idle is on and nothing is staged.
  Status release_lock_if_idle();
  bool holds_writer_lock() const;
  // Without the writer lock: reloads the store if another writer committed
  // since it was read (one read of the header when nothing changed). Returns
  // whether it reloaded. Without effect while the lock is held.
  Result<bool> catch_up();

  struct Impl;

 private:
  explicit StoreWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pstkit
