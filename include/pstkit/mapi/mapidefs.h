// mapidefs.h: MAPI's basic types, property types, structures, flags and the
// core interfaces (IMAPIProp and its descendants, IMAPITable,
// IMAPIAdviseSink, IMAPIProgress, the shutdown interfaces).
//
// Written for pstkit from Microsoft's Outlook MAPI reference
// (MicrosoftDocs/office-developer-client-docs, docs/outlook/mapi/<page>.md;
// the page of each group is named beside it) and, for values the reference
// leaves out, from the Exchange protocol specifications ([MS-OXCDATA],
// [MS-OXCTABL], [MS-OXCFOLD], [MS-OXCMSG], [MS-OXCNOTIF]) that document the
// same numbers on the wire. No header text of any other project is used.
//
// Interfaces: abstract classes whose virtual functions are the COM methods in
// the "Vtable order" tables of the reference pages (<iface>iunknown.md etc.),
// after IUnknown's QueryInterface, AddRef, Release. Parameter lists are the
// ones of the method pages, with LPTSTR where a string follows MAPI_UNICODE.
//
// Declarations only: the objects are implemented by pstkit's MAPI runtime.
#ifndef PSTKIT_MAPI_MAPIDEFS_H
#define PSTKIT_MAPI_MAPIDEFS_H

#include "mapinix.h"

// ---- Basics ----------------------------------------------------------------
// Variable-length arrays are declared with MAPI_DIM elements; the Cb*/Sized*
// macros below compute the real sizes.
#ifndef MAPI_DIM
#define MAPI_DIM 1
#endif

typedef ULONG FLAGS;
typedef const IID FAR* LPCIID;
typedef const GUID FAR* LPCGUID;
typedef LONG BOOKMARK;
typedef BOOKMARK FAR* LPBOOKMARK;

// mapiuid.md
typedef struct _MAPIUID {
    BYTE ab[16];
} MAPIUID, FAR* LPMAPIUID;
#define IsEqualMAPIUID(lpuid1, lpuid2) (!std::memcmp((lpuid1), (lpuid2), sizeof(MAPIUID)))

// entryid.md
typedef struct PSTKIT_MAPI_MAY_ALIAS {
    BYTE abFlags[4];
    BYTE ab[MAPI_DIM];
} ENTRYID, FAR* LPENTRYID;
#define CbNewENTRYID(_cb) (offsetof(ENTRYID, ab) + (_cb))
#define CbENTRYID(_cb) (offsetof(ENTRYID, ab) + (_cb))
#define SizedENTRYID(_cb, _name) \
    struct _ENTRYID_##_name {    \
        BYTE abFlags[4];         \
        BYTE ab[_cb];            \
    } _name
// abFlags[0] (entryid.md)
#define MAPI_SHORTTERM 0x80
#define MAPI_NOTRECIP 0x40
#define MAPI_THISSESSION 0x20
#define MAPI_NOW 0x10
#define MAPI_NOTRESERVED 0x08
// abFlags[1]
#define MAPI_COMPOUND 0x80

// ---- Flags common to many calls -------------------------------------------
#define MAPI_MODIFY ((ULONG)0x00000001)
#define MAPI_ACCESS_MODIFY ((ULONG)0x00000001)
#define MAPI_ACCESS_READ ((ULONG)0x00000002)
#define MAPI_ACCESS_DELETE ((ULONG)0x00000004)
#define MAPI_ACCESS_CREATE_HIERARCHY ((ULONG)0x00000008)
#define MAPI_ACCESS_CREATE_CONTENTS ((ULONG)0x00000010)
#define MAPI_ACCESS_CREATE_ASSOCIATED ((ULONG)0x00000020)
#define MAPI_UNICODE ((ULONG)0x80000000)
#define MAPI_DEFERRED_ERRORS ((ULONG)0x00000008)
#define MAPI_BEST_ACCESS ((ULONG)0x00000010)
#define MAPI_CREATE ((ULONG)0x00000002)
#define MAPI_ASSOCIATED ((ULONG)0x00000040)
#define MAPI_DIALOG ((ULONG)0x00000008)
#define MAPI_USE_DEFAULT ((ULONG)0x00000040)
#define MAPI_NT_SERVICE ((ULONG)0x00010000)
#define MAPI_NO_CACHE ((ULONG)0x00000200)    // mapi-constants.md
#define MAPI_CACHE_ONLY ((ULONG)0x00004000)  // mapi-constants.md
#define MAPI_DECLINE_OK ((ULONG)0x00000004)
#define MAPI_MOVE ((ULONG)0x00000001)       // IMAPIProp::CopyTo/CopyProps
#define MAPI_NOREPLACE ((ULONG)0x00000002)
#define MAPI_NO_STRINGS ((ULONG)0x00000001)  // GetNamesFromIDs
#define MAPI_NO_IDS ((ULONG)0x00000002)
#define MAPI_ERROR_VERSION 0x00000000L  // MAPIERROR::ulVersion
#define MAPI_TOP_LEVEL ((ULONG)0x00000001)  // IMAPIProgress flags
#define DIALOG_MODAL ((ULONG)0x00000001)   // mapi-constants.md
#define DIALOG_SDI ((ULONG)0x00000002)

// Object types (PR_OBJECT_TYPE; OpenEntry's lpulObjType).
#define MAPI_STORE ((ULONG)0x00000001)
#define MAPI_ADDRBOOK ((ULONG)0x00000002)
#define MAPI_FOLDER ((ULONG)0x00000003)
#define MAPI_ABCONT ((ULONG)0x00000004)
#define MAPI_MESSAGE ((ULONG)0x00000005)
#define MAPI_MAILUSER ((ULONG)0x00000006)
#define MAPI_ATTACH ((ULONG)0x00000007)
#define MAPI_DISTLIST ((ULONG)0x00000008)
#define MAPI_PROFSECT ((ULONG)0x00000009)
#define MAPI_STATUS ((ULONG)0x0000000A)
#define MAPI_SESSION ((ULONG)0x0000000B)
#define MAPI_FORMINFO ((ULONG)0x0000000C)

// The status table's PR_STATUS_CODE (pidtagstatuscode-canonical-property.md)
// and PR_RESOURCE_METHODS (pidtagresourcemethods-canonical-property.md).
#define STATUS_AVAILABLE ((ULONG)0x00000001)
#define STATUS_OFFLINE ((ULONG)0x00000002)
#define STATUS_FAILURE ((ULONG)0x00000004)
#define STATUS_VALIDATE_STATE ((ULONG)0x00000001)
#define STATUS_SETTINGS_DIALOG ((ULONG)0x00000002)
#define STATUS_CHANGE_PASSWORD ((ULONG)0x00000004)
#define STATUS_FLUSH_QUEUES ((ULONG)0x00000008)

// Recipient types (PR_RECIPIENT_TYPE; pidtagrecipienttype-canonical-property.md).
#define MAPI_ORIG 0
#define MAPI_TO 1
#define MAPI_CC 2
#define MAPI_BCC 3
#define MAPI_P1 0x10000000
#define MAPI_SUBMITTED 0x80000000

// Display types (PR_DISPLAY_TYPE; pidtagdisplaytype-canonical-property.md).
#define DT_MAILUSER ((ULONG)0x00000000)
#define DT_DISTLIST ((ULONG)0x00000001)
#define DT_FORUM ((ULONG)0x00000002)
#define DT_AGENT ((ULONG)0x00000003)
#define DT_ORGANIZATION ((ULONG)0x00000004)
#define DT_PRIVATE_DISTLIST ((ULONG)0x00000005)
#define DT_REMOTE_MAILUSER ((ULONG)0x00000006)
#define DT_ROOM ((ULONG)0x00000007)
#define DT_EQUIPMENT ((ULONG)0x00000008)
#define DT_SEC_DISTLIST ((ULONG)0x00000009)
#define DT_MODIFIABLE ((ULONG)0x00010000)
#define DT_GLOBAL ((ULONG)0x00020000)
#define DT_LOCAL ((ULONG)0x00030000)
#define DT_WAN ((ULONG)0x00040000)
#define DT_NOT_SPECIFIC ((ULONG)0x00050000)
#define DT_FOLDER ((ULONG)0x01000000)
#define DT_FOLDER_LINK ((ULONG)0x02000000)
#define DT_FOLDER_SPECIAL ((ULONG)0x04000000)

