// A folder's contents table through the MAPI table engine, for
// bench/mapi_table_bench.sh:
//   mapi_table_query FILE FOLDER_NID TEXT MIN_DELIVERY_FILETIME
// Restricts to rows whose PR_SUBJECT contains TEXT (FL_SUBSTRING |
// FL_IGNORECASE) and whose PR_MESSAGE_DELIVERY_TIME is >= the FILETIME,
// sorts by delivery time descending then subject ascending, and prints
// every row (entry ID in hex, delivery time, subject), then the row count
// on stderr. FOLDER_NID in decimal or 0x hex.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "pstkit/mapi_folder_table.h"
#include "pstkit/mapi_table.h"
#include "pstkit/messaging.h"

using namespace pstkit;
using namespace pstkit::mapi;
using PropTag = mapi::PropTag;
using PropValue = mapi::PropValue;

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: mapi_table_query FILE FOLDER_NID TEXT MIN_DELIVERY_FILETIME\n");
    return 2;
  }
  auto store = Store::open(argv[1]);
  if (!store) return std::fprintf(stderr, "mapi_table_query: %s\n", store.status().message().c_str()), 1;
  const uint32_t folder = uint32_t(std::strtoul(argv[2], nullptr, 0));
  auto source = PstTableSource::open(**store, folder, PstTableKind::kContents);
  if (!source) return std::fprintf(stderr, "mapi_table_query: %s\n", source.status().message().c_str()), 1;

  constexpr PropTag kSubject = prop_tag(0x0037, kPtUnicode);
  constexpr PropTag kDelivery = prop_tag(0x0E06, kPtSysTime);
  TableCursor table(**source);
  Status st = table.set_columns({kPrEntryId, kDelivery, kSubject});
  if (st.is_ok()) {
    st = table.restrict(Restriction::all_of(
        {Restriction::content(kFlSubstring | kFlIgnoreCase, kSubject, mapi::PropValue::unicode(kSubject, argv[3])),
         Restriction::property(kRelopGe, kDelivery,
                               mapi::PropValue::systime(kDelivery, std::strtoull(argv[4], nullptr, 0)))}));
  }
  if (st.is_ok()) st = table.sort_table({{{kDelivery, kSortDescend}, {kSubject, kSortAscend}}});
  if (!st.is_ok()) return std::fprintf(stderr, "mapi_table_query: %s\n", st.message().c_str()), 1;

  uint64_t count = 0;
  std::string line;
  for (;;) {
    auto rows = table.query_rows(1000);
    if (!rows) return std::fprintf(stderr, "mapi_table_query: %s\n", rows.status().message().c_str()), 1;
    if (rows->empty()) break;
    for (const auto& row : *rows) {
      line.clear();
      for (unsigned char c : row[0].bytes) {
        static const char kHex[] = "0123456789abcdef";
        line += kHex[c >> 4];
        line += kHex[c & 15];
      }
      line += '\t' + std::to_string(row[1].integer) + '\t' + row[2].bytes + '\n';
      std::fwrite(line.data(), 1, line.size(), stdout);
      ++count;
    }
  }
  std::fprintf(stderr, "%llu rows\n", static_cast<unsigned long long>(count));
  return 0;
}
