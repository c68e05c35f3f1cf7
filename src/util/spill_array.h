// An array of fixed-size records whose memory is bounded by a constant,
// whatever the number of records: the checker and the salvaged index keep
// one record a block, and a file of many gigabytes must not need memory in
// proportion (issue 8, docs/REPAIR.md "Speed and memory").
//
// The records live in pages; at most spill_budget_bytes() of pages are in
// memory. While the records fit, nothing else happens (small files pay
// nothing). Beyond that, pages are written to an unlinked temporary file in
// $TMPDIR (or /tmp) and read back when used, least recently used first out.
// Access is by value (get/set), never by reference, since a page may leave
// memory at any later access.
//
// Errors of the temporary file (a full disk) cannot be returned from get or
// set: the first one is kept in status(), and from then on the array reads
// as zeros and drops writes, so that the caller finishes quickly and
// reports status() instead of any result. Not thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

#include "pstkit/status.h"

namespace pstkit {

// Bytes of pages an array keeps in memory: 1 MiB, or $PSTKIT_SPILL_BYTES
// (at least 256) when set, an internal knob with which tests make small
// files take the spilling path. Read once.
size_t spill_budget_bytes();
// Overrides spill_budget_bytes() for arrays made from now on (0: back to
// the default or $PSTKIT_SPILL_BYTES); for tests.
void set_spill_budget_bytes(size_t bytes);
// Temporary files made so far in this process (tests see the path taken).
uint64_t spill_files_created();

// An unlinked temporary file (O_TMPFILE, else mkstemp + unlink): it
// disappears with the process however it ends.
class SpillFile {
 public:
  ~SpillFile();
  static Result<std::unique_ptr<SpillFile>> create();
  Status write(uint64_t offset, const void* data, size_t len);
  Status read(uint64_t offset, void* out, size_t len) const;

 private:
  explicit SpillFile(int fd) : fd_(fd) {}
  int fd_ = -1;
};

template <typename T>
class SpillArray {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  // budget: bytes of pages kept in memory (0: spill_budget_bytes()).
  explicit SpillArray(size_t budget = 0) {
    const size_t bytes = budget != 0 ? budget : spill_budget_bytes();
    // Pages of up to 16 KiB, and at least 4 of them in memory: a binary
    // search keeps its first steps' pages and still has room to move.
    size_t per_page = 1;
    while (per_page * 2 * sizeof(T) <= std::min<size_t>(16384, std::max(bytes / 4, sizeof(T)))) per_page *= 2;
    shift_ = 0;
    while ((size_t{1} << shift_) < per_page) ++shift_;
    max_resident_ = std::max<size_t>(2, bytes / (per_page * sizeof(T)));
  }
  SpillArray(const SpillArray&) = delete;
  SpillArray& operator=(const SpillArray&) = delete;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // The first error of the temporary file; ok while there is none.
  const Status& status() const { return status_; }
  // Whether records have gone to the temporary file.
  bool spilled() const { return file_ != nullptr; }

  void push_back(const T& v) {
    if ((size_ & page_mask()) == 0) where_.push_back(kAbsent);  // a new page, empty
    ++size_;
    set(size_ - 1, v);
  }

  T get(size_t i) const {
    const T* p = page(i >> shift_, false);
    return p ? p[i & page_mask()] : T{};
  }
  void set(size_t i, const T& v) {
    T* p = page(i >> shift_, true);
    if (p) p[i & page_mask()] = v;
  }
  // get(i), fn(record), set(i, record).
  template <typename Fn>
  void update(size_t i, Fn fn) {
    T* p = page(i >> shift_, true);
    if (p) fn(p[i & page_mask()]);
  }

  // Index of the first record for which less(record, key) is false.
  template <typename K, typename Less>
  size_t lower_bound(const K& key, Less less) const {
    size_t lo = 0, n = size_;
    while (n > 0) {
      const size_t half = n / 2;
      if (less(get(lo + half), key)) {
        lo += half + 1;
        n -= half + 1;
      } else {
        n = half;
      }
    }
    return lo;
  }

  // Calls fn(record) for every record in order. fn may use the array.
  template <typename Fn>
  void for_each(Fn fn) const {
    for (size_t i = 0; i < size_; ++i) fn(get(i));
  }

  // Forward iteration by value, for range-for (`const T& r : array` binds
  // each record's copy).
  class Iter {
   public:
    Iter(const SpillArray* a, size_t i) : a_(a), i_(i) {}
    T operator*() const { return a_->get(i_); }
    Iter& operator++() {
      ++i_;
      return *this;
    }
    bool operator==(const Iter& o) const { return i_ == o.i_; }
    bool operator!=(const Iter& o) const { return i_ != o.i_; }

   private:
    const SpillArray* a_;
    size_t i_;
  };
  Iter begin() const { return {this, 0}; }
  Iter end() const { return {this, size_}; }

