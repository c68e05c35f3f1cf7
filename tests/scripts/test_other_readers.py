#!/usr/bin/python3
"""Do other PST readers see what pstkit wrote?

Usage: test_other_readers.py --pstkit BIN [--make-sample BIN] [--keep DIR]

Builds stores with pstkit only (make_sample_pst, `pstkit create`, `mkdir`,
`mv`, `rm` and, when the CLI has it, `import`), then reads each one with
  * libpff:  tools/libpff_dump.py (folders, items, subjects, classes,
             attachment counts); pypff (plain and HTML bodies, attachment
             names and bytes); pffexport (recipients, embedded messages with
             their bodies, recipients and attachments) -- Debian's pypff
             20180714 has no recipient API, pffexport is libpff's own export;
  * libpst:  `readpst -D -e -o DIR` (one .eml per message, parsed with
             Python's email package: subjects, senders, To/Cc, dates, bodies,
             attachment names and bytes, embedded messages),
and compares with `pstkit dump --json --full`. `pstkit check` must exit 0 on
every file. One line per (file, reader), then "N passed, M failed".

Known defects of the readers themselves are accepted only in the exact form
observed and are listed at the end as KNOWN lines (so they stay visible):
  * libpff 20180714 decodes a UTF-16 surrogate pair to (code point - 0x3FF),
    e.g. U+1F389 as U+1EF8A (the bytes pstkit writes are checked separately);
  * pffexport 20180714 drops the first two UTF-8 bytes of a subject that
    starts with a non-ASCII character ("日本語" -> "\ufffd本語");
  * readpst 0.6.76 leaves out attachments of 0 bytes (it writes one only
    when it has data or an id), and labels the HTML part with the charset of
    PidTagMessageCodepage (the 8-bit strings' code page) where the HTML bytes
    are in PidTagInternetCodepage's; for a message with stored Internet
    headers it writes those headers and labels an ANSI store's 8-bit body
    with their charset, though the body is in PidTagMessageCodepage's.
"""

from __future__ import annotations

import argparse
import codecs
import email
import email.header
import email.policy
import email.utils
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

IPM_SUBTREE = "Top of Outlook data file"
RECIPIENT_TYPES = {1: "To", 2: "CC", 3: "BCC"}
KNOWN: Counter = Counter()


# --------------------------------------------------------------------------
# Text comparison helpers


def libpff_surrogate_bug(s: str) -> str:
    """What libpff 20180714 makes of a string with characters past U+FFFF."""
    return "".join(chr(ord(c) - 0x3FF) if ord(c) > 0xFFFF else c for c in s)


def same_libpff_text(ours, theirs) -> bool:
    if ours == theirs:
        return True
    if isinstance(ours, str) and isinstance(theirs, str) and theirs == libpff_surrogate_bug(ours):
        KNOWN["libpff misdecodes UTF-16 surrogate pairs (code point - 0x3FF)"] += 1
        return True
    return False


def same_pffexport_subject(ours, theirs) -> bool:
    if same_libpff_text(ours, theirs):
        return True
    if ours and theirs is not None and not ours[0].isascii() and \
            theirs == ours.encode("utf-8")[2:].decode("utf-8", "replace"):
        KNOWN["pffexport drops the first two UTF-8 bytes of a subject starting with a non-ASCII character"] += 1
        return True
    return False


def lines(text):
    """Bodies compared modulo line endings and trailing newlines."""
    if text is None:
        return None
    return text.replace("\r\n", "\n").rstrip("\n")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------
# pstkit's view: dump --json --full


