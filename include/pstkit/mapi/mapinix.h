// mapinix.h: the Windows base types, COM macros and COM base interfaces
// (IUnknown, ISequentialStream, IStream) that Microsoft's MAPI headers take
// from <windows.h>, <objbase.h> and <objidl.h>, declared for LP64 Linux.
//
// pstkit's MAPI headers are written from Microsoft's documented names and
// values (Outlook MAPI reference; [MS-DTYP] for the base types; [MS-ERREF] for
// HRESULT values); no header text of any other project is used. See docs/MAPI.md.
//
// Sizes are Windows', not LP64's: ULONG, DWORD and LONG are 32 bits
// ([MS-DTYP] 2.2), so structures laid out with them (SPropValue, GUID,
// FILETIME...) have the documented sizes.
//
// Wide strings: WCHAR is wchar_t, so LPWSTR is wchar_t* and Microsoft's
// samples that write L"..." compile unchanged. On Linux wchar_t is 32 bits
// (UTF-32), not Windows' 16-bit UTF-16. pstkit's MAPI runtime therefore
// reads and writes PT_UNICODE values (lpszW, MAPINAMEID::Kind.lpwstrName,
// ...) as UTF-32 in memory and converts to and from the UTF-16LE the store
// holds. Do not build with -fshort-wchar: it breaks the C library's wcs*
// functions. Code that exchanges raw UTF-16 with Windows must convert.
#ifndef PSTKIT_MAPI_MAPINIX_H
#define PSTKIT_MAPI_MAPINIX_H

#ifndef __cplusplus
#error "pstkit's MAPI headers declare the MAPI interfaces as C++ classes; compile as C++"
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <cwchar>

// ---- Calling conventions and storage qualifiers (no-ops on Linux) ----------
#ifndef FAR
#define FAR
#endif
#ifndef NEAR
#define NEAR
#endif
#ifndef WINAPI
#define WINAPI
#endif
#ifndef STDMETHODCALLTYPE
#define STDMETHODCALLTYPE
#endif
#ifndef STDAPICALLTYPE
#define STDAPICALLTYPE
#endif
#ifndef CALLBACK
#define CALLBACK
#endif
#ifndef PASCAL
#define PASCAL
#endif
#ifndef CONST
#define CONST const
#endif
#ifndef VOID
#define VOID void
#endif

// ---- Integer types ([MS-DTYP] 2.2) ----------------------------------------
typedef uint8_t BYTE;
typedef uint16_t WORD;
typedef uint32_t DWORD;
typedef uint32_t ULONG;
typedef int32_t LONG;
typedef int32_t BOOL;  // [MS-DTYP] 2.2.3: a 32-bit int (not C++ bool)
typedef uint8_t BOOLEAN;
typedef int16_t SHORT;
typedef uint16_t USHORT;
typedef int32_t INT;
typedef uint32_t UINT;
typedef char CHAR;
typedef unsigned char UCHAR;
typedef int64_t LONGLONG;
typedef uint64_t ULONGLONG;
typedef uintptr_t ULONG_PTR;  // pointer-sized, as on Win64 (ulUIParam, connections)
typedef intptr_t LONG_PTR;
typedef uintptr_t DWORD_PTR;
typedef uintptr_t UINT_PTR;
typedef size_t SIZE_T;

typedef BYTE FAR* LPBYTE;
typedef WORD FAR* LPWORD;
typedef DWORD FAR* LPDWORD;
typedef ULONG FAR* LPULONG;
typedef LONG FAR* LPLONG;
typedef BOOL FAR* LPBOOL;
typedef void FAR* LPVOID;
typedef const void FAR* LPCVOID;
typedef void* HANDLE;
typedef void* HWND;       // only ever carried in ulUIParam (a ULONG_PTR)
typedef void* HINSTANCE;  // message service entry points (MSGSERVICEENTRY)

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

// <winbase.h> memory macros Microsoft's samples use (ZeroMemory(&x, sizeof x)).
#ifndef ZeroMemory
#define ZeroMemory(dest, len) std::memset((dest), 0, (len))
#define FillMemory(dest, len, fill) std::memset((dest), (fill), (len))
#define CopyMemory(dest, src, len) std::memcpy((dest), (src), (len))
#define MoveMemory(dest, src, len) std::memmove((dest), (src), (len))
#endif

