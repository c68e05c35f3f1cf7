#!/usr/bin/python3
"""The MAPI client of examples/ (a program that uses nothing but MAPI) on real files.

  * `mapi_client list FILE` on every file of the corpus sees the same folders
    (names, item and subfolder counts) and items (subjects, attachment
    counts) as libpff: test_corpus_libpff.py with `--reader mapi_client list`
    and the same expectations, except that a password-protected store
    (`pstkit info` says "Password: set") must be refused: the client gives
    no password, and MAPI logs such a service on only with it;
  * `mapi_client create NEW.pst` (a profile with an MSUPST MS service on a
    file that does not exist yet, logon, CreateFolder, CreateMessage,
    SetProps, ModifyRecipients, CreateAttach, an attachment stream,
    SaveChanges) makes a file that `pstkit check` passes, in which
    `pstkit dump --json --full`, libpff and readpst find the message with its
    recipient and attachment; a second `create` on the same file (a store
    that exists) adds a second message to the same folder (OPEN_IF_EXISTS).

The client is the `mapi_client` program next to --pstkit in the build tree.
Usage: test_mapi_client.py --pstkit BUILD/pstkit [--corpus DIR] [-j N]
Closes with "N passed, M failed".
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402
import test_corpus_libpff  # noqa: E402

SUBJECT = "Hello from a MAPI client"


def check_created(summary, pstkit, client, work):
    pst = os.path.join(work, "created.pst")
    env = dict(os.environ, PSTKIT_PROFILE_DIR=os.path.join(work, "profiles"))
    for n in (1, 2):
        r = common.run([client, "create", pst], timeout=120, env=env)
        if r.returncode != 0:
            summary.error("create #%d" % n, r.describe() + ": " + common.one_line(r.stderr, 300))
            return
    summary.ok("create", "twice on %s" % os.path.basename(pst))
    r = common.run([pstkit, "check", pst], timeout=120)
    summary.result("check of the created file", r.returncode == 0, common.one_line(r.stdout + r.stderr, 300))

    r = common.run([pstkit, "dump", "--json", "--full", pst], timeout=120)
    objs, problems = common.parse_json_lines(r.stdout)
    items = [o for o in objs if o.get("type") == "item" and o.get("folder", [])[-1:] == ["MAPI sample"]]
    ok = r.returncode == 0 and not problems and len(items) == 2 and all(
        it.get("subject") == SUBJECT and it.get("attachments") == 1 for it in items)
    summary.result("pstkit reads the messages", ok, "%d items in MAPI sample: %s" % (
        len(items), common.one_line(json.dumps([(i.get("subject"), i.get("attachments")) for i in items]), 200)))

    if common.pypff_available():
        script = r'''
import json, sys, pypff
f = pypff.file(); f.open(sys.argv[1])
out = []
def walk(folder, path):
    for i in range(folder.number_of_sub_folders):
        sub = folder.get_sub_folder(i)
        walk(sub, path + [sub.name])
    for i in range(folder.number_of_sub_messages):
        m = folder.get_sub_message(i)
        recips = 0
        try:
            recips = m.number_of_recipients
        except Exception:
            pass
        out.append([path, m.subject, m.number_of_attachments, recips])
walk(f.get_root_folder(), [])
print(json.dumps(out))
'''
        r = subprocess.run([common.SYSTEM_PYTHON, "-c", script, pst], capture_output=True, timeout=120)
        got = json.loads(r.stdout or b"[]") if r.returncode == 0 else []
        mine = [g for g in got if g[0][-1:] == ["MAPI sample"]]
        ok = r.returncode == 0 and len(mine) == 2 and all(g[1] == SUBJECT and g[2] == 1 for g in mine)
        summary.result("libpff reads the messages", ok, common.one_line(json.dumps(mine) + r.stderr.decode(errors="replace"), 300))
    else:
        summary.result("libpff reads the messages", None if not common.in_ci() else False, "pypff not available")

    out = os.path.join(work, "readpst")
    os.makedirs(out, exist_ok=True)
    r = common.run(["readpst", "-D", "-S", "-o", out, pst], timeout=120)
    found = []
    for root, _dirs, files in os.walk(out):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                data = f.read()
            if SUBJECT.encode() in data:
                found.append(os.path.relpath(path, out))
    summary.result("readpst reads the messages", r.returncode == 0 and len(found) >= 2,
                   "%d files with the subject: %s" % (len(found), ", ".join(sorted(found))[:200]))


def password_expectations(pstkit, corpus, work):
    """corpus_expectations.json, with every password-protected file expected to be refused."""
    with open(os.path.join(HERE, "corpus_expectations.json")) as f:
        expectations = json.load(f)
    protected = []
    for row in common.corpus_files(corpus):
        r = common.run([pstkit, "info", row.path], timeout=60)
        if any(line.split() [:2] == ["Password:", "set"] for line in r.stdout.decode(errors="replace").splitlines()):
            protected.append(row.file)
            expectations[row.file] = {
                "reason": "password-protected: a MAPI logon of its service needs the password, which the client does not give",
                "pstkit_rejects": True}
    print("-- password-protected, expected to be refused: %d files" % len(protected), flush=True)
    path = os.path.join(work, "expectations.json")
    with open(path, "w") as f:
        json.dump(expectations, f)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pstkit", required=True)
    ap.add_argument("--corpus")
    ap.add_argument("-j", "--jobs", type=int, default=int(os.environ.get("PSTKIT_TEST_JOBS", "2")))
    args = ap.parse_args()
    pstkit = os.path.abspath(args.pstkit)
    client = os.path.join(os.path.dirname(pstkit), "mapi_client")
    summary = common.Summary()
    if not os.access(client, os.X_OK):
        summary.error("mapi_client", "not built next to %s" % pstkit)
        return summary.close()
    with tempfile.TemporaryDirectory(prefix="pstkit-mapi-client-") as work:
        check_created(summary, pstkit, client, work)
        profiles = os.path.join(work, "corpus-profiles")
        os.environ["PSTKIT_PROFILE_DIR"] = profiles
        argv = [sys.argv[0], "--pstkit", pstkit, "-j", str(args.jobs)]
        if args.corpus:
            argv += ["--corpus", args.corpus]
        corpus = common.find_corpus(args.corpus)
        if corpus and os.path.isdir(corpus):
            argv += ["--expectations", password_expectations(pstkit, corpus, work)]
        print("-- the corpus through MAPI (test_corpus_libpff.py --reader mapi_client list):", flush=True)
        rc = test_corpus_libpff.main(argv + ["--reader", client, "list"])
        summary.result("corpus through MAPI matches libpff", rc == 0, "see the lines above")
        # Every run deleted its temporary profile (DeleteProfile after Logoff).
        r = common.run([pstkit, "profile", "list"], timeout=60, env=dict(os.environ))
        left = [l for l in r.stdout.decode(errors="replace").splitlines() if "mapi_client" in l]
        summary.result("temporary profiles deleted", r.returncode == 0 and not left, "; ".join(left)[:200] or "none left")
    return summary.close()


if __name__ == "__main__":
    sys.exit(main())