def pstkit_message(o: dict) -> dict:
    props = o.get("properties", {})
    atts = []
    for a in o.get("attachment_list", []):
        att = {"filename": a.get("filename", ""), "method": a.get("method")}
        if "message" in a:
            att["message"] = pstkit_message(a["message"])
        else:
            att["size"] = a.get("size", 0)
            att["sha256"] = a.get("sha256", sha256(b""))
        atts.append(att)
    return {
        "subject": o.get("subject", ""),
        "class": o.get("class", ""),
        "body": o.get("body"),
        "html": o.get("html"),
        "recipients": [(r.get("PidTagRecipientType"), r.get("PidTagDisplayName", ""),
                        r.get("PidTagEmailAddress", ""), r.get("PidTagAddressType", ""))
                       for r in o.get("recipients", [])],
        "attachments": atts,
        "submitted": o.get("submitted"),
        "sender_name": props.get("PidTagSentRepresentingName", props.get("PidTagSenderName")),
        "sender_email": props.get("PidTagSentRepresentingEmailAddress", props.get("PidTagSenderEmailAddress")),
        "display_to": props.get("PidTagDisplayTo"),
        "display_cc": props.get("PidTagDisplayCc"),
        "transport_headers": props.get("PidTagTransportMessageHeaders"),
        "message_codepage": props.get("PidTagMessageCodepage"),
        "internet_codepage": props.get("PidTagInternetCodepage"),
    }


class PstkitView:
    def __init__(self, objs: list[dict]):
        self.folders = []                 # (path, items, subfolders) in dump order
        self.items: dict[tuple, list] = {}  # folder path -> [(nid, message)] in table order
        self.store_name = None
        for o in objs:
            if o.get("type") == "folder":
                path = tuple(o["path"])
                self.folders.append((path, o["items"], o["subfolders"]))
                self.items.setdefault(path, [])
            elif o.get("type") == "item":
                self.items.setdefault(tuple(o["folder"]), []).append((o["nid"], pstkit_message(o)))

    def messages(self):
        for folder, rows in self.items.items():
            for index, (nid, msg) in enumerate(rows):
                yield folder, index, nid, msg


# --------------------------------------------------------------------------
# libpff: libpff_dump.py (structure)


def check_libpff_structure(path: str, view: PstkitView) -> list[str]:
    r = common.run(common.libpff_dump_cmd(path), timeout=120)
    if r.returncode != 0:
        return [f"libpff_dump.py {r.describe()}: {common.one_line(r.stderr)}"]
    objs, problems = common.parse_json_lines(r.stdout)
    diffs = list(problems)
    diffs += [f"libpff error: {o}" for o in objs if o.get("type") == "error"]
    theirs = Counter((tuple(o["path"]), o["items"], o["subfolders"]) for o in objs if o.get("type") == "folder")
    ours = Counter(view.folders)
    for f in ours - theirs:
        diffs.append(f"folder {list(f[0])} items={f[1]} subfolders={f[2]}: libpff sees it differently or not at all")
    for f in theirs - ours:
        diffs.append(f"libpff folder {list(f[0])} items={f[1]} subfolders={f[2]} is not in pstkit's dump")
    by_nid = {nid: (folder, msg) for folder, _, nid, msg in view.messages()}
    seen = set()
    for o in objs:
        if o.get("type") != "item":
            continue
        nid = o.get("nid")
        seen.add(nid)
        if nid not in by_nid:
            diffs.append(f"libpff item {nid} ({o.get('subject')!r}) is not in pstkit's dump")
            continue
        folder, msg = by_nid[nid]
        if tuple(o["folder"]) != folder:
            diffs.append(f"item {nid}: folder {list(folder)}, libpff {o['folder']}")
        if not same_libpff_text(msg["subject"], o.get("subject")):
            diffs.append(f"item {nid}: subject {msg['subject']!r}, libpff {o.get('subject')!r}")
        if o.get("class", msg["class"]) != msg["class"]:
            diffs.append(f"item {nid}: class {msg['class']!r}, libpff {o.get('class')!r}")
        if o.get("attachments") != len(msg["attachments"]):
            diffs.append(f"item {nid}: {len(msg['attachments'])} attachments, libpff {o.get('attachments')}")
    for nid in set(by_nid) - seen:
        diffs.append(f"item {nid} ({by_nid[nid][1]['subject']!r}) not seen by libpff")
    return diffs