// ---- Characters and strings ----------------------------------------------
// See the note at the top: WCHAR is the platform's wchar_t (32-bit on Linux).
typedef wchar_t WCHAR;
typedef CHAR FAR* LPSTR;
typedef const CHAR FAR* LPCSTR;
typedef WCHAR FAR* LPWSTR;
typedef const WCHAR FAR* LPCWSTR;
typedef WCHAR OLECHAR;
typedef OLECHAR FAR* LPOLESTR;
typedef const OLECHAR FAR* LPCOLESTR;

// TCHAR follows UNICODE, as in Windows' <tchar.h>: MAPI's PT_TSTRING, PR_*
// string tags and LPTSTR parameters are Unicode only when UNICODE is defined.
#ifdef UNICODE
typedef WCHAR TCHAR;
#ifndef __TEXT
#define __TEXT(quote) L##quote
#endif
#else
typedef CHAR TCHAR;
#ifndef __TEXT
#define __TEXT(quote) quote
#endif
#endif
typedef TCHAR FAR* LPTSTR;
typedef const TCHAR FAR* LPCTSTR;
#ifndef TEXT
#define TEXT(quote) __TEXT(quote)
#endif

// ---- HRESULT and SCODE ([MS-ERREF] 2.1) -----------------------------------
typedef int32_t HRESULT;
typedef int32_t SCODE;
typedef SCODE FAR* LPSCODE;

#define SEVERITY_SUCCESS 0
#define SEVERITY_ERROR 1
#define FACILITY_NULL 0
#define FACILITY_RPC 1
#define FACILITY_DISPATCH 2
#define FACILITY_STORAGE 3
#define FACILITY_ITF 4
#define FACILITY_WIN32 7

#define SUCCEEDED(hr) (((HRESULT)(hr)) >= 0)
#define FAILED(hr) (((HRESULT)(hr)) < 0)
#define IS_ERROR(status) (((ULONG)(status)) >> 31 == SEVERITY_ERROR)
#define HRESULT_CODE(hr) ((hr) & 0xFFFF)
#define SCODE_CODE(sc) ((sc) & 0xFFFF)
#define HRESULT_FACILITY(hr) (((hr) >> 16) & 0x1FFF)
#define SCODE_FACILITY(sc) (((sc) >> 16) & 0x1FFF)
#define HRESULT_SEVERITY(hr) ((((ULONG)(hr)) >> 31) & 0x1)
#define SCODE_SEVERITY(sc) ((((ULONG)(sc)) >> 31) & 0x1)
#define MAKE_HRESULT(sev, fac, code) \
    ((HRESULT)(((ULONG)(sev) << 31) | ((ULONG)(fac) << 16) | ((ULONG)(code))))
#define MAKE_SCODE(sev, fac, code) \
    ((SCODE)(((ULONG)(sev) << 31) | ((ULONG)(fac) << 16) | ((ULONG)(code))))
// MAPI's names for the same tests (error-handling-in-mapi.md).
#define HR_SUCCEEDED(hr) SUCCEEDED((SCODE)(hr))
#define HR_FAILED(hr) FAILED((SCODE)(hr))
#define GetScode(hr) ((SCODE)(hr))
#define ResultFromScode(sc) ((HRESULT)(sc))

// ---- GUID ([MS-DTYP] 2.3.4) -----------------------------------------------
// Data1 is 32 bits; the reference page (guid.md) spells it "unsigned long",
// which is 64 bits on LP64, so DWORD is used to keep the 16-byte layout.
typedef struct _GUID {
    DWORD Data1;
    WORD Data2;
    WORD Data3;
    BYTE Data4[8];
} GUID;
typedef GUID FAR* LPGUID;
typedef GUID IID;
typedef IID FAR* LPIID;
typedef GUID CLSID;
typedef CLSID FAR* LPCLSID;
typedef GUID FMTID;
typedef const GUID& REFGUID;
typedef const IID& REFIID;
typedef const CLSID& REFCLSID;

inline bool IsEqualGUID(REFGUID a, REFGUID b) { return std::memcmp(&a, &b, sizeof(GUID)) == 0; }
#define IsEqualIID(a, b) IsEqualGUID((a), (b))
#define IsEqualCLSID(a, b) IsEqualGUID((a), (b))
inline bool operator==(REFGUID a, REFGUID b) { return IsEqualGUID(a, b); }
inline bool operator!=(REFGUID a, REFGUID b) { return !IsEqualGUID(a, b); }

// DEFINE_GUID defines an inline constexpr GUID: one object per program
// whatever the number of translation units that include mapiguid.h, with or
// without INITGUID (which Windows code defines in one file; harmless here).
#undef DEFINE_GUID
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8) \
    inline constexpr GUID name = {l, w1, w2, {b1, b2, b3, b4, b5, b6, b7, b8}}
