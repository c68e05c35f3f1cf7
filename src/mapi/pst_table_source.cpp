// Row sources over a PST's folder and message tables (pstkit/mapi_folder_table.h).
#include <algorithm>
#include <map>
#include <unordered_set>
#include <string>

#include "pstkit/codepage.h"
#include "pstkit/mapi_folder_table.h"
#include "pstkit/messaging.h"
#include "pstkit/ndb.h"

namespace pstkit::mapi {
namespace {

constexpr PropTag kPrNull = prop_tag(0, kPtNull);
constexpr uint16_t kSubjectId = 0x0037;
constexpr int32_t kMapiECorruptData = int32_t(0x8004011B);

bool is_folder_table(PstTableKind kind) {
  return kind == PstTableKind::kHierarchy || kind == PstTableKind::kContents ||
         kind == PstTableKind::kAssociatedContents;
}

Bytes le32_bytes(uint32_t v) {
  Bytes b(4);
  store_le32(b.data(), v);
  return b;
}

}  // namespace

Result<std::unique_ptr<PstTableSource>> PstTableSource::open(const Store& store, uint32_t owner, PstTableKind kind) {
  std::unique_ptr<PstTableSource> source(new PstTableSource(store, owner, kind));
  if (auto uid = store_provider_uid(store); uid.is_ok()) {
    source->uid_ = *uid;
    source->has_uid_ = true;
  }
  const std::string what = "table of " + hex(owner);
  std::unique_ptr<ndb::Node> node;
  if (is_folder_table(kind)) {
    // MS-PST 2.4.4.1: a folder's tables share its NID index with another type.
    const uint8_t owner_type = ndb::nid_type(owner);
    if (owner_type != ndb::kNidTypeNormalFolder && owner_type != ndb::kNidTypeSearchFolder) {
      return Status::invalid_argument(hex(owner) + " is not a folder NID");
    }
    uint8_t table_type = ndb::kNidTypeHierarchyTable;
    if (kind == PstTableKind::kContents) {
      // Also for a search folder, as Folder::contents() reads it (what
      // `pstkit ls` and `dump` report); its NID_TYPE_SEARCH_CONTENTS_TABLE
      // node (0x10, MS-PST 2.4.8.6) is not read.
      table_type = ndb::kNidTypeContentsTable;
    } else if (kind == PstTableKind::kAssociatedContents) {
      table_type = ndb::kNidTypeAssocContentsTable;
    }
    auto opened = store.db().open_node(ndb::make_nid(table_type, ndb::nid_index(owner)));
    if (!opened) {
      if (opened.status().code() == Code::kNotFound) return source;  // no table: no rows
      return opened.status().with_context(what);
    }
    node = std::move(*opened);
  } else {
    // MS-PST 2.4.5.2, 2.4.6.1: subnodes of the message's node.
    auto message = store.db().open_node(owner);
    if (!message) return message.status().with_context("message " + hex(owner));
    const ndb::Nid sub_nid =
        kind == PstTableKind::kRecipients ? ndb::kNidRecipientTableTemplate : ndb::kNidAttachmentTableTemplate;
    auto opened = (*message)->subnode(sub_nid);
    if (!opened) {
      if (opened.status().code() == Code::kNotFound) return source;
      return opened.status().with_context(what);
    }
    node = std::move(*opened);
  }
  auto tc = store.open_table(std::shared_ptr<const ndb::Node>(std::move(node)));
  if (!tc) return tc.status().with_context(what);
  source->tc_.emplace(std::move(*tc));
  return source;
}

uint64_t PstTableSource::row_count_hint() const { return tc_ ? tc_->row_count() : 0; }

std::vector<PropTag> PstTableSource::computed_columns() const {
  std::vector<PropTag> out{kPrInstanceKey, kPrObjectType, kPrDepth};
  if (is_folder_table(kind_)) {
    if (has_uid_) {
      out.insert(out.begin(), {kPrEntryId, kPrParentEntryId, kPrStoreRecordKey});
    }
  } else {
    out.push_back(kPrRowId);
  }
  return out;
}

std::vector<PropTag> PstTableSource::default_columns() const {
  // setcolumns.md leaves the default set to the provider: the stored
  // columns (in TC order) and the computed ones.
  return available_columns();
}

std::vector<PropTag> PstTableSource::available_columns() const {
  std::vector<PropTag> out;
  if (tc_) {
    for (const auto& column : tc_->columns()) out.push_back(column.tag);
  }
  for (PropTag tag : computed_columns()) {
    const bool stored = std::any_of(out.begin(), out.end(), [&](PropTag t) { return prop_id(t) == prop_id(tag); });
    if (!stored) out.push_back(tag);
  }
  return out;
}

std::vector<PstTableSource::ColumnPlan> PstTableSource::plan(std::span<const PropTag> columns) const {
  const std::vector<PropTag> computed = computed_columns();
  std::vector<ColumnPlan> out;
  out.reserve(columns.size());
  for (PropTag column : columns) {
    ColumnPlan p;
    p.tag = column & ~PropTag(kMvInstance);
    if (column == kPrNull) {
      p.tag = kPrNull;
      out.push_back(p);
      continue;
    }
    if (tc_) {
      const auto& tc_columns = tc_->columns();
      for (size_t i = 0; i < tc_columns.size(); ++i) {
        if (prop_id(tc_columns[i].tag) == prop_id(p.tag)) {
          p.tc_column = i;
          break;
        }
      }
    }
    p.computed = std::any_of(computed.begin(), computed.end(),
                             [&](PropTag t) { return prop_id(t) == prop_id(p.tag); });
    out.push_back(p);
  }
  return out;
}

PropValue PstTableSource::computed(PropTag tag, uint32_t row_id) const {
  switch (prop_id(tag)) {
    case prop_id(kPrEntryId): return PropValue::binary(kPrEntryId, encode_entry_id(uid_, row_id));
    case prop_id(kPrParentEntryId): return PropValue::binary(kPrParentEntryId, encode_entry_id(uid_, owner_));
    case prop_id(kPrStoreRecordKey): return PropValue::binary(kPrStoreRecordKey, Bytes(uid_.begin(), uid_.end()));
    case prop_id(kPrInstanceKey): return PropValue::binary(kPrInstanceKey, le32_bytes(row_id));
    case prop_id(kPrDepth): return PropValue::long_(kPrDepth, 0);
    case prop_id(kPrRowId): return PropValue::long_(kPrRowId, int32_t(row_id));
    case prop_id(kPrObjectType): {
      int32_t type = kMapiMessage;
      if (kind_ == PstTableKind::kHierarchy) type = kMapiFolder;
      if (kind_ == PstTableKind::kRecipients) type = kMapiMailUser;
      if (kind_ == PstTableKind::kAttachments) type = kMapiAttach;
      return PropValue::long_(kPrObjectType, type);
    }
  }
  return PropValue::error(tag);
}

Status PstTableSource::read_row(size_t tc_row, uint32_t row_id, const std::vector<ColumnPlan>& plan,
                                std::vector<PropValue>& out) const {
  out.clear();
  for (const ColumnPlan& p : plan) {
    if (p.tag == kPrNull) {
      out.push_back(PropValue::null(kPrNull));  // setcolumns.md: PR_NULL reserves a slot
      continue;
    }
    std::optional<PropValue> value;
    if (p.tc_column) {
      auto cell = tc_->cell(tc_row, *p.tc_column);
      if (!cell) {
        value = PropValue::error(p.tag, kMapiECorruptData);
      } else if (*cell) {
        auto decoded = from_stored(**cell);
        if (!decoded) {
          value = PropValue::error(p.tag, kMapiECorruptData);
        } else {
          value = std::move(*decoded);
        }
      }
    }
    if (value && !value->is_error()) {
      const uint16_t want = prop_type(p.tag), have = value->type();
      if (want == kPtUnicode && have == kPtString8) {
        // A contents row's 8-bit strings are in its message's code page, as
        // the messaging layer decodes them (Folder::contents).
        const uint32_t codepage = kind_ == PstTableKind::kContents || kind_ == PstTableKind::kAssociatedContents
                                      ? store_.message_codepage(row_id)
                                      : store_.codepage();
        *value = PropValue::unicode(p.tag, decode_codepage(std::string_view(value->bytes), codepage));
      } else if (want == kPtString8 && have == kPtUnicode) {
        const Bytes encoded = encode_codepage(value->bytes, store_.codepage());
        *value = PropValue::string8(p.tag, std::string_view(reinterpret_cast<const char*>(encoded.data()), encoded.size()));
      } else if (want != kPtUnspecified && want != have) {
        value.reset();  // another type than asked: the row lacks the asked one
      }
      if (value && prop_id(p.tag) == kSubjectId && (value->type() == kPtUnicode || value->type() == kPtString8)) {
        value->bytes = normalize_subject(std::move(value->bytes));  // MS-OXCMSG 2.2.1.46 prefix marker
      }
    }
    if (!value && p.computed) value = computed(p.tag, row_id);
    if (value && value->is_error() && p.computed && p.tc_column) value = computed(p.tag, row_id);
    out.push_back(value ? std::move(*value) : PropValue::error(p.tag));
  }
  return Status::ok();
}

Status PstTableSource::scan(std::span<const PropTag> columns,
                            const std::function<Status(RowId, std::span<const PropValue>)>& visit) {
  if (!tc_) return Status::ok();
  const std::vector<ColumnPlan> columns_plan = plan(columns);
  std::vector<PropValue> row;
  row.reserve(columns_plan.size());
  for (size_t i = 0; i < tc_->row_count(); ++i) {
    PSTKIT_ASSIGN_OR_RETURN(uint32_t row_id, tc_->row_id(i));
    PSTKIT_RETURN_IF_ERROR(read_row(i, row_id, columns_plan, row));
    PSTKIT_RETURN_IF_ERROR(visit(row_id, row));
  }
  return Status::ok();
}

Result<std::vector<std::vector<PropValue>>> PstTableSource::read_rows(std::span<const RowId> rows,
                                                                      std::span<const PropTag> columns) {
  const std::vector<ColumnPlan> columns_plan = plan(columns);
  std::vector<std::vector<PropValue>> out;
  out.reserve(rows.size());
  for (RowId id : rows) {
    const std::optional<size_t> tc_row =
        tc_ && id <= UINT32_MAX ? tc_->find_row(uint32_t(id)) : std::nullopt;
    if (!tc_row) return Status::not_found("table row " + std::to_string(id) + " of " + hex(owner_));
    std::vector<PropValue> row;
    PSTKIT_RETURN_IF_ERROR(read_row(*tc_row, uint32_t(id), columns_plan, row));
    out.push_back(std::move(row));
  }
  return out;
}

Status PstTableSource::for_each_sub_row(RowId row, PropTag subobject, std::span<const PropTag> columns,
                                        const SubRowVisitor& visit) {
  if (kind_ != PstTableKind::kContents && kind_ != PstTableKind::kAssociatedContents) {
    return Status::unsupported("sub-objects of a row that is not a message");
  }
  if (row > UINT32_MAX) return Status::not_found("table row " + std::to_string(row));
  PstTableKind sub_kind;
  if (prop_id(subobject) == prop_id(kPrMessageRecipients)) {
    sub_kind = PstTableKind::kRecipients;
  } else if (prop_id(subobject) == prop_id(kPrMessageAttachments)) {
    sub_kind = PstTableKind::kAttachments;
  } else {
    return Status::invalid_argument("sub-object " + hex(subobject) + " is neither recipients nor attachments");
  }
  PSTKIT_ASSIGN_OR_RETURN(auto sub, open(store_, uint32_t(row), sub_kind));
  // A non-OK status from the visitor stops the scan; this one means "found".
  static const std::string kStop = "sub-row matched";
  Status scanned = sub->scan(columns, [&](RowId, std::span<const PropValue> values) -> Status {
    return visit(values) ? Status::not_found(kStop) : Status::ok();
  });
  if (!scanned.is_ok() && !(scanned.code() == Code::kNotFound && scanned.detail() == kStop)) return scanned;
  return Status::ok();
}

namespace {

class SubtreeSource final : public RowSource {
 public:
  SubtreeSource(const Store& store, uint32_t owner, std::unique_ptr<PstTableSource> top)
      : store_(store), owner_(owner), top_(std::move(top)) {}

