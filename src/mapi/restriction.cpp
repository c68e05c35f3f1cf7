// Restriction trees: construction, validation and evaluation against a row
// (srestriction.md and the s*restriction.md pages).
#include <algorithm>

#include "mapi/text_fold.h"
#include "pstkit/mapi_table.h"

namespace pstkit::mapi {
namespace {

Status too_complex(std::string what) { return Status::unsupported("restriction too complex: " + what); }

uint16_t base_of(uint16_t type) { return uint16_t(type & ~(kMvFlag | kMvInstance)); }
// The tag a row holds the property under: MV_INSTANCE only selects how a
// multi-valued column is matched, it is not part of the stored type.
PropTag stored_tag(PropTag tag) { return tag & ~PropTag(kMvInstance); }

bool is_known_relop(uint32_t relop) { return relop <= kRelopRe; }

bool is_string_or_binary(uint16_t base) { return base == kPtString8 || base == kPtUnicode || base == kPtBinary; }
bool is_integer(uint16_t base) { return base == kPtI2 || base == kPtLong || base == kPtI8; }

// The row's value of `tag`, or null when the row lacks it (absent, PT_ERROR,
// or held under another type; PT_UNSPECIFIED accepts any type).
const PropValue* find_cell(std::span<const PropValue> row, PropTag tag) {
  const uint16_t id = prop_id(tag);
  const uint16_t want = prop_type(stored_tag(tag));
  for (const PropValue& v : row) {
    if (prop_id(v.tag) != id || v.is_error()) continue;
    if (want == kPtUnspecified || v.type() == want) return &v;
  }
  return nullptr;
}

bool relop_holds(uint32_t relop, int c) {
  switch (relop) {
    case kRelopLt: return c < 0;
    case kRelopLe: return c <= 0;
    case kRelopGt: return c > 0;
    case kRelopGe: return c >= 0;
    case kRelopEq: return c == 0;
    case kRelopNe: return c != 0;
    default: return false;  // RELOP_RE is refused by validate
  }
}

// Byte size of a value for RES_SIZE: fixed types their SPropValue member's
// size, PT_STRING8 its bytes and terminator, PT_UNICODE its UTF-16 code units
// and terminator (2 bytes each), binary its cb, multi-valued the sum.
uint64_t value_size(const PropValue& v) {
  const uint16_t type = v.type();
  if (type & kMvFlag) {
    uint64_t total = 0;
    for (const PropValue& e : v.values) total += value_size(e);
    return total;
  }
  switch (type) {
    case kPtI2:
    case kPtBoolean: return 2;
    case kPtLong:
    case kPtR4:
    case kPtError: return 4;
    case kPtDouble:
    case kPtCurrency:
    case kPtAppTime:
    case kPtI8:
    case kPtSysTime: return 8;
    case kPtClsid: return 16;
    case kPtString8: return v.bytes.size() + 1;
    case kPtUnicode: {
      uint64_t units = 0;
      for (unsigned char c : v.bytes) {
        if ((c & 0xC0) != 0x80) units += 1;  // a code point starts
        if (c >= 0xF0) units += 1;           // ... and needs a surrogate pair
      }
      return 2 * (units + 1);
    }
    case kPtBinary:
    case kPtSvrEid: return v.bytes.size();
    default: return 0;
  }
}

Status validate_at(const Restriction& r, int depth) {
  if (depth > kMaxRestrictionDepth) {
    return too_complex("nested deeper than " + std::to_string(kMaxRestrictionDepth) + " levels");
  }
  const uint16_t type = prop_type(r.tag);
  switch (r.type) {
    case RestrictionType::kAnd:
    case RestrictionType::kOr:
      for (const Restriction& c : r.children) PSTKIT_RETURN_IF_ERROR(validate_at(c, depth + 1));
      return Status::ok();
    case RestrictionType::kNot:
      if (r.children.size() != 1) return Status::invalid_argument("RES_NOT needs one restriction");
      return validate_at(r.children[0], depth + 1);
    case RestrictionType::kContent: {
      const uint32_t level = r.flags & 0xFFFF;
      if (level != kFlFullString && level != kFlSubstring && level != kFlPrefix) {
        return too_complex("RES_CONTENT fuzzy level " + std::to_string(level));
      }
      if (!is_string_or_binary(base_of(type))) return too_complex("RES_CONTENT on a property that is no string or binary");
      // scontentrestriction.md: the types must match (a multi-valued column is
      // searched with a single value, as in a property restriction).
      if (r.value.type() != base_of(type)) return too_complex("RES_CONTENT value type differs from the property's");
      return Status::ok();
    }
    case RestrictionType::kProperty: {
      if (!is_known_relop(r.flags)) return Status::invalid_argument("unknown relop " + std::to_string(r.flags));
      if (r.flags == kRelopRe) return too_complex("RELOP_RE (regular expressions) is not supported");
      const uint16_t column = prop_type(stored_tag(r.tag));
      // spropertyrestriction.md: the types must match; on a multi-valued
      // column the value is of the base type ("any value matches"), or of the
      // column's own type (the columns compare as tuples, restrict.md).
      const bool any_value = (column & kMvFlag) && r.value.type() == base_of(column);
      if (r.value.type() != column && !any_value) return too_complex("RES_PROPERTY value type differs from the property's");
      if (base_of(column) == kPtObject || base_of(column) == kPtError) return too_complex("RES_PROPERTY on this type");
      return Status::ok();
    }
    case RestrictionType::kCompareProps:
      if (!is_known_relop(r.flags)) return Status::invalid_argument("unknown relop " + std::to_string(r.flags));
      if (r.flags == kRelopRe) return too_complex("RELOP_RE (regular expressions) is not supported");
      if (prop_type(stored_tag(r.tag)) != prop_type(stored_tag(r.tag2))) {
        return too_complex("RES_COMPAREPROPS on properties of different types");
      }
      return Status::ok();
    case RestrictionType::kBitmask:
      if (r.flags != kBmrEqz && r.flags != kBmrNez) {
        return Status::invalid_argument("unknown bitmask operator " + std::to_string(r.flags));
      }
      if (!is_integer(type)) return too_complex("RES_BITMASK on a property that is no integer");
      return Status::ok();
    case RestrictionType::kSize:
      if (!is_known_relop(r.flags)) return Status::invalid_argument("unknown relop " + std::to_string(r.flags));
      if (r.flags == kRelopRe) return too_complex("RELOP_RE (regular expressions) is not supported");
      return Status::ok();
    case RestrictionType::kExist:
      if (base_of(type) == kPtObject) return too_complex("RES_EXIST on a PT_OBJECT property");
      return Status::ok();
    case RestrictionType::kSubRestriction:
      if (prop_id(r.tag) != prop_id(kPrMessageRecipients) && prop_id(r.tag) != prop_id(kPrMessageAttachments)) {
        return too_complex("RES_SUBRESTRICTION on other than recipients or attachments");
      }
      if (r.children.size() != 1) return Status::invalid_argument("RES_SUBRESTRICTION needs one restriction");
      return validate_at(r.children[0], depth + 1);
    case RestrictionType::kComment:
      if (r.children.size() > 1) return Status::invalid_argument("RES_COMMENT holds at most one restriction");
      return r.children.empty() ? Status::ok() : validate_at(r.children[0], depth + 1);
    case RestrictionType::kCount:
      return too_complex("RES_COUNT is not supported");
    case RestrictionType::kAnnotation:
      return too_complex("RES_ANNOTATION is not supported");
  }
  return Status::invalid_argument("unknown restriction type " + std::to_string(uint32_t(r.type)));
}

void add_column(std::vector<PropTag>& out, PropTag tag) {
  tag = stored_tag(tag);
  if (std::find(out.begin(), out.end(), tag) == out.end()) out.push_back(tag);
}

void collect_columns(const Restriction& r, std::vector<PropTag>& out, int depth) {
  if (depth > kMaxRestrictionDepth) return;
  switch (r.type) {
    case RestrictionType::kContent:
    case RestrictionType::kProperty:
    case RestrictionType::kBitmask:
    case RestrictionType::kSize:
    case RestrictionType::kExist:
      add_column(out, r.tag);
      return;
    case RestrictionType::kCompareProps:
      add_column(out, r.tag);
      add_column(out, r.tag2);
      return;
    case RestrictionType::kSubRestriction:
      return;  // its columns are the sub-rows'
    default:
      for (const Restriction& c : r.children) collect_columns(c, out, depth + 1);
  }
}

bool content_matches(const PropValue& cell, const Restriction& r) {
  const PropValue& search = r.value;
  const bool binary = search.type() == kPtBinary;
  uint32_t fold = kFoldNone;
  if (!binary) {
    if (r.flags & (kFlIgnoreCase | kFlLoose)) fold |= kFoldCase;
    if (r.flags & (kFlIgnoreNonSpace | kFlLoose)) fold |= kFoldNonSpace;
  }
  const MatchKind kind = (r.flags & 0xFFFF) == kFlPrefix      ? MatchKind::kPrefix
                         : (r.flags & 0xFFFF) == kFlSubstring ? MatchKind::kSubstring
                                                              : MatchKind::kFull;
  const bool utf8 = search.type() == kPtUnicode;
  if (cell.type() & kMvFlag) {
    return std::any_of(cell.values.begin(), cell.values.end(), [&](const PropValue& e) {
      return contains_folded(e.bytes, search.bytes, utf8, fold, kind);
    });
  }
  return contains_folded(cell.bytes, search.bytes, utf8, fold, kind);
}

struct Evaluator {
  SubObjects* sub_objects;

