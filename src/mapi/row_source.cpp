// InMemoryRowSource and the column picking every row source shares.
#include <algorithm>

#include "pstkit/mapi_table.h"

namespace pstkit::mapi {
namespace {
constexpr PropTag kPrNull = prop_tag(0, kPtNull);
}

std::vector<PropValue> pick_columns(std::span<const PropValue> values, std::span<const PropTag> columns) {
  std::vector<PropValue> row;
  row.reserve(columns.size());
  for (PropTag column : columns) {
    if (column == kPrNull) {
      row.push_back(PropValue::null(kPrNull));  // setcolumns.md: PR_NULL reserves a slot
      continue;
    }
    const PropTag tag = column & ~PropTag(kMvInstance);
    const auto it = std::find_if(values.begin(), values.end(), [&](const PropValue& v) {
      return prop_id(v.tag) == prop_id(tag) && (prop_type(tag) == kPtUnspecified || v.type() == prop_type(tag));
    });
    row.push_back(it != values.end() ? *it : PropValue::error(tag));
  }
  return row;
}

InMemoryRowSource::InMemoryRowSource(std::vector<PropTag> default_columns, std::vector<Row> rows)
    : default_columns_(std::move(default_columns)), rows_(std::move(rows)) {
  for (size_t i = 0; i < rows_.size(); ++i) index_.emplace(rows_[i].id, i);  // the first row of an id wins
}

std::vector<PropTag> InMemoryRowSource::available_columns() const {
  std::vector<PropTag> out = default_columns_;
  for (const Row& row : rows_) {
    for (const PropValue& v : row.values) {
      if (std::find(out.begin(), out.end(), v.tag) == out.end()) out.push_back(v.tag);
    }
  }
  return out;
}

const InMemoryRowSource::Row* InMemoryRowSource::find(RowId id) const {
  const auto it = index_.find(id);
  return it == index_.end() ? nullptr : &rows_[it->second];
}

Status InMemoryRowSource::scan(std::span<const PropTag> columns,
                               const std::function<Status(RowId, std::span<const PropValue>)>& visit) {
  ++scans;
  for (const Row& row : rows_) {
    const std::vector<PropValue> picked = pick_columns(row.values, columns);
    PSTKIT_RETURN_IF_ERROR(visit(row.id, picked));
  }
  return Status::ok();
}

Result<std::vector<std::vector<PropValue>>> InMemoryRowSource::read_rows(std::span<const RowId> rows,
                                                                         std::span<const PropTag> columns) {
  std::vector<std::vector<PropValue>> out;
  out.reserve(rows.size());
  for (RowId id : rows) {
    const Row* row = find(id);
    if (row == nullptr) return Status::not_found("table row " + std::to_string(id));
    ++rows_read;
    out.push_back(pick_columns(row->values, columns));
  }
  return out;
}

Status InMemoryRowSource::for_each_sub_row(RowId id, PropTag subobject, std::span<const PropTag> columns,
                                           const SubRowVisitor& visit) {
  const Row* row = find(id);
  if (row == nullptr) return Status::not_found("table row " + std::to_string(id));
  const auto& sub_rows = prop_id(subobject) == prop_id(kPrMessageRecipients) ? row->recipients : row->attachments;
  for (const auto& sub_row : sub_rows) {
    const std::vector<PropValue> picked = pick_columns(sub_row, columns);
    if (visit(picked)) break;
  }
  return Status::ok();
}

}  // namespace pstkit::mapi