  uint64_t row_count_hint() const override { return top_->row_count_hint(); }
  std::vector<PropTag> default_columns() const override { return top_->default_columns(); }
  std::vector<PropTag> available_columns() const override { return top_->available_columns(); }

  Status scan(std::span<const PropTag> columns,
              const std::function<Status(RowId, std::span<const PropValue>)>& visit) override {
    std::unordered_set<uint32_t> seen{owner_};
    return walk(*top_, 0, columns, visit, seen);
  }

  Result<std::vector<std::vector<PropValue>>> read_rows(std::span<const RowId> rows,
                                                        std::span<const PropTag> columns) override {
    std::vector<std::vector<PropValue>> out;
    out.reserve(rows.size());
    std::map<uint32_t, std::unique_ptr<PstTableSource>> parents;
    for (RowId row : rows) {
      // The row's parent (its NBT entry) and its level below the owner.
      const uint32_t nid = uint32_t(row);
      PSTKIT_ASSIGN_OR_RETURN(auto entry, store_.db().find_node(nid));
      const uint32_t parent = entry.parent_nid;
      int32_t depth = 0;
      for (uint32_t up = parent; up != owner_; ++depth) {
        if (depth >= kMaxHierarchyDepth) return Status::not_found("folder " + hex(nid) + " is not below " + hex(owner_));
        PSTKIT_ASSIGN_OR_RETURN(auto e, store_.db().find_node(up));
        if (e.parent_nid == up) return Status::not_found("folder " + hex(nid) + " is not below " + hex(owner_));
        up = e.parent_nid;
      }
      auto& source = parents[parent];
      if (!source) {
        PSTKIT_ASSIGN_OR_RETURN(source, PstTableSource::open(store_, parent, PstTableKind::kHierarchy));
      }
      const RowId one[] = {row};
      PSTKIT_ASSIGN_OR_RETURN(auto values, source->read_rows(one, columns));
      if (values.empty()) return Status::not_found("folder " + hex(nid) + " in the hierarchy table of " + hex(parent));
      set_depth(values[0], columns, depth);
      out.push_back(std::move(values[0]));
    }
    return out;
  }