// An OLE GUID: {l-w1-w2-C000-000000000046}.
#define DEFINE_OLEGUID(name, l, w1, w2) DEFINE_GUID(name, l, w1, w2, 0xC0, 0, 0, 0, 0, 0, 0, 0x46)

// ---- Time and 64-bit integers ---------------------------------------------
typedef struct _FILETIME {
    DWORD dwLowDateTime;
    DWORD dwHighDateTime;
} FILETIME, FAR* LPFILETIME;

// [MS-DTYP] 2.3.5: the anonymous member gives Windows' li.LowPart/HighPart.
typedef union _LARGE_INTEGER {
    __extension__ struct {
        DWORD LowPart;
        LONG HighPart;
    };
    struct {
        DWORD LowPart;
        LONG HighPart;
    } u;
    LONGLONG QuadPart;
} LARGE_INTEGER, FAR* PLARGE_INTEGER, FAR* LPLARGE_INTEGER;

typedef union _ULARGE_INTEGER {
    __extension__ struct {
        DWORD LowPart;
        DWORD HighPart;
    };
    struct {
        DWORD LowPart;
        DWORD HighPart;
    } u;
    ULONGLONG QuadPart;
} ULARGE_INTEGER, FAR* PULARGE_INTEGER, FAR* LPULARGE_INTEGER;

// PT_CURRENCY: a 64-bit integer scaled by 10,000 (currency.md).
typedef union tagCY {
    __extension__ struct {
        ULONG Lo;
        LONG Hi;
    };
    LONGLONG int64;
} CY, CURRENCY;

// ---- COM interface declaration macros -------------------------------------
// Interfaces are abstract classes whose virtual functions are exactly the
// COM methods in vtable order: QueryInterface, AddRef, Release first, no
// virtual destructor (Release frees the object), no virtual inheritance, so
// that the Itanium C++ ABI gives the COM vtable layout. The destructor is
// protected and non-virtual: nobody deletes an interface pointer.
#define PURE = 0
#define THIS_
#define THIS void
#define STDMETHOD(method) virtual HRESULT STDMETHODCALLTYPE method
#define STDMETHOD_(type, method) virtual type STDMETHODCALLTYPE method
#define STDMETHODIMP HRESULT STDMETHODCALLTYPE
#define STDMETHODIMP_(type) type STDMETHODCALLTYPE
#define STDAPI extern "C" HRESULT STDAPICALLTYPE
#define STDAPI_(type) extern "C" type STDAPICALLTYPE
#define STDAPIV extern "C" HRESULT
#define STDAPIV_(type) extern "C" type
#define MAPIMETHOD(method) STDMETHOD(method)
#define MAPIMETHOD_(type, method) STDMETHOD_(type, method)
#define BEGIN_INTERFACE
#define END_INTERFACE
// Opens the body of an interface class: public methods, a protected
// non-virtual destructor (keeps -Wnon-virtual-dtor quiet without adding a
// vtable slot).
#define PSTKIT_MAPI_INTERFACE_BODY(iface) \
protected:                                \
    ~iface() = default;                   \
                                          \
public:

// The counted arrays (SPropTagArray, SRowSet, ADRLIST, SSortOrderSet...) are
// declared with MAPI_DIM elements and used, as in Microsoft's samples,
// through casts from the structures SizedSPropTagArray() & co. declare:
// `(LPSPropTagArray)&sptCols`. may_alias makes those accesses defined for
// the compiler (no strict-aliasing warning, no miscompilation).
#define PSTKIT_MAPI_MAY_ALIAS __attribute__((__may_alias__))

// ---- IUnknown, ISequentialStream, IStream ---------------------------------
struct IUnknown {
    PSTKIT_MAPI_INTERFACE_BODY(IUnknown)
    STDMETHOD(QueryInterface)(REFIID riid, void** ppvObject) PURE;
    STDMETHOD_(ULONG, AddRef)() PURE;
    STDMETHOD_(ULONG, Release)() PURE;
};
typedef IUnknown FAR* LPUNKNOWN;