// ---- Property types (property-types.md) -----------------------------------
#define MV_FLAG 0x1000
#define PT_UNSPECIFIED ((ULONG)0)
#define PT_NULL ((ULONG)1)
#define PT_I2 ((ULONG)2)
#define PT_LONG ((ULONG)3)
#define PT_R4 ((ULONG)4)
#define PT_DOUBLE ((ULONG)5)
#define PT_CURRENCY ((ULONG)6)
#define PT_APPTIME ((ULONG)7)
#define PT_ERROR ((ULONG)10)
#define PT_BOOLEAN ((ULONG)11)
#define PT_OBJECT ((ULONG)13)
#define PT_I8 ((ULONG)20)
#define PT_STRING8 ((ULONG)30)
#define PT_UNICODE ((ULONG)31)
#define PT_SYSTIME ((ULONG)64)
#define PT_CLSID ((ULONG)72)
#define PT_SVREID ((ULONG)0xFB)
#define PT_SRESTRICT ((ULONG)0xFD)
#define PT_ACTIONS ((ULONG)0xFE)
#define PT_BINARY ((ULONG)258)
// Alternate names.
#define PT_SHORT PT_I2
#define PT_I4 PT_LONG
#define PT_FLOAT PT_R4
#define PT_R8 PT_DOUBLE
#define PT_LONGLONG PT_I8
// Multi-valued types.
#define PT_MV_I2 (MV_FLAG | PT_I2)
#define PT_MV_LONG (MV_FLAG | PT_LONG)
#define PT_MV_R4 (MV_FLAG | PT_R4)
#define PT_MV_DOUBLE (MV_FLAG | PT_DOUBLE)
#define PT_MV_CURRENCY (MV_FLAG | PT_CURRENCY)
#define PT_MV_APPTIME (MV_FLAG | PT_APPTIME)
#define PT_MV_SYSTIME (MV_FLAG | PT_SYSTIME)
#define PT_MV_STRING8 (MV_FLAG | PT_STRING8)
#define PT_MV_BINARY (MV_FLAG | PT_BINARY)
#define PT_MV_UNICODE (MV_FLAG | PT_UNICODE)
#define PT_MV_CLSID (MV_FLAG | PT_CLSID)
#define PT_MV_I8 (MV_FLAG | PT_I8)
#define PT_MV_SHORT PT_MV_I2
#define PT_MV_I4 PT_MV_LONG
#define PT_MV_FLOAT PT_MV_R4
#define PT_MV_R8 PT_MV_DOUBLE
#define PT_MV_LONGLONG PT_MV_I8
// The TCHAR string type follows UNICODE (property-types.md, PT_TSTRING).
#ifdef UNICODE
#define PT_TSTRING PT_UNICODE
#define PT_MV_TSTRING (MV_FLAG | PT_UNICODE)
#define LPSZ lpszW
#define LPPSZ lppszW
#define MVSZ MVszW
#else
#define PT_TSTRING PT_STRING8
#define PT_MV_TSTRING (MV_FLAG | PT_STRING8)
#define LPSZ lpszA
#define LPPSZ lppszA
#define MVSZ MVszA
#endif

// ---- Property tags (prop_tag.md, prop_type.md, prop_id.md,
//      change_prop_type.md, mvi_prop.md) -----------------------------------
#define PROP_TYPE_MASK ((ULONG)0x0000FFFF)
#define PROP_TYPE(ulPropTag) (((ULONG)(ulPropTag)) & PROP_TYPE_MASK)
#define PROP_ID(ulPropTag) (((ULONG)(ulPropTag)) >> 16)
#define PROP_TAG(ulPropType, ulPropID) ((((ULONG)(ulPropID)) << 16) | ((ULONG)(ulPropType)))
#define CHANGE_PROP_TYPE(ulPropTag, ulPropType) \
    (((ULONG)0xFFFF0000 & (ULONG)(ulPropTag)) | (ULONG)(ulPropType))
#define PROP_ID_NULL 0
#define PROP_ID_INVALID 0xFFFF
#define PROP_ID_SECURE_MIN 0x67F0
#define PROP_ID_SECURE_MAX 0x67FF
#define MV_INSTANCE 0x2000
#define MVI_FLAG (MV_FLAG | MV_INSTANCE)
#define MVI_PROP(tag) ((tag) | MVI_FLAG)

// ---- Property values (spropvalue.md and the array pages) ------------------
typedef struct _SBinary {
    ULONG cb;
    LPBYTE lpb;
} SBinary, FAR* LPSBinary;

typedef struct _SShortArray {
    ULONG cValues;
    short int FAR* lpi;
} SShortArray;
typedef struct _SLongArray {
    ULONG cValues;
    LONG FAR* lpl;
} SLongArray;
typedef struct _SRealArray {
    ULONG cValues;
    float FAR* lpflt;
} SRealArray;
typedef struct _SDoubleArray {
    ULONG cValues;
    double FAR* lpdbl;
} SDoubleArray;
typedef struct _SCurrencyArray {
    ULONG cValues;
    CURRENCY FAR* lpcur;
} SCurrencyArray;
typedef struct _SAppTimeArray {
    ULONG cValues;
    double FAR* lpat;
} SAppTimeArray;
typedef struct _SDateTimeArray {
    ULONG cValues;
    FILETIME FAR* lpft;
} SDateTimeArray;
typedef struct _SBinaryArray {
    ULONG cValues;
    SBinary FAR* lpbin;
} SBinaryArray;
typedef struct _SLPSTRArray {
    ULONG cValues;
    LPSTR FAR* lppszA;
} SLPSTRArray;
typedef struct _SWStringArray {
    ULONG cValues;
    LPWSTR FAR* lppszW;
} SWStringArray;
typedef struct _SGuidArray {
    ULONG cValues;
    GUID FAR* lpguid;
} SGuidArray;
typedef struct _SLargeIntegerArray {
    ULONG cValues;
    LARGE_INTEGER FAR* lpli;
} SLargeIntegerArray;

// The value member of SPropValue; the member names are the ones of the table
// in spropvalue.md (MVl is the multi-valued PT_MV_LONG member).
union _PV {
    short int i;
    LONG l;
    ULONG ul;
    float flt;
    double dbl;
    unsigned short int b;
    CURRENCY cur;
    double at;
    FILETIME ft;
    LPSTR lpszA;
    SBinary bin;
    LPWSTR lpszW;
    LPGUID lpguid;
    LARGE_INTEGER li;
    SShortArray MVi;
    SLongArray MVl;
    SRealArray MVflt;
    SDoubleArray MVdbl;
    SCurrencyArray MVcur;
    SAppTimeArray MVat;
    SDateTimeArray MVft;
    SBinaryArray MVbin;
    SLPSTRArray MVszA;
    SWStringArray MVszW;
    SGuidArray MVguid;
    SLargeIntegerArray MVli;
    SCODE err;
    LONG x;
    LPVOID lpv;
};

typedef struct _SPropValue {
    ULONG ulPropTag;
    ULONG dwAlignPad;
    union _PV Value;
} SPropValue, FAR* LPSPropValue;

// sproptagarray.md; CbNewSPropTagArray.md, SizedSPropTagArray.md
typedef struct PSTKIT_MAPI_MAY_ALIAS _SPropTagArray {
    ULONG cValues;
    ULONG aulPropTag[MAPI_DIM];
} SPropTagArray, FAR* LPSPropTagArray;
#define CbNewSPropTagArray(_ctag) (offsetof(SPropTagArray, aulPropTag) + (_ctag) * sizeof(ULONG))
#define CbSPropTagArray(_lparray) \
    (offsetof(SPropTagArray, aulPropTag) + (UINT)((_lparray)->cValues) * sizeof(ULONG))
#define SizedSPropTagArray(_ctag, _name) \
    struct _SPropTagArray_##_name {      \
        ULONG cValues;                   \
        ULONG aulPropTag[_ctag];         \
    } _name

// spropproblem.md, spropproblemarray.md
typedef struct _SPropProblem {
    ULONG ulIndex;
    ULONG ulPropTag;
    SCODE scode;
} SPropProblem, FAR* LPSPropProblem;
typedef struct PSTKIT_MAPI_MAY_ALIAS _SPropProblemArray {
    ULONG cProblem;
    SPropProblem aProblem[MAPI_DIM];
} SPropProblemArray, FAR* LPSPropProblemArray;
#define CbNewSPropProblemArray(_cprob) \
    (offsetof(SPropProblemArray, aProblem) + (_cprob) * sizeof(SPropProblem))
#define CbSPropProblemArray(_lparray) \
    (offsetof(SPropProblemArray, aProblem) + (UINT)((_lparray)->cProblem) * sizeof(SPropProblem))
