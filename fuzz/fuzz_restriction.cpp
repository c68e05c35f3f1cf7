// Fuzzes the MAPI table engine (pstkit/mapi_table.h): restriction trees and
// sort order sets built from the input (bounded in depth past
// kMaxRestrictionDepth and in size), validated, evaluated against rows with
// sub-rows, and applied through a TableCursor (Restrict, SortTable,
// QueryRows, SeekRow, FindRow, bookmarks). Any input must yield Statuses,
// never a crash, a hang or an unbounded allocation; a valid tree's NOT must
// match exactly the rows the tree does not.
//
// Input layout: a byte stream read front to back; each choice takes one
// byte (zero once the input ends).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "pstkit/mapi_table.h"

namespace {

using namespace pstkit;
using namespace pstkit::mapi;

constexpr int kMaxBuildDepth = kMaxRestrictionDepth + 4;
constexpr size_t kMaxNodes = 512;
constexpr size_t kMaxText = 24;

class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint32_t u32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | byte();
    return v;
  }
  std::string text() {
    size_t n = byte() % (kMaxText + 1);
    std::string s;
    for (size_t i = 0; i < n; ++i) s.push_back(char(byte()));
    return s;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

constexpr uint16_t kIds[] = {0x0037, 0x0E08, 0x8012, 0x0FFF, 0x0C1A, 0x3003};
constexpr uint16_t kTypes[] = {kPtI2,     kPtLong,     kPtR4,      kPtDouble,  kPtCurrency,
                               kPtAppTime, kPtError,   kPtBoolean, kPtI8,      kPtString8,
                               kPtUnicode, kPtSysTime, kPtClsid,   kPtBinary,  kMvFlag | kPtLong,
                               kMvFlag | kPtUnicode, kMvFlag | kPtBinary, kPtNull, kPtObject, kPtUnspecified};

PropTag pick_tag(Input& in) {
  PropTag tag = prop_tag(kIds[in.byte() % std::size(kIds)], kTypes[in.byte() % std::size(kTypes)]);
  if ((in.byte() & 7) == 0) tag |= kMvInstance;
  return tag;
}

PropValue single_value(Input& in, PropTag tag) {
  switch (prop_type(tag)) {
    case kPtI2: return PropValue::i2(tag, int16_t(in.u32()));
    case kPtLong: return PropValue::long_(tag, int32_t(in.u32()));
    case kPtR4: return PropValue::r4(tag, float(int32_t(in.u32())) / 7.0f);
    case kPtDouble: return PropValue::double_(tag, double(int32_t(in.u32())) / 3.0);
    case kPtAppTime: return PropValue::apptime(tag, double(in.u32()));
    case kPtCurrency: return PropValue::currency(tag, int64_t(in.u32()) - (1 << 30));
    case kPtError: return PropValue::error(tag, int32_t(in.u32()));
    case kPtBoolean: return PropValue::boolean(tag, in.byte() & 1);
    case kPtI8: return PropValue::i8(tag, int64_t(uint64_t(in.u32()) << 32 | in.u32()));
    case kPtSysTime: return PropValue::systime(tag, uint64_t(in.u32()) << 24);
    case kPtString8: return PropValue::string8(tag, in.text());
    case kPtUnicode: return PropValue::unicode(tag, in.text());  // may be invalid UTF-8 on purpose
    case kPtBinary: {
      std::string s = in.text();
      return PropValue::binary(tag, ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
    }
    case kPtClsid: {
      Guid g{};
      for (auto& b : g) b = in.byte();
      return PropValue::clsid(tag, g);
    }
    default: return PropValue::null(tag);
  }
}

PropValue value_for(Input& in, PropTag tag) {
  tag &= ~PropTag(kMvInstance);
  const uint16_t type = prop_type(tag);
  if (!(type & kMvFlag)) return single_value(in, tag);
  std::vector<PropValue> elements;
  const size_t n = in.byte() % 4;
  for (size_t i = 0; i < n; ++i) elements.push_back(single_value(in, change_prop_type(tag, uint16_t(type & ~kMvFlag))));
  return PropValue::multi(tag, std::move(elements));
}

Restriction build(Input& in, int depth, size_t& nodes) {
  ++nodes;
  const uint8_t kind = in.byte();
  const bool leaf_only = depth >= kMaxBuildDepth || nodes >= kMaxNodes;
  Restriction r;
  r.type = RestrictionType(leaf_only ? 8 : kind % 15);  // 13, 14: unknown types
  r.flags = (in.byte() & 0x80) ? in.u32() : in.byte() % 8;
  if (r.type == RestrictionType::kContent) r.flags = (in.byte() % 4) | (uint32_t(in.byte() % 8) << 16);
  r.tag = pick_tag(in);
  r.tag2 = pick_tag(in);
  r.number = in.byte();
  if ((in.byte() & 3) == 0) {
    r.value = value_for(in, r.tag);  // same type: reaches evaluation
    if (prop_type(r.tag) & kMvFlag && (in.byte() & 1)) {
      r.value = single_value(in, change_prop_type(r.tag, uint16_t(prop_type(r.tag) & ~(kMvFlag | kMvInstance))));
    }
  } else {
    r.value = value_for(in, pick_tag(in));
  }
  if (r.type == RestrictionType::kSubRestriction) {
    r.tag = (in.byte() & 1) ? kPrMessageRecipients : kPrMessageAttachments;
  }
  if (!leaf_only) {
    size_t children = 0;
    switch (r.type) {
      case RestrictionType::kAnd:
      case RestrictionType::kOr: children = in.byte() % 4; break;
      case RestrictionType::kNot:
      case RestrictionType::kSubRestriction:
      case RestrictionType::kComment:
      case RestrictionType::kCount: children = in.byte() % 3 == 0 ? 0 : 1; break;
      default: break;
    }
    for (size_t i = 0; i < children && nodes < kMaxNodes; ++i) r.children.push_back(build(in, depth + 1, nodes));
  }
  return r;
}

std::vector<PropValue> make_row(Input& in) {
  std::vector<PropValue> row;
  const size_t n = in.byte() % 6;
  for (size_t i = 0; i < n; ++i) {
    PropTag tag = pick_tag(in) & ~PropTag(kMvInstance);
    row.push_back(value_for(in, tag));
  }
  return row;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  std::vector<InMemoryRowSource::Row> rows(in.byte() % 6);
  RowId next_id = 1;
  for (auto& row : rows) {
    row.id = next_id++;
    row.values = make_row(in);
    for (size_t i = in.byte() % 3; i > 0; --i) row.recipients.push_back(make_row(in));
    for (size_t i = in.byte() % 3; i > 0; --i) row.attachments.push_back(make_row(in));
  }
  size_t nodes = 0;
  Restriction restriction = build(in, 1, nodes);
  const Status valid = validate(restriction);
  (void)restriction_columns(restriction);

  InMemoryRowSource source({prop_tag(0x0037, kPtUnicode), prop_tag(0x0E08, kPtLong)}, rows);
  for (const auto& row : rows) {
    struct Subs final : SubObjects {
      InMemoryRowSource* source;
      RowId id;
      Status for_each_sub_row(PropTag o, std::span<const PropTag> c, const SubRowVisitor& v) override {
        return source->for_each_sub_row(id, o, c, v);
      }
    } subs;
    subs.source = &source;
    subs.id = row.id;
    Result<bool> m = matches(row.values, restriction, &subs);
    if (valid.is_ok()) {
      if (!m.is_ok()) abort();  // a valid tree always evaluates
      // NOT is exact complement (no third value): valid trees are within the
      // depth bound, so wrap them only when there is room.
      if (nodes < kMaxNodes) {
        Result<bool> negated = matches(row.values, Restriction::negate(restriction), &subs);
        if (negated.is_ok() && *negated == *m) abort();
      }
    }
  }

  TableCursor cursor(source);
  SortOrderSet sort;
  for (size_t i = in.byte() % 4; i > 0; --i) sort.keys.push_back({pick_tag(in), uint32_t(in.byte() % 10)});
  if ((in.byte() & 3) == 0) sort.categories = in.byte() % 3;
  (void)cursor.sort_table(sort);
  const Status restricted = cursor.restrict(restriction);
  if (restricted.is_ok() != valid.is_ok()) abort();
  Result<uint32_t> count = cursor.row_count();
  if (count.is_ok() && *count > rows.size()) abort();
  std::vector<Bookmark> bookmarks;
  for (int step = 0; step < 16; ++step) {
    const uint8_t op = in.byte();
    const int32_t n = int8_t(in.byte());
    const Bookmark origin = bookmarks.empty() || (op & 0x80) == 0 ? Bookmark(op % 3) : bookmarks[op % bookmarks.size()];
    switch (op % 7) {
      case 0: (void)cursor.query_rows(n, in.byte() & 1); break;
      case 1: (void)cursor.seek_row(origin, n); break;
      case 2: (void)cursor.seek_row_approx(in.byte(), in.byte()); break;
      case 3: (void)cursor.find_row(restriction, origin, in.byte() & 1); break;
      case 4: {
        Result<Bookmark> b = cursor.create_bookmark();
        if (b.is_ok()) bookmarks.push_back(*b);
        break;
      }
      case 5: (void)cursor.free_bookmark(origin); break;
      case 6: (void)cursor.restrict(std::nullopt); break;
    }
    Result<Position> p = cursor.query_position();
    Result<uint32_t> c = cursor.row_count();
    if (p.is_ok() && c.is_ok() && p->row > *c) abort();
  }
  return 0;
}