// IStream::Seek origins, Stat flags, Commit flags, LockRegion types and
// STATSTG types (Windows SDK documentation of IStream and STATSTG).
#define STREAM_SEEK_SET 0
#define STREAM_SEEK_CUR 1
#define STREAM_SEEK_END 2
#define STATFLAG_DEFAULT 0
#define STATFLAG_NONAME 1
#define STATFLAG_NOOPEN 2
#define STGC_DEFAULT 0
#define STGC_OVERWRITE 1
#define STGC_ONLYIFCURRENT 2
#define STGC_DANGEROUSLYCOMMITMERELYTODISKCACHE 4
#define STGC_CONSOLIDATE 8
#define LOCK_WRITE 1
#define LOCK_EXCLUSIVE 2
#define LOCK_ONLYONCE 4
#define STGTY_STORAGE 1
#define STGTY_STREAM 2
#define STGTY_LOCKBYTES 3
#define STGTY_PROPERTY 4
// STGM_* access modes (OpenProperty's ulInterfaceOptions for IID_IStream).
#define STGM_READ 0x00000000L
#define STGM_WRITE 0x00000001L
#define STGM_READWRITE 0x00000002L
#define STGM_SHARE_DENY_NONE 0x00000040L
#define STGM_SHARE_DENY_READ 0x00000030L
#define STGM_SHARE_DENY_WRITE 0x00000020L
#define STGM_SHARE_EXCLUSIVE 0x00000010L
#define STGM_PRIORITY 0x00040000L
#define STGM_CREATE 0x00001000L
#define STGM_CONVERT 0x00020000L
#define STGM_FAILIFTHERE 0x00000000L
#define STGM_DIRECT 0x00000000L
#define STGM_TRANSACTED 0x00010000L
#define STGM_NOSCRATCH 0x00100000L
#define STGM_NOSNAPSHOT 0x00200000L
#define STGM_SIMPLE 0x08000000L
#define STGM_DIRECT_SWMR 0x00400000L
#define STGM_DELETEONRELEASE 0x04000000L

typedef struct tagSTATSTG {
    LPOLESTR pwcsName;
    DWORD type;
    ULARGE_INTEGER cbSize;
    FILETIME mtime;
    FILETIME ctime;
    FILETIME atime;
    DWORD grfMode;
    DWORD grfLocksSupported;
    CLSID clsid;
    DWORD grfStateBits;
    DWORD reserved;
} STATSTG;

struct ISequentialStream : public IUnknown {
    PSTKIT_MAPI_INTERFACE_BODY(ISequentialStream)
    STDMETHOD(Read)(void* pv, ULONG cb, ULONG* pcbRead) PURE;
    STDMETHOD(Write)(const void* pv, ULONG cb, ULONG* pcbWritten) PURE;
};
typedef ISequentialStream FAR* LPSEQUENTIALSTREAM;

struct IStream : public ISequentialStream {
    PSTKIT_MAPI_INTERFACE_BODY(IStream)
    STDMETHOD(Seek)(LARGE_INTEGER dlibMove, DWORD dwOrigin, ULARGE_INTEGER* plibNewPosition) PURE;
    STDMETHOD(SetSize)(ULARGE_INTEGER libNewSize) PURE;
    STDMETHOD(CopyTo)(IStream* pstm, ULARGE_INTEGER cb, ULARGE_INTEGER* pcbRead,
                      ULARGE_INTEGER* pcbWritten) PURE;
    STDMETHOD(Commit)(DWORD grfCommitFlags) PURE;
    STDMETHOD(Revert)() PURE;
    STDMETHOD(LockRegion)(ULARGE_INTEGER libOffset, ULARGE_INTEGER cb, DWORD dwLockType) PURE;
    STDMETHOD(UnlockRegion)(ULARGE_INTEGER libOffset, ULARGE_INTEGER cb, DWORD dwLockType) PURE;
    STDMETHOD(Stat)(STATSTG* pstatstg, DWORD grfStatFlag) PURE;
    STDMETHOD(Clone)(IStream** ppstm) PURE;
};
typedef IStream FAR* LPSTREAM;

// IMalloc: the allocator a message service entry point receives.
struct IMalloc : public IUnknown {
    PSTKIT_MAPI_INTERFACE_BODY(IMalloc)
    STDMETHOD_(void*, Alloc)(SIZE_T cb) PURE;
    STDMETHOD_(void*, Realloc)(void* pv, SIZE_T cb) PURE;
    STDMETHOD_(void, Free)(void* pv) PURE;
    STDMETHOD_(SIZE_T, GetSize)(void* pv) PURE;
    STDMETHOD_(int, DidAlloc)(void* pv) PURE;
    STDMETHOD_(void, HeapMinimize)() PURE;
};
typedef IMalloc FAR* LPMALLOC;

#endif  // PSTKIT_MAPI_MAPINIX_H