#define SizedSPropProblemArray(_cprob, _name) \
    struct _SPropProblemArray_##_name {       \
        ULONG cProblem;                       \
        SPropProblem aProblem[_cprob];        \
    } _name

// spropattrarray.md
typedef struct PSTKIT_MAPI_MAY_ALIAS {
    ULONG cValues;
    ULONG aPropAttr[MAPI_DIM];
} SPropAttrArray, FAR* LPSPropAttrArray;
#define CbNewSPropAttrArray(_cattr) (offsetof(SPropAttrArray, aPropAttr) + (_cattr) * sizeof(ULONG))
#define CbSPropAttrArray(_lparray) \
    (offsetof(SPropAttrArray, aPropAttr) + (UINT)((_lparray)->cValues) * sizeof(ULONG))
#define SizedSPropAttrArray(_cattr, _name) \
    struct _SPropAttrArray_##_name {       \
        ULONG cValues;                     \
        ULONG aPropAttr[_cattr];           \
    } _name
#define PROPATTR_MANDATORY ((ULONG)0x00000001)
#define PROPATTR_READABLE ((ULONG)0x00000002)
#define PROPATTR_WRITEABLE ((ULONG)0x00000004)
#define PROPATTR_NOT_PRESENT ((ULONG)0x00000008)

// entrylist.md: a list of entry IDs.
typedef SBinaryArray ENTRYLIST, FAR* LPENTRYLIST;

// flatentry.md, flatentrylist.md, mtsid.md, flatmtsidlist.md
typedef struct PSTKIT_MAPI_MAY_ALIAS {
    ULONG cb;
    BYTE abEntry[MAPI_DIM];
} FLATENTRY, FAR* LPFLATENTRY;
typedef struct PSTKIT_MAPI_MAY_ALIAS {
    ULONG cEntries;
    ULONG cbEntries;
    BYTE abEntries[MAPI_DIM];
} FLATENTRYLIST, FAR* LPFLATENTRYLIST;
typedef struct PSTKIT_MAPI_MAY_ALIAS {
    ULONG cb;
    BYTE abEntry[MAPI_DIM];
} MTSID, FAR* LPMTSID;
typedef struct PSTKIT_MAPI_MAY_ALIAS {
    ULONG cMTSIDs;
    ULONG cbMTSIDs;
    BYTE abMTSIDs[MAPI_DIM];
} FLATMTSIDLIST, FAR* LPFLATMTSIDLIST;
#define CbNewFLATENTRY(_cb) (offsetof(FLATENTRY, abEntry) + (_cb))
#define CbFLATENTRY(_lpentry) (offsetof(FLATENTRY, abEntry) + (_lpentry)->cb)
#define CbNewFLATENTRYLIST(_cb) (offsetof(FLATENTRYLIST, abEntries) + (_cb))
#define CbFLATENTRYLIST(_lplist) (offsetof(FLATENTRYLIST, abEntries) + (_lplist)->cbEntries)
#define CbNewMTSID(_cb) (offsetof(MTSID, abEntry) + (_cb))
#define CbMTSID(_lp) (offsetof(MTSID, abEntry) + (_lp)->cb)
#define CbNewFLATMTSIDLIST(_cb) (offsetof(FLATMTSIDLIST, abMTSIDs) + (_cb))
#define CbFLATMTSIDLIST(_lplist) (offsetof(FLATMTSIDLIST, abMTSIDs) + (_lplist)->cbMTSIDs)

// adrentry.md, adrlist.md
typedef struct _ADRENTRY {
    ULONG ulReserved1;
    ULONG cValues;
    LPSPropValue rgPropVals;
} ADRENTRY, FAR* LPADRENTRY;
typedef struct PSTKIT_MAPI_MAY_ALIAS _ADRLIST {
    ULONG cEntries;
    ADRENTRY aEntries[MAPI_DIM];
} ADRLIST, FAR* LPADRLIST;
#define CbNewADRLIST(_centries) (offsetof(ADRLIST, aEntries) + (_centries) * sizeof(ADRENTRY))
#define CbADRLIST(_lpadrlist) \
    (offsetof(ADRLIST, aEntries) + (UINT)(_lpadrlist)->cEntries * sizeof(ADRENTRY))
#define SizedADRLIST(_centries, _name) \
    struct _ADRLIST_##_name {          \
        ULONG cEntries;                \
        ADRENTRY aEntries[_centries];  \
    } _name

// srow.md, srowset.md
typedef struct _SRow {
    ULONG ulAdrEntryPad;
    ULONG cValues;
    LPSPropValue lpProps;
} SRow, FAR* LPSRow;
typedef struct PSTKIT_MAPI_MAY_ALIAS _SRowSet {
    ULONG cRows;
    SRow aRow[MAPI_DIM];
} SRowSet, FAR* LPSRowSet;
#define CbNewSRowSet(_crow) (offsetof(SRowSet, aRow) + (_crow) * sizeof(SRow))
#define CbSRowSet(_lprowset) (offsetof(SRowSet, aRow) + (UINT)((_lprowset)->cRows) * sizeof(SRow))
#define SizedSRowSet(_crow, _name) \
    struct _SRowSet_##_name {      \
        ULONG cRows;               \
        SRow aRow[_crow];          \
    } _name

// mapierror.md prints LPSTR; the strings are Unicode when GetLastError was
// called with MAPI_UNICODE, so they are LPTSTR as in other TCHAR parameters.
typedef struct _MAPIERROR {
    ULONG ulVersion;
    LPTSTR lpszError;
    LPTSTR lpszComponent;
    ULONG ulLowLevelError;
    ULONG ulContext;
} MAPIERROR, FAR* LPMAPIERROR;

// mapinameid.md; named-property kinds.
#define MNID_ID 0
#define MNID_STRING 1
typedef struct _MAPINAMEID {
    LPGUID lpguid;
    ULONG ulKind;
    union {
        LONG lID;
        LPWSTR lpwstrName;
    } Kind;
} MAPINAMEID, FAR* LPMAPINAMEID;

// Memory allocation callbacks (mapiallocatebuffer.md etc.).
typedef SCODE(STDMETHODCALLTYPE ALLOCATEBUFFER)(ULONG cbSize, LPVOID FAR* lppBuffer);
typedef SCODE(STDMETHODCALLTYPE ALLOCATEMORE)(ULONG cbSize, LPVOID lpObject, LPVOID FAR* lppBuffer);
typedef ULONG(STDAPICALLTYPE FREEBUFFER)(LPVOID lpBuffer);
typedef ALLOCATEBUFFER FAR* LPALLOCATEBUFFER;
typedef ALLOCATEMORE FAR* LPALLOCATEMORE;
typedef FREEBUFFER FAR* LPFREEBUFFER;

// ---- Tables: sort orders (ssortorder.md, ssortorderset.md) ----------------
typedef struct _SSortOrder {
    ULONG ulPropTag;
    ULONG ulOrder;
} SSortOrder, FAR* LPSSortOrder;
#define TABLE_SORT_ASCEND ((ULONG)0x00000000)
#define TABLE_SORT_DESCEND ((ULONG)0x00000001)
#define TABLE_SORT_COMBINE ((ULONG)0x00000002)
#define TABLE_SORT_CATEG_MAX ((ULONG)0x00000004)
#define TABLE_SORT_CATEG_MIN ((ULONG)0x00000008)

typedef struct PSTKIT_MAPI_MAY_ALIAS _SSortOrderSet {
    ULONG cSorts;
    ULONG cCategories;
    ULONG cExpanded;
    SSortOrder aSort[MAPI_DIM];
} SSortOrderSet, FAR* LPSSortOrderSet;
#define CbNewSSortOrderSet(_csort) (offsetof(SSortOrderSet, aSort) + (_csort) * sizeof(SSortOrder))
#define CbSSortOrderSet(_lpset) \
    (offsetof(SSortOrderSet, aSort) + (UINT)((_lpset)->cSorts) * sizeof(SSortOrder))
#define SizedSSortOrderSet(_csort, _name) \
    struct _SSortOrderSet_##_name {       \
        ULONG cSorts;                     \
        ULONG cCategories;                \
        ULONG cExpanded;                  \
        SSortOrder aSort[_csort];         \
    } _name

