// mapiutil.h: MAPI's utility functions (property helpers, row sets, advise
// sinks, IPM subtree, RTF streams).
//
// Written for pstkit from Microsoft's Outlook MAPI reference, one page per
// function (docs/outlook/mapi/<function>.md, lower case). libpstkit defines
// those that need no message store (src/mapi/mapiutil.cpp); docs/MAPI.md
// lists the ones not defined yet.
#ifndef PSTKIT_MAPI_MAPIUTIL_H
#define PSTKIT_MAPI_MAPIUTIL_H

#include "mapix.h"

// ---- Initialisation (scinitmapiutil.md, deinitmapiutil.md) -----------------
STDAPI_(SCODE) ScInitMapiUtil(ULONG ulFlags);
STDAPI_(void) DeinitMapiUtil(void);

// ---- One property (hrgetoneprop.md, hrsetoneprop.md, fpropexists.md) -------
STDAPI HrGetOneProp(LPMAPIPROP pmp, ULONG ulPropTag, LPSPropValue FAR* ppprop);
STDAPI HrSetOneProp(LPMAPIPROP pmp, LPSPropValue pprop);
STDAPI_(BOOL) FPropExists(LPMAPIPROP pobj, ULONG ulPropTag);

// ---- Property arrays (ppropfindprop.md, lpvalfindprop.md, propcopymore.md,
//      sccountprops.md, sccopyprops.md, screlocprops.md, scduppropset.md,
//      ulpropsize.md) ---------------------------------------------------------
STDAPI_(LPSPropValue) PpropFindProp(LPSPropValue rgprop, ULONG cprop, ULONG ulPropTag);
STDAPI_(LPSPropValue) LpValFindProp(ULONG ulPropTag, ULONG cValues, LPSPropValue lpPropArray);
STDAPI_(SCODE) PropCopyMore(LPSPropValue lpSPropValueDest, LPSPropValue lpSPropValueSrc,
                            ALLOCATEMORE* lpfAllocMore, LPVOID lpvObject);
STDAPI_(SCODE) ScCountProps(int cprop, LPSPropValue rgprop, ULONG FAR* pcb);
STDAPI_(SCODE) ScCopyProps(int cprop, LPSPropValue rgprop, LPVOID pvDst, ULONG FAR* pcb);
STDAPI_(SCODE) ScRelocProps(int cprop, LPSPropValue rgprop, LPVOID pvBaseOld, LPVOID pvBaseNew,
                            ULONG FAR* pcb);
STDAPI_(SCODE) ScDupPropset(int cprop, LPSPropValue rgprop, LPALLOCATEBUFFER lpAllocateBuffer,
                            LPSPropValue FAR* prgprop);
STDAPI_(ULONG) UlPropSize(LPSPropValue lpSPropValue);

// ---- Comparing values (fequalnames.md, fpropcontainsprop.md,
//      fpropcompareprop.md, lpropcompareprop.md) -------------------------------
STDAPI_(BOOL) FEqualNames(LPMAPINAMEID lpName1, LPMAPINAMEID lpName2);
STDAPI_(BOOL) FPropContainsProp(LPSPropValue lpSPropValueDst, LPSPropValue lpSPropValueSrc,
                                ULONG ulFuzzyLevel);
STDAPI_(BOOL) FPropCompareProp(LPSPropValue lpSPropValue1, ULONG ulRelOp, LPSPropValue lpSPropValue2);
STDAPI_(LONG) LPropCompareProp(LPSPropValue lpSPropValueA, LPSPropValue lpSPropValueB);

// ---- Rows and address lists (hrqueryallrows.md, freeprows.md,
//      freepadrlist.md) ---------------------------------------------------------
STDAPI HrQueryAllRows(LPMAPITABLE ptable, LPSPropTagArray ptaga, LPSRestriction pres,
                      LPSSortOrderSet psos, LONG crowsMax, LPSRowSet FAR* pprows);
STDAPI_(void) FreeProws(LPSRowSet prows);
STDAPI_(void) FreePadrlist(LPADRLIST padrlist);

// ---- Objects and notifications (uladdref.md, ulrelease.md,
//      hrallocadvisesink.md, hrdispatchnotifications.md) ----------------------
STDAPI_(ULONG) UlAddRef(LPVOID punk);
STDAPI_(ULONG) UlRelease(LPVOID punk);
STDAPI HrAllocAdviseSink(LPNOTIFCALLBACK lpfnCallback, LPVOID lpvContext,
                         LPMAPIADVISESINK FAR* lppAdviseSink);
STDAPI HrDispatchNotifications(ULONG ulFlags);

// ---- Hexadecimal (fbinfromhex.md, hexfrombin.md) ----------------------------
STDAPI_(BOOL) FBinFromHex(LPSTR sz, LPBYTE pb);
STDAPI_(void) HexFromBin(LPBYTE pb, int cb, LPSTR sz);

// ---- IPM subtree (hrvalidateipmsubtree.md) ----------------------------------
#define MAPI_FORCE_CREATE ((ULONG)0x00000001)
#define MAPI_FULL_IPM_TREE ((ULONG)0x00000002)
STDAPI HrValidateIPMSubtree(LPMDB lpMDB, ULONG ulFlags, ULONG FAR* lpcValues, LPSPropValue FAR* lppProps,
                            LPMAPIERROR FAR* lppMapiError);

// ---- RTF (wrapcompressedrtfstream.md, rtfsync.md) ---------------------------
// WrapCompressedRTFStream takes MAPI_MODIFY and STORE_UNCOMPRESSED_RTF (mapidefs.h).
STDAPI WrapCompressedRTFStream(LPSTREAM lpCompressedRTFStream, ULONG ulflags,
                               LPSTREAM FAR* lpUncompressedRTFStream);
#define RTF_SYNC_RTF_CHANGED ((ULONG)0x00000001)
#define RTF_SYNC_BODY_CHANGED ((ULONG)0x00000002)
STDAPI RTFSync(LPMESSAGE lpMessage, ULONG ulFlags, BOOL FAR* lpfMessageUpdated);

#endif  // PSTKIT_MAPI_MAPIUTIL_H
