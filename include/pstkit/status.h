// Status and Result<T>: how every pstkit layer reports failure.
//
// Damaged input is the normal case for this library, so no layer throws on
// bad data: a read either yields a value or a Status that names the
// structure that failed and the file offset where it was found.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace pstkit {

enum class Code {
  kOk = 0,
  kCorrupt,       // the file's bytes violate the format
  kUnsupported,   // a valid feature pstkit does not handle
  kNotFound,      // an id, property or path that is not present
  kIoError,       // the operating system refused a read or write
  kInvalidArgument,
  kTruncated,     // a structure extends past the end of the file
  kAlreadyExists, // a name or object that must be new is taken
  kBusy,          // another process holds a lock past the wait
};

const char* code_name(Code code);

class Status {
 public:
  Status() = default;  // OK

  static Status ok() { return Status(); }
  static Status corrupt(std::string structure, uint64_t offset, std::string detail) {
    return Status(Code::kCorrupt, std::move(structure), offset, std::move(detail));
  }
  static Status truncated(std::string structure, uint64_t offset, std::string detail) {
    return Status(Code::kTruncated, std::move(structure), offset, std::move(detail));
  }
  static Status not_found(std::string what) {
    return Status(Code::kNotFound, {}, kNoOffset, std::move(what));
  }
  static Status unsupported(std::string what) {
    return Status(Code::kUnsupported, {}, kNoOffset, std::move(what));
  }
  static Status io_error(std::string what) {
    return Status(Code::kIoError, {}, kNoOffset, std::move(what));
  }
  static Status invalid_argument(std::string what) {
    return Status(Code::kInvalidArgument, {}, kNoOffset, std::move(what));
  }
  static Status already_exists(std::string what) {
    return Status(Code::kAlreadyExists, {}, kNoOffset, std::move(what));
  }
  static Status busy(std::string what) { return Status(Code::kBusy, {}, kNoOffset, std::move(what)); }

  bool is_ok() const { return code_ == Code::kOk; }
  explicit operator bool() const { return is_ok(); }
  Code code() const { return code_; }
  // The format structure the error concerns, e.g. "NBT page"; may be empty.
  const std::string& structure() const { return structure_; }
  // File offset of that structure, or kNoOffset.
  uint64_t offset() const { return offset_; }
  const std::string& detail() const { return detail_; }
  bool has_offset() const { return offset_ != kNoOffset; }

  // One line, e.g. "corrupt: BBT page at offset 0x4400: bad CRC".
  std::string message() const;

  // Returns a copy whose detail is prefixed by context ("node 0x21: ...").
  Status with_context(const std::string& context) const;

  static constexpr uint64_t kNoOffset = ~uint64_t{0};

 private:
  Status(Code c, std::string s, uint64_t o, std::string d)
      : code_(c), structure_(std::move(s)), offset_(o), detail_(std::move(d)) {}

  Code code_ = Code::kOk;
  std::string structure_;
  uint64_t offset_ = kNoOffset;
  std::string detail_;
};

// Either a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT

  bool is_ok() const { return v_.index() == 0; }
  explicit operator bool() const { return is_ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // OK status when a value is held.
  Status status() const { return is_ok() ? Status() : std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace pstkit

#define PSTKIT_CONCAT_INNER(a, b) a##b
#define PSTKIT_CONCAT(a, b) PSTKIT_CONCAT_INNER(a, b)

// PSTKIT_RETURN_IF_ERROR(expr): expr yields a Status; return it when not OK.
#define PSTKIT_RETURN_IF_ERROR(expr) PSTKIT_RETURN_IF_ERROR_IMPL(PSTKIT_CONCAT(pstkit_status_, __LINE__), expr)
#define PSTKIT_RETURN_IF_ERROR_IMPL(tmp, expr) \
  do {                                         \
    ::pstkit::Status tmp = (expr);             \
    if (!tmp.is_ok()) return tmp;              \
  } while (0)

// PSTKIT_ASSIGN_OR_RETURN(decl, expr): expr yields a Result<T>; on error
// return its Status, else move the value into decl ("auto x" or "x").
#define PSTKIT_ASSIGN_OR_RETURN(decl, expr) \
  PSTKIT_ASSIGN_OR_RETURN_IMPL(PSTKIT_CONCAT(pstkit_result_, __LINE__), decl, expr)
#define PSTKIT_ASSIGN_OR_RETURN_IMPL(tmp, decl, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.is_ok()) return tmp.status();              \
  decl = std::move(tmp).value()
