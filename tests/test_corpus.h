// The sample corpus (../shared/corpus beside the checkout) as the tests
// read it: optional locally, required in CI.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace pstkit::test {

inline const std::string kCorpusDir = PSTKIT_SOURCE_DIR "/../shared/corpus/";

// CI=true: a missing corpus is a failure, not a skip.
inline bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

// The whole PST/OST files of MANIFEST.tsv (column 7 names an ANSI or
// Unicode format and no truncation), as paths relative to the corpus.
inline std::vector<std::string> whole_corpus_stores() {
  std::vector<std::string> out;
  std::ifstream in(kCorpusDir + "MANIFEST.tsv");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string col;
    while (std::getline(ss, col, '\t')) cols.push_back(col);
    if (cols.size() < 7) continue;
    const std::string& format = cols[6];
    const bool whole = (format.rfind("ANSI", 0) == 0 || format.rfind("Unicode", 0) == 0) &&
                       format.find("truncated") == std::string::npos;
    if (whole) out.push_back(cols[0]);
  }
  return out;
}

}  // namespace pstkit::test
