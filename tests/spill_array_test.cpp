// SpillArray (src/util/spill_array.h), the checker's and the salvaged
// index's per-block storage: with a budget of a few pages it must behave
// exactly as a std::vector (values, lower_bound, stable_sort through the
// external merge, truncate), and a temporary file that cannot be made or
// written must surface as an error, never as a crash or wrong data.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "util/spill_array.h"

namespace pstkit {
namespace {

struct Rec {
  uint32_t key = 0;
  uint32_t seq = 0;  // original position, to see stability
  uint64_t payload = 0;
};
bool operator==(const Rec& a, const Rec& b) { return a.key == b.key && a.seq == b.seq && a.payload == b.payload; }
bool by_key(const Rec& a, const Rec& b) { return a.key < b.key; }

// 256 bytes: 16 records a page, 4 pages in memory.
constexpr size_t kTinyBudget = 256;

std::vector<Rec> random_records(size_t n, uint32_t keys, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<Rec> v;
  for (size_t i = 0; i < n; ++i) v.push_back({uint32_t(rng() % keys), uint32_t(i), rng()});
  return v;
}

TEST(SpillArray, SmallArraysStayInMemory) {
  const uint64_t files = spill_files_created();
  SpillArray<Rec> a(1 << 20);
  for (const Rec& r : random_records(1000, 100, 1)) a.push_back(r);
  EXPECT_FALSE(a.spilled());
  EXPECT_EQ(spill_files_created(), files);
}

TEST(SpillArray, SpilledValuesMatchAVector) {
  const uint64_t files = spill_files_created();
  SpillArray<Rec> a(kTinyBudget);
  std::vector<Rec> v = random_records(5000, 1000, 2);
  for (const Rec& r : v) a.push_back(r);
  EXPECT_TRUE(a.spilled());
  EXPECT_GT(spill_files_created(), files);
  ASSERT_EQ(a.size(), v.size());
  // Random reads and writes across the pages.
  std::mt19937 rng(3);
  for (int k = 0; k < 20000; ++k) {
    const size_t i = rng() % v.size();
    if (k % 3 == 0) {
      v[i].payload = rng();
      a.set(i, v[i]);
    } else if (k % 3 == 1) {
      a.update(i, [](Rec& r) { ++r.payload; });
      ++v[i].payload;
    } else {
      ASSERT_EQ(a.get(i), v[i]) << i;
    }
  }
  size_t n = 0;
  for (const Rec& r : a) EXPECT_EQ(r, v[n++]);
  EXPECT_EQ(n, v.size());
  EXPECT_TRUE(a.status().is_ok()) << a.status().message();
}

TEST(SpillArray, StableSortAndLowerBoundMatchStd) {
  // Sizes around the run and page boundaries; many equal keys (stability)
  // and enough runs for more than one merge pass.
  for (size_t n : {0, 1, 15, 16, 17, 47, 48, 49, 200, 3000, 20000}) {
    SpillArray<Rec> a(kTinyBudget);
    std::vector<Rec> v = random_records(n, 50, uint32_t(n));
    for (const Rec& r : v) a.push_back(r);
    std::stable_sort(v.begin(), v.end(), by_key);
    a.stable_sort(by_key);
    ASSERT_TRUE(a.status().is_ok()) << a.status().message();
    ASSERT_EQ(a.size(), v.size());
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(a.get(i), v[i]) << "n=" << n << " i=" << i;
    for (uint32_t key : {0u, 1u, 25u, 49u, 50u}) {
      const size_t want = size_t(
          std::lower_bound(v.begin(), v.end(), key, [](const Rec& r, uint32_t k) { return r.key < k; }) - v.begin());
      EXPECT_EQ(a.lower_bound(key, [](const Rec& r, uint32_t k) { return r.key < k; }), want) << n << " " << key;
    }
  }
}

TEST(SpillArray, TruncateKeepsTheFirstRecords) {
  SpillArray<Rec> a(kTinyBudget);
  std::vector<Rec> v = random_records(1000, 1000, 4);
  for (const Rec& r : v) a.push_back(r);
  a.truncate(333);
  ASSERT_EQ(a.size(), 333u);
  for (size_t i = 0; i < 333; ++i) ASSERT_EQ(a.get(i), v[i]);
  a.push_back(v[999]);  // grows again over what was cut
  EXPECT_EQ(a.get(333), v[999]);
  for (size_t i = 0; i < 333; ++i) ASSERT_EQ(a.get(i), v[i]);
}

// resize() grows by pages that are never written: a large sparse array
// (the checker's bitmap of B-tree pages reached) costs only what is marked,
// and records cut by truncate read as zeros when it grows over them again.
TEST(SpillArray, ResizeAddsDefaultRecords) {
  const uint64_t files = spill_files_created();
  SpillArray<uint64_t> bits(kTinyBudget);
  bits.resize(1000000);
  ASSERT_EQ(bits.size(), 1000000u);
  EXPECT_FALSE(bits.spilled());  // nothing written: no page left memory
  EXPECT_EQ(spill_files_created(), files);
  for (size_t i : {size_t{0}, size_t{31}, size_t{500000}, size_t{999999}}) EXPECT_EQ(bits.get(i), 0u) << i;
  // Marks far apart, more pages than the budget holds: spilled and read back.
  std::vector<size_t> marked;
  for (size_t i = 7; i < 1000000; i += 99991) {
    bits.update(i, [&](uint64_t& w) { w |= uint64_t{1} << (i % 64); });
    marked.push_back(i);
  }
  EXPECT_TRUE(bits.spilled());
  for (size_t i : marked) EXPECT_EQ(bits.get(i), uint64_t{1} << (i % 64)) << i;
  EXPECT_EQ(bits.get(8), 0u);

  SpillArray<Rec> a(kTinyBudget);
  std::vector<Rec> v = random_records(1000, 1000, 5);
  for (const Rec& r : v) a.push_back(r);
  a.truncate(333);  // mid-page: the page keeps the old records beyond 333
  a.resize(1000);
  ASSERT_EQ(a.size(), 1000u);
  for (size_t i = 0; i < 333; ++i) ASSERT_EQ(a.get(i), v[i]) << i;
  for (size_t i = 333; i < 1000; ++i) ASSERT_EQ(a.get(i), Rec{}) << i;
  a.resize(10);
  EXPECT_EQ(a.size(), 10u);
  EXPECT_TRUE(a.status().is_ok()) << a.status().message();
}

// Environment variable set for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (had_) {
      ::setenv(name_.c_str(), old_.c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }

 private:
  std::string name_, old_;
  bool had_ = false;
};

TEST(SpillArray, TemporaryFileThatCannotBeMadeIsAnError) {
  ScopedEnv tmp("TMPDIR", "/nonexistent-pstkit-spill-dir");
  SpillArray<Rec> a(kTinyBudget);
  for (const Rec& r : random_records(1000, 10, 5)) a.push_back(r);
  ASSERT_FALSE(a.status().is_ok());
  EXPECT_EQ(a.status().code(), Code::kIoError);
  EXPECT_NE(a.status().message().find("/nonexistent-pstkit-spill-dir"), std::string::npos) << a.status().message();
  // After the error: reads give defaults, nothing crashes.
  EXPECT_EQ(a.get(999), Rec{});
  a.stable_sort(by_key);
  EXPECT_FALSE(a.status().is_ok());
}

TEST(SpillArray, FullDiskIsAnError) {
  // A file size limit stands in for a full disk: writes past it fail (EFBIG).
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  auto* old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old;
  small.rlim_cur = 4096;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  SpillArray<Rec> a(kTinyBudget);
  for (const Rec& r : random_records(5000, 10, 6)) a.push_back(r);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
  std::signal(SIGXFSZ, old_handler);
  ASSERT_FALSE(a.status().is_ok());
  EXPECT_NE(a.status().message().find("write"), std::string::npos) << a.status().message();
}

}  // namespace
}  // namespace pstkit
