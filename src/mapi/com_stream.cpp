// IStream for OpenProperty (imapiprop-openproperty.md; the IStream methods as
// the Windows SDK documents them). Two kinds:
//  - over bytes in memory, writable when the property was opened with
//    MAPI_MODIFY or MAPI_CREATE: the content goes to the property at Commit,
//    and at the last Release if a Write was not committed (the PST
//    provider's streams are direct, not transacted: a client that never
//    calls Commit still sets the property);
//  - over a node's data stream (attachment data), read-only, reading only
//    the blocks a Read needs: memory stays bounded whatever the size.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>

#include "mapi/com_prop.h"

namespace pstkit::mapi::capi {
namespace {

class ComStream final : public IStream {
 public:
  ComStream(Bytes data, std::function<HRESULT(const Bytes&)> on_commit)
      : data_(std::move(data)), on_commit_(std::move(on_commit)) {}
  ComStream(std::shared_ptr<const ndb::Node> node, std::shared_ptr<void> keep_alive)
      : node_(std::move(node)), keep_alive_(std::move(keep_alive)) {}

  STDMETHODIMP QueryInterface(REFIID riid, void** ppv) override {
    if (ppv == nullptr) return E_INVALIDARG;
    if (riid == IID_IUnknown || riid == IID_IStream || riid == IID_ISequentialStream) {
      AddRef();
      *ppv = static_cast<IStream*>(this);
      return S_OK;
    }
    *ppv = nullptr;
    return E_NOINTERFACE;
  }
  STDMETHODIMP_(ULONG) AddRef() override { return ++refs_; }
  STDMETHODIMP_(ULONG) Release() override {
    const ULONG left = --refs_;
    if (left == 0) {
      if (dirty_ && on_commit_) (void)on_commit_(data_);
      delete this;
    }
    return left;
  }

  STDMETHODIMP Read(void* pv, ULONG cb, ULONG* pcbRead) override {
    if (pv == nullptr && cb > 0) return STG_E_INVALIDPOINTER;
    const uint64_t size = this->size();
    const uint64_t n = position_ >= size ? 0 : std::min<uint64_t>(cb, size - position_);
    if (n > 0) {
      if (node_) {
        Status s = node_->read(position_, size_t(n), static_cast<uint8_t*>(pv));
        if (!s.is_ok()) {
          if (pcbRead) *pcbRead = 0;
          return MAPI_E_CORRUPT_DATA;
        }
      } else {
        std::memcpy(pv, data_.data() + position_, size_t(n));
      }
    }
    position_ += n;
    if (pcbRead) *pcbRead = ULONG(n);
    return S_OK;
  }

  STDMETHODIMP Write(const void* pv, ULONG cb, ULONG* pcbWritten) override {
    if (pcbWritten) *pcbWritten = 0;
    if (!on_commit_) return STG_E_ACCESSDENIED;
    if (pv == nullptr && cb > 0) return STG_E_INVALIDPOINTER;
    const uint64_t end = position_ + cb;
    if (end > kMaxBytes) return STG_E_MEDIUMFULL;
    try {
      if (end > data_.size()) data_.resize(size_t(end));
    } catch (const std::bad_alloc&) {
      return E_OUTOFMEMORY;
    }
    if (cb > 0) std::memcpy(data_.data() + position_, pv, cb);
    position_ = end;
    dirty_ = dirty_ || cb > 0;
    if (pcbWritten) *pcbWritten = cb;
    return S_OK;
  }

  STDMETHODIMP Seek(LARGE_INTEGER move, DWORD origin, ULARGE_INTEGER* new_position) override {
    int64_t base = 0;
    switch (origin) {
      case STREAM_SEEK_SET: base = 0; break;
      case STREAM_SEEK_CUR: base = int64_t(position_); break;
      case STREAM_SEEK_END: base = int64_t(size()); break;
      default: return STG_E_INVALIDFUNCTION;
    }
    const int64_t target = base + move.QuadPart;
    if (target < 0) return STG_E_INVALIDFUNCTION;
    position_ = uint64_t(target);
    if (new_position) new_position->QuadPart = position_;
    return S_OK;
  }

  STDMETHODIMP SetSize(ULARGE_INTEGER new_size) override {
    if (!on_commit_) return STG_E_ACCESSDENIED;
    if (new_size.QuadPart > kMaxBytes) return STG_E_MEDIUMFULL;
    try {
      data_.resize(size_t(new_size.QuadPart));
    } catch (const std::bad_alloc&) {
      return E_OUTOFMEMORY;
    }
    dirty_ = true;
    return S_OK;
  }

