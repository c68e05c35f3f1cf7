// RAII for COM pointers in the MAPI tests: releases what it holds; out()
// and unknown() hand a call its address (releasing what was there first).
#pragma once

namespace mapi_test {

template <typename T>
struct Ptr {
  T* p = nullptr;
  Ptr() = default;
  Ptr(const Ptr&) = delete;
  Ptr& operator=(const Ptr&) = delete;
  ~Ptr() { reset(); }
  void reset() {
    if (p) p->Release();
    p = nullptr;
  }
  T** out() {
    reset();
    return &p;
  }
  LPUNKNOWN* unknown() {
    reset();
    return reinterpret_cast<LPUNKNOWN*>(&p);
  }
  T* operator->() const { return p; }
  explicit operator bool() const { return p != nullptr; }
};

}  // namespace mapi_test
