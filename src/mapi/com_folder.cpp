// IMAPIFolder over a PST folder (imapifolder*.md, imapicontainer*.md), and
// OpenEntry, shared with IMsgStore. Folders are not transacted: SetProps,
// CreateFolder, CopyMessages ... are written through StoreWriter and
// committed before the call returns; SaveChanges does nothing.
#include <algorithm>
#include <cctype>
#include <atomic>
#include <cstring>
#include <new>

#include "mapi/com_prop.h"
#include "mapi/com_table.h"
#include "mapi/open_stores.h"
#include "pstkit/codepage.h"
#include "pstkit/mapi_folder_table.h"

namespace pstkit::mapi::capi {
namespace {

constexpr uint16_t kPrFolderType = 0x3601;
constexpr uint16_t kPrAccessLevel = 0x0FF7;
constexpr uint16_t kPrComment = 0x3004;
constexpr uint16_t kPrMsgStatus = 0x0E17;
constexpr PropTag kPrMessageFlagsTag = prop_tag(0x0E07, kPtLong);

// A PstTableSource that keeps its store alive, reads under the store's lock
// and opens the table again after a commit (a table opened before a write
// would otherwise read blocks the write released). Row ids are NIDs, which
// commits do not change, so a cursor's rows stay valid. `subtree`: the
// CONVENIENT_DEPTH hierarchy table (open_hierarchy_subtree).
class StoreTableSource final : public RowSource {
 public:
  StoreTableSource(std::shared_ptr<StoreState> state, Nid owner, PstTableKind kind, bool subtree)
      : state_(std::move(state)), owner_(owner), kind_(kind), subtree_(subtree) {}

  Status open() {
    if (std::string why; FAILED(state_->refused(&why))) return Status::busy(why);
    if (subtree_) {
      PSTKIT_ASSIGN_OR_RETURN(source_, open_hierarchy_subtree(state_->store(), owner_));
    } else {
      PSTKIT_ASSIGN_OR_RETURN(auto source, PstTableSource::open(state_->store(), owner_, kind_));
      source_ = std::move(source);
    }
    generation_ = state_->generation;
    return Status::ok();
  }
  uint64_t row_count_hint() const override {
    std::lock_guard lock(state_->mutex);
    return source_->row_count_hint();
  }
  std::vector<PropTag> default_columns() const override {
    std::lock_guard lock(state_->mutex);
    return source_->default_columns();
  }
  std::vector<PropTag> available_columns() const override {
    std::lock_guard lock(state_->mutex);
    return source_->available_columns();
  }
  Status scan(std::span<const PropTag> columns,
              const std::function<Status(RowId, std::span<const PropValue>)>& visit) override {
    std::lock_guard lock(state_->mutex);
    if (std::string why; FAILED(state_->refused(&why))) return Status::busy(why);
    PSTKIT_RETURN_IF_ERROR(current());
    return source_->scan(columns, visit);
  }
  Result<std::vector<std::vector<PropValue>>> read_rows(std::span<const RowId> rows,
                                                        std::span<const PropTag> columns) override {
    std::lock_guard lock(state_->mutex);
    if (std::string why; FAILED(state_->refused(&why))) return Status::busy(why);
    PSTKIT_RETURN_IF_ERROR(current());
    return source_->read_rows(rows, columns);
  }
  Status for_each_sub_row(RowId row, PropTag subobject, std::span<const PropTag> columns,
                          const SubRowVisitor& visit) override {
    std::lock_guard lock(state_->mutex);
    PSTKIT_RETURN_IF_ERROR(current());
    return source_->for_each_sub_row(row, subobject, columns, visit);
  }

  // Follows the store's changes for the table over this source: the rows
  // an object notification concerns (imapitable-advise.md). Kept alive by
  // the source; the store holds it weakly.
  class Follower final : public StoreState::TableWatcher {
   public:
    Follower(StoreState& state, Nid owner, PstTableKind kind, bool subtree, std::shared_ptr<TableUpdates> updates)
        : state_(state), owner_(owner), kind_(kind), subtree_(subtree), updates_(std::move(updates)) {}
    void on_change(const StoreState::ObjectChange& c) override { on_changes({&c, 1}); }
    // Several changes (another process's commit): one re-read of the view.
    void on_changes(std::span<const StoreState::ObjectChange> changes) override {
      std::vector<RowId> rows;
      for (const auto& c : changes) collect(c, rows);
      if (!rows.empty()) updates_->rows_changed(rows);
    }
    bool advised() const override { return updates_->advised(); }