# --------------------------------------------------------------------------
# libpff: pypff (bodies, attachment bytes), run in a child process so that a
# crash inside libpff is reported instead of ending this script.

PYPFF_WORKER = r"""
import hashlib, json, sys
import pypff

def entry(item, tag):
    if item.get_number_of_record_sets() < 1:
        return None
    rs = item.get_record_set(0)
    for j in range(rs.get_number_of_entries()):
        e = rs.get_entry(j)
        if e.get_entry_type() == tag:
            return e
    return None

def text(b):
    return None if b is None else b.rstrip(b"\0").decode("utf-8", "replace")

def raw_subject(m):
    # PidTagSubject's bytes as stored, decoded here rather than by libpff.
    e = entry(m, 0x0037)
    if e is None:
        return None
    data = e.get_data() or b""
    if e.get_value_type() == 0x001F:
        return data.decode("utf-16-le", "replace").rstrip("\0")
    return data.decode("cp1252", "replace").rstrip("\0")

def walk(folder, path, out):
    for i in range(folder.get_number_of_sub_messages()):
        m = folder.get_sub_message(i)
        atts = []
        for k in range(m.get_number_of_attachments()):
            a = m.get_attachment(k)
            name = None
            for tag in (0x3707, 0x3704):
                e = entry(a, tag)
                if e is not None:
                    name = e.get_data_as_string()
                    break
            method = entry(a, 0x3705)
            method = method.get_data_as_integer() if method is not None else None
            att = {"name": name or "", "method": method}
            if method != 5:
                data = a.read_buffer(a.get_size()) if a.get_size() else b""
                att["size"] = len(data)
                att["sha256"] = hashlib.sha256(data).hexdigest()
            atts.append(att)
        out.write(json.dumps({"folder": path, "index": i, "nid": m.get_identifier(), "subject": raw_subject(m),
                              "plain": text(m.get_plain_text_body()), "html": text(m.get_html_body()),
                              "attachments": atts}) + "\n")
    for i in range(folder.get_number_of_sub_folders()):
        sub = folder.get_sub_folder(i)
        walk(sub, path + [sub.get_name() or ""], out)

f = pypff.file()
f.open(sys.argv[1])
walk(f.get_root_folder(), [], sys.stdout)
"""


def run_pypff(path: str) -> tuple[list[dict], list[str]]:
    """pypff's items (folder, index, nid, bodies, attachments), or problems."""
    r = common.run([common.SYSTEM_PYTHON, "-c", PYPFF_WORKER, path], timeout=300)
    if r.returncode != 0:
        return [], [f"pypff {r.describe()}: {common.one_line(r.stderr)}"]
    return common.parse_json_lines(r.stdout)


def check_pypff_content(pypff_items: list[dict], problems: list[str], view: PstkitView) -> list[str]:
    diffs = list(problems)
    by_nid = {nid: msg for _, _, nid, msg in view.messages()}
    for o in pypff_items:
        msg = by_nid.get(o["nid"])
        if msg is None:
            diffs.append(f"pypff item {o['nid']} is not in pstkit's dump")
            continue
        where = f"item {o['nid']} ({msg['subject']!r})"
        if o["subject"] is not None and o["subject"] != msg["subject"]:
            diffs.append(f"{where}: PidTagSubject's stored bytes decode to {o['subject']!r}")
        if not same_libpff_text(msg["body"], o["plain"]):
            diffs.append(f"{where}: plain body differs: {msg['body']!r:.60} vs pypff {o['plain']!r:.60}")
        if msg["html"] != o["html"]:
            diffs.append(f"{where}: HTML body differs: {msg['html']!r:.60} vs pypff {o['html']!r:.60}")
        ours = [(a["filename"], a.get("size"), a.get("sha256")) for a in msg["attachments"]]
        theirs = [(a["name"], a.get("size"), a.get("sha256")) for a in o["attachments"]]
        if len(ours) != len(theirs) or not all(
                same_libpff_text(x[0], y[0]) and x[1:] == y[1:] for x, y in zip(ours, theirs)):
            diffs.append(f"{where}: attachments {ours} vs pypff {theirs}")
    return diffs


