// Property type metadata (MS-OXCDATA 2.11.1).
#include <cstdio>

#include "pstkit/property.h"

namespace pstkit::ltp {

namespace {

struct TypeInfo {
  uint16_t type;
  const char* name;  // without the "Ptyp" prefix
  size_t fixed_size;  // 0 = variable size
};

constexpr TypeInfo kTypes[] = {
    {kPtypUnspecified, "Unspecified", 0},
    {kPtypNull, "Null", 0},
    {kPtypInteger16, "Integer16", 2},
    {kPtypInteger32, "Integer32", 4},
    {kPtypFloating32, "Floating32", 4},
    {kPtypFloating64, "Floating64", 8},
    {kPtypCurrency, "Currency", 8},
    {kPtypFloatingTime, "FloatingTime", 8},
    {kPtypErrorCode, "ErrorCode", 4},
    {kPtypBoolean, "Boolean", 1},
    {kPtypObject, "Object", 0},
    {kPtypInteger64, "Integer64", 8},
    {kPtypString8, "String8", 0},
    {kPtypString, "String", 0},
    {kPtypTime, "Time", 8},
    {kPtypGuid, "Guid", 16},
    {kPtypServerId, "ServerId", 0},
    {kPtypRestriction, "Restriction", 0},
    {kPtypRuleAction, "RuleAction", 0},
    {kPtypBinary, "Binary", 0},
};

const TypeInfo* find_base(uint16_t base) {
  for (const auto& t : kTypes) {
    if (t.type == base) return &t;
  }
  return nullptr;
}

// Base types that have a multi-valued form (MS-OXCDATA 2.11.1.2 lists them).
bool has_multiple_form(uint16_t base) {
  switch (base) {
    case kPtypInteger16: case kPtypInteger32: case kPtypFloating32: case kPtypFloating64:
    case kPtypCurrency: case kPtypFloatingTime: case kPtypInteger64: case kPtypString8:
    case kPtypString: case kPtypTime: case kPtypGuid: case kPtypBinary:
      return true;
    default:
      return false;
  }
}

}  // namespace

size_t fixed_type_size(uint16_t type) {
  const TypeInfo* t = find_base(base_type(type));
  return t ? t->fixed_size : 0;
}

bool is_known_type(uint16_t type) {
  if (is_multi_valued(type)) return has_multiple_form(base_type(type));
  return find_base(type) != nullptr;
}

bool is_variable_size_type(uint16_t type) {
  const TypeInfo* t = find_base(base_type(type));
  if (t == nullptr) return false;
  return t->fixed_size == 0 && t->type != kPtypUnspecified && t->type != kPtypNull;
}

std::string prop_type_name(uint16_t type) {
  if (is_known_type(type)) {
    const TypeInfo* t = find_base(base_type(type));
    return std::string(is_multi_valued(type) ? "PtypMultiple" : "Ptyp") + t->name;
  }
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04x", unsigned(type));
  return buf;
}

}  // namespace pstkit::ltp