// ---- Restrictions (srestriction.md and one page per structure) -----------
#define RES_AND ((ULONG)0x00000000)
#define RES_OR ((ULONG)0x00000001)
#define RES_NOT ((ULONG)0x00000002)
#define RES_CONTENT ((ULONG)0x00000003)
#define RES_PROPERTY ((ULONG)0x00000004)
#define RES_COMPAREPROPS ((ULONG)0x00000005)
#define RES_BITMASK ((ULONG)0x00000006)
#define RES_SIZE ((ULONG)0x00000007)
#define RES_EXIST ((ULONG)0x00000008)
#define RES_SUBRESTRICTION ((ULONG)0x00000009)
#define RES_COMMENT ((ULONG)0x0000000A)
#define RES_COUNT ((ULONG)0x0000000B)
#define RES_ANNOTATION ((ULONG)0x0000000C)
// Fuzzy levels of RES_CONTENT (scontentrestriction.md).
#define FL_FULLSTRING ((ULONG)0x00000000)
#define FL_SUBSTRING ((ULONG)0x00000001)
#define FL_PREFIX ((ULONG)0x00000002)
#define FL_IGNORECASE ((ULONG)0x00010000)
#define FL_IGNORENONSPACE ((ULONG)0x00020000)
#define FL_LOOSE ((ULONG)0x00040000)
// Relational operators (spropertyrestriction.md).
#define RELOP_LT ((ULONG)0)
#define RELOP_LE ((ULONG)1)
#define RELOP_GT ((ULONG)2)
#define RELOP_GE ((ULONG)3)
#define RELOP_EQ ((ULONG)4)
#define RELOP_NE ((ULONG)5)
#define RELOP_RE ((ULONG)6)
// Bitmask relations (sbitmaskrestriction.md).
#define BMR_EQZ ((ULONG)0)
#define BMR_NEZ ((ULONG)1)

typedef struct _SRestriction FAR* LPSRestriction;

typedef struct _SAndRestriction {
    ULONG cRes;
    LPSRestriction lpRes;
} SAndRestriction;
typedef struct _SOrRestriction {
    ULONG cRes;
    LPSRestriction lpRes;
} SOrRestriction;
typedef struct _SNotRestriction {
    ULONG ulReserved;
    LPSRestriction lpRes;
} SNotRestriction;
typedef struct _SContentRestriction {
    ULONG ulFuzzyLevel;
    ULONG ulPropTag;
    LPSPropValue lpProp;
} SContentRestriction;
typedef struct _SPropertyRestriction {
    ULONG relop;
    ULONG ulPropTag;
    LPSPropValue lpProp;
} SPropertyRestriction;
typedef struct _SComparePropsRestriction {
    ULONG relop;
    ULONG ulPropTag1;
    ULONG ulPropTag2;
} SComparePropsRestriction;
// sbitmaskrestriction.md shows ulPropTag typed "PT_LONG": the tag of a
// PT_LONG property; its C type is ULONG like every property tag.
typedef struct _SBitMaskRestriction {
    ULONG relBMR;
    ULONG ulPropTag;
    ULONG ulMask;
} SBitMaskRestriction;
typedef struct _SSizeRestriction {
    ULONG relop;
    ULONG ulPropTag;
    ULONG cb;
} SSizeRestriction;
typedef struct _SExistRestriction {
    ULONG ulReserved1;
    ULONG ulPropTag;
    ULONG ulReserved2;
} SExistRestriction;
typedef struct _SSubRestriction {
    ULONG ulSubObject;
    LPSRestriction lpRes;
} SSubRestriction;
typedef struct _SCommentRestriction {
    ULONG cValues;
    LPSRestriction lpRes;
    LPSPropValue lpProp;
} SCommentRestriction;
typedef struct _SCountRestriction {
    ULONG ulCount;
    LPSRestriction lpRes;
} SCountRestriction;
typedef struct _SRestriction {
    ULONG rt;
    union {
        SComparePropsRestriction resCompareProps;
        SAndRestriction resAnd;
        SOrRestriction resOr;
        SNotRestriction resNot;
        SContentRestriction resContent;
        SPropertyRestriction resProperty;
        SBitMaskRestriction resBitMask;
        SSizeRestriction resSize;
        SExistRestriction resExist;
        SSubRestriction resSub;
        SCommentRestriction resComment;
        SCountRestriction resCount;
    } res;
} SRestriction;

// ---- Notifications (notification.md and the event structure pages) -------
#define fnevCriticalError ((ULONG)0x00000001)
#define fnevNewMail ((ULONG)0x00000002)
#define fnevObjectCreated ((ULONG)0x00000004)
#define fnevObjectDeleted ((ULONG)0x00000008)
#define fnevObjectModified ((ULONG)0x00000010)
#define fnevObjectMoved ((ULONG)0x00000020)
#define fnevObjectCopied ((ULONG)0x00000040)
#define fnevSearchComplete ((ULONG)0x00000080)
#define fnevTableModified ((ULONG)0x00000100)
#define fnevStatusObjectModified ((ULONG)0x00000200)
#define fnevReservedForMapi ((ULONG)0x40000000)
#define fnevExtended ((ULONG)0x80000000)
#define fnevIndexing ((ULONG)0x00010000)  // mapi-constants.md

// Table events (table_notification.md).
#define TABLE_CHANGED 1
#define TABLE_ERROR 2
#define TABLE_ROW_ADDED 3
#define TABLE_ROW_DELETED 4
#define TABLE_ROW_MODIFIED 5
#define TABLE_SORT_DONE 6
#define TABLE_RESTRICT_DONE 7
#define TABLE_SETCOL_DONE 8
#define TABLE_RELOAD 9

typedef struct _ERROR_NOTIFICATION {
    ULONG cbEntryID;
    LPENTRYID lpEntryID;
    SCODE scode;
    ULONG ulFlags;
    LPMAPIERROR lpMAPIError;
} ERROR_NOTIFICATION;
typedef struct _NEWMAIL_NOTIFICATION {
    ULONG cbEntryID;
    LPENTRYID lpEntryID;
    ULONG cbParentID;
    LPENTRYID lpParentID;
    ULONG ulFlags;
    LPTSTR lpszMessageClass;  // Unicode when ulFlags has MAPI_UNICODE
    ULONG ulMessageFlags;
} NEWMAIL_NOTIFICATION;
typedef struct _OBJECT_NOTIFICATION {
    ULONG cbEntryID;
    LPENTRYID lpEntryID;
    ULONG ulObjType;
    ULONG cbParentID;
    LPENTRYID lpParentID;
    ULONG cbOldID;
    LPENTRYID lpOldID;
    ULONG cbOldParentID;
    LPENTRYID lpOldParentID;
    LPSPropTagArray lpPropTagArray;
} OBJECT_NOTIFICATION;
typedef struct _TABLE_NOTIFICATION {
    ULONG ulTableEvent;
    HRESULT hResult;
    SPropValue propIndex;
    SPropValue propPrior;
    SRow row;
} TABLE_NOTIFICATION;
typedef struct _EXTENDED_NOTIFICATION {
    ULONG ulEvent;
    ULONG cb;
    LPBYTE pbEventParameters;
} EXTENDED_NOTIFICATION;
typedef struct {
    ULONG cbEntryID;
    LPENTRYID lpEntryID;
    ULONG cValues;
    LPSPropValue lpPropVals;
} STATUS_OBJECT_NOTIFICATION;

typedef struct {
    ULONG ulEventType;
    union {
        ERROR_NOTIFICATION err;
        NEWMAIL_NOTIFICATION newmail;
        OBJECT_NOTIFICATION obj;
        TABLE_NOTIFICATION tab;
        EXTENDED_NOTIFICATION ext;
        STATUS_OBJECT_NOTIFICATION statobj;
    } info;
} NOTIFICATION, FAR* LPNOTIFICATION;

// The callback HrAllocAdviseSink wraps (notifcallback.md).
typedef LONG(STDAPICALLTYPE NOTIFCALLBACK)(LPVOID lpvContext, ULONG cNotification,
                                           LPNOTIFICATION lpNotifications);
typedef NOTIFCALLBACK FAR* LPNOTIFCALLBACK;