# --------------------------------------------------------------------------
# libpff: pffexport (recipients, embedded messages)


def read_text(path):
    if not os.path.exists(path):
        return None
    with open(path, "rb") as fh:
        return fh.read().decode("utf-8", "replace")


def pffexport_recipients(path):
    text = read_text(path) or ""
    out, cur = [], {}
    for line in text.splitlines() + [""]:
        if not line.strip():
            if cur:
                out.append(cur)
            cur = {}
            continue
        key, _, value = line.partition(":")
        cur[key.strip()] = value.strip()
    return [(r.get("Recipient type"), r.get("Display name", ""), r.get("Email address", ""),
             r.get("Address type", "")) for r in out]


def pffexport_message(d: str) -> dict:
    headers = read_text(os.path.join(d, "OutlookHeaders.txt")) or ""
    m = re.search(r"^Subject:\t+(.*)$", headers, re.M)
    atts = []
    adir = os.path.join(d, "Attachments")
    entries = sorted(os.listdir(adir)) if os.path.isdir(adir) else []
    for name in entries:
        p = os.path.join(adir, name)
        if os.path.isdir(p):  # AttachmentNNNNN/MessageNNNNN: an embedded message
            inner = [x for x in sorted(os.listdir(p)) if os.path.isdir(os.path.join(p, x))]
            atts.append((int(name[len("Attachment"):]), {"message": pffexport_message(os.path.join(p, inner[0]))
                                                         if inner else None}))
        else:
            index, _, filename = name.partition("_")
            with open(p, "rb") as fh:
                data = fh.read()
            atts.append((int(index), {"filename": filename, "size": len(data), "sha256": sha256(data)}))
    return {"subject": m.group(1) if m else None,
            "body": read_text(os.path.join(d, "Message.txt")),
            "html": read_text(os.path.join(d, "Message.html")),
            "recipients": pffexport_recipients(os.path.join(d, "Recipients.txt")),
            "attachments": [a for _, a in sorted(atts, key=lambda x: x[0])]}


def compare_pffexport_message(ours: dict, theirs: dict, where: str) -> list[str]:
    diffs = []
    if not same_pffexport_subject(ours["subject"], theirs["subject"]):
        diffs.append(f"{where}: subject {ours['subject']!r}, pffexport {theirs['subject']!r}")
    recipients = [(RECIPIENT_TYPES.get(t, str(t)), n, e, a) for t, n, e, a in ours["recipients"]]
    if len(recipients) != len(theirs["recipients"]) or not all(
            all(same_libpff_text(x, y) for x, y in zip(r1, r2)) for r1, r2 in zip(recipients, theirs["recipients"])):
        diffs.append(f"{where}: recipients {recipients} vs pffexport {theirs['recipients']}")
    # pffexport writes the plain body when there is one (with -f all, also HTML).
    if ours["body"] is not None and not same_libpff_text(lines(ours["body"]), lines(theirs["body"])):
        diffs.append(f"{where}: plain body {ours['body']!r:.60} vs pffexport {theirs['body']!r:.60}")
    if ours["html"] is not None and lines(ours["html"]) != lines(theirs["html"]):
        diffs.append(f"{where}: HTML body {ours['html']!r:.60} vs pffexport {theirs['html']!r:.60}")
    if len(ours["attachments"]) != len(theirs["attachments"]):
        diffs.append(f"{where}: {len(ours['attachments'])} attachments, pffexport {len(theirs['attachments'])}")
        return diffs
    for i, (a, b) in enumerate(zip(ours["attachments"], theirs["attachments"]), 1):
        if "message" in a:
            if not b.get("message"):
                diffs.append(f"{where}: attachment {i} is an embedded message, pffexport has {b}")
            else:
                diffs += compare_pffexport_message(a["message"], b["message"], f"{where} > embedded {i}")
        elif (a["size"], a["sha256"]) != (b.get("size"), b.get("sha256")) or \
                not same_libpff_text(a["filename"], b.get("filename")):
            diffs.append(f"{where}: attachment {i} {a['filename']!r} {a['size']} bytes vs pffexport {b}")
    return diffs


