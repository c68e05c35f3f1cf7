#!/usr/bin/env python3
"""Generate include/pstkit/mapi/mapitags.h from Microsoft's MAPI reference.

Input: the markdown source of the "canonical property" pages of Microsoft's
Outlook MAPI reference (repository MicrosoftDocs/office-developer-client-docs,
docs/outlook/mapi/pidtag*-canonical-property.md). Each page has a table with
"Associated properties" (the PR_* names), "Identifier" (the property ID) and
"Data type"/"Property type" (the PT_* types). This script reads only those
documented facts and writes our own #defines; no header text is copied.

Usage: gen_mapitags.py <docs/outlook/mapi directory> <docs commit> <mapitags.h> <xref.inc>

xref.inc lists, for the tests, each page's canonical name (PidTag...) with the
PR_* names defined from it, so that tests/mapi_headers_test.cpp can check
every tag against pstkit's own [MS-OXPROPS] table (property_names.h).
"""
import glob
import os
import re
import sys

# Types named on the pages, mapped to the names mapidefs.h defines.
TYPE_ALIASES = {
    "Boolean": "PT_BOOLEAN",
    "PT_GUID": "PT_CLSID",
    "PT_SRESTRICTION": "PT_SRESTRICT",
    "PT_MV_UNICODE8": "PT_MV_UNICODE",  # typo on one page (PidTagHome2TelephoneNumbers)
}
# Pages whose identifier is misprinted, with the [MS-OXPROPS] value.
ID_CORRECTIONS = {
    # The page prints 0x001F (PT_UNICODE's value); MS-OXPROPS 2.778 gives 0x661C.
    "pidtagmailboxownername-canonical-property": 0x661C,
}
# Tags Outlook stores and MAPI clients use that have no canonical property
# page in the MAPI reference: (canonical name, PR_* names, identifier, types),
# from [MS-OXPROPS] (section in the comment). The tests check them against
# pstkit's MS-OXPROPS table like every other tag.
SUPPLEMENT = [
    ("PidTagChangeKey", ["PR_CHANGE_KEY"], 0x65E2, ["PT_BINARY"]),  # 2.631
    ("PidTagPredecessorChangeList", ["PR_PREDECESSOR_CHANGE_LIST"], 0x65E3, ["PT_BINARY"]),  # 2.867
    ("PidTagLastModifierName", ["PR_LAST_MODIFIER_NAME", "PR_LAST_MODIFIER_NAME_A", "PR_LAST_MODIFIER_NAME_W"],
     0x3FFA, ["PT_STRING8", "PT_UNICODE"]),  # 2.766
    ("PidTagNativeBody", ["PR_NATIVE_BODY_INFO"], 0x1016, ["PT_LONG"]),  # 2.805
    ("PidTagConversationId", ["PR_CONVERSATION_ID"], 0x3013, ["PT_BINARY"]),  # 2.649
    ("PidTagHierarchyChangeNumber", ["PR_HIERARCHY_CHANGE_NUM"], 0x663E, ["PT_LONG"]),  # 2.720
    ("PidTagLocalCommitTime", ["PR_LOCAL_COMMIT_TIME"], 0x6709, ["PT_SYSTIME"]),  # 2.772
    ("PidTagLocalCommitTimeMax", ["PR_LOCAL_COMMIT_TIME_MAX"], 0x670A, ["PT_SYSTIME"]),  # 2.773
    ("PidTagDeletedCountTotal", ["PR_DELETED_COUNT_TOTAL"], 0x670B, ["PT_LONG"]),  # 2.669
    ("PidTagSearchFolderId", ["PR_SEARCH_FOLDER_ID"], 0x6842, ["PT_BINARY"]),  # 2.991
]
STRING_TYPES = {"PT_STRING8", "PT_UNICODE", "PT_TSTRING"}
MV_STRING_TYPES = {"PT_MV_STRING8", "PT_MV_UNICODE", "PT_MV_TSTRING"}


def cell(text, label):
    m = re.search(r"^\|\s*" + label + r"[^|]*\|([^|]*)\|", text, re.M)
    if not m:
        return None
    return re.sub(r"<br/>", " ", m.group(1)).strip()


def parse(path):
    text = open(path, encoding="utf-8").read()
    title = re.search(r"^# (PidTag\w+) Canonical Property", text, re.M)
    names = cell(text, r"Associated propert(?:y|ies):")
    ident = cell(text, r"Identifier:")
    types = cell(text, r"(?:Data|Property) type:")
    if not names or not ident or not types:
        return None
    names = [n.strip() for n in re.split(r"[,\s]+", names) if n.strip().startswith("PR_")]
    m = re.search(r"0x([0-9A-Fa-f]{4})", ident)
    if not m:
        return None
    pid = int(m.group(1), 16)
    tlist = []
    for t in re.split(r"[,\s]+", types):
        t = t.strip()
        if not t:
            continue
        t = TYPE_ALIASES.get(t, t)
        if t.startswith("PT_") and t not in tlist:
            tlist.append(t)
    return names, pid, tlist, (title.group(1) if title else None)