// ---- Interface pointer types ----------------------------------------------
struct IMAPIAdviseSink;
struct IMAPIProgress;
struct IMAPIProp;
struct IMAPIContainer;
struct IMAPIFolder;
struct IMsgStore;
struct IMessage;
struct IAttach;
struct IMAPITable;
struct IProfSect;
struct IMAPIStatus;
struct IAddrBook;
struct IMAPIClientShutdown;
struct IMAPIProviderShutdown;
typedef IMAPIAdviseSink FAR* LPMAPIADVISESINK;
typedef IMAPIProgress FAR* LPMAPIPROGRESS;
typedef IMAPIProp FAR* LPMAPIPROP;
typedef IMAPIContainer FAR* LPMAPICONTAINER;
typedef IMAPIFolder FAR* LPMAPIFOLDER;
typedef IMsgStore FAR* LPMDB;
typedef IMessage FAR* LPMESSAGE;
typedef IAttach FAR* LPATTACH;
typedef IMAPITable FAR* LPMAPITABLE;
typedef IProfSect FAR* LPPROFSECT;
typedef IMAPIStatus FAR* LPMAPISTATUS;
typedef IAddrBook FAR* LPADRBOOK;
typedef IMAPIClientShutdown FAR* LPMAPICLIENTSHUTDOWN;
typedef IMAPIProviderShutdown FAR* LPMAPIPROVIDERSHUTDOWN;

// ---- IMAPIAdviseSink (imapiadvisesinkiunknown.md) -------------------------
struct IMAPIAdviseSink : public IUnknown {
    PSTKIT_MAPI_INTERFACE_BODY(IMAPIAdviseSink)
    MAPIMETHOD_(ULONG, OnNotify)(ULONG cNotif, LPNOTIFICATION lpNotifications) PURE;
};

// ---- IMAPIProgress (imapiprogressiunknown.md) -----------------------------
struct IMAPIProgress : public IUnknown {
    PSTKIT_MAPI_INTERFACE_BODY(IMAPIProgress)
    MAPIMETHOD(Progress)(ULONG ulValue, ULONG ulCount, ULONG ulTotal) PURE;
    MAPIMETHOD(GetFlags)(ULONG FAR* lpulFlags) PURE;
    MAPIMETHOD(GetMax)(ULONG FAR* lpulMax) PURE;
    MAPIMETHOD(GetMin)(ULONG FAR* lpulMin) PURE;
    MAPIMETHOD(SetLimits)(LPULONG lpulMin, LPULONG lpulMax, LPULONG lpulFlags) PURE;
};

// ---- IMAPIProp (imapipropiunknown.md) -------------------------------------
// SaveChanges flags (imapiprop-savechanges.md, mapi-constants.md).
#define KEEP_OPEN_READONLY ((ULONG)0x00000001)
#define KEEP_OPEN_READWRITE ((ULONG)0x00000002)
#define FORCE_SAVE ((ULONG)0x00000004)
#define SPAMFILTER_ONSAVE ((ULONG)0x00000080)
#define ITEMPROC_FORCE ((ULONG)0x00000800)
#define NON_EMS_XP_SAVE ((ULONG)0x00001000)
// OpenProperty flags (imapiprop-openproperty.md); MAPI_MODIFY, MAPI_CREATE,
// MAPI_DEFERRED_ERRORS above.
#define STREAM_APPEND ((ULONG)0x00000004)

struct IMAPIProp : public IUnknown {
    PSTKIT_MAPI_INTERFACE_BODY(IMAPIProp)
    MAPIMETHOD(GetLastError)(HRESULT hResult, ULONG ulFlags, LPMAPIERROR FAR* lppMAPIError) PURE;
    MAPIMETHOD(SaveChanges)(ULONG ulFlags) PURE;
    MAPIMETHOD(GetProps)(LPSPropTagArray lpPropTagArray, ULONG ulFlags, ULONG FAR* lpcValues,
                         LPSPropValue FAR* lppPropArray) PURE;
    MAPIMETHOD(GetPropList)(ULONG ulFlags, LPSPropTagArray FAR* lppPropTagArray) PURE;
    MAPIMETHOD(OpenProperty)(ULONG ulPropTag, LPCIID lpiid, ULONG ulInterfaceOptions, ULONG ulFlags,
                             LPUNKNOWN FAR* lppUnk) PURE;
    MAPIMETHOD(SetProps)(ULONG cValues, LPSPropValue lpPropArray,
                         LPSPropProblemArray FAR* lppProblems) PURE;
    MAPIMETHOD(DeleteProps)(LPSPropTagArray lpPropTagArray, LPSPropProblemArray FAR* lppProblems) PURE;
    MAPIMETHOD(CopyTo)(ULONG ciidExclude, LPCIID rgiidExclude, LPSPropTagArray lpExcludeProps,
                       ULONG_PTR ulUIParam, LPMAPIPROGRESS lpProgress, LPCIID lpInterface,
                       LPVOID lpDestObj, ULONG ulFlags, LPSPropProblemArray FAR* lppProblems) PURE;
    MAPIMETHOD(CopyProps)(LPSPropTagArray lpIncludeProps, ULONG_PTR ulUIParam,
                          LPMAPIPROGRESS lpProgress, LPCIID lpInterface, LPVOID lpDestObj,
                          ULONG ulFlags, LPSPropProblemArray FAR* lppProblems) PURE;
    MAPIMETHOD(GetNamesFromIDs)(LPSPropTagArray FAR* lppPropTags, LPGUID lpPropSetGuid, ULONG ulFlags,
                                ULONG FAR* lpcPropNames, LPMAPINAMEID FAR* FAR* lpppPropNames) PURE;
    MAPIMETHOD(GetIDsFromNames)(ULONG cPropNames, LPMAPINAMEID FAR* lppPropNames, ULONG ulFlags,
                                LPSPropTagArray FAR* lppPropTags) PURE;
};

// ---- IMAPITable (imapitableiunknown.md) -----------------------------------
// Table status (imapitable-getstatus.md; [MS-OXCTABL]).
#define TBLSTAT_COMPLETE ((ULONG)0)
#define TBLSTAT_QCHANGED ((ULONG)7)
#define TBLSTAT_SORTING ((ULONG)9)
#define TBLSTAT_SORT_ERROR ((ULONG)10)
#define TBLSTAT_SETTING_COLS ((ULONG)11)
#define TBLSTAT_SETCOL_ERROR ((ULONG)13)
#define TBLSTAT_RESTRICTING ((ULONG)14)
#define TBLSTAT_RESTRICT_ERROR ((ULONG)15)
// Table types.
#define TBLTYPE_SNAPSHOT ((ULONG)0)
#define TBLTYPE_KEYSET ((ULONG)1)
#define TBLTYPE_DYNAMIC ((ULONG)2)
// SetColumns, Restrict, SortTable, QueryColumns, QueryRows, FindRow flags.
#define TBL_ASYNC ((ULONG)0x00000001)
#define TBL_BATCH ((ULONG)0x00000002)
#define TBL_ALL_COLUMNS ((ULONG)0x00000001)
#define TBL_NOADVANCE ((ULONG)0x00000001)
#define DIR_BACKWARD ((ULONG)0x00000001)
#define TBL_NOWAIT ((ULONG)0x00000001)
// Bookmarks.
#define BOOKMARK_BEGINNING ((BOOKMARK)0)
#define BOOKMARK_CURRENT ((BOOKMARK)1)
#define BOOKMARK_END ((BOOKMARK)2)
// Category rows (PR_ROW_TYPE).
#define TBL_LEAF_ROW ((ULONG)1)
#define TBL_EMPTY_CATEGORY ((ULONG)2)
#define TBL_EXPANDED_CATEGORY ((ULONG)3)
#define TBL_COLLAPSED_CATEGORY ((ULONG)4)