  // Sorts stably by less. Already sorted costs one pass; otherwise runs of
  // what the budget holds are sorted in memory and merged through the
  // temporary file (an external merge sort: memory stays within the
  // budget and a buffer of a page per run merged).
  template <typename Less>
  void stable_sort(Less less) {
    bool sorted = true;
    {
      bool first = true;
      T last{};
      for_each([&](const T& v) {
        if (!first && sorted && less(v, last)) sorted = false;
        last = v;
        first = false;
      });
    }
    if (sorted || !status_.is_ok()) return;
    const size_t run = std::max(page_size(), (max_resident_ - 1) * page_size());
    if (!spilled() || size_ <= run) {
      std::vector<T> flat;
      flat.reserve(size_);
      for_each([&](const T& v) { flat.push_back(v); });
      std::stable_sort(flat.begin(), flat.end(), less);
      for (size_t i = 0; i < size_; ++i) set(i, flat[i]);
      return;
    }
    // Sorted runs of `run` records each, written back in place.
    {
      std::vector<T> buf;
      for (size_t begin = 0; begin < size_; begin += run) {
        const size_t end = std::min(size_, begin + run);
        buf.clear();
        for (size_t i = begin; i < end; ++i) buf.push_back(get(i));
        std::stable_sort(buf.begin(), buf.end(), less);
        for (size_t i = begin; i < end; ++i) set(i, buf[i - begin]);
      }
    }
    drop_pages();
    // Merge passes: up to `fan_in` runs at a time, from this file into a
    // second one, until one run is left.
    const size_t fan_in = std::max<size_t>(2, max_resident_ - 1);
    for (size_t width = run; width < size_ && status_.is_ok(); width *= fan_in) {
      auto out = SpillFile::create();
      if (!out.is_ok()) return fail(out.status());
      MergeOutput sink(**out, page_size() * sizeof(T));
      for (size_t begin = 0; begin < size_ && status_.is_ok(); begin += width * fan_in) {
        merge_runs(begin, width, fan_in, sink, less);
      }
      if (Status s = sink.flush(); !s.is_ok()) return fail(s);
      file_ = std::move(*out);
      std::fill(where_.begin(), where_.end(), kOnDisk);
    }
  }

  // Keeps the first n records, or appends default ones up to n: pages
  // never written take no memory (a sparse bitmap costs only the pages it
  // marks).
  void resize(size_t n) {
    if (n <= size_) return truncate(n);
    const size_t old = size_;
    const size_t old_page_end = ((old + page_mask()) >> shift_) << shift_;
    size_ = n;
    where_.resize((n + page_mask()) >> shift_, kAbsent);
    // What truncate left in the old last page reads as default again.
    for (size_t i = old; i < std::min(n, old_page_end); ++i) set(i, T{});
  }

  // Keeps the first n records (n <= size()).
  void truncate(size_t n) {
    if (n >= size_) return;
    size_ = n;
    const size_t pages = (n + page_mask()) >> shift_;
    for (Slot& sl : slots_) {
      if (sl.page >= pages && where_[sl.page] < kOnDisk) {
        where_[sl.page] = kAbsent;
        sl.used = 0;  // first to be taken
        sl.dirty = false;
        sl.page = kNoPage;
      }
    }
    where_.resize(pages);
    last_page_ = kAbsent;
    last_slot_ = nullptr;
  }

  void clear() {
    where_.clear();
    slots_.clear();
    file_.reset();
    size_ = 0;
    last_page_ = kAbsent;
    last_slot_ = nullptr;
  }

 private:
  // where_[page]: a slot index, kOnDisk (in the file) or kAbsent (never
  // written: all records default).
  static constexpr uint32_t kOnDisk = 0xFFFFFFFE;
  static constexpr uint32_t kAbsent = 0xFFFFFFFF;

  static constexpr size_t kNoPage = SIZE_MAX;
  struct Slot {
    size_t page = kNoPage;
    uint64_t used = 0;
    bool dirty = false;
    std::unique_ptr<T[]> data;
  };

  size_t page_size() const { return size_t{1} << shift_; }
  size_t page_mask() const { return page_size() - 1; }
  uint64_t page_offset(size_t pg) const { return uint64_t(pg) * page_size() * sizeof(T); }

  void fail(const Status& s) const {
    if (status_.is_ok()) status_ = s;
  }

  T* page(size_t pg, bool dirty) const {
    if (pg == last_page_) {
      last_slot_->dirty |= dirty;
      return last_slot_->data.get();
    }
    if (!status_.is_ok() || pg >= where_.size()) return nullptr;
    Slot* s;
    if (where_[pg] < kOnDisk) {
      s = &slots_[where_[pg]];
    } else {
      s = take_slot();
      if (s == nullptr) return nullptr;
      if (where_[pg] == kOnDisk) {
        // Only the records in use: a merge pass writes the last page short.
        const size_t n = std::min(page_size(), size_ - (pg << shift_));
        Status r = file_->read(page_offset(pg), s->data.get(), n * sizeof(T));
        if (!r.is_ok()) {
          fail(r);
          return nullptr;
        }
        std::fill(s->data.get() + n, s->data.get() + page_size(), T{});
      } else {
        std::fill(s->data.get(), s->data.get() + page_size(), T{});
      }
      s->page = pg;
      s->dirty = false;
      where_[pg] = uint32_t(s - slots_.data());
    }
    s->used = ++tick_;
    s->dirty |= dirty;
    last_page_ = pg;
    last_slot_ = s;
    return s->data.get();
  }

