// The administration objects' static tables and string conversions
// (com_admin_table.h), on the table engine.
#include "mapi/com_admin_table.h"

#include <memory>
#include <new>

#include "mapi/capi_convert.h"
#include "mapi/com_table.h"

namespace pstkit::mapi::capi {

TableCell string_cell(uint16_t id, std::string utf8, ULONG ulFlags) {
  TableCell cell;
  cell.tag = PROP_TAG(string_type(ulFlags), id);
  cell.text = std::move(utf8);
  return cell;
}

TableCell long_cell(ULONG tag, int32_t value) {
  TableCell cell;
  cell.tag = tag;
  cell.number = value;
  return cell;
}

TableCell bool_cell(ULONG tag, bool value) { return long_cell(tag, value ? 1 : 0); }

TableCell binary_cell(ULONG tag, const uint8_t* data, size_t size) {
  TableCell cell;
  cell.tag = tag;
  cell.bytes.assign(data, data + size);
  return cell;
}

namespace {

PropValue value_of(const TableCell& cell) {
  switch (PROP_TYPE(cell.tag)) {
    case PT_LONG: return PropValue::long_(cell.tag, cell.number);
    case PT_BOOLEAN: return PropValue::boolean(cell.tag, cell.number != 0);
    case PT_STRING8: return PropValue::string8(cell.tag, cell.text);
    case PT_UNICODE: return PropValue::unicode(cell.tag, cell.text);
    case PT_BINARY: return PropValue::binary(cell.tag, ByteView(cell.bytes.data(), cell.bytes.size()));
    case PT_MV_STRING8:
    case PT_MV_UNICODE: {
      std::vector<PropValue> elements;
      const PropTag base = change_prop_type(cell.tag, uint16_t(PROP_TYPE(cell.tag) & ~MV_FLAG));
      for (const std::string& t : cell.texts) {
        elements.push_back(PROP_TYPE(base) == PT_UNICODE ? PropValue::unicode(base, t) : PropValue::string8(base, t));
      }
      return PropValue::multi(cell.tag, std::move(elements));
    }
    default: return PropValue::error(cell.tag);
  }
}

}  // namespace

HRESULT make_static_table(std::vector<ULONG> columns, std::vector<std::vector<TableCell>> rows, LPMAPITABLE* out) {
  if (out == nullptr) return MAPI_E_INVALID_PARAMETER;
  *out = nullptr;
  std::shared_ptr<RowSource> source;
  try {
    std::vector<InMemoryRowSource::Row> table_rows;
    table_rows.reserve(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      InMemoryRowSource::Row row;
      row.id = RowId(i + 1);
      for (const TableCell& cell : rows[i]) row.values.push_back(value_of(cell));
      table_rows.push_back(std::move(row));
    }
    std::vector<PropTag> tags(columns.begin(), columns.end());
    source = std::make_shared<InMemoryRowSource>(std::move(tags), std::move(table_rows));
  } catch (const std::bad_alloc&) {
    return MAPI_E_NOT_ENOUGH_MEMORY;
  }
  return create_table(std::move(source), out);
}


}  // namespace pstkit::mapi::capi
