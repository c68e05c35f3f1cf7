#!/usr/bin/python3
"""`pstkit export --format msg`: every item as an Outlook .msg file ([MS-OXMSG]).

For generated stores (make_sample_pst, Unicode and ANSI) and every corpus file
(sampled by $PSTKIT_CORPUS_STRIDE):
  * the exit status is 0 when the manifest says complete, 3 when it lists
    failed or incomplete items; one .msg per exported item, each with the
    SHA-256 the manifest gives, named <folder path>/<node id>.msg;
  * python3-olefile opens every file: a version 3 compound file (512-byte
    sectors) whose directories are in MS-CFB order, with MS-OXMSG's objects: the
    property stream of every object (32-byte header at the top, 24 in
    embedded messages, 8 in recipients and attachments, with the counts of
    recipient and attachment storages), a stream for every variable-size
    property with the size its entry gives, every named id (0x8000+) inside
    the file's name map (__nameid_version1.0);
  * @kenjiuno/msgreader (npm, an independent MSG reader) reads every file
    with the item's subject, body, recipients (names) and attachments (names,
    sizes, SHA-256) as `pstkit dump --json --full` gives them, embedded
    messages (msg in msg) compared the same way to any depth;
  * two exports are byte-identical (samples and every 8th corpus file);
  * with an unusable libgsf every item fails (exit 3), the manifest naming it;
    --folder exports that folder only.

Under CI=true a missing olefile, node or msgreader fails the test.
msgreader is looked for in $PSTKIT_NPM_PREFIX/node_modules, default
${XDG_CACHE_HOME:-~/.cache}/pstkit-npm (where .ci/run installs it).

Usage: test_export_msg.py --pstkit BUILD/pstkit [--corpus DIR]
Closes with "N passed, M failed".
"""

import argparse
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402

try:
    import olefile
except ImportError:  # reported in main()
    olefile = None

MESSAGE_CLSID = "00020D0B-0000-0000-C000-000000000046"
VARIABLE_TYPES = {0x001E, 0x001F, 0x0102, 0x0048, 0x00FB, 0x000D}


def npm_prefix():
    if os.environ.get("PSTKIT_NPM_PREFIX"):
        return os.environ["PSTKIT_NPM_PREFIX"]
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "pstkit-npm")


def msgreader_dump(files):
    """{file: described message or {"error": ...}} from msgreader_dump.js."""
    env = dict(os.environ, NODE_PATH=os.path.join(npm_prefix(), "node_modules"))
    out = {}
    for i in range(0, len(files), 200):
        r = subprocess.run(["node", os.path.join(HERE, "msgreader_dump.js"), *files[i:i + 200]],
                           capture_output=True, env=env, timeout=600)
        for line in r.stdout.decode("utf-8", "replace").splitlines():
            o = json.loads(line)
            out[o["file"]] = o
    return out


# ---- MS-OXMSG structure, read with olefile ---------------------------------