  Status for_each_sub_row(RowId, PropTag, std::span<const PropTag>, const SubRowVisitor&) override {
    return Status::unsupported("table too complex: hierarchy rows have no recipients or attachments");
  }

 private:
  static void set_depth(std::vector<PropValue>& row, std::span<const PropTag> columns, int32_t depth) {
    for (size_t i = 0; i < columns.size() && i < row.size(); ++i) {
      if (prop_id(columns[i]) == prop_id(kPrDepth) && prop_type(columns[i]) == kPtLong) {
        row[i] = PropValue::long_(kPrDepth, depth);
      }
    }
  }

  // The rows of `table` at `depth`, each followed by its own subtree.
  Status walk(PstTableSource& table, int32_t depth, std::span<const PropTag> columns,
              const std::function<Status(RowId, std::span<const PropValue>)>& visit,
              std::unordered_set<uint32_t>& seen) {
    std::vector<PropValue> row;
    return table.scan(columns, [&](RowId id, std::span<const PropValue> values) -> Status {
      const uint32_t nid = uint32_t(id);
      if (!seen.insert(nid).second) return Status::ok();  // a cycle: listed once
      row.assign(values.begin(), values.end());
      set_depth(row, columns, depth);
      PSTKIT_RETURN_IF_ERROR(visit(id, row));
      const uint8_t type = ndb::nid_type(nid);
      if (type != ndb::kNidTypeNormalFolder) return Status::ok();  // search folders have no subfolders
      if (depth + 1 >= kMaxHierarchyDepth) {
        return Status::corrupt("hierarchy table", Status::kNoOffset,
                               "folder " + hex(nid) + " is nested deeper than " + std::to_string(kMaxHierarchyDepth) +
                                   " levels");
      }
      PSTKIT_ASSIGN_OR_RETURN(auto child, PstTableSource::open(store_, nid, PstTableKind::kHierarchy));
      return walk(*child, depth + 1, columns, visit, seen);
    });
  }

  const Store& store_;
  uint32_t owner_;
  std::unique_ptr<PstTableSource> top_;
};

}  // namespace

Result<std::unique_ptr<RowSource>> open_hierarchy_subtree(const Store& store, uint32_t owner) {
  PSTKIT_ASSIGN_OR_RETURN(auto top, PstTableSource::open(store, owner, PstTableKind::kHierarchy));
  return std::unique_ptr<RowSource>(new SubtreeSource(store, owner, std::move(top)));
}

}  // namespace pstkit::mapi