   private:
    // The rows of this table change `c` concerns.
    void collect(const StoreState::ObjectChange& c, std::vector<RowId>& rows) const {
      auto add = [&](Nid n) {
        if (n != 0 && std::find(rows.begin(), rows.end(), n) == rows.end()) rows.push_back(n);
      };
      const bool moved = c.event == fnevObjectMoved;
      const Nid moved_from = c.old_nid != 0 ? c.old_nid : c.nid;
      if (kind_ == PstTableKind::kContents || kind_ == PstTableKind::kAssociatedContents) {
        if (c.object_type != MAPI_MESSAGE) return;
        const bool associated = ndb::nid_type(c.nid) == ndb::kNidTypeAssocMessage;
        if (associated != (kind_ == PstTableKind::kAssociatedContents)) return;
        if (c.parent == owner_) add(c.nid);
        if (moved && c.old_parent == owner_) add(moved_from);
      } else if (c.object_type == MAPI_FOLDER) {
        // The folder's row, and its parent's (PR_SUBFOLDERS may change).
        if (holds(c.parent)) add(c.nid);
        if (moved && holds(c.old_parent)) add(moved_from);
        if (c.parent != owner_ && holds(state_.parent_of(c.parent))) add(c.parent);
        if (moved && c.old_parent != owner_ && holds(state_.parent_of(c.old_parent))) add(c.old_parent);
      } else if (c.object_type == MAPI_MESSAGE) {
        // A folder's counts (PR_CONTENT_COUNT, PR_CONTENT_UNREAD) changed.
        if (c.parent != owner_ && holds(state_.parent_of(c.parent))) add(c.parent);
        if (moved && c.old_parent != owner_ && holds(state_.parent_of(c.old_parent))) add(c.old_parent);
      }
    }
    // Whether `folder`'s subfolders are rows of this hierarchy table.
    bool holds(Nid folder) const {
      if (folder == 0) return false;
      if (!subtree_) return folder == owner_;
      for (int depth = 0; depth < kMaxHierarchyDepth; ++depth) {
        if (folder == owner_) return true;
        const Nid up = state_.parent_of(folder);
        if (up == 0 || up == folder) return false;
        folder = up;
      }
      return false;
    }
    StoreState& state_;
    Nid owner_;
    PstTableKind kind_;
    bool subtree_;
    std::shared_ptr<TableUpdates> updates_;
  };
  void follow(std::shared_ptr<TableUpdates> updates) {
    follower_ = std::make_shared<Follower>(*state_, owner_, kind_, subtree_, std::move(updates));
    state_->table_watchers.push_back(follower_);
  }

