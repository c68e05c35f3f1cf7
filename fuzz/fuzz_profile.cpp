// Fuzzes the two text formats of the MAPI profile store: the profile file
// (JSON, parse_profile_file) and the service catalog (mapisvc.inf,
// parse_mapisvc_inf). Both come from files any user or package can write.
// Input: a selector byte (even: profile file, odd: catalog), then the text.
// A profile file that parses must serialize to text that parses back to
// the same serialization; every catalog line is either used or reported.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "pstkit/mapi_profiles.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pstkit::mapi;
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) == 0) {
    auto file = parse_profile_file(text, "fuzz.json");
    if (!file.is_ok()) return 0;
    const std::string once = serialize_profile_file(*file);
    auto again = parse_profile_file(once, "fuzz.json");
    if (!again.is_ok() || serialize_profile_file(*again) != once) __builtin_trap();
    return 0;
  }
  std::vector<CatalogDiagnostic> diagnostics;
  auto catalog = parse_mapisvc_inf(text, "fuzz.inf", &diagnostics);
  if (!catalog.is_ok()) return 0;
  for (const auto& d : diagnostics) {
    if (d.line == 0) __builtin_trap();  // every skipped line is named
  }
  Catalog merged = builtin_catalog();
  merged.merge_over(*catalog);
  for (const auto& s : merged.services) {
    if (s.name.empty()) __builtin_trap();
    (void)s.dll_name();
    (void)s.entry_name();
  }
  return 0;
}
