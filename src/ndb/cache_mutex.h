// The lock of a cache that reader threads share (the block cache, the
// B-tree page cache). It is held for a hash lookup or a recency relink,
// tens of nanoseconds, and taken several times per item. A std::mutex
// sleeps in the kernel at the first contention and is woken with a system
// call: with two export workers, that futex traffic under
// BTreeReader::read_page and BlockDatabase::read_block was 3 % of the
// export's CPU (docs/BENCHMARKS.md, session 17). This one tries for a
// moment first, as the holder lets go within it, and sleeps only then.
#pragma once

#include <mutex>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace pstkit::ndb {

class CacheMutex {
 public:
  void lock() {
    for (int i = 0; i < kTries; ++i) {
      if (mu_.try_lock()) return;
#if defined(__x86_64__) || defined(__i386__)
      _mm_pause();
#endif
    }
    mu_.lock();
  }
  bool try_lock() { return mu_.try_lock(); }
  void unlock() { mu_.unlock(); }

 private:
  static constexpr int kTries = 64;
  std::mutex mu_;
};

}  // namespace pstkit::ndb
