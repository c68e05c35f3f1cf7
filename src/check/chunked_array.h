// An array grown in fixed chunks: appending never copies what is already
// there and never leaves more than one chunk unused, where a std::vector
// doubles (and copies) its capacity, so that a checker holding one record a
// block needs its records' bytes and not up to three times that.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <vector>

namespace pstkit::check {

template <typename T, size_t kChunkShift = 12>
class ChunkedArray {
 public:
  static constexpr size_t kChunk = size_t{1} << kChunkShift;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  void push_back(const T& v) {
    if ((size_ & (kChunk - 1)) == 0 && size_ / kChunk == chunks_.size()) {
      chunks_.push_back(std::make_unique<T[]>(kChunk));
    }
    chunks_[size_ >> kChunkShift][size_ & (kChunk - 1)] = v;
    ++size_;
  }

  T& operator[](size_t i) { return chunks_[i >> kChunkShift][i & (kChunk - 1)]; }
  const T& operator[](size_t i) const { return chunks_[i >> kChunkShift][i & (kChunk - 1)]; }

  // Index of the first element for which less(element, key) is false
  // (std::lower_bound over the whole array).
  template <typename K, typename Less>
  size_t lower_bound(const K& key, Less less) const {
    size_t lo = 0, n = size_;
    while (n > 0) {
      const size_t half = n / 2;
      if (less((*this)[lo + half], key)) {
        lo += half + 1;
        n -= half + 1;
      } else {
        n = half;
      }
    }
    return lo;
  }

  // Sorts stably by less. Already sorted (the usual case: a B-tree walk
  // yields its keys in order) costs one pass and no memory; otherwise the
  // elements are sorted in a contiguous copy, as std::stable_sort would.
  template <typename Less>
  void stable_sort(Less less) {
    bool sorted = true;
    for (size_t i = 1; i < size_ && sorted; ++i) sorted = !less((*this)[i], (*this)[i - 1]);
    if (sorted) return;
    std::vector<T> flat;
    flat.reserve(size_);
    for (size_t i = 0; i < size_; ++i) flat.push_back((*this)[i]);
    std::stable_sort(flat.begin(), flat.end(), less);
    for (size_t i = 0; i < size_; ++i) (*this)[i] = flat[i];
  }

  // Forward iteration, for range-for.
  template <typename A, typename V>
  class Iter {
   public:
    Iter(A* a, size_t i) : a_(a), i_(i) {}
    V& operator*() const { return (*a_)[i_]; }
    V* operator->() const { return &(*a_)[i_]; }
    Iter& operator++() {
      ++i_;
      return *this;
    }
    bool operator==(const Iter& o) const { return i_ == o.i_; }
    bool operator!=(const Iter& o) const { return i_ != o.i_; }

   private:
    A* a_;
    size_t i_;
  };
  using iterator = Iter<ChunkedArray, T>;
  using const_iterator = Iter<const ChunkedArray, const T>;
  iterator begin() { return {this, 0}; }
  iterator end() { return {this, size_}; }
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size_}; }

  void clear() {
    chunks_.clear();
    size_ = 0;
  }

 private:
  std::vector<std::unique_ptr<T[]>> chunks_;
  size_t size_ = 0;
};

}  // namespace pstkit::check