def check_pffexport(path: str, view: PstkitView, pypff_items: list[dict], work: str) -> list[str]:
    target = os.path.join(work, "pffexport")
    r = common.run(["pffexport", "-q", "-f", "all", "-m", "items", "-t", target, path], timeout=300)
    if r.returncode != 0:
        return [f"pffexport {r.describe()}: {common.one_line(r.stderr)}"]
    root = target + ".export"
    # pffexport numbers a folder's messages in libpff's order, which may differ
    # from the row order pstkit reports: pair them through pypff's nids.
    libpff_order: dict[tuple, list[int]] = {}
    for o in sorted(pypff_items, key=lambda o: o["index"]):
        libpff_order.setdefault(tuple(o["folder"]), []).append(o["nid"])
    by_nid = {nid: msg for _, _, nid, msg in view.messages()}
    diffs = []
    for folder, rows in view.items.items():
        d = os.path.join(root, *folder)
        found = sorted(x for x in os.listdir(d) if re.fullmatch(r"Message\d{5}", x)) if os.path.isdir(d) else []
        nids = libpff_order.get(folder, [])
        if len(found) != len(rows) or len(nids) != len(rows):
            diffs.append(f"folder {list(folder)}: {len(rows)} items, pffexport {len(found)}, pypff {len(nids)}")
            continue
        for nid, name in zip(nids, found):
            if nid not in by_nid:
                diffs.append(f"folder {list(folder)}: pypff item {nid} is not in pstkit's dump")
                continue
            diffs += compare_pffexport_message(by_nid[nid], pffexport_message(os.path.join(d, name)), f"item {nid}")
    shutil.rmtree(root, ignore_errors=True)
    return diffs


# --------------------------------------------------------------------------
# libpst: readpst -D -e


def raw_header(msg, name: str):
    """A header as readpst wrote it, RFC 2047 words decoded, not re-parsed as addresses."""
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            unfolded = re.sub(r"\r?\n(?=[ \t])", "", value)
            return str(email.header.make_header(email.header.decode_header(unfolded)))
    return None


def readpst_message(msg) -> dict:
    plain = html = None
    atts = []
    for part in msg.iter_parts() if msg.is_multipart() else [msg]:
        ctype = part.get_content_type()
        if ctype == "multipart/alternative":
            for alt in part.iter_parts():
                if alt.get_content_type() == "text/plain":
                    plain = alt.get_content()
                elif alt.get_content_type() == "text/html":
                    html = alt.get_content()
        elif ctype == "message/rfc822":
            atts.append({"message": readpst_message(part.get_payload()[0])})
        elif part.get_filename() is not None or part.get_content_disposition() == "attachment":
            data = part.get_payload(decode=True) or b""
            atts.append({"filename": part.get_filename() or "", "size": len(data), "sha256": sha256(data)})
        elif ctype == "text/plain" and plain is None:
            plain = part.get_content()
        elif ctype == "text/html" and html is None:
            html = part.get_content()
    date = raw_header(msg, "Date")
    sender = email.utils.parseaddr(raw_header(msg, "From") or "")
    return {"subject": raw_header(msg, "Subject") or "", "body": lines(plain), "html": lines(html),
            "to": raw_header(msg, "To"), "cc": raw_header(msg, "Cc"), "sender_email": sender[1] or None,
            "date": email.utils.parsedate_to_datetime(date).strftime("%Y-%m-%dT%H:%M:%S") if date else None,
            "attachments": sorted(atts, key=lambda a: json.dumps(a, sort_keys=True))}


