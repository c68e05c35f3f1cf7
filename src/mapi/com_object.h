// The IUnknown every heap-allocated COM object of the MAPI runtime shares:
// a thread-safe reference count that starts at 1 (the creator's reference,
// handed to the caller), the object deleted when it reaches 0, and
// QueryInterface answering IID_IUnknown and the one interface implemented
// (else E_NOINTERFACE), with the AddRef the COM rules ask of a success.
// A Derived with on_release(ULONG left) is told of every Release.
//
//   class ComTable final : public ComObject<ComTable, IMAPITable, IID_IMAPITable> { ... };
#pragma once

#include <atomic>

#include "pstkit/mapi/mapiguid.h"
#include "pstkit/mapi/mapinix.h"

namespace pstkit::mapi::capi {

template <typename Derived, typename Interface, const IID& kInterfaceId>
class ComObject : public Interface {
 public:
  STDMETHODIMP QueryInterface(REFIID riid, void** ppv) override {
    if (ppv == nullptr) return E_INVALIDARG;
    if (riid == IID_IUnknown || riid == kInterfaceId) {
      AddRef();
      *ppv = static_cast<Interface*>(this);
      return S_OK;
    }
    *ppv = nullptr;
    return E_NOINTERFACE;
  }
  STDMETHODIMP_(ULONG) AddRef() override { return ++refs_; }
  STDMETHODIMP_(ULONG) Release() override {
    const ULONG left = --refs_;
    // An object that must act when references go (not only at the last
    // one) says so with on_release(left).
    if constexpr (requires(Derived& d) { d.on_release(left); }) static_cast<Derived*>(this)->on_release(left);
    if (left == 0) delete static_cast<Derived*>(this);
    return left;
  }

 protected:
  ComObject() = default;
  ~ComObject() = default;  // deleted as Derived, only by Release

 private:
  std::atomic<ULONG> refs_{1};
};

}  // namespace pstkit::mapi::capi