struct IMAPITable : public IUnknown {
    PSTKIT_MAPI_INTERFACE_BODY(IMAPITable)
    MAPIMETHOD(GetLastError)(HRESULT hResult, ULONG ulFlags, LPMAPIERROR FAR* lppMAPIError) PURE;
    MAPIMETHOD(Advise)(ULONG ulEventMask, LPMAPIADVISESINK lpAdviseSink, ULONG_PTR FAR* lpulConnection) PURE;
    MAPIMETHOD(Unadvise)(ULONG_PTR ulConnection) PURE;
    MAPIMETHOD(GetStatus)(ULONG FAR* lpulTableStatus, ULONG FAR* lpulTableType) PURE;
    MAPIMETHOD(SetColumns)(LPSPropTagArray lpPropTagArray, ULONG ulFlags) PURE;
    MAPIMETHOD(QueryColumns)(ULONG ulFlags, LPSPropTagArray FAR* lpPropTagArray) PURE;
    MAPIMETHOD(GetRowCount)(ULONG ulFlags, ULONG FAR* lpulCount) PURE;
    MAPIMETHOD(SeekRow)(BOOKMARK bkOrigin, LONG lRowCount, LONG FAR* lplRowsSought) PURE;
    MAPIMETHOD(SeekRowApprox)(ULONG ulNumerator, ULONG ulDenominator) PURE;
    MAPIMETHOD(QueryPosition)(ULONG FAR* lpulRow, ULONG FAR* lpulNumerator, ULONG FAR* lpulDenominator) PURE;
    MAPIMETHOD(FindRow)(LPSRestriction lpRestriction, BOOKMARK BkOrigin, ULONG ulFlags) PURE;
    MAPIMETHOD(Restrict)(LPSRestriction lpRestriction, ULONG ulFlags) PURE;
    MAPIMETHOD(CreateBookmark)(BOOKMARK FAR* lpbkPosition) PURE;
    MAPIMETHOD(FreeBookmark)(BOOKMARK bkPosition) PURE;
    MAPIMETHOD(SortTable)(LPSSortOrderSet lpSortCriteria, ULONG ulFlags) PURE;
    MAPIMETHOD(QuerySortOrder)(LPSSortOrderSet FAR* lppSortCriteria) PURE;
    MAPIMETHOD(QueryRows)(LONG lRowCount, ULONG ulFlags, LPSRowSet FAR* lppRows) PURE;
    MAPIMETHOD(Abort)() PURE;
    MAPIMETHOD(ExpandRow)(ULONG cbInstanceKey, LPBYTE pbInstanceKey, ULONG ulRowCount, ULONG ulFlags,
                          LPSRowSet FAR* lppRows, ULONG FAR* lpulMoreRows) PURE;
    MAPIMETHOD(CollapseRow)(ULONG cbInstanceKey, LPBYTE pbInstanceKey, ULONG ulFlags,
                            ULONG FAR* lpulRowCount) PURE;
    MAPIMETHOD(WaitForCompletion)(ULONG ulFlags, ULONG ulTimeout, ULONG FAR* lpulTableStatus) PURE;
    MAPIMETHOD(GetCollapseState)(ULONG ulFlags, ULONG cbInstanceKey, LPBYTE lpbInstanceKey,
                                 ULONG FAR* lpcbCollapseState, LPBYTE FAR* lppbCollapseState) PURE;
    MAPIMETHOD(SetCollapseState)(ULONG ulFlags, ULONG cbCollapseState, LPBYTE pbCollapseState,
                                 BOOKMARK FAR* lpbkLocation) PURE;
};

// ---- IProfSect (iprofsectimapiprop.md): IMAPIProp, no methods of its own --
struct IProfSect : public IMAPIProp {
    PSTKIT_MAPI_INTERFACE_BODY(IProfSect)
};

// ---- IMAPIStatus (imapistatusimapiprop.md) ---------------------------------
// The pages name these flags without their values; the values are those of
// Microsoft's own MAPI headers (MAPIStubLibrary, MIT), the numbers every
// MAPI implementation uses.
// ValidateState flags (imapistatus-validatestate.md).
#define SUPPRESS_UI ((ULONG)0x00000001)
#define REFRESH_XP_HEADER_CACHE ((ULONG)0x00010000)
#define PROCESS_XP_HEADER_CACHE ((ULONG)0x00020000)
#define FORCE_XP_CONNECT ((ULONG)0x00040000)
#define FORCE_XP_DISCONNECT ((ULONG)0x00080000)
#define CONFIG_CHANGED ((ULONG)0x00100000)
#define ABORT_XP_HEADER_OPERATION ((ULONG)0x00200000)
#define SHOW_XP_SESSION_UI ((ULONG)0x00400000)
// SettingsDialog flags (imapistatus-settingsdialog.md).
#define UI_READONLY ((ULONG)0x00000001)
// FlushQueues flags (imapistatus-flushqueues.md).
#define FLUSH_UPLOAD ((ULONG)0x00000002)
#define FLUSH_DOWNLOAD ((ULONG)0x00000004)
#define FLUSH_FORCE ((ULONG)0x00000008)
#define FLUSH_NO_UI ((ULONG)0x00000010)
#define FLUSH_ASYNC_OK ((ULONG)0x00000020)

struct IMAPIStatus : public IMAPIProp {
    PSTKIT_MAPI_INTERFACE_BODY(IMAPIStatus)
    MAPIMETHOD(ValidateState)(ULONG_PTR ulUIParam, ULONG ulFlags) PURE;
    MAPIMETHOD(SettingsDialog)(ULONG_PTR ulUIParam, ULONG ulFlags) PURE;
    // imapistatus-changepassword.md: LPSTR as the page shows; with
    // MAPI_UNICODE the pointers are to wide strings.
    MAPIMETHOD(ChangePassword)(LPSTR lpOldPass, LPSTR lpNewPass, ULONG ulFlags) PURE;
    MAPIMETHOD(FlushQueues)(ULONG_PTR ulUIParam, ULONG cbTargetTransport, LPENTRYID lpTargetTransport,
                            ULONG ulFlags) PURE;
};

// ---- IMAPIContainer (imapicontainerimapiprop.md) --------------------------
// GetContentsTable / GetHierarchyTable flags.
#define CONVENIENT_DEPTH ((ULONG)0x00000001)
#define SHOW_SOFT_DELETES ((ULONG)0x00000002)
// SetSearchCriteria flags (imapicontainer-setsearchcriteria.md; [MS-OXCFOLD] 2.2.1.4.1).
#define STOP_SEARCH ((ULONG)0x00000001)
#define RESTART_SEARCH ((ULONG)0x00000002)
#define RECURSIVE_SEARCH ((ULONG)0x00000004)
#define SHALLOW_SEARCH ((ULONG)0x00000008)
#define FOREGROUND_SEARCH ((ULONG)0x00000010)
#define BACKGROUND_SEARCH ((ULONG)0x00000020)
// GetSearchCriteria states ([MS-OXCFOLD] 2.2.1.5.2). imapicontainer-
// getsearchcriteria.md prints SEARCH_FOREGROUND as 0x1 and SEARCH_RUNNING as
// 0x8; the protocol specification and Outlook's stores use the values here.
#define SEARCH_RUNNING ((ULONG)0x00000001)
#define SEARCH_REBUILD ((ULONG)0x00000002)
#define SEARCH_RECURSIVE ((ULONG)0x00000004)
#define SEARCH_FOREGROUND ((ULONG)0x00000008)
#define SEARCH_COMPLETE ((ULONG)0x00001000)
#define SEARCH_PARTIAL ((ULONG)0x00002000)
#define SEARCH_STATIC ((ULONG)0x00010000)
#define SEARCH_MAYBE_STATIC ((ULONG)0x00020000)

struct IMAPIContainer : public IMAPIProp {
    PSTKIT_MAPI_INTERFACE_BODY(IMAPIContainer)
    MAPIMETHOD(GetContentsTable)(ULONG ulFlags, LPMAPITABLE FAR* lppTable) PURE;
    MAPIMETHOD(GetHierarchyTable)(ULONG ulFlags, LPMAPITABLE FAR* lppTable) PURE;
    MAPIMETHOD(OpenEntry)(ULONG cbEntryID, LPENTRYID lpEntryID, LPCIID lpInterface, ULONG ulFlags,
                          ULONG FAR* lpulObjType, LPUNKNOWN FAR* lppUnk) PURE;
    MAPIMETHOD(SetSearchCriteria)(LPSRestriction lpRestriction, LPENTRYLIST lpContainerList,
                                  ULONG ulSearchFlags) PURE;
    MAPIMETHOD(GetSearchCriteria)(ULONG ulFlags, LPSRestriction FAR* lppRestriction,
                                  LPENTRYLIST FAR* lppContainerList, ULONG FAR* lpulSearchState) PURE;
};

