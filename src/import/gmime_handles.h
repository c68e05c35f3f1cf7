// Ownership of GMime and GLib objects. GMime is a C library with reference
// counted GObjects and g_malloc'd strings; these wrappers release them on
// every path, so no caller writes g_object_unref or g_free by hand.
// Only files of src/import and src/export include this (it pulls in the GMime headers).
#pragma once

#include "import/gmime_api.h"

#include <string>
#include <utility>

namespace pstkit::mime {

// An owned reference to a GObject (GMimeMessage, GMimeStream, GMimeParser...).
template <typename T>
class GRef {
 public:
  GRef() = default;
  // Takes ownership of a reference the caller got from a *_new / construct.
  explicit GRef(T* owned) : p_(owned) {}
  GRef(const GRef&) = delete;
  GRef& operator=(const GRef&) = delete;
  GRef(GRef&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  GRef& operator=(GRef&& o) noexcept {
    if (this != &o) {
      reset();
      p_ = std::exchange(o.p_, nullptr);
    }
    return *this;
  }
  ~GRef() { reset(); }

  void reset() {
    if (p_) gmime().g_object_unref(p_);
    p_ = nullptr;
  }
  T* get() const { return p_; }
  // Gives the reference up to the caller (e.g. to wrap it as a base type).
  T* release() { return std::exchange(p_, nullptr); }
  explicit operator bool() const { return p_ != nullptr; }

 private:
  T* p_ = nullptr;
};

// A GDateTime reference (GDateTime is not a GObject).
class GDateRef {
 public:
  explicit GDateRef(GDateTime* owned) : p_(owned) {}
  GDateRef(const GDateRef&) = delete;
  GDateRef& operator=(const GDateRef&) = delete;
  ~GDateRef() {
    if (p_) gmime().g_date_time_unref(p_);
  }
  GDateTime* get() const { return p_; }

 private:
  GDateTime* p_;
};

// Copies a g_malloc'd string and frees it; null gives "".
inline std::string take_gstring(char* s) {
  if (!s) return {};
  std::string out(s);
  gmime().g_free(s);
  return out;
}

inline std::string or_empty(const char* s) { return s ? std::string(s) : std::string(); }

}  // namespace pstkit::mime