  STDMETHODIMP CopyTo(IStream* target, ULARGE_INTEGER cb, ULARGE_INTEGER* read, ULARGE_INTEGER* written) override {
    if (target == nullptr) return STG_E_INVALIDPOINTER;
    uint64_t left = cb.QuadPart, total_read = 0, total_written = 0;
    std::vector<uint8_t> buffer(64 * 1024);
    while (left > 0) {
      ULONG got = 0;
      if (HRESULT hr = Read(buffer.data(), ULONG(std::min<uint64_t>(left, buffer.size())), &got); FAILED(hr)) return hr;
      if (got == 0) break;
      total_read += got;
      ULONG put = 0;
      if (HRESULT hr = target->Write(buffer.data(), got, &put); FAILED(hr)) return hr;
      total_written += put;
      left -= got;
    }
    if (read) read->QuadPart = total_read;
    if (written) written->QuadPart = total_written;
    return S_OK;
  }

  STDMETHODIMP Commit(DWORD flags) override {
    if (flags & ~DWORD(STGC_OVERWRITE | STGC_ONLYIFCURRENT | STGC_DANGEROUSLYCOMMITMERELYTODISKCACHE |
                       STGC_CONSOLIDATE))
      return STG_E_INVALIDFLAG;
    if (!on_commit_ || !dirty_) return S_OK;
    HRESULT hr = on_commit_(data_);
    if (SUCCEEDED(hr)) dirty_ = false;
    return hr;
  }
  // Writes are direct (above): nothing to revert to.
  STDMETHODIMP Revert() override { return S_OK; }
  STDMETHODIMP LockRegion(ULARGE_INTEGER, ULARGE_INTEGER, DWORD) override { return STG_E_INVALIDFUNCTION; }
  STDMETHODIMP UnlockRegion(ULARGE_INTEGER, ULARGE_INTEGER, DWORD) override { return STG_E_INVALIDFUNCTION; }

  STDMETHODIMP Stat(STATSTG* stat, DWORD flags) override {
    if (stat == nullptr) return STG_E_INVALIDPOINTER;
    if (flags & ~DWORD(STATFLAG_NONAME | STATFLAG_NOOPEN)) return STG_E_INVALIDFLAG;
    std::memset(stat, 0, sizeof *stat);
    stat->type = STGTY_STREAM;
    stat->cbSize.QuadPart = size();
    stat->grfMode = on_commit_ ? STGM_READWRITE : STGM_READ;
    return S_OK;
  }

  STDMETHODIMP Clone(IStream** out) override {
    if (out == nullptr) return STG_E_INVALIDPOINTER;
    *out = nullptr;
    // A clone shares the content but not the position; only read-only
    // streams clone (a writable clone would need a shared buffer).
    if (on_commit_) return STG_E_INVALIDFUNCTION;
    ComStream* clone = node_ ? new (std::nothrow) ComStream(node_, keep_alive_)
                             : new (std::nothrow) ComStream(data_, nullptr);
    if (clone == nullptr) return E_OUTOFMEMORY;
    clone->position_ = position_;
    *out = clone;
    return S_OK;
  }

 private:
  ~ComStream() = default;
  // Writes are kept in memory until committed: one attachment's data is at
  // most what a PST's 32-bit sizes allow.
  static constexpr uint64_t kMaxBytes = 0x7FFFFFFF;
  uint64_t size() const { return node_ ? node_->size() : data_.size(); }

  std::atomic<ULONG> refs_{1};
  Bytes data_;
  std::function<HRESULT(const Bytes&)> on_commit_;
  std::shared_ptr<const ndb::Node> node_;
  std::shared_ptr<void> keep_alive_;
  uint64_t position_ = 0;
  bool dirty_ = false;
};

}  // namespace

HRESULT create_memory_stream(Bytes data, std::function<HRESULT(const Bytes&)> on_commit, IStream** out) {
  if (out == nullptr) return MAPI_E_INVALID_PARAMETER;
  try {
    *out = new ComStream(std::move(data), std::move(on_commit));
  } catch (const std::bad_alloc&) {
    *out = nullptr;
    return MAPI_E_NOT_ENOUGH_MEMORY;
  }
  return S_OK;
}

HRESULT create_node_stream(std::shared_ptr<const ndb::Node> node, std::shared_ptr<void> keep_alive, IStream** out) {
  if (out == nullptr || node == nullptr) return MAPI_E_INVALID_PARAMETER;
  *out = new (std::nothrow) ComStream(std::move(node), std::move(keep_alive));
  return *out ? S_OK : MAPI_E_NOT_ENOUGH_MEMORY;
}

}  // namespace pstkit::mapi::capi