def readpst_expectation(msg: dict, ansi: bool) -> dict:
    """What readpst should print for a message pstkit read."""
    atts = []
    for a in msg["attachments"]:
        if "message" in a:
            atts.append({"message": readpst_expectation(a["message"], ansi)})
        elif a["size"] == 0:
            # readpst writes an attachment only when it has data (or an id).
            KNOWN["readpst omits attachments of 0 bytes"] += 1
        else:
            atts.append({"filename": a["filename"], "size": a["size"], "sha256": a["sha256"]})
    html = lines(msg["html"])
    if html and not html.isascii() and msg["message_codepage"] not in (None, msg["internet_codepage"]):
        # readpst labels the HTML part with PidTagMessageCodepage's charset,
        # though the HTML bytes are in PidTagInternetCodepage's.
        mislabelled = html.encode("utf-8").decode(f"cp{msg['message_codepage']}", "replace")
        KNOWN["readpst labels the HTML body with PidTagMessageCodepage, not PidTagInternetCodepage"] += 1
        html = mislabelled
    subject, body = msg["subject"], lines(msg["body"])
    to, cc = msg["display_to"] or None, msg["display_cc"] or None
    if msg["transport_headers"]:
        # readpst copies the stored Internet headers (subject, To, Cc...).
        stored = email.message_from_string(msg["transport_headers"], policy=email.policy.compat32)
        subject, to, cc = raw_header(stored, "Subject") or subject, raw_header(stored, "To"), raw_header(stored, "Cc")
        charset = stored.get_content_charset()
        cp = f"cp{msg['message_codepage'] or 1252}"
        if ansi and body and not body.isascii() and charset and codecs.lookup(charset) != codecs.lookup(cp):
            # and labels the body with their charset, though an ANSI store's
            # 8-bit body is in PidTagMessageCodepage's.
            KNOWN["readpst labels an ANSI store's 8-bit body with the stored headers' charset"] += 1
            body = body.encode(cp, "replace").decode(charset, "replace")
    return {"subject": subject, "body": body, "html": html, "to": to, "cc": cc,
            "sender_email": msg["sender_email"],
            "date": msg["submitted"][:19] if msg["submitted"] else None,
            "attachments": sorted(atts, key=lambda a: json.dumps(a, sort_keys=True))}


# readpst writes an embedded message's mbox "From " line, quoted, before its
# headers; Python's parser would take the headers for body text.
QUOTED_FROM = re.compile(rb"(Content-Type: message/rfc822\r?\n(?:[^\r\n]+\r?\n)*\r?\n)>From [^\n]*\n")


def check_readpst(path: str, view: PstkitView, work: str, store_name: str, ansi: bool) -> list[str]:
    out = os.path.join(work, "readpst")
    os.makedirs(out)
    r = common.run(["readpst", "-j", "0", "-q", "-D", "-e", "-o", out, path], timeout=300)
    if r.returncode != 0:
        return [f"readpst {r.describe()}: {common.one_line(r.stderr)}"]
    theirs: dict[tuple, list] = {}
    for dirpath, _, files in os.walk(out):
        for name in files:
            if not name.endswith(".eml"):
                continue
            with open(os.path.join(dirpath, name), "rb") as fh:
                data = QUOTED_FROM.sub(rb"\1", fh.read())
            folder = tuple(os.path.relpath(dirpath, out).split(os.sep))
            parsed = email.message_from_bytes(data, policy=email.policy.default)
            theirs.setdefault(folder, []).append(readpst_message(parsed))
    shutil.rmtree(out, ignore_errors=True)
    diffs = []
    ours: dict[tuple, list] = {}
    for folder, _, nid, msg in view.messages():
        if not folder or folder[0] != IPM_SUBTREE:
            diffs.append(f"item {nid} in {list(folder)}: outside the IPM subtree, readpst does not export it")
            continue
        # readpst names the IPM subtree after the store.
        ours.setdefault((store_name,) + folder[1:], []).append(readpst_expectation(msg, ansi))
    for folder in sorted(set(ours) | set(theirs)):
        a = Counter(json.dumps(m, sort_keys=True, ensure_ascii=False) for m in ours.get(folder, []))
        b = Counter(json.dumps(m, sort_keys=True, ensure_ascii=False) for m in theirs.get(folder, []))
        for m in a - b:
            diffs.append(f"{list(folder)}: pstkit {m[:300]}")
        for m in b - a:
            diffs.append(f"{list(folder)}: readpst {m[:300]}")
    return diffs