def check_object(ole, path, header_size, problems, named_ids, where):
    """Checks one object storage's property stream; returns its storages."""
    stream = path + ["__properties_version1.0"]
    if not ole.exists("/".join(stream)):
        problems.append(f"{where}: no property stream")
        return
    data = ole.openstream(stream).read()
    if len(data) < header_size or (len(data) - header_size) % 16:
        problems.append(f"{where}: property stream of {len(data)} bytes")
        return
    children = {tuple(e[len(path):]) for e in ole.listdir(streams=True, storages=True)
                if e[:len(path)] == path and len(e) == len(path) + 1}
    names = {c[0] for c in children}
    if header_size >= 24:
        next_recip, next_attach, recips, attaches = struct.unpack_from("<4I", data, 8)
        have_r = sum(1 for n in names if n.startswith("__recip_version1.0_#"))
        have_a = sum(1 for n in names if n.startswith("__attach_version1.0_#"))
        if (recips, attaches) != (have_r, have_a) or next_recip < recips or next_attach < attaches:
            problems.append(f"{where}: header counts {recips}/{attaches}, storages {have_r}/{have_a}")
    for off in range(header_size, len(data), 16):
        tag, _flags, size = struct.unpack_from("<III", data, off)
        pid, ptype = tag >> 16, tag & 0xFFFF
        if pid >= 0x8000:
            named_ids.add(pid)
        base = ptype & 0x0FFF
        name = f"__substg1.0_{tag:08X}"
        if ptype == 0x000D:
            if name not in names or size != 0xFFFFFFFF:
                problems.append(f"{where}: object {tag:08X} without its storage")
            continue
        if ptype & 0x1000 or base in VARIABLE_TYPES:
            if name not in names:
                problems.append(f"{where}: no stream for {tag:08X}")
                continue
            n = ole.get_size("/".join(path + [name]))
            want = n + 2 if ptype == 0x001F else n
            if size != want:
                problems.append(f"{where}: {tag:08X} entry size {size}, stream {n}")
            if ptype == 0x001F:
                # A MAPI string ends at its first NUL: the size counts the one terminator.
                text = ole.openstream("/".join(path + [name])).read()
                if any(text[k] == 0 and text[k + 1] == 0 for k in range(0, len(text) - 1, 2)):
                    problems.append(f"{where}: {tag:08X} holds a NUL before its end")
            if ptype in (0x101F, 0x1102):
                count = n // (4 if ptype == 0x101F else 8)
                for k in range(count):
                    if f"{name}-{k:08X}" not in names:
                        problems.append(f"{where}: {tag:08X} lacks value {k}")
        if ptype == 0x001E:
            problems.append(f"{where}: {tag:08X} is an 8-bit string")
    for n in sorted(names):
        if n.startswith("__recip_version1.0_#"):
            check_object(ole, path + [n], 8, problems, named_ids, f"{where}/{n}")
        elif n.startswith("__attach_version1.0_#"):
            check_object(ole, path + [n], 8, problems, named_ids, f"{where}/{n}")
            inner = path + [n, "__substg1.0_3701000D"]
            if ole.exists("/".join(inner)) and ole.get_type("/".join(inner)) == olefile.STGTY_STORAGE:
                if ole.getclsid("/".join(inner)) != MESSAGE_CLSID:
                    problems.append(f"{where}/{n}: embedded message CLSID {ole.getclsid('/'.join(inner))}")
                check_object(ole, inner, 24, problems, named_ids, f"{where}/{n}/msg")


def check_directory_order(ole, problems):
    """MS-CFB 2.6.4: each storage's children form a binary search tree under
    the order (name length, then upper-cased name); red nodes have no red
    child."""
    entries = ole.direntries
    nostream = 0xFFFFFFFF

    def in_order(sid, out, depth=0):
        if sid == nostream or depth > 10000 or sid >= len(entries) or entries[sid] is None:
            return
        e = entries[sid]
        for child in (e.sid_left, e.sid_right):
            if child != nostream and e.color == 0 and child < len(entries) and entries[child] and \
                    entries[child].color == 0:
                problems.append(f"directory: red entry {e.name!r} has a red child")
        in_order(e.sid_left, out, depth + 1)
        out.append(e.name)
        in_order(e.sid_right, out, depth + 1)

    for e in entries:
        if e is not None and e.entry_type in (olefile.STGTY_STORAGE, olefile.STGTY_ROOT):
            names = []
            in_order(e.sid_child, names)
            keys = [(len(n), n.upper()) for n in names]
            if keys != sorted(keys) or len(set(keys)) != len(keys):
                problems.append(f"directory of {e.name!r} not in MS-CFB order")


def check_structure(path):
    """Problems with a .msg file's MS-CFB / MS-OXMSG structure (olefile)."""
    problems = []
    try:
        ole = olefile.OleFileIO(path)
    except Exception as e:  # noqa: BLE001 - any failure to open is the finding
        return [f"olefile: {e}"]
    with ole:
        if ole.root.clsid != MESSAGE_CLSID:
            problems.append(f"root CLSID {ole.root.clsid}")
        if ole.sector_size != 512 or ole.dll_version != 3:
            problems.append(f"CFB version {ole.dll_version}, sector {ole.sector_size}")
        check_directory_order(ole, problems)
        named = set()
        check_object(ole, [], 32, problems, named, "")
        entries = "__nameid_version1.0/__substg1.0_00030102"
        if not ole.exists(entries):
            problems.append("no named property map")
        else:
            count = ole.get_size(entries) // 8
            outside = sorted(i for i in named if i >= 0x8000 + count)
            if outside:
                problems.append(f"named ids {[hex(i) for i in outside[:5]]} beyond the map's {count} entries")
    return problems