def main():
    docdir, commit, out_h, out_xref = sys.argv[1:5]
    defs = {}   # name -> (type, id, page)
    xref = []   # (canonical name, PR name)
    problems = []
    entries = [(os.path.basename(p)[:-3], p) for p in
               sorted(glob.glob(os.path.join(docdir, "pidtag*-canonical-property.md")))]
    entries += [("MS-OXPROPS " + c, (n, i, t, c)) for c, n, i, t in SUPPLEMENT]
    for page, path in entries:
        r = parse(path) if isinstance(path, str) else path
        if r is None:
            problems.append(f"{page}: no identifier/type table")
            continue
        names, pid, tlist, canonical = r
        pid = ID_CORRECTIONS.get(page, pid)
        if not names or not tlist:
            problems.append(f"{page}: no PR_ name or type")
            continue
        is_str = any(t in STRING_TYPES for t in tlist)
        is_mvstr = any(t in MV_STRING_TYPES for t in tlist)
        has_aw = any(n.endswith("_A") or n.endswith("_W") for n in names)
        out = []
        if (is_str or is_mvstr) and (has_aw or len(tlist) > 1):
            # A string property with an 8-bit and a Unicode form: the base name
            # takes the TCHAR type (mapidefs.h: PT_TSTRING follows UNICODE).
            # A page listing "PT_MV_STRING8, PT_UNICODE" means the multi-valued
            # property ([MS-OXPROPS] gives PtypMultipleString for them).
            mv = is_mvstr
            if is_mvstr and is_str:
                problems.append(f"{page}: mixes single- and multi-valued string types {tlist}; using multi-valued")
            a, w, t = ("PT_MV_STRING8", "PT_MV_UNICODE", "PT_MV_TSTRING") if mv else ("PT_STRING8", "PT_UNICODE", "PT_TSTRING")
            bases = [n for n in names if not (n.endswith("_A") or n.endswith("_W"))] or \
                    sorted({n[:-2] for n in names})
            for b in bases:
                out += [(b, t), (b + "_A", a), (b + "_W", w)]
        else:
            if len(tlist) > 1:
                problems.append(f"{page}: several non-string types {tlist}; using {tlist[0]}")
            for n in names:
                out.append((n, tlist[0]))
        for n, t in out:
            if n in defs and defs[n][:2] != (t, pid):
                problems.append(f"{page}: {n} also on {defs[n][2]} as {defs[n][0]} 0x{defs[n][1]:04X}; keeping the first")
                continue
            defs.setdefault(n, (t, pid, page))
            if canonical:
                xref.append((canonical, n))

    out = open(out_h, "w", encoding="utf-8")
    print("""// mapitags.h: MAPI property tags (PR_*), generated by tools/mapi/gen_mapitags.py
// from the canonical property pages of Microsoft's Outlook MAPI reference
// (MicrosoftDocs/office-developer-client-docs, docs/outlook/mapi/pidtag*-canonical-property.md,
// commit %s), plus a few [MS-OXPROPS] tags that have no such page
// (SUPPLEMENT in the script). Do not edit by hand: rerun the script.
//
// Every tag is PROP_TAG(type, identifier) as the page documents it. A string
// property documented with an 8-bit and a Unicode form gets three names:
// PR_X_A (PT_STRING8), PR_X_W (PT_UNICODE) and PR_X (PT_TSTRING, which is
// PT_UNICODE when UNICODE is defined and PT_STRING8 otherwise; see mapidefs.h).
#ifndef PSTKIT_MAPI_MAPITAGS_H
#define PSTKIT_MAPI_MAPITAGS_H

#include "mapidefs.h"
""" % commit, file=out)
    for n in sorted(defs):
        t, pid, page = defs[n]
        print(f"#define {n:<48} PROP_TAG({t}, 0x{pid:04X})", file=out)
    print("\n#endif  // PSTKIT_MAPI_MAPITAGS_H", file=out)
    x = open(out_xref, "w", encoding="utf-8")
    print("// Generated by tools/mapi/gen_mapitags.py with mapitags.h (docs commit %s).\n"
          "// {canonical name of the page, PR_* name, its value}. Do not edit." % commit, file=x)
    for canonical, n in xref:
        print(f'{{"{canonical}", "{n}", {n}}},', file=x)
    for p in problems:
        print("gen_mapitags: " + p, file=sys.stderr)
    print(f"gen_mapitags: {len(defs)} names", file=sys.stderr)


if __name__ == "__main__":
    main()
