// mspst.h: configuration properties of the Personal Folders (PST) message
// service ("MSUPST MS" for Unicode files, "MSPST MS" for ANSI), passed to
// IMsgServiceAdmin::ConfigureMsgService.
//
// Values: the canonical property pages of Microsoft's MAPI reference
// (pidtagpstpath-, pidtagpstrememberpassword-, pidtagpstpasswordszold-,
// pidtagpstpasswordsznew-, pidtagpstconfigurationflags-,
// pidtagpstpathhint-canonical-property.md; the PR_* names are also in
// mapitags.h). PR_PST_ENCRYPTION, the PSTF_* values and MSPST_UID_PROVIDER
// are not on those pages: they are the values of Microsoft's published
// MSPST.h recorded in /work/shared/reference/mapi-runtime-anchors.md §5, §7.3.
#ifndef PSTKIT_MAPI_MSPST_H
#define PSTKIT_MAPI_MSPST_H

#include "mapidefs.h"
#include "mapitags.h"

#define PST_EXTERN_PROPID_BASE 0x6700

// PR_PST_PATH(_A/_W), PR_PST_REMEMBER_PW, PR_PST_PW_SZ_OLD(_A/_W),
// PR_PST_PW_SZ_NEW(_A/_W), PR_PST_CONFIG_FLAGS and PR_PST_PATH_HINT come
// from mapitags.h (generated from the pages above). PR_PST_ENCRYPTION has no
// page: it is the third property of the range.
#define PR_PST_ENCRYPTION PROP_TAG(PT_LONG, PST_EXTERN_PROPID_BASE + 2)

// PR_PST_ENCRYPTION values: how a new PST encodes its blocks (MS-PST
// 2.2.2.6 bCryptMethod: none, permute, cyclic).
#define PSTF_NO_ENCRYPTION ((DWORD)0x80000000)
#define PSTF_COMPRESSABLE_ENCRYPTION ((DWORD)0x40000000)
#define PSTF_BEST_ENCRYPTION ((DWORD)0x20000000)

// PR_PST_CONFIG_FLAGS values (pidtagpstconfigurationflags-canonical-property.md).
#define PST_CONFIG_UNICODE ((ULONG)0x80000000)
#define PST_CONFIG_CREATE_NOWARN ((ULONG)0x00000001)
#define PST_CONFIG_PRESERVE_DISPLAY_NAME ((ULONG)0x00000002)
#define OST_CONFIG_POLICY_DELAY_IGNORE_OST ((ULONG)0x00000008)
#define OST_CONFIG_CREATE_NEW_DEFAULT_OST ((ULONG)0x00000010)

// The PST store provider's UID ({4E495441-F9BF-B801-00AA-0037D96E0000}).
#define MSPST_UID_PROVIDER \
    { 0x4E, 0x49, 0x54, 0x41, 0xF9, 0xBF, 0xB8, 0x01, 0x00, 0xAA, 0x00, 0x37, 0xD9, 0x6E, 0x00, 0x00 }

#endif  // PSTKIT_MAPI_MSPST_H