  // A free slot: a new one while under the budget, else the least recently
  // used one, written to the file first if it changed.
  Slot* take_slot() const {
    if (slots_.size() < max_resident_) {
      if (slots_.capacity() < max_resident_) slots_.reserve(max_resident_);  // slots never move
      slots_.push_back({0, 0, false, std::make_unique<T[]>(page_size())});
      return &slots_.back();
    }
    Slot* victim = &slots_[0];
    for (Slot& s : slots_) {
      if (s.used < victim->used) victim = &s;
    }
    if (victim->page == kNoPage) return victim;
    if (victim->dirty) {
      if (!file_) {
        auto f = SpillFile::create();
        if (!f.is_ok()) {
          fail(f.status());
          return nullptr;
        }
        file_ = std::move(*f);
      }
      Status w = file_->write(page_offset(victim->page), victim->data.get(), page_size() * sizeof(T));
      if (!w.is_ok()) {
        fail(w);
        return nullptr;
      }
    }
    where_[victim->page] = kOnDisk;
    if (last_page_ == victim->page) last_page_ = kAbsent;
    return victim;
  }

  // Writes every changed page out and empties the slots.
  void drop_pages() {
    for (Slot& s : slots_) {
      if (s.page == kNoPage) continue;
      if (s.dirty && status_.is_ok()) {
        Status w = file_->write(page_offset(s.page), s.data.get(), page_size() * sizeof(T));
        if (!w.is_ok()) fail(w);
      }
      where_[s.page] = kOnDisk;
    }
    slots_.clear();
    last_page_ = kAbsent;
    last_slot_ = nullptr;
  }

  // Buffered sequential writes to a new file.
  class MergeOutput {
   public:
    MergeOutput(SpillFile& f, size_t bytes) : f_(f), buf_(bytes) {}
    Status add(const T& v) {
      std::memcpy(buf_.data() + used_, &v, sizeof(T));
      used_ += sizeof(T);
      return used_ + sizeof(T) > buf_.size() ? flush() : Status::ok();
    }
    Status flush() {
      if (used_ == 0) return Status::ok();
      Status s = f_.write(at_, buf_.data(), used_);
      at_ += used_;
      used_ = 0;
      return s;
    }

   private:
    SpillFile& f_;
    std::vector<unsigned char> buf_;
    size_t used_ = 0;
    uint64_t at_ = 0;
  };

  // Merges the runs [begin + k*width, +width) for k < fan_in into out,
  // stably (equal records in run order), a page of each in memory.
  template <typename Less>
  void merge_runs(size_t begin, size_t width, size_t fan_in, MergeOutput& out, Less less) {
    struct Cursor {
      size_t next, end;
      std::vector<T> buf;
      size_t at = 0;
    };
    std::vector<Cursor> runs;
    for (size_t k = 0; k < fan_in && begin + k * width < size_; ++k) {
      runs.push_back({begin + k * width, std::min(size_, begin + (k + 1) * width), {}, 0});
    }
    auto refill = [&](Cursor& c) {
      c.buf.resize(std::min(page_size(), c.end - c.next));
      c.at = 0;
      if (c.buf.empty()) return;
      Status r = file_->read(uint64_t(c.next) * sizeof(T), c.buf.data(), c.buf.size() * sizeof(T));
      if (!r.is_ok()) {
        fail(r);
        c.buf.clear();
        c.next = c.end;
        return;
      }
      c.next += c.buf.size();
    };
    for (Cursor& c : runs) refill(c);
    while (status_.is_ok()) {
      Cursor* best = nullptr;
      for (Cursor& c : runs) {
        if (c.at < c.buf.size() && (best == nullptr || less(c.buf[c.at], best->buf[best->at]))) best = &c;
      }
      if (best == nullptr) break;
      if (Status s = out.add(best->buf[best->at]); !s.is_ok()) return fail(s);
      if (++best->at == best->buf.size()) refill(*best);
    }
  }

  size_t size_ = 0;
  unsigned shift_ = 0;
  size_t max_resident_ = 2;
  mutable std::vector<uint32_t> where_;  // per page: 4 bytes a page of up to 16 KiB
  mutable std::vector<Slot> slots_;
  mutable std::unique_ptr<SpillFile> file_;
  mutable Status status_;
  mutable uint64_t tick_ = 0;
  mutable size_t last_page_ = kAbsent;
  mutable Slot* last_slot_ = nullptr;
};

}  // namespace pstkit