// ---- IMAPIFolder (imapifolderimapicontainer.md) ---------------------------
// Folder types (PR_FOLDER_TYPE, CreateFolder).
#define FOLDER_ROOT ((ULONG)0x00000000)
#define FOLDER_GENERIC ((ULONG)0x00000001)
#define FOLDER_SEARCH ((ULONG)0x00000002)
// CreateFolder.
#define OPEN_IF_EXISTS ((ULONG)0x00000001)
// CopyMessages.
#define MESSAGE_MOVE ((ULONG)0x00000001)
#define MESSAGE_DIALOG ((ULONG)0x00000002)
// CopyFolder.
#define FOLDER_MOVE ((ULONG)0x00000001)
#define FOLDER_DIALOG ((ULONG)0x00000002)
#define COPY_SUBFOLDERS ((ULONG)0x00000010)
// DeleteFolder, EmptyFolder.
#define DEL_MESSAGES ((ULONG)0x00000001)
#define DEL_FOLDERS ((ULONG)0x00000004)
#define DEL_ASSOCIATED ((ULONG)0x00000008)
#define DELETE_HARD_DELETE ((ULONG)0x00000010)
// SetReadFlags / IMessage::SetReadFlag (imessage-setreadflag.md).
#define SUPPRESS_RECEIPT ((ULONG)0x00000001)
#define CLEAR_READ_FLAG ((ULONG)0x00000004)
#define GENERATE_RECEIPT_ONLY ((ULONG)0x00000010)
#define CLEAR_RN_PENDING ((ULONG)0x00000020)
#define CLEAR_NRN_PENDING ((ULONG)0x00000040)
// GetMessageStatus / SetMessageStatus.
#define MSGSTATUS_HIGHLIGHTED ((ULONG)0x00000001)
#define MSGSTATUS_TAGGED ((ULONG)0x00000002)
#define MSGSTATUS_HIDDEN ((ULONG)0x00000004)
#define MSGSTATUS_DELMARKED ((ULONG)0x00000008)
#define MSGSTATUS_REMOTE_DOWNLOAD ((ULONG)0x00001000)
#define MSGSTATUS_REMOTE_DELETE ((ULONG)0x00002000)
// SaveContentsSort.
#define RECURSIVE_SORT ((ULONG)0x00000002)
// PR_STATUS (folders).
#define FLDSTATUS_HIGHLIGHTED ((ULONG)0x00000001)
#define FLDSTATUS_TAGGED ((ULONG)0x00000002)
#define FLDSTATUS_HIDDEN ((ULONG)0x00000004)
#define FLDSTATUS_DELMARKED ((ULONG)0x00000008)

struct IMAPIFolder : public IMAPIContainer {
    PSTKIT_MAPI_INTERFACE_BODY(IMAPIFolder)
    MAPIMETHOD(CreateMessage)(LPCIID lpInterface, ULONG ulFlags, LPMESSAGE FAR* lppMessage) PURE;
    MAPIMETHOD(CopyMessages)(LPENTRYLIST lpMsgList, LPCIID lpInterface, LPVOID lpDestFolder,
                             ULONG_PTR ulUIParam, LPMAPIPROGRESS lpProgress, ULONG ulFlags) PURE;
    MAPIMETHOD(DeleteMessages)(LPENTRYLIST lpMsgList, ULONG_PTR ulUIParam, LPMAPIPROGRESS lpProgress,
                               ULONG ulFlags) PURE;
    MAPIMETHOD(CreateFolder)(ULONG ulFolderType, LPTSTR lpszFolderName, LPTSTR lpszFolderComment,
                             LPCIID lpInterface, ULONG ulFlags, LPMAPIFOLDER FAR* lppFolder) PURE;
    MAPIMETHOD(CopyFolder)(ULONG cbEntryID, LPENTRYID lpEntryID, LPCIID lpInterface, LPVOID lpDestFolder,
                           LPTSTR lpszNewFolderName, ULONG_PTR ulUIParam, LPMAPIPROGRESS lpProgress,
                           ULONG ulFlags) PURE;
    // imapifolder-deletefolder.md prints cbEntryID as ULONG_PTR; every other
    // entry-ID count (and Windows' ABI) is a ULONG.
    MAPIMETHOD(DeleteFolder)(ULONG cbEntryID, LPENTRYID lpEntryID, ULONG_PTR ulUIParam,
                             LPMAPIPROGRESS lpProgress, ULONG ulFlags) PURE;
    MAPIMETHOD(SetReadFlags)(LPENTRYLIST lpMsgList, ULONG_PTR ulUIParam, LPMAPIPROGRESS lpProgress,
                             ULONG ulFlags) PURE;
    MAPIMETHOD(GetMessageStatus)(ULONG cbEntryID, LPENTRYID lpEntryID, ULONG ulFlags,
                                 ULONG FAR* lpulMessageStatus) PURE;
    MAPIMETHOD(SetMessageStatus)(ULONG cbEntryID, LPENTRYID lpEntryID, ULONG ulNewStatus,
                                 ULONG ulNewStatusMask, ULONG FAR* lpulOldStatus) PURE;
    MAPIMETHOD(SaveContentsSort)(LPSSortOrderSet lpSortCriteria, ULONG ulFlags) PURE;
    MAPIMETHOD(EmptyFolder)(ULONG_PTR ulUIParam, LPMAPIPROGRESS lpProgress, ULONG ulFlags) PURE;
};

// ---- IMsgStore (imsgstoreimapiprop.md) ------------------------------------
// PR_STORE_SUPPORT_MASK (pidtagstoresupportmask-canonical-property.md).
#define STORE_ENTRYID_UNIQUE ((ULONG)0x00000001)
#define STORE_READONLY ((ULONG)0x00000002)
#define STORE_SEARCH_OK ((ULONG)0x00000004)
#define STORE_MODIFY_OK ((ULONG)0x00000008)
#define STORE_CREATE_OK ((ULONG)0x00000010)
#define STORE_ATTACH_OK ((ULONG)0x00000020)
#define STORE_OLE_OK ((ULONG)0x00000040)
#define STORE_SUBMIT_OK ((ULONG)0x00000080)
#define STORE_NOTIFY_OK ((ULONG)0x00000100)
#define STORE_MV_PROPS_OK ((ULONG)0x00000200)
#define STORE_CATEGORIZE_OK ((ULONG)0x00000400)
#define STORE_RTF_OK ((ULONG)0x00000800)
#define STORE_RESTRICTION_OK ((ULONG)0x00001000)
#define STORE_SORT_OK ((ULONG)0x00002000)
#define STORE_PUBLIC_FOLDERS ((ULONG)0x00004000)
#define STORE_UNCOMPRESSED_RTF ((ULONG)0x00008000)
#define STORE_HTML_OK ((ULONG)0x00010000)
#define STORE_ANSI_OK ((ULONG)0x00020000)
#define STORE_UNICODE_OK ((ULONG)0x00040000)   // mapi-constants.md
#define STORE_LOCALSTORE ((ULONG)0x00080000)
#define STORE_ITEMPROC ((ULONG)0x00200000)     // mapi-constants.md
#define STORE_PUSHER_OK ((ULONG)0x00800000)
#define STORE_HAS_SEARCHES ((ULONG)0x01000000)  // PR_STORE_STATE
#define STORE_RULES_OK ((ULONG)0x10000000)
// PR_VALID_FOLDER_MASK (pidtagvalidfoldermask-canonical-property.md).
#define FOLDER_IPM_SUBTREE_VALID ((ULONG)0x00000001)
#define FOLDER_IPM_INBOX_VALID ((ULONG)0x00000002)
#define FOLDER_IPM_OUTBOX_VALID ((ULONG)0x00000004)
#define FOLDER_IPM_WASTEBASKET_VALID ((ULONG)0x00000008)
#define FOLDER_IPM_SENTMAIL_VALID ((ULONG)0x00000010)
#define FOLDER_VIEWS_VALID ((ULONG)0x00000020)
#define FOLDER_COMMON_VIEWS_VALID ((ULONG)0x00000040)
#define FOLDER_FINDER_VALID ((ULONG)0x00000080)
// StoreLogoff (imsgstore-storelogoff.md).
#define LOGOFF_NO_WAIT ((ULONG)0x00000001)
#define LOGOFF_ORDERLY ((ULONG)0x00000002)
#define LOGOFF_PURGE ((ULONG)0x00000004)
#define LOGOFF_ABORT ((ULONG)0x00000008)
#define LOGOFF_QUIET ((ULONG)0x00000010)
#define LOGOFF_COMPLETE ((ULONG)0x00010000)
#define LOGOFF_INBOUND ((ULONG)0x00020000)
#define LOGOFF_OUTBOUND ((ULONG)0x00040000)
#define LOGOFF_OUTBOUND_QUEUE ((ULONG)0x00080000)
// SetLockState (imsgstore-setlockstate.md).
#define MSG_LOCKED ((ULONG)0x00000001)
#define MSG_UNLOCKED ((ULONG)0x00000000)
// OpenMsgStore (imapisession-openmsgstore.md, mapi-constants.md).
#define MDB_NO_DIALOG ((ULONG)0x00000001)
#define MDB_WRITE ((ULONG)0x00000004)
#define MDB_TEMPORARY ((ULONG)0x00000020)
#define MDB_NO_MAIL ((ULONG)0x00000080)
#define MDB_ONLINE ((ULONG)0x00000100)