 private:
  Status current() { return generation_ == state_->generation ? Status::ok() : open(); }
  std::shared_ptr<StoreState> state_;
  Nid owner_;
  PstTableKind kind_;
  bool subtree_;
  std::unique_ptr<RowSource> source_;
  uint64_t generation_ = 0;
  std::shared_ptr<Follower> follower_;
};

// A folder's table (TBLTYPE_DYNAMIC: it follows this process's changes of
// the store and notifies its sinks, see StoreTableSource::Follower).
HRESULT open_table(const std::shared_ptr<StoreState>& state, Nid owner, PstTableKind kind, LPMAPITABLE* out,
                   std::string* detail, bool subtree = false) {
  auto source = std::make_shared<StoreTableSource>(state, owner, kind, subtree);
  Status s = source->open();
  if (!s.is_ok()) {
    *detail = s.message();
    return scode_of(s);
  }
  TableOptions options;
  options.table_type = TBLTYPE_DYNAMIC;
  options.outer_lock = &state->mutex;
  options.on_advise = watch_for_changes;
  std::shared_ptr<TableUpdates> updates;
  HRESULT hr = create_table(source, out, options, &updates);
  if (FAILED(hr)) return hr;
  source->follow(std::move(updates));
  return S_OK;
}

// An LPTSTR argument as UTF-8: wchar_t with MAPI_UNICODE, else 8-bit text
// in the store's code page.
std::string text_argument(LPTSTR text, ULONG flags, uint32_t codepage) {
  if (text == nullptr) return {};
  if (flags & MAPI_UNICODE) return utf8_from_wide(reinterpret_cast<const wchar_t*>(text));
  return decode_codepage(std::string_view(reinterpret_cast<const char*>(text)), codepage);
}

bool same_name(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

class ComFolder final : public IMAPIFolder, public PropObjectBase {
  PSTKIT_IUNKNOWN_METHODS(ComFolder)

 public:
  ComFolder(std::shared_ptr<StoreState> state, Nid nid, bool modify) : nid_(nid) {
    state_ = std::move(state);
    modify_ = modify;
  }
  Status load() {
    PSTKIT_ASSIGN_OR_RETURN(Folder f, state_->store().open_folder(nid_));
    props_.clear();
    for (auto& v : core_values(f.properties())) props_[prop_id(v.tag)] = std::move(v);
    generation_ = state_->generation;
    return Status::ok();
  }
  Nid nid() const { return nid_; }

  bool answers(REFIID riid) const {
    return riid == IID_IUnknown || riid == IID_IMAPIProp || riid == IID_IMAPIContainer || riid == IID_IMAPIFolder;
  }

  PSTKIT_IMAPIPROP_METHODS

  // imapiprop-savechanges.md: folders are not transacted.
  STDMETHODIMP SaveChanges(ULONG flags) override {
    if (flags & ~(KEEP_OPEN_READONLY | KEEP_OPEN_READWRITE | FORCE_SAVE | MAPI_DEFERRED_ERRORS))
      return MAPI_E_UNKNOWN_FLAGS;
    return S_OK;
  }

  // imapicontainer-getcontentstable.md: MAPI_ASSOCIATED gives the
  // associated contents table.
  STDMETHODIMP GetContentsTable(ULONG flags, LPMAPITABLE* out) override {
    std::lock_guard lock(state_->mutex);
    if (out == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "GetContentsTable: null out pointer");
    *out = nullptr;
    if (flags & ~(MAPI_ASSOCIATED | MAPI_DEFERRED_ERRORS | MAPI_UNICODE | SHOW_SOFT_DELETES))
      return fail(MAPI_E_UNKNOWN_FLAGS, "GetContentsTable: unknown flags");
    // A PST keeps no soft-deleted messages: SHOW_SOFT_DELETES shows none.
    std::string detail;
    HRESULT hr = open_table(state_, nid_,
                            (flags & MAPI_ASSOCIATED) ? PstTableKind::kAssociatedContents : PstTableKind::kContents,
                            out, &detail);
    return FAILED(hr) ? fail(hr, detail) : hr;
  }

  // imapicontainer-gethierarchytable.md. CONVENIENT_DEPTH: every level
  // below, depth first, with PR_DEPTH (open_hierarchy_subtree).
  STDMETHODIMP GetHierarchyTable(ULONG flags, LPMAPITABLE* out) override {
    std::lock_guard lock(state_->mutex);
    if (out == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "GetHierarchyTable: null out pointer");
    *out = nullptr;
    if (flags & ~(CONVENIENT_DEPTH | MAPI_DEFERRED_ERRORS | MAPI_UNICODE | SHOW_SOFT_DELETES))
      return fail(MAPI_E_UNKNOWN_FLAGS, "GetHierarchyTable: unknown flags");
    std::string detail;
    HRESULT hr = open_table(state_, nid_, PstTableKind::kHierarchy, out, &detail, (flags & CONVENIENT_DEPTH) != 0);
    return FAILED(hr) ? fail(hr, detail) : hr;
  }

  STDMETHODIMP OpenEntry(ULONG cb, LPENTRYID id, LPCIID iid, ULONG flags, ULONG* type, LPUNKNOWN* out) override {
    std::lock_guard lock(state_->mutex);
    std::string detail;
    HRESULT hr = open_entry(state_, cb, id, iid, flags, type, out, &detail);
    return FAILED(hr) ? fail(hr, detail) : hr;
  }

  // Search folders are not created by this provider (CreateFolder refuses
  // FOLDER_SEARCH), so no folder has search criteria to set or get.
  STDMETHODIMP SetSearchCriteria(LPSRestriction, LPENTRYLIST, ULONG) override {
    return fail(MAPI_E_NO_SUPPORT, "SetSearchCriteria: not a search folder");
  }
  STDMETHODIMP GetSearchCriteria(ULONG flags, LPSRestriction* res, LPENTRYLIST* list, ULONG* state) override {
    if (flags & ~MAPI_UNICODE) return MAPI_E_UNKNOWN_FLAGS;
    if (res) *res = nullptr;
    if (list) *list = nullptr;
    if (state) *state = 0;
    return fail(MAPI_E_NOT_INITIALIZED, "GetSearchCriteria: not a search folder");
  }

  // imapifolder-createmessage.md.
  STDMETHODIMP CreateMessage(LPCIID iid, ULONG flags, LPMESSAGE* out) override {
    std::lock_guard lock(state_->mutex);
    if (out == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "CreateMessage: null out pointer");
    *out = nullptr;
    if (flags & ~(MAPI_ASSOCIATED | MAPI_DEFERRED_ERRORS)) return fail(MAPI_E_UNKNOWN_FLAGS, "CreateMessage: flags");
    if (iid != nullptr && *iid != IID_IMessage)
      return fail(MAPI_E_INTERFACE_NOT_SUPPORTED, "CreateMessage: interface");
    if (!state_->writable) return fail(MAPI_E_NO_ACCESS, "CreateMessage: the store is read-only");
    return create_message_object(state_, nid_, (flags & MAPI_ASSOCIATED) != 0, out);
  }

  // imapifolder-copymessages.md: messages of this folder to lpDestFolder
  // (a folder of the same store). Entries that cannot be copied are skipped
  // and the call returns MAPI_W_PARTIAL_COMPLETION.
  STDMETHODIMP CopyMessages(LPENTRYLIST list, LPCIID iid, LPVOID dest, ULONG_PTR, LPMAPIPROGRESS,
                            ULONG flags) override {
    std::lock_guard lock(state_->mutex);
    if (flags & ~(MESSAGE_MOVE | MESSAGE_DIALOG | MAPI_DECLINE_OK)) return fail(MAPI_E_UNKNOWN_FLAGS, "CopyMessages");
    if (list == nullptr || dest == nullptr || (list->cValues > 0 && list->lpbin == nullptr))
      return fail(MAPI_E_INVALID_PARAMETER, "CopyMessages: null pointer");
    if (iid != nullptr && *iid != IID_IMAPIFolder && *iid != IID_IMAPIContainer && *iid != IID_IMAPIProp)
      return fail(MAPI_E_INTERFACE_NOT_SUPPORTED, "CopyMessages: interface");
    if (!state_->writable) return fail(MAPI_E_NO_ACCESS, "CopyMessages: the store is read-only");
    const Nid to = folder_nid_of(static_cast<LPUNKNOWN>(dest), state_.get());
    if (to == 0) return fail(MAPI_E_NO_SUPPORT, "CopyMessages: the destination is not a folder of this store");
    bool partial = false;
    std::vector<std::pair<Nid, Nid>> done;  // (old, new)
    for (ULONG i = 0; i < list->cValues; ++i) {
      auto nid = message_of(list->lpbin[i]);
      if (!nid) {
        partial = true;
        continue;
      }
      if (flags & MESSAGE_MOVE) {
        Status s = state_->writer->move_message(*nid, to);
        if (!s.is_ok()) {
          partial = true;
          continue;
        }
        done.emplace_back(*nid, *nid);
      } else {
        auto copy = state_->writer->copy_message(*nid, to);
        if (!copy) {
          partial = true;
          continue;
        }
        done.emplace_back(*nid, *copy);
      }
    }
    std::string detail;
    if (HRESULT hr = state_->commit(&detail); FAILED(hr)) return fail(hr, detail);
    for (auto [from, copy] : done) {
      state_->notify_object((flags & MESSAGE_MOVE) ? fnevObjectMoved : fnevObjectCopied, MAPI_MESSAGE, copy, to, from,
                            nid_);
    }
    return partial ? MAPI_W_PARTIAL_COMPLETION : S_OK;
  }

  // imapifolder-deletemessages.md.
  STDMETHODIMP DeleteMessages(LPENTRYLIST list, ULONG_PTR, LPMAPIPROGRESS, ULONG flags) override {
    std::lock_guard lock(state_->mutex);
    if (flags & ~(MESSAGE_DIALOG | DELETE_HARD_DELETE)) return fail(MAPI_E_UNKNOWN_FLAGS, "DeleteMessages");
    if (list == nullptr || (list->cValues > 0 && list->lpbin == nullptr))
      return fail(MAPI_E_INVALID_PARAMETER, "DeleteMessages: null pointer");
    if (!state_->writable) return fail(MAPI_E_NO_ACCESS, "DeleteMessages: the store is read-only");
    bool partial = false;
    std::vector<Nid> done;
    for (ULONG i = 0; i < list->cValues; ++i) {
      auto nid = message_of(list->lpbin[i]);
      if (!nid || !state_->writer->delete_message(*nid).is_ok()) {
        partial = true;
        continue;
      }
      done.push_back(*nid);
    }
    std::string detail;
    if (HRESULT hr = state_->commit(&detail); FAILED(hr)) return fail(hr, detail);
    for (Nid n : done) state_->notify_object(fnevObjectDeleted, MAPI_MESSAGE, n, nid_);
    return partial ? MAPI_W_PARTIAL_COMPLETION : S_OK;
  }

  // imapifolder-createfolder.md. FOLDER_GENERIC only: this provider makes no
  // search folders (FOLDER_SEARCH: MAPI_E_NO_SUPPORT). A subfolder of the
  // same name (compared ignoring ASCII case) is MAPI_E_COLLISION, or opened
  // with OPEN_IF_EXISTS.
  STDMETHODIMP CreateFolder(ULONG type, LPTSTR name, LPTSTR comment, LPCIID iid, ULONG flags,
                            LPMAPIFOLDER* out) override {
    std::lock_guard lock(state_->mutex);
    if (out == nullptr || name == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "CreateFolder: null pointer");
    *out = nullptr;
    if (flags & ~(MAPI_UNICODE | OPEN_IF_EXISTS | MAPI_DEFERRED_ERRORS))
      return fail(MAPI_E_UNKNOWN_FLAGS, "CreateFolder: unknown flags");
    if (iid != nullptr && *iid != IID_IMAPIFolder && *iid != IID_IMAPIContainer && *iid != IID_IMAPIProp)
      return fail(MAPI_E_INTERFACE_NOT_SUPPORTED, "CreateFolder: interface");
    if (type == FOLDER_SEARCH) return fail(MAPI_E_NO_SUPPORT, "CreateFolder: search folders");
    if (type != FOLDER_GENERIC) return fail(MAPI_E_INVALID_PARAMETER, "CreateFolder: folder type");
    if (!state_->writable) return fail(MAPI_E_NO_ACCESS, "CreateFolder: the store is read-only");
    const uint32_t cp = state_->store().codepage();
    const std::string folder_name = text_argument(name, flags, cp);
    if (folder_name.empty()) return fail(MAPI_E_INVALID_PARAMETER, "CreateFolder: empty name");
    std::string detail;
    if (auto existing = child_named(folder_name)) {
      if (!(flags & OPEN_IF_EXISTS)) return fail(MAPI_E_COLLISION, "CreateFolder: a subfolder has this name");
      HRESULT hr = open_folder_object(state_, *existing, true, out, &detail);
      return FAILED(hr) ? fail(hr, detail) : hr;
    }
    auto created = state_->writer->create_folder(nid_, folder_name, "");
    if (!created) return fail(scode_of(created.status()), created.status().message());
    if (comment != nullptr) {
      auto value = to_stored(PropValue::unicode(prop_tag(kPrComment, kPtUnicode), text_argument(comment, flags, cp)));
      if (value) (void)state_->writer->set_folder_properties(*created, {*value});
    }
    if (HRESULT hr = state_->commit(&detail); FAILED(hr)) return fail(hr, detail);
    state_->notify_object(fnevObjectCreated, MAPI_FOLDER, *created, nid_);
    HRESULT hr = open_folder_object(state_, *created, true, out, &detail);
    return FAILED(hr) ? fail(hr, detail) : hr;
  }

  // imapifolder-copyfolder.md: a subfolder of this folder to lpDestFolder.
  // FOLDER_MOVE moves it (with everything in it); a copy takes the folder's
  // messages and, with COPY_SUBFOLDERS, its subfolders.
  STDMETHODIMP CopyFolder(ULONG cb, LPENTRYID id, LPCIID iid, LPVOID dest, LPTSTR new_name, ULONG_PTR,
                          LPMAPIPROGRESS, ULONG flags) override {
    std::lock_guard lock(state_->mutex);
    if (flags & ~(FOLDER_MOVE | FOLDER_DIALOG | COPY_SUBFOLDERS | MAPI_DECLINE_OK | MAPI_UNICODE))
      return fail(MAPI_E_UNKNOWN_FLAGS, "CopyFolder: unknown flags");
    if (id == nullptr || dest == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "CopyFolder: null pointer");
    if (iid != nullptr && *iid != IID_IMAPIFolder && *iid != IID_IMAPIContainer && *iid != IID_IMAPIProp)
      return fail(MAPI_E_INTERFACE_NOT_SUPPORTED, "CopyFolder: interface");
    if (!state_->writable) return fail(MAPI_E_NO_ACCESS, "CopyFolder: the store is read-only");
    auto nid = decode_entry_id(ByteView(reinterpret_cast<const uint8_t*>(id), cb), state_->uid);
    if (!nid) return fail(entry_id_scode(nid.status()), nid.status().message());
    if (state_->parent_of(*nid) != nid_) return fail(MAPI_E_NOT_FOUND, "CopyFolder: not a subfolder of this folder");
    const Nid to = folder_nid_of(static_cast<LPUNKNOWN>(dest), state_.get());
    if (to == 0) return fail(MAPI_E_NO_SUPPORT, "CopyFolder: the destination is not a folder of this store");
    // The destination may not be the folder itself or below it.
    for (Nid up = to; up != 0 && up != ndb::kNidRootFolder; up = state_->parent_of(up)) {
      if (up == *nid) return fail(MAPI_E_FOLDER_CYCLE, "CopyFolder: the destination is inside the folder");
    }
    auto folder = state_->store().open_folder(*nid);
    if (!folder) return fail(scode_of(folder.status()), folder.status().message());
    const std::string name =
        new_name ? text_argument(new_name, flags, state_->store().codepage()) : folder->name();
    if (name.empty()) return fail(MAPI_E_INVALID_PARAMETER, "CopyFolder: empty name");
    if (auto clash = child_named_in(to, name); clash && *clash != *nid)
      return fail(MAPI_E_COLLISION, "CopyFolder: the destination has a subfolder of this name");
    Status s;
    Nid result = *nid;
    if (flags & FOLDER_MOVE) {
      s = state_->writer->move_folder(*nid, to);
      if (s.is_ok() && name != folder->name()) s = state_->writer->rename_folder(*nid, name);
    } else {
      auto copied = copy_folder(*nid, to, name, (flags & COPY_SUBFOLDERS) != 0, 0);
      s = copied.status();
      if (copied) result = *copied;
    }
    std::string detail;
    if (!s.is_ok()) {
      state_->abandon_staged("rolled back");
      return fail(scode_of(s), s.message());
    }
    if (HRESULT hr = state_->commit(&detail); FAILED(hr)) return fail(hr, detail);
    state_->notify_object((flags & FOLDER_MOVE) ? fnevObjectMoved : fnevObjectCopied, MAPI_FOLDER, result, to, *nid,
                          nid_);
    return S_OK;
  }

  // imapifolder-deletefolder.md: MAPI_E_HAS_FOLDERS / MAPI_E_HAS_MESSAGES
  // unless DEL_FOLDERS / DEL_MESSAGES allow deleting what it holds.
  STDMETHODIMP DeleteFolder(ULONG cb, LPENTRYID id, ULONG_PTR, LPMAPIPROGRESS, ULONG flags) override {
    std::lock_guard lock(state_->mutex);
    if (flags & ~(DEL_FOLDERS | DEL_MESSAGES | FOLDER_DIALOG | DELETE_HARD_DELETE))
      return fail(MAPI_E_UNKNOWN_FLAGS, "DeleteFolder: unknown flags");
    if (id == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "DeleteFolder: null entry ID");
    if (!state_->writable) return fail(MAPI_E_NO_ACCESS, "DeleteFolder: the store is read-only");
    auto nid = decode_entry_id(ByteView(reinterpret_cast<const uint8_t*>(id), cb), state_->uid);
    if (!nid) return fail(entry_id_scode(nid.status()), nid.status().message());
    if (state_->parent_of(*nid) != nid_ || *nid == nid_)
      return fail(MAPI_E_NOT_FOUND, "DeleteFolder: not a subfolder of this folder");
    auto folder = state_->store().open_folder(*nid);
    if (!folder) return fail(scode_of(folder.status()), folder.status().message());
    auto subfolders = folder->subfolders();
    if (subfolders && !subfolders->empty() && !(flags & DEL_FOLDERS))
      return fail(MAPI_E_HAS_FOLDERS, "DeleteFolder: the folder has subfolders");
    auto messages = folder->content_nids();
    auto associated = folder->associated_contents();
    if (((messages && !messages->empty()) || (associated && !associated->empty())) && !(flags & DEL_MESSAGES))
      return fail(MAPI_E_HAS_MESSAGES, "DeleteFolder: the folder has messages");
    Status s = state_->writer->delete_folder(*nid);
    if (!s.is_ok()) {
      state_->abandon_staged("rolled back");
      // The store's special folders cannot be deleted.
      return fail(s.code() == Code::kInvalidArgument ? MAPI_E_NO_ACCESS : scode_of(s), s.message());
    }
    std::string detail;
    if (HRESULT hr = state_->commit(&detail); FAILED(hr)) return fail(hr, detail);
    state_->notify_object(fnevObjectDeleted, MAPI_FOLDER, *nid, nid_);
    return S_OK;
  }

  // imapifolder-setreadflags.md: a null list means every message of the
  // folder. Read receipts are not generated (no transport).
  STDMETHODIMP SetReadFlags(LPENTRYLIST list, ULONG_PTR, LPMAPIPROGRESS, ULONG flags) override {
    std::lock_guard lock(state_->mutex);
    if (flags & ~(SUPPRESS_RECEIPT | CLEAR_READ_FLAG | MAPI_DEFERRED_ERRORS | GENERATE_RECEIPT_ONLY |
                  CLEAR_RN_PENDING | CLEAR_NRN_PENDING | FOLDER_DIALOG))
      return fail(MAPI_E_UNKNOWN_FLAGS, "SetReadFlags: unknown flags");
    if ((flags & CLEAR_READ_FLAG) && (flags & (SUPPRESS_RECEIPT | GENERATE_RECEIPT_ONLY)))
      return fail(MAPI_E_INVALID_PARAMETER, "SetReadFlags: CLEAR_READ_FLAG with a receipt flag");
    if (list != nullptr && list->cValues > 0 && list->lpbin == nullptr)
      return fail(MAPI_E_INVALID_PARAMETER, "SetReadFlags: null entry array");
    if (!state_->writable) return fail(MAPI_E_NO_ACCESS, "SetReadFlags: the store is read-only");
    std::vector<Nid> targets;
    bool partial = false;
    if (list == nullptr) {
      auto folder = state_->store().open_folder(nid_);
      if (!folder) return fail(scode_of(folder.status()), folder.status().message());
      auto nids = folder->content_nids();
      if (!nids) return fail(scode_of(nids.status()), nids.status().message());
      targets = *nids;
    } else {
      for (ULONG i = 0; i < list->cValues; ++i) {
        if (auto nid = message_of(list->lpbin[i])) {
          targets.push_back(*nid);
        } else {
          partial = true;
        }
      }
    }
    if (flags & GENERATE_RECEIPT_ONLY) return partial ? MAPI_W_PARTIAL_COMPLETION : S_OK;
    std::vector<Nid> changed;
    for (Nid n : targets) {
      if (apply_read_flag(*state_, n, flags).is_ok()) {
        changed.push_back(n);
      } else {
        partial = true;
      }
    }
    std::string detail;
    if (HRESULT hr = state_->commit(&detail); FAILED(hr)) return fail(hr, detail);
    for (Nid n : changed) state_->notify_object(fnevObjectModified, MAPI_MESSAGE, n, nid_);
    return partial ? MAPI_W_PARTIAL_COMPLETION : S_OK;
  }

  // imapifolder-getmessagestatus.md: PR_MSG_STATUS of the message (0 when
  // it has none).
  STDMETHODIMP GetMessageStatus(ULONG cb, LPENTRYID id, ULONG flags, ULONG* status) override {
    std::lock_guard lock(state_->mutex);
    if (flags != 0) return fail(MAPI_E_UNKNOWN_FLAGS, "GetMessageStatus: unknown flags");
    if (id == nullptr || status == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "GetMessageStatus: null pointer");
    SBinary bin{cb, reinterpret_cast<LPBYTE>(id)};
    auto nid = message_of(bin);
    if (!nid) return fail(MAPI_E_NOT_FOUND, "GetMessageStatus: no such message in this folder");
    *status = message_status(*nid);
    return S_OK;
  }

  // imapifolder-setmessagestatus.md: bits of ulNewStatusMask take their
  // value from ulNewStatus; the previous status is returned.
  STDMETHODIMP SetMessageStatus(ULONG cb, LPENTRYID id, ULONG status, ULONG mask, ULONG* old_status) override {
    std::lock_guard lock(state_->mutex);
    if (id == nullptr) return fail(MAPI_E_INVALID_PARAMETER, "SetMessageStatus: null entry ID");
    if (!state_->writable) return fail(MAPI_E_NO_ACCESS, "SetMessageStatus: the store is read-only");
    SBinary bin{cb, reinterpret_cast<LPBYTE>(id)};
    auto nid = message_of(bin);
    if (!nid) return fail(MAPI_E_NOT_FOUND, "SetMessageStatus: no such message in this folder");
    const ULONG old = message_status(*nid);
    if (old_status) *old_status = old;
    const ULONG now = (old & ~mask) | (status & mask);
    auto v = to_stored(PropValue::long_(prop_tag(kPrMsgStatus, kPtLong), int32_t(now)));
    Status s = state_->writer->set_message_properties(*nid, {*v});
    if (!s.is_ok()) return fail(scode_of(s), s.message());
    std::string detail;
    if (HRESULT hr = state_->commit(&detail); FAILED(hr)) return fail(hr, detail);
    state_->notify_object(fnevObjectModified, MAPI_MESSAGE, *nid, nid_);
    return S_OK;
  }

  STDMETHODIMP SaveContentsSort(LPSSortOrderSet, ULONG) override {
    return fail(MAPI_E_NO_SUPPORT, "SaveContentsSort: no default sort is kept");
  }

  // imapifolder-emptyfolder.md: every message (associated ones too with
  // DEL_ASSOCIATED) and every subfolder.
  STDMETHODIMP EmptyFolder(ULONG_PTR, LPMAPIPROGRESS, ULONG flags) override {
    std::lock_guard lock(state_->mutex);
    if (flags & ~(DEL_ASSOCIATED | FOLDER_DIALOG | DELETE_HARD_DELETE))
      return fail(MAPI_E_UNKNOWN_FLAGS, "EmptyFolder: unknown flags");
    if (!state_->writable) return fail(MAPI_E_NO_ACCESS, "EmptyFolder: the store is read-only");
    auto folder = state_->store().open_folder(nid_);
    if (!folder) return fail(scode_of(folder.status()), folder.status().message());
    std::vector<Nid> messages, folders;
    if (auto n = folder->content_nids()) messages = *n;
    if (flags & DEL_ASSOCIATED) {
      if (auto rows = folder->associated_contents()) {
        for (const auto& r : *rows) messages.push_back(r.nid);
      }
    }
    if (auto rows = folder->subfolders()) {
      for (const auto& r : *rows) folders.push_back(r.nid);
    }
    bool partial = false;
    for (Nid m : messages) partial |= !state_->writer->delete_message(m).is_ok();
    for (Nid f : folders) partial |= !state_->writer->delete_folder(f).is_ok();
    std::string detail;
    if (HRESULT hr = state_->commit(&detail); FAILED(hr)) return fail(hr, detail);
    for (Nid m : messages) state_->notify_object(fnevObjectDeleted, MAPI_MESSAGE, m, nid_);
    for (Nid f : folders) state_->notify_object(fnevObjectDeleted, MAPI_FOLDER, f, nid_);
    return partial ? MAPI_W_PARTIAL_COMPLETION : S_OK;
  }

  // Sets or clears MSGFLAG_READ (imessage-setreadflag.md, shared with IMessage).
  static Status apply_read_flag(StoreState& state, Nid message, ULONG flags) {
    PSTKIT_ASSIGN_OR_RETURN(Message m, state.store().open_message(message));
    int32_t current = m.properties().get_i32(prop::kMessageFlags).value_or(0);
    int32_t next = current;
    if (flags & CLEAR_READ_FLAG) {
      next &= ~int32_t(MSGFLAG_READ);
    } else if (!(flags & (CLEAR_RN_PENDING | CLEAR_NRN_PENDING)) || (flags & SUPPRESS_RECEIPT)) {
      next |= int32_t(MSGFLAG_READ);
    }
    if (flags & (CLEAR_RN_PENDING | SUPPRESS_RECEIPT)) next &= ~int32_t(MSGFLAG_RN_PENDING);
    if (flags & (CLEAR_NRN_PENDING | SUPPRESS_RECEIPT)) next &= ~int32_t(MSGFLAG_NRN_PENDING);
    if (next == current) return Status::ok();
    PSTKIT_ASSIGN_OR_RETURN(auto v, to_stored(PropValue::long_(kPrMessageFlagsTag, next)));
    return state.writer->set_message_properties(message, {v});
  }

 protected:
  std::vector<PropValue> computed() const override {
    std::vector<PropValue> out;
    const Bytes id = state_->entry_id(nid_);
    out.push_back(PropValue::binary(kPrEntryId, ByteView(id)));
    const Nid parent = nid_ == ndb::kNidRootFolder ? nid_ : state_->parent_of(nid_);
    const Bytes parent_id = state_->entry_id(parent ? parent : nid_);
    out.push_back(PropValue::binary(kPrParentEntryId, ByteView(parent_id)));
    out.push_back(PropValue::binary(kPrStoreRecordKey, ByteView(state_->uid.data(), state_->uid.size())));
    out.push_back(PropValue::long_(kPrObjectType, MAPI_FOLDER));
    const int32_t type = nid_ == ndb::kNidRootFolder                              ? FOLDER_ROOT
                         : ndb::nid_type(nid_) == ndb::kNidTypeSearchFolder ? FOLDER_SEARCH
                                                                             : FOLDER_GENERIC;
    out.push_back(PropValue::long_(prop_tag(kPrFolderType, kPtLong), type));
    out.push_back(PropValue::long_(prop_tag(kPrAccessLevel, kPtLong), modify_ ? 1 : 0));
    return out;
  }
  uint32_t codepage() const override { return state_->store().codepage(); }
  bool read_only_property(uint16_t id) const override {
    return id == prop::kContentCount || id == prop::kContentUnread || id == prop::kSubfolders;
  }
  void refresh() override {
    if (generation_ != state_->generation) (void)load();
  }
  HRESULT write_through(const std::vector<PropValue>& set, const std::vector<uint16_t>& removed) override {
    if (!state_->writer) return fail(MAPI_E_NO_ACCESS, "the store is read-only");
    Status s;
    if (!set.empty()) {
      std::vector<ltp::PropValue> stored;
      for (const auto& v : set) {
        auto sv = to_stored(v, codepage());
        if (!sv) return fail(MAPI_E_INVALID_TYPE, sv.status().message());
        stored.push_back(std::move(*sv));
      }
      s = state_->writer->set_folder_properties(nid_, stored);
    }
    if (s.is_ok() && !removed.empty()) s = state_->writer->remove_folder_properties(nid_, removed);
    if (!s.is_ok()) {
      state_->abandon_staged("rolled back");
      return fail(scode_of(s), s.message());
    }
    std::string detail;
    if (HRESULT hr = state_->commit(&detail); FAILED(hr)) return fail(hr, detail);
    generation_ = state_->generation;
    state_->notify_object(fnevObjectModified, MAPI_FOLDER, nid_, state_->parent_of(nid_));
    return S_OK;
  }

 private:
  ~ComFolder() override = default;

  // The NID of a message entry ID naming a message of this folder.
  std::optional<Nid> message_of(const SBinary& bin) const {
    if (bin.lpb == nullptr) return std::nullopt;
    auto nid = decode_entry_id(ByteView(bin.lpb, bin.cb), state_->uid);
    if (!nid) return std::nullopt;
    const uint8_t t = ndb::nid_type(*nid);
    if (t != ndb::kNidTypeNormalMessage && t != ndb::kNidTypeAssocMessage) return std::nullopt;
    if (state_->parent_of(*nid) != nid_) return std::nullopt;
    return *nid;
  }
  ULONG message_status(Nid message) const {
    auto m = state_->store().open_message(message);
    if (!m) return 0;
    return ULONG(m->properties().get_i32(kPrMsgStatus).value_or(0));
  }
  std::optional<Nid> child_named(const std::string& name) const { return child_named_in(nid_, name); }
  std::optional<Nid> child_named_in(Nid parent, const std::string& name) const {
    auto folder = state_->store().open_folder(parent);
    if (!folder) return std::nullopt;
    auto rows = folder->subfolders();
    if (!rows) return std::nullopt;
    for (const auto& r : *rows) {
      auto n = r.props.get_string(prop::kDisplayName);
      if (n && same_name(*n, name)) return r.nid;
    }
    return std::nullopt;
  }
  // A copy of folder `from` (its container class, comment and messages, and
  // with `subfolders` its subfolders) as `name` in `to`.
  Result<Nid> copy_folder(Nid from, Nid to, const std::string& name, bool subfolders, int depth) {
    if (depth > 256) return Status::invalid_argument("CopyFolder: folders nested too deep");
    PSTKIT_ASSIGN_OR_RETURN(Folder folder, state_->store().open_folder(from));
    PSTKIT_ASSIGN_OR_RETURN(Nid copy, state_->writer->create_folder(to, name, folder.container_class()));
    std::vector<ltp::PropValue> extra;
    if (const auto* c = folder.properties().find(kPrComment)) extra.push_back(*c);
    if (!extra.empty()) PSTKIT_RETURN_IF_ERROR(state_->writer->set_folder_properties(copy, extra));
    PSTKIT_ASSIGN_OR_RETURN(auto messages, folder.content_nids());
    for (Nid m : messages) PSTKIT_RETURN_IF_ERROR(state_->writer->copy_message(m, copy).status());
    PSTKIT_ASSIGN_OR_RETURN(auto associated, folder.associated_contents());
    for (const auto& r : associated) PSTKIT_RETURN_IF_ERROR(state_->writer->copy_message(r.nid, copy).status());
    if (subfolders) {
      PSTKIT_ASSIGN_OR_RETURN(auto children, folder.subfolders());
      for (const auto& r : children) {
        if (r.nid == copy) continue;  // copying a folder into itself
        auto child_name = r.props.get_string(prop::kDisplayName).value_or("");
        PSTKIT_RETURN_IF_ERROR(copy_folder(r.nid, copy, child_name, true, depth + 1).status());
      }
    }
    return copy;
  }

  Nid nid_;
  uint64_t generation_ = 0;
};

}  // namespace

// Shared with com_message.cpp (IMessage::SetReadFlag).
Status set_read_flag(StoreState& state, Nid message, ULONG flags) {
  return ComFolder::apply_read_flag(state, message, flags);
}

HRESULT open_folder_object(std::shared_ptr<StoreState> state, Nid nid, bool modify, LPMAPIFOLDER* out,
                           std::string* detail) {
  *out = nullptr;
  auto* folder = new (std::nothrow) ComFolder(std::move(state), nid, modify);
  if (folder == nullptr) return MAPI_E_NOT_ENOUGH_MEMORY;
  Status s = folder->load();
  if (!s.is_ok()) {
    folder->Release();
    if (detail) *detail = s.message();
    return scode_of(s);
  }
  *out = folder;
  return S_OK;
}

Nid folder_nid_of(LPUNKNOWN object, const StoreState* state) {
  if (object == nullptr) return 0;
  LPMAPIFOLDER folder = nullptr;
  if (FAILED(object->QueryInterface(IID_IMAPIFolder, reinterpret_cast<void**>(&folder))) || folder == nullptr)
    return 0;
  auto* ours = dynamic_cast<ComFolder*>(folder);
  Nid nid = 0;
  if (ours != nullptr && ours->state().get() == state) nid = ours->nid();
  folder->Release();
  return nid;
}

// imsgstore-openentry.md, imapicontainer-openentry.md: a null entry ID opens
// the root folder; a folder's ID an IMAPIFolder, a message's an IMessage.
// MAPI_MODIFY on a read-only store is MAPI_E_NO_ACCESS; MAPI_BEST_ACCESS
// opens for writing when the store allows it.
HRESULT open_entry(const std::shared_ptr<StoreState>& state, ULONG cbEntryID, LPENTRYID lpEntryID, LPCIID iid,
                   ULONG flags, ULONG* type, LPUNKNOWN* out, std::string* detail) {
  if (out == nullptr || type == nullptr) return MAPI_E_INVALID_PARAMETER;
  *out = nullptr;
  *type = 0;
  if (flags & ~(MAPI_MODIFY | MAPI_DEFERRED_ERRORS | MAPI_BEST_ACCESS | SHOW_SOFT_DELETES))
    return MAPI_E_UNKNOWN_FLAGS;
  if (lpEntryID == nullptr && cbEntryID != 0) return MAPI_E_INVALID_PARAMETER;
  if ((flags & MAPI_MODIFY) && !state->writable) return MAPI_E_NO_ACCESS;
  // Crash-locked, or another process's pending batch not had (the start of the call).
  if (HRESULT refused = state->refused(detail); FAILED(refused)) return refused;
  if (HRESULT refused = refuse_if_crash_locked(*state, detail); FAILED(refused)) return refused;
  const bool modify = state->writable && (flags & (MAPI_MODIFY | MAPI_BEST_ACCESS)) != 0;
  Nid nid = ndb::kNidRootFolder;
  if (lpEntryID != nullptr && cbEntryID != 0) {
    auto decoded = decode_entry_id(ByteView(reinterpret_cast<const uint8_t*>(lpEntryID), cbEntryID), state->uid);
    if (!decoded) {
      *detail = decoded.status().message();
      return entry_id_scode(decoded.status());
    }
    nid = *decoded;
  }
  const uint8_t nid_type = ndb::nid_type(nid);
  if (nid_type == ndb::kNidTypeNormalFolder || nid_type == ndb::kNidTypeSearchFolder) {
    if (iid != nullptr && *iid != IID_IMAPIFolder && *iid != IID_IMAPIContainer && *iid != IID_IMAPIProp &&
        *iid != IID_IUnknown)
      return MAPI_E_INTERFACE_NOT_SUPPORTED;
    LPMAPIFOLDER folder = nullptr;
    HRESULT hr = open_folder_object(state, nid, modify, &folder, detail);
    if (FAILED(hr)) return hr;
    *out = folder;
    *type = MAPI_FOLDER;
    return S_OK;
  }
  if (nid_type == ndb::kNidTypeNormalMessage || nid_type == ndb::kNidTypeAssocMessage) {
    if (iid != nullptr && *iid != IID_IMessage && *iid != IID_IMAPIProp && *iid != IID_IUnknown)
      return MAPI_E_INTERFACE_NOT_SUPPORTED;
    LPMESSAGE message = nullptr;
    HRESULT hr = open_message_object(state, nid, modify, &message, detail);
    if (FAILED(hr)) return hr;
    *out = message;
    *type = MAPI_MESSAGE;
    return S_OK;
  }
  *detail = "the entry ID names neither a folder nor a message";
  return MAPI_E_INVALID_ENTRYID;
}

}  // namespace pstkit::mapi::capi
