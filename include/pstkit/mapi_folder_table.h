// Row sources (pstkit/mapi_table.h) over a PST's tables: a folder's
// hierarchy, contents and associated contents tables (MS-PST 2.4.4.4-
// 2.4.4.5) and a message's recipient and attachment tables (MS-PST 2.4.5.2,
// 2.4.6.1), for a TableCursor.
//
// Columns: the table context's columns, plus these computed ones MAPI
// clients expect of a table (a stored cell of the same property wins):
//   PR_ENTRYID         folder and message rows: the row's entry ID
//                      (mapi_entry_id.h; the row id is the object's NID)
//   PR_PARENT_ENTRYID  folder and message rows: the folder's entry ID
//   PR_STORE_RECORD_KEY folder and message rows: the store's provider UID
//   PR_INSTANCE_KEY    every row: its row id, 4 bytes little-endian (unique
//                      within the table, as imapitable.md asks)
//   PR_OBJECT_TYPE     MAPI_FOLDER, MAPI_MESSAGE, MAPI_MAILUSER, MAPI_ATTACH
//   PR_DEPTH           0 (no categories)
//   PR_ROWID           recipient and attachment rows: the row id
// PR_RECORD_KEY is not computed: the PST keeps a folder's or message's
// record key only where the writer stored it (then the TC's column serves).
//
// Values: as from_stored gives them, except PR_SUBJECT without the
// subject-prefix marker (normalize_subject), and a PT_UNICODE column asked
// of a PT_STRING8 cell (or the reverse) converted through the store's code
// page. A cell that does not decode is PT_ERROR MAPI_E_CORRUPT_DATA.
//
// scan() streams the TC's rows and decodes only the requested columns; row
// ids are dwRowID (a folder's or message's NID; a recipient's row id; an
// attachment's subnode NID). Sub-rows (RES_SUBRESTRICTION) of contents rows
// come from the message's recipient and attachment tables.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "pstkit/ltp.h"
#include "pstkit/mapi_entry_id.h"
#include "pstkit/mapi_table.h"

namespace pstkit {
class Store;
}

namespace pstkit::mapi {

// Property tags of the computed columns.
inline constexpr PropTag kPrEntryId = prop_tag(0x0FFF, kPtBinary);
inline constexpr PropTag kPrParentEntryId = prop_tag(0x0E09, kPtBinary);
inline constexpr PropTag kPrStoreRecordKey = prop_tag(0x0FFA, kPtBinary);
inline constexpr PropTag kPrInstanceKey = prop_tag(0x0FF6, kPtBinary);
inline constexpr PropTag kPrObjectType = prop_tag(0x0FFE, kPtLong);
inline constexpr PropTag kPrDepth = prop_tag(0x3005, kPtLong);
inline constexpr PropTag kPrRowId = prop_tag(0x3000, kPtLong);

// PR_OBJECT_TYPE values (mapidefs.h).
inline constexpr int32_t kMapiFolder = 3;
inline constexpr int32_t kMapiMessage = 5;
inline constexpr int32_t kMapiMailUser = 6;
inline constexpr int32_t kMapiAttach = 7;

enum class PstTableKind {
  kHierarchy,           // a folder's subfolders (NID type 0x0D)
  kContents,            // a folder's messages (0x0E, for search folders too)
  kAssociatedContents,  // a folder's associated messages (0x0F)
  kRecipients,          // a message's recipient table (subnode 0x692)
  kAttachments,         // a message's attachment table (subnode 0x671)
};

class PstTableSource final : public RowSource {
 public:
  // A folder's table (kHierarchy, kContents, kAssociatedContents) or a
  // message's (kRecipients, kAttachments) of `store`, which must outlive
  // the source. A table the object lacks is empty. `owner` is the folder's
  // or message's NID.
  static Result<std::unique_ptr<PstTableSource>> open(const Store& store, uint32_t owner, PstTableKind kind);

  PstTableKind kind() const { return kind_; }
  uint64_t row_count_hint() const override;
  std::vector<PropTag> default_columns() const override;
  std::vector<PropTag> available_columns() const override;
  Status scan(std::span<const PropTag> columns,
              const std::function<Status(RowId, std::span<const PropValue>)>& visit) override;
  Result<std::vector<std::vector<PropValue>>> read_rows(std::span<const RowId> rows,
                                                        std::span<const PropTag> columns) override;
  // Contents and associated contents rows only (others: kUnsupported).
  Status for_each_sub_row(RowId row, PropTag subobject, std::span<const PropTag> columns,
                          const SubRowVisitor& visit) override;

 private:
  PstTableSource(const Store& store, uint32_t owner, PstTableKind kind) : store_(store), owner_(owner), kind_(kind) {}
  // Where each requested column comes from: a TC column index or computed.
  struct ColumnPlan {
    PropTag tag = 0;
    std::optional<size_t> tc_column;
    bool computed = false;
  };
  std::vector<ColumnPlan> plan(std::span<const PropTag> columns) const;
  Status read_row(size_t tc_row, uint32_t row_id, const std::vector<ColumnPlan>& plan,
                  std::vector<PropValue>& out) const;
  std::vector<PropTag> computed_columns() const;
  PropValue computed(PropTag tag, uint32_t row_id) const;

  const Store& store_;
  uint32_t owner_;
  PstTableKind kind_;
  ProviderUid uid_{};
  bool has_uid_ = false;
  std::optional<ltp::TableContext> tc_;  // nullopt: the object has no such table
};

// A folder's hierarchy table with CONVENIENT_DEPTH
// (imapicontainer-gethierarchytable.md): every folder below `owner`, depth
// first (each folder followed by its subfolders, in hierarchy-table order),
// each row as its parent's hierarchy table gives it with PR_DEPTH its level
// below `owner` (0 for a subfolder of `owner`; pidtagdepth: relative to the
// container). Row ids are folder NIDs. A folder reached twice (a cycle in a
// damaged file) is listed once; folders nested deeper than
// kMaxHierarchyDepth levels are a kCorrupt error naming the folder.
inline constexpr int kMaxHierarchyDepth = 256;
Result<std::unique_ptr<RowSource>> open_hierarchy_subtree(const Store& store, uint32_t owner);

}  // namespace pstkit::mapi