struct IMsgStore : public IMAPIProp {
    PSTKIT_MAPI_INTERFACE_BODY(IMsgStore)
    // imsgstore-advise.md prints lpulConnection as ULONG_PTR; it is the
    // [out] pointer its text describes, as in IMAPITable::Advise.
    MAPIMETHOD(Advise)(ULONG cbEntryID, LPENTRYID lpEntryID, ULONG ulEventMask,
                       LPMAPIADVISESINK lpAdviseSink, ULONG_PTR FAR* lpulConnection) PURE;
    MAPIMETHOD(Unadvise)(ULONG_PTR ulConnection) PURE;
    MAPIMETHOD(CompareEntryIDs)(ULONG cbEntryID1, LPENTRYID lpEntryID1, ULONG cbEntryID2,
                                LPENTRYID lpEntryID2, ULONG ulFlags, ULONG FAR* lpulResult) PURE;
    MAPIMETHOD(OpenEntry)(ULONG cbEntryID, LPENTRYID lpEntryID, LPCIID lpInterface, ULONG ulFlags,
                          ULONG FAR* lpulObjType, LPUNKNOWN FAR* lppUnk) PURE;
    MAPIMETHOD(SetReceiveFolder)(LPTSTR lpszMessageClass, ULONG ulFlags, ULONG cbEntryID,
                                 LPENTRYID lpEntryID) PURE;
    MAPIMETHOD(GetReceiveFolder)(LPTSTR lpszMessageClass, ULONG ulFlags, ULONG FAR* lpcbEntryID,
                                 LPENTRYID FAR* lppEntryID, LPTSTR FAR* lppszExplicitClass) PURE;
    MAPIMETHOD(GetReceiveFolderTable)(ULONG ulFlags, LPMAPITABLE FAR* lppTable) PURE;
    MAPIMETHOD(StoreLogoff)(ULONG FAR* lpulFlags) PURE;
    MAPIMETHOD(AbortSubmit)(ULONG cbEntryID, LPENTRYID lpEntryID, ULONG ulFlags) PURE;
    MAPIMETHOD(GetOutgoingQueue)(ULONG ulFlags, LPMAPITABLE FAR* lppTable) PURE;
    MAPIMETHOD(SetLockState)(LPMESSAGE lpMessage, ULONG ulLockState) PURE;
    MAPIMETHOD(FinishedMsg)(ULONG ulFlags, ULONG cbEntryID, LPENTRYID lpEntryID) PURE;
    MAPIMETHOD(NotifyNewMail)(LPNOTIFICATION lpNotification) PURE;
};

// ---- IMessage (imessageimapiprop.md) --------------------------------------
// PR_MESSAGE_FLAGS (pidtagmessageflags-canonical-property.md).
#define MSGFLAG_READ ((ULONG)0x00000001)
#define MSGFLAG_UNMODIFIED ((ULONG)0x00000002)
#define MSGFLAG_SUBMIT ((ULONG)0x00000004)
#define MSGFLAG_UNSENT ((ULONG)0x00000008)
#define MSGFLAG_HASATTACH ((ULONG)0x00000010)
#define MSGFLAG_FROMME ((ULONG)0x00000020)
#define MSGFLAG_ASSOCIATED ((ULONG)0x00000040)
#define MSGFLAG_RESEND ((ULONG)0x00000080)
#define MSGFLAG_RN_PENDING ((ULONG)0x00000100)
#define MSGFLAG_NRN_PENDING ((ULONG)0x00000200)
#define MSGFLAG_ORIGIN_X400 ((ULONG)0x00001000)
#define MSGFLAG_ORIGIN_INTERNET ((ULONG)0x00002000)
#define MSGFLAG_ORIGIN_EXT_SEND ((ULONG)0x00004000)
#define MSGFLAG_ORIGIN_MISC_EXT ((ULONG)0x00008000)
// PR_SUBMIT_FLAGS.
#define SUBMITFLAG_LOCKED ((ULONG)0x00000001)
#define SUBMITFLAG_PREPROCESS ((ULONG)0x00000002)
// ModifyRecipients (imessage-modifyrecipients.md).
#define MODRECIP_ADD ((ULONG)0x00000002)
#define MODRECIP_MODIFY ((ULONG)0x00000004)
#define MODRECIP_REMOVE ((ULONG)0x00000008)
// SubmitMessage.
#define FORCE_SUBMIT ((ULONG)0x00000001)
// DeleteAttach: none beyond ATTACH_DIALOG.
#define ATTACH_DIALOG ((ULONG)0x00000001)
// PR_ATTACH_METHOD (pidtagattachmethod-canonical-property.md).
#define NO_ATTACHMENT ((ULONG)0x00000000)
#define ATTACH_BY_VALUE ((ULONG)0x00000001)
#define ATTACH_BY_REFERENCE ((ULONG)0x00000002)
#define ATTACH_BY_REF_RESOLVE ((ULONG)0x00000003)
#define ATTACH_BY_REF_ONLY ((ULONG)0x00000004)
#define ATTACH_EMBEDDED_MSG ((ULONG)0x00000005)
#define ATTACH_OLE ((ULONG)0x00000006)
#define ATTACH_BY_WEBREFERENCE ((ULONG)0x00000007)
// PR_IMPORTANCE, PR_PRIORITY, PR_SENSITIVITY (their canonical property pages).
#define IMPORTANCE_LOW ((LONG)0)
#define IMPORTANCE_NORMAL ((LONG)1)
#define IMPORTANCE_HIGH ((LONG)2)
#define PRIO_URGENT ((LONG)1)
#define PRIO_NORMAL ((LONG)0)
#define PRIO_NONURGENT ((LONG)-1)
#define SENSITIVITY_NONE ((ULONG)0x00000000)
#define SENSITIVITY_PERSONAL ((ULONG)0x00000001)
#define SENSITIVITY_PRIVATE ((ULONG)0x00000002)
#define SENSITIVITY_COMPANY_CONFIDENTIAL ((ULONG)0x00000003)

struct IMessage : public IMAPIProp {
    PSTKIT_MAPI_INTERFACE_BODY(IMessage)
    MAPIMETHOD(GetAttachmentTable)(ULONG ulFlags, LPMAPITABLE FAR* lppTable) PURE;
    MAPIMETHOD(OpenAttach)(ULONG ulAttachmentNum, LPCIID lpInterface, ULONG ulFlags,
                           LPATTACH FAR* lppAttach) PURE;
    MAPIMETHOD(CreateAttach)(LPCIID lpInterface, ULONG ulFlags, ULONG FAR* lpulAttachmentNum,
                             LPATTACH FAR* lppAttach) PURE;
    MAPIMETHOD(DeleteAttach)(ULONG ulAttachmentNum, ULONG_PTR ulUIParam, LPMAPIPROGRESS lpProgress,
                             ULONG ulFlags) PURE;
    MAPIMETHOD(GetRecipientTable)(ULONG ulFlags, LPMAPITABLE FAR* lppTable) PURE;
    MAPIMETHOD(ModifyRecipients)(ULONG ulFlags, LPADRLIST lpMods) PURE;
    MAPIMETHOD(SubmitMessage)(ULONG ulFlags) PURE;
    MAPIMETHOD(SetReadFlag)(ULONG ulFlags) PURE;
};

// ---- IAttach (iattachimapiprop.md): IMAPIProp, no methods of its own ------
struct IAttach : public IMAPIProp {
    PSTKIT_MAPI_INTERFACE_BODY(IAttach)
};

// ---- Fast shutdown (imapiclientshutdowniunknown.md,
//      imapiprovidershutdowniunknown.md) ------------------------------------
struct IMAPIClientShutdown : public IUnknown {
    PSTKIT_MAPI_INTERFACE_BODY(IMAPIClientShutdown)
    MAPIMETHOD(QueryFastShutdown)() PURE;
    MAPIMETHOD(NotifyProcessShutdown)() PURE;
    MAPIMETHOD(DoFastShutdown)() PURE;
};
struct IMAPIProviderShutdown : public IUnknown {
    PSTKIT_MAPI_INTERFACE_BODY(IMAPIProviderShutdown)
    MAPIMETHOD(QueryFastShutdown)() PURE;
    MAPIMETHOD(NotifyProcessShutdown)() PURE;
    MAPIMETHOD(DoFastShutdown)() PURE;
};

#endif  // PSTKIT_MAPI_MAPIDEFS_H