  Result<bool> eval(std::span<const PropValue> row, const Restriction& r, int depth) {
    if (depth > kMaxRestrictionDepth) return too_complex("nested too deep");
    switch (r.type) {
      case RestrictionType::kAnd:
        for (const Restriction& c : r.children) {
          PSTKIT_ASSIGN_OR_RETURN(bool m, eval(row, c, depth + 1));
          if (!m) return false;
        }
        return true;
      case RestrictionType::kOr:
        for (const Restriction& c : r.children) {
          PSTKIT_ASSIGN_OR_RETURN(bool m, eval(row, c, depth + 1));
          if (m) return true;
        }
        return false;
      case RestrictionType::kNot: {
        if (r.children.size() != 1) return Status::invalid_argument("RES_NOT needs one restriction");
        PSTKIT_ASSIGN_OR_RETURN(bool m, eval(row, r.children[0], depth + 1));
        return !m;
      }
      case RestrictionType::kContent: {
        const PropValue* cell = find_cell(row, r.tag);
        return cell != nullptr && content_matches(*cell, r);
      }
      case RestrictionType::kProperty: {
        const PropValue* cell = find_cell(row, r.tag);
        if (cell == nullptr) return false;
        if ((cell->type() & kMvFlag) && !(r.value.type() & kMvFlag)) {
          return std::any_of(cell->values.begin(), cell->values.end(), [&](const PropValue& e) {
            return relop_holds(r.flags, compare_values(e, r.value));
          });
        }
        return relop_holds(r.flags, compare_values(*cell, r.value));
      }
      case RestrictionType::kCompareProps: {
        const PropValue* a = find_cell(row, r.tag);
        const PropValue* b = find_cell(row, r.tag2);
        return a != nullptr && b != nullptr && relop_holds(r.flags, compare_values(*a, *b));
      }
      case RestrictionType::kBitmask: {
        const PropValue* cell = find_cell(row, r.tag);
        if (cell == nullptr) return false;
        const bool zero = (uint64_t(cell->integer) & r.number) == 0;
        return r.flags == kBmrEqz ? zero : !zero;
      }
      case RestrictionType::kSize: {
        const PropValue* cell = find_cell(row, r.tag);
        if (cell == nullptr) return false;
        const uint64_t size = value_size(*cell);
        return relop_holds(r.flags, size < r.number ? -1 : size > r.number ? 1 : 0);
      }
      case RestrictionType::kExist:
        return find_cell(row, r.tag) != nullptr;
      case RestrictionType::kSubRestriction:
        return eval_sub(r, depth);
      case RestrictionType::kComment:
        if (r.children.empty()) return true;
        return eval(row, r.children[0], depth + 1);
      default:
        return validate_at(r, depth);  // always an error for these types
    }
  }