# --------------------------------------------------------------------------
# The files


class Builder:
    def __init__(self, pstkit: str, make_sample: str, work: str):
        self.pstkit, self.make_sample, self.work = pstkit, make_sample, work
        self.problems: list[str] = []

    def run(self, *args, tool=None) -> common.RunResult:
        r = common.run([tool or self.pstkit, *args], timeout=300)
        if r.returncode != 0:
            self.problems.append(f"{' '.join(args)}: {r.describe()}: {common.one_line(r.stderr)}")
        return r

    def sample(self, name: str, ansi: bool) -> str:
        path = os.path.join(self.work, name)
        self.run(path, *(["--ansi"] if ansi else []), tool=self.make_sample)
        return path

    def nid_of(self, path: str, subject: str) -> str:
        r = common.run([self.pstkit, "ls", "-r", "--json", path])
        objs, _ = common.parse_json_lines(r.stdout)
        for o in objs:
            if o.get("type") == "item" and o.get("subject") == subject:
                return str(o["nid"])
        self.problems.append(f"{path}: no item {subject!r}")
        return "0"

    def edited(self, name: str, ansi: bool) -> str:
        """The sample after a series of CLI edits, each its own commit."""
        path = self.sample(name, ansi)
        self.run("mkdir", "-p", path, "Inbox/Projects/Zeus/Notes")
        self.run("mkdir", path, "Ünïcødé 日本")
        self.run("mv", path, "Inbox/Receipts", "Archive")                 # move
        self.run("mv", path, "Archive/2023", "Archive/Year 2023")         # rename
        self.run("mv", path, "Sent Items", "Archive/Sent 2024")           # move and rename
        self.run("mv", path, self.nid_of(path, "Meeting notes"), "Inbox/Projects/Zeus")
        self.run("mv", path, self.nid_of(path, "Fwd: quarterly numbers"), "Archive/Year 2023")
        self.run("rm", path, self.nid_of(path, "Lunch on Friday?"))
        self.run("rm", "-r", path, "Inbox/Projects/Apollo")
        self.run("rm", path, "Inbox/Projects/Zeus/Notes")
        return path

    def created(self, name: str, *create_args: str) -> str:
        path = os.path.join(self.work, name)
        remove(path)
        self.run("create", path, *create_args)
        self.run("mkdir", "-p", path, "Inbox/a/b/c")
        self.run("mkdir", path, "Calendar")
        self.run("mv", path, "Inbox/a/b", "Calendar")
        return path

    def imported(self, name: str, *create_args: str) -> str | None:
        if b" import " not in common.run([self.pstkit, "--help"]).stdout:
            return None
        mails = os.path.join(self.work, "mails")
        os.makedirs(mails, exist_ok=True)
        write_sample_mails(mails)
        path = os.path.join(self.work, name)
        remove(path)
        self.run("create", path, *create_args)
        self.run("import", path, mails, "--folder", "Imported/Mail")
        return path


def remove(path: str) -> None:
    for p in (path, path + "-journal"):
        if os.path.exists(p):
            os.remove(p)


def write_sample_mails(d: str) -> None:
    from email.message import EmailMessage
    for i in range(5):
        m = EmailMessage()
        m["From"] = "Ann Archer <ann@example.com>"
        m["To"] = "Bob Brown <bob@example.org>, Chloé Dubois <chloe@example.fr>"
        if i % 2:
            m["Cc"] = "Dai Tanaka <dai@example.jp>"
        m["Subject"] = ["Plain note", "Grüße", "日本語のメール", "With attachments", "HTML only"][i]
        m["Date"] = f"Fri, 0{i + 1} Mar 2024 09:00:00 +0000"
        m["Message-ID"] = f"<import-{i}@pstkit.example>"
        if i == 4:
            m.set_content("<p>Only <b>HTML</b> here.</p>", subtype="html")
        else:
            m.set_content(f"Body of mail {i}: héllo wörld\n")
        if i == 3:
            m.add_attachment(bytes(range(256)) * 600, maintype="application", subtype="octet-stream",
                             filename="data.bin")
            m.add_attachment("small text\n", filename="small.txt")
        with open(os.path.join(d, f"{i}.eml"), "wb") as fh:
            fh.write(bytes(m))


