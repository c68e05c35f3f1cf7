// MAPIAllocateBuffer, MAPIAllocateMore, MAPIFreeBuffer (mapiallocatebuffer.md,
// mapiallocatemore.md, mapifreebuffer.md).
//
// A buffer from MAPIAllocateBuffer is a parent; MAPIAllocateMore links a
// child to it and MAPIFreeBuffer on the parent frees the parent and every
// child at once. Every live block is registered (address -> header) under
// one mutex, so that a pointer MAPI did not hand out is recognised without
// reading the memory in front of it: MAPIFreeBuffer ignores it (and a child
// pointer, which only its parent frees) and MAPIAllocateMore refuses it with
// MAPI_E_INVALID_PARAMETER. What cannot be detected: a pointer into the middle
// of a live block, and use of a block after it was freed.
#include <malloc.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "pstkit/mapi/mapix.h"

namespace {

// Blocks are returned at this alignment: enough for any MAPI structure
// (doubles, 64-bit integers, pointers; alignof(max_align_t)).
constexpr size_t kAlignment = alignof(std::max_align_t);

struct Registry {
  std::mutex mutex;
  // Each live block's user pointer -> its parent (itself for a parent).
  std::unordered_map<void*, void*> parent_of;
  // Each live parent -> its children.
  std::unordered_map<void*, std::vector<void*>> children_of;
};

Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: usable from static destructors
  return *r;
}

void* allocate_raw(ULONG size) {
  // aligned_alloc needs a multiple of the alignment; ULONG cannot overflow
  // size_t here, but a request rounded up past SIZE_MAX would.
  size_t bytes = size == 0 ? kAlignment : size_t(size);
  if (bytes > SIZE_MAX - kAlignment) return nullptr;
  bytes = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  return std::aligned_alloc(kAlignment, bytes);
}

}  // namespace

STDAPI_(SCODE) MAPIAllocateBuffer(ULONG cbSize, LPVOID FAR* lppBuffer) {
  if (lppBuffer == nullptr) return MAPI_E_INVALID_PARAMETER;
  *lppBuffer = nullptr;
  void* p = allocate_raw(cbSize);
  if (p == nullptr) return MAPI_E_NOT_ENOUGH_MEMORY;
  Registry& r = registry();
  try {
    std::lock_guard lock(r.mutex);
    r.parent_of.emplace(p, p);
    r.children_of.emplace(p, std::vector<void*>{});
  } catch (const std::bad_alloc&) {
    std::lock_guard lock(r.mutex);
    r.parent_of.erase(p);
    std::free(p);
    return MAPI_E_NOT_ENOUGH_MEMORY;
  }
  *lppBuffer = p;
  return S_OK;
}

STDAPI_(SCODE) MAPIAllocateMore(ULONG cbSize, LPVOID lpObject, LPVOID FAR* lppBuffer) {
  if (lppBuffer == nullptr) return MAPI_E_INVALID_PARAMETER;
  *lppBuffer = nullptr;
  if (lpObject == nullptr) return MAPI_E_INVALID_PARAMETER;
  void* p = allocate_raw(cbSize);
  if (p == nullptr) return MAPI_E_NOT_ENOUGH_MEMORY;
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.parent_of.find(lpObject);
  if (it == r.parent_of.end()) {  // not a live MAPI buffer
    std::free(p);
    return MAPI_E_INVALID_PARAMETER;
  }
  // A child given as lpObject links the new block to the same parent.
  void* parent = it->second;
  try {
    r.parent_of.emplace(p, parent);
    try {
      r.children_of[parent].push_back(p);
    } catch (...) {
      r.parent_of.erase(p);
      throw;
    }
  } catch (const std::bad_alloc&) {
    std::free(p);
    return MAPI_E_NOT_ENOUGH_MEMORY;
  }
  *lppBuffer = p;
  return S_OK;
}

STDAPI_(ULONG) MAPIFreeBuffer(LPVOID lpBuffer) {
  if (lpBuffer == nullptr) return S_OK;
  std::vector<void*> children;
  {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    auto it = r.parent_of.find(lpBuffer);
    // Not ours, already freed, or a child (freed only with its parent,
    // mapifreebuffer.md): nothing to do.
    if (it == r.parent_of.end() || it->second != lpBuffer) return S_OK;
    r.parent_of.erase(it);
    auto c = r.children_of.find(lpBuffer);
    if (c != r.children_of.end()) {
      children = std::move(c->second);
      r.children_of.erase(c);
    }
    for (void* child : children) r.parent_of.erase(child);
  }
  for (void* child : children) std::free(child);
  std::free(lpBuffer);
  return S_OK;
}

// mapigetdefaultmalloc.md: MAPI's IMalloc, for the OLE-style callers that
// want one (IStorage on an IStream, ...). It is the C heap: memory from it is
// freed with IMalloc::Free, never MAPIFreeBuffer (which ignores it). GetSize
// is malloc_usable_size (at least the size asked for); DidAlloc answers -1
// ("cannot tell"), as IMalloc allows. One object for the process: AddRef and
// Release count but never free it.
namespace {

class DefaultMalloc final : public IMalloc {
 public:
  STDMETHODIMP QueryInterface(REFIID riid, void** ppv) override {
    if (ppv == nullptr) return E_INVALIDARG;
    if (riid == IID_IUnknown || riid == IID_IMalloc) {
      *ppv = static_cast<IMalloc*>(this);
      return S_OK;
    }
    *ppv = nullptr;
    return E_NOINTERFACE;
  }
  STDMETHODIMP_(ULONG) AddRef() override { return 1; }
  STDMETHODIMP_(ULONG) Release() override { return 1; }
  STDMETHODIMP_(void*) Alloc(SIZE_T cb) override { return std::malloc(cb == 0 ? 1 : cb); }
  STDMETHODIMP_(void*) Realloc(void* pv, SIZE_T cb) override {
    if (pv != nullptr && cb == 0) {
      std::free(pv);
      return nullptr;
    }
    return std::realloc(pv, cb == 0 ? 1 : cb);
  }
  STDMETHODIMP_(void) Free(void* pv) override { std::free(pv); }
  STDMETHODIMP_(SIZE_T) GetSize(void* pv) override { return pv == nullptr ? SIZE_T(-1) : malloc_usable_size(pv); }
  STDMETHODIMP_(int) DidAlloc(void*) override { return -1; }
  STDMETHODIMP_(void) HeapMinimize() override { malloc_trim(0); }
};

}  // namespace

STDAPI_(LPMALLOC) MAPIGetDefaultMalloc(void) {
  static DefaultMalloc* malloc_object = new DefaultMalloc;  // never destroyed
  return malloc_object;
}