# ---- content against pstkit dump --full -----------------------------------

def norm(s):
    """Whitespace-insensitive text up to the first NUL (where a MAPI string ends)."""
    return " ".join((s or "").split("\x00")[0].split())


def compare(item, got, where, problems):
    """An item of `dump --json --full` against msgreader's reading."""
    if norm(got.get("subject")) != norm(item.get("subject")):
        problems.append(f"{where}: subject {got.get('subject', '')[:50]!r}, item {item.get('subject', '')[:50]!r}")
    if norm(got.get("body")) != norm(item.get("body")):
        problems.append(f"{where}: body differs ({len(got.get('body') or '')} / {len(item.get('body') or '')} chars)")
    want_r = [norm(r.get("PidTagDisplayName")) for r in item.get("recipients", [])]
    got_r = [norm(r.get("name")) for r in got.get("recipients", [])]
    if want_r != got_r:
        problems.append(f"{where}: recipients {got_r[:4]}, item {want_r[:4]}")
    want_a = item.get("attachment_list", [])
    got_a = got.get("attachments", [])
    if len(want_a) != len(got_a):
        problems.append(f"{where}: {len(got_a)} attachments, item has {len(want_a)}")
        return
    for k, (w, g) in enumerate(zip(want_a, got_a)):
        here = f"{where} attachment {k}"
        if "message" in w:
            if not g.get("embedded"):
                problems.append(f"{here}: not read as an embedded message")
            else:
                compare(w["message"], g["message"], here, problems)
            continue
        if g.get("embedded"):
            problems.append(f"{here}: read as an embedded message")
            continue
        if w.get("filename") and norm(g.get("name")) != norm(w.get("filename")):
            problems.append(f"{here}: name {g.get('name')!r}, item {w.get('filename')!r}")
        if g.get("size") != w.get("size", 0) or ("sha256" in w and g.get("sha256") != w["sha256"]):
            problems.append(f"{here}: {g.get('size')} bytes {g.get('sha256', '')[:12]}, "
                            f"item {w.get('size', 0)} bytes {w.get('sha256', '')[:12]}")


def dump_full(pstkit, pst, extra=()):
    r = common.run([pstkit, "dump", "--json", "--full", *extra, pst], timeout=600)
    objs, _ = common.parse_json_lines(r.stdout)
    return {o["nid"]: o for o in objs if o.get("type") == "item"}


def export(pstkit, pst, out, extra=()):
    return common.run([pstkit, "export", "-q", "--format", "msg", "-o", out, *extra, pst], timeout=900)


def check_export(pstkit, pst, out, summary, name):
    r = export(pstkit, pst, out)
    mpath = os.path.join(out, "manifest.json")
    if r.crashed or r.timed_out or not os.path.isfile(mpath):
        summary.error(name, f"exit {r.returncode}: {common.one_line(r.stderr)}")
        return None
    manifest = json.load(open(mpath))
    problems = []
    opened = any("folders" in s for s in manifest.get("sources", []))
    want_rc = 0 if manifest.get("complete") else 3 if opened else 1
    if r.returncode != want_rc:
        problems.append(f"exit {r.returncode}, manifest complete={manifest.get('complete')}")
    files = manifest.get("files", {})
    on_disk = []
    for root, _, names in os.walk(out):
        on_disk += [os.path.relpath(os.path.join(root, n), out) for n in names if n != "manifest.json"]
    if sorted(on_disk) != sorted(files) or any(not f.endswith(".msg") for f in files):
        problems.append(f"{len(on_disk)} files, manifest lists {len(files)}")
    if manifest.get("exported") != len(files):
        problems.append(f"manifest exported={manifest.get('exported')} but {len(files)} files")
    for rel, sha in files.items():
        if hashlib.sha256(open(os.path.join(out, rel), "rb").read()).hexdigest() != sha:
            problems.append(f"{rel}: SHA-256 differs from the manifest")

    items = dump_full(pstkit, pst) if files else {}
    incomplete = {x["nid"] for s in manifest.get("sources", []) for f in s.get("folders", [])
                  for x in f.get("incomplete", [])}
    paths = sorted(os.path.join(out, rel) for rel in files)
    read = msgreader_dump(paths) if paths else {}
    for p in paths:
        rel = os.path.relpath(p, out)
        problems += [f"{rel}: {x}" for x in check_structure(p)[:3]]
        nid = int(os.path.basename(p)[:-4])
        got = read.get(p, {"error": "not read"})
        if "error" in got:
            problems.append(f"{rel}: msgreader: {common.one_line(got['error'])}")
        elif nid not in items:
            problems.append(f"{rel}: dump does not list item {nid}")
        elif nid not in incomplete:
            compare(items[nid], got["message"], rel, problems)
    if problems:
        summary.diff(name, problems)
    elif not opened:
        summary.ok(name, "not a store pstkit opens: exit 1, nothing exported")
    else:
        summary.ok(name, f"{len(files)} items" + ("" if manifest.get("complete") else ", partial (exit 3)"))
    return manifest