# --------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pstkit", required=True)
    ap.add_argument("--make-sample", help="make_sample_pst (default: beside --pstkit)")
    ap.add_argument("--keep", help="build the files in this directory and keep them")
    args = ap.parse_args()
    pstkit = os.path.abspath(args.pstkit)
    make_sample = os.path.abspath(args.make_sample or os.path.join(os.path.dirname(pstkit), "make_sample_pst"))
    summary = common.Summary()
    missing = [t for t in ("pffexport", "readpst") if shutil.which(t) is None]
    if not os.path.exists(make_sample) or missing or not common.pypff_available():
        summary.error("setup", f"needs {make_sample}, pffexport, readpst and pypff (missing: "
                               f"{missing or 'make_sample_pst or pypff'})")
        return summary.close()

    work = os.path.abspath(args.keep) if args.keep else tempfile.mkdtemp(prefix="pstkit-readers-")
    os.makedirs(work, exist_ok=True)
    try:
        b = Builder(pstkit, make_sample, work)
        files = [b.sample("sample-unicode.pst", False), b.sample("sample-ansi.pst", True),
                 b.edited("edited-unicode.pst", False), b.edited("edited-ansi.pst", True),
                 b.created("created-none.pst", "--encoding", "none", "--name", "Plain store"),
                 b.created("created-ansi-cyclic.pst", "--ansi", "--encoding", "cyclic")]
        imported = [b.imported("imported-unicode.pst"), b.imported("imported-ansi.pst", "--ansi")]
        if all(imported):
            files += imported
        else:
            print("NOTE  pstkit has no import command yet: imported-*.pst not built")
        if b.problems:
            summary.diff("building the files with pstkit", b.problems)
        for path in files:
            name = os.path.basename(path)
            if not os.path.exists(path):
                summary.error(name, "was not built")
                continue
            check = common.run([pstkit, "check", path], timeout=300)
            if check.returncode == 0:
                summary.ok(f"{name} pstkit check")
            else:
                summary.diff(f"{name} pstkit check ({check.describe()})",
                             check.stdout.decode("utf-8", "replace").splitlines())
            dump = common.run([pstkit, "dump", "--json", "--full", path], timeout=300)
            objs, problems = common.parse_json_lines(dump.stdout)
            if dump.returncode != 0 or problems:
                summary.error(name, f"pstkit dump {dump.describe()}: {problems[:3]} {common.one_line(dump.stderr)}")
                continue
            view = PstkitView(objs)
            info = common.run([pstkit, "info", "--json", path])
            info = json.loads(info.stdout or b"{}")
            store_name, ansi = info.get("store", {}).get("display_name", ""), info.get("format") == "ANSI"
            scratch = tempfile.mkdtemp(dir=work)
            pypff_items, pypff_problems = run_pypff(path)
            for reader, diffs in (("libpff structure", check_libpff_structure(path, view)),
                                  ("pypff bodies+attachments", check_pypff_content(pypff_items, pypff_problems, view)),
                                  ("pffexport recipients+embedded",
                                   check_pffexport(path, view, pypff_items, scratch)),
                                  ("readpst", check_readpst(path, view, scratch, store_name, ansi))):
                if diffs:
                    summary.diff(f"{name} {reader}", diffs)
                else:
                    summary.ok(f"{name} {reader}")
            shutil.rmtree(scratch, ignore_errors=True)
        for what, n in KNOWN.items():
            print(f"KNOWN {what}: accepted {n} times")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return summary.close()


if __name__ == "__main__":
    sys.exit(main())