  Result<bool> eval_sub(const Restriction& r, int depth) {
    if (sub_objects == nullptr || r.children.size() != 1) return false;
    const Restriction& child = r.children[0];
    const std::vector<PropTag> columns = restriction_columns(child);
    bool found = false;
    Status failure;
    // Sub-rows have no sub-objects of their own here.
    Evaluator inner{nullptr};
    PSTKIT_RETURN_IF_ERROR(sub_objects->for_each_sub_row(
        r.tag, columns, [&](std::span<const PropValue> sub_row) {
          Result<bool> m = inner.eval(sub_row, child, depth + 1);
          if (!m.is_ok()) {
            failure = m.status();
            return true;
          }
          found = *m;
          return found;
        }));
    if (!failure.is_ok()) return failure;
    return found;
  }
};

}  // namespace

Restriction Restriction::all_of(std::vector<Restriction> children) {
  Restriction r;
  r.type = RestrictionType::kAnd;
  r.children = std::move(children);
  return r;
}
Restriction Restriction::any_of(std::vector<Restriction> children) {
  Restriction r;
  r.type = RestrictionType::kOr;
  r.children = std::move(children);
  return r;
}
Restriction Restriction::negate(Restriction child) {
  Restriction r;
  r.type = RestrictionType::kNot;
  r.children.push_back(std::move(child));
  return r;
}
Restriction Restriction::content(uint32_t fuzzy_level, PropTag tag, PropValue search) {
  Restriction r;
  r.type = RestrictionType::kContent;
  r.flags = fuzzy_level;
  r.tag = tag;
  r.value = std::move(search);
  return r;
}
Restriction Restriction::property(Relop relop, PropTag tag, PropValue constant) {
  Restriction r;
  r.type = RestrictionType::kProperty;
  r.flags = relop;
  r.tag = tag;
  r.value = std::move(constant);
  return r;
}
Restriction Restriction::compare_props(Relop relop, PropTag tag1, PropTag tag2) {
  Restriction r;
  r.type = RestrictionType::kCompareProps;
  r.flags = relop;
  r.tag = tag1;
  r.tag2 = tag2;
  return r;
}
Restriction Restriction::bitmask(BitmaskRelop op, PropTag tag, uint32_t mask) {
  Restriction r;
  r.type = RestrictionType::kBitmask;
  r.flags = op;
  r.tag = tag;
  r.number = mask;
  return r;
}
Restriction Restriction::size(Relop relop, PropTag tag, uint32_t cb) {
  Restriction r;
  r.type = RestrictionType::kSize;
  r.flags = relop;
  r.tag = tag;
  r.number = cb;
  return r;
}
Restriction Restriction::exist(PropTag tag) {
  Restriction r;
  r.type = RestrictionType::kExist;
  r.tag = tag;
  return r;
}
Restriction Restriction::sub(PropTag subobject, Restriction child) {
  Restriction r;
  r.type = RestrictionType::kSubRestriction;
  r.tag = subobject;
  r.children.push_back(std::move(child));
  return r;
}
Restriction Restriction::comment(std::vector<PropValue> values, std::optional<Restriction> child) {
  Restriction r;
  r.type = RestrictionType::kComment;
  r.comment_values = std::move(values);
  if (child) r.children.push_back(std::move(*child));
  return r;
}

Status validate(const Restriction& restriction) { return validate_at(restriction, 1); }

std::vector<PropTag> restriction_columns(const Restriction& restriction) {
  std::vector<PropTag> out;
  collect_columns(restriction, out, 1);
  return out;
}

Result<bool> matches(std::span<const PropValue> row, const Restriction& restriction, SubObjects* sub_objects) {
  Evaluator evaluator{sub_objects};
  return evaluator.eval(row, restriction, 1);
}

}  // namespace pstkit::mapi