def tools_missing():
    missing = []
    if olefile is None:
        missing.append("python3-olefile")
    if not shutil.which("node"):
        missing.append("node")
    elif not os.path.isdir(os.path.join(npm_prefix(), "node_modules", "@kenjiuno", "msgreader")):
        missing.append(f"@kenjiuno/msgreader in {npm_prefix()}")
    return missing


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pstkit", required=True)
    ap.add_argument("--corpus")
    args = ap.parse_args()
    pstkit = os.path.abspath(args.pstkit)
    build = os.path.dirname(pstkit)
    summary = common.Summary()
    missing = tools_missing()
    if missing:
        if common.in_ci():
            summary.error("readers", "missing: " + ", ".join(missing))
            return summary.close()
        print("SKIP: missing " + ", ".join(missing))
        return 0
    work = tempfile.mkdtemp(prefix="pstkit-export-msg-")
    try:
        targets = common.sample_and_corpus_targets(build, work, args.corpus, summary)
        sample = targets[0][1]

        for i, (name, path) in enumerate(targets):
            out = os.path.join(work, f"out{i}")
            manifest = check_export(pstkit, path, out, summary, name)
            if manifest is not None and (i < 2 or i % 8 == 0):
                again = os.path.join(work, f"again{i}")
                export(pstkit, path, again)
                other = json.load(open(os.path.join(again, "manifest.json")))
                if other != manifest:
                    summary.error(name + " (twice)", "a second export differs")
                else:
                    summary.ok(name + " (twice)", "byte-identical")
            shutil.rmtree(out, ignore_errors=True)

        # libgsf is opened on first use: an unusable one (a copy of zlib under
        # its soname, first on LD_LIBRARY_PATH) fails every item, naming it.
        fake = os.path.join(work, "fake-lib")
        os.makedirs(fake)
        shutil.copy("/lib/x86_64-linux-gnu/libz.so.1", os.path.join(fake, "libgsf-1.so.114"))
        out = os.path.join(work, "no-gsf")
        r = subprocess.run([pstkit, "export", "-q", "--format", "msg", "-o", out, sample], capture_output=True,
                           env=dict(os.environ, LD_LIBRARY_PATH=fake), timeout=300)
        manifest = json.load(open(os.path.join(out, "manifest.json")))
        reasons = [x["reason"] for s in manifest["sources"] for f in s["folders"] for x in f.get("failed", [])]
        if r.returncode == 3 and reasons and manifest["files"] == {} and \
                all("MSG export needs libgsf (libgsf-1.so.114)" in x for x in reasons):
            summary.ok("unusable libgsf", f"exit 3, {len(reasons)} items failed naming libgsf")
        else:
            summary.error("unusable libgsf", f"exit {r.returncode}, reasons {reasons[:2]}")

        # --folder: only that folder's items, as .msg.
        out = os.path.join(work, "inbox")
        r = export(pstkit, sample, out, ["--folder", "Inbox"])
        files = json.load(open(os.path.join(out, "manifest.json")))["files"] if r.returncode == 0 else {}
        if r.returncode != 0 or not files or any("/Inbox/" not in "/" + f for f in files):
            summary.error("--folder Inbox", f"exit {r.returncode}, files {sorted(files)[:3]}")
        else:
            summary.ok("--folder Inbox", f"{len(files)} files")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return summary.close()


if __name__ == "__main__":
    sys.exit(main())
