#!/usr/bin/python3
"""`cmake --install` gives what a program needs to use pstkit.

From the build directory of --pstkit, installed into a scratch prefix:
  * the CLI runs from the prefix (`pstkit create`, `mkdir`, `ls`);
  * a C++ program built with `g++ ... $(pkg-config --cflags --libs pstkit)`
    opens that store through the library and lists the same folders as
    `pstkit ls`;
  * the same program built by a CMake project with find_package(pstkit)
    and pstkit::pstkit does too;
  * the MAPI client of examples/ (written like Microsoft's samples) builds
    with `g++ ... $(pkg-config --cflags --libs pstkit-mapi)` and with
    pstkit::mapi, and runs: it creates a folder and a mail item in the store
    through a profile and a MAPI session, then lists the store, where the
    item is.
Sanitizer and fuzzing builds are skipped (their archive needs their runtime).

Usage: test_install.py --pstkit BUILD/pstkit
Closes with "N passed, M failed".
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))

CONSUMER = r'''
// Lists the folders under the root of a store, one "name\tcount" a line.
#include <cstdio>
#include <pstkit/messaging.h>

static int walk(const pstkit::Store& store, const pstkit::Folder& folder, int depth) {
  auto subs = folder.subfolders();
  if (!subs) return 1;
  for (const auto& row : *subs) {
    auto child = store.open_folder(row.nid);
    if (!child) return 1;
    std::printf("%d\t%s\t%d\n", depth, child->name().c_str(), int(child->content_count()));
    if (walk(store, *child, depth + 1) != 0) return 1;
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  auto store = pstkit::Store::open(argv[1]);
  if (!store) {
    std::fprintf(stderr, "%s\n", store.status().message().c_str());
    return 1;
  }
  auto root = (*store)->root_folder();
  if (!root) return 1;
  return walk(**store, *root, 0);
}
'''

CMAKE_PROJECT = r'''
cmake_minimum_required(VERSION 3.25)
project(consumer LANGUAGES CXX)
find_package(pstkit 0.1 REQUIRED)
add_executable(list_folders list_folders.cpp)
target_link_libraries(list_folders PRIVATE pstkit::pstkit)
add_executable(mapi_client mapi_client.cpp)
target_compile_definitions(mapi_client PRIVATE UNICODE _UNICODE)
target_link_libraries(mapi_client PRIVATE pstkit::mapi)
'''


def cache_value(build, key):
    try:
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pstkit", required=True)
    args = ap.parse_args()
    build = os.path.dirname(os.path.abspath(args.pstkit))
    summary = common.Summary()
    if cache_value(build, "PSTKIT_SANITIZE") == "ON" or cache_value(build, "PSTKIT_FUZZ") == "ON":
        summary.skip("install", "sanitizer or fuzzing build")
        return summary.close()
    work = tempfile.mkdtemp(prefix="pstkit-install-")
    try:
        prefix = os.path.join(work, "prefix")
        r = common.run(["cmake", "--install", build, "--prefix", prefix], timeout=300)
        if r.returncode != 0:
            summary.error("cmake --install", common.one_line(r.stdout + r.stderr, 400))
            return summary.close()
        summary.ok("cmake --install")
        # The man pages go where man looks under the prefix (when help2man built them).
        if os.path.isfile(os.path.join(build, "man", "pstkit.1")):
            man1 = os.path.join(prefix, "share", "man", "man1")
            missing = [p for p in os.listdir(os.path.join(build, "man"))
                       if p.endswith(".1") and not os.path.isfile(os.path.join(man1, p))]
            if missing:
                summary.error("man pages installed", "missing in share/man/man1: " + ", ".join(missing))
            else:
                summary.ok("man pages installed", "share/man/man1")

        # The CLI from the prefix makes the store the programs read.
        pst = os.path.join(work, "t.pst")
        cli = os.path.join(prefix, "bin", "pstkit")
        steps = [[cli, "create", pst], [cli, "mkdir", pst, "Projects"], [cli, "mkdir", pst, "Projects/Alpha"]]
        for step in steps:
            r = common.run(step, timeout=60)
            if r.returncode != 0:
                summary.error("installed CLI", "%s: %s" % (" ".join(step[1:2]), common.one_line(r.stderr, 300)))
                return summary.close()
        summary.ok("installed CLI", "create, mkdir")
        # pstkit-readpst is installed beside it and runs readpst's command line.
        readpst = os.path.join(prefix, "bin", "pstkit-readpst")
        rp = common.run([readpst, "-V"], timeout=60)
        if rp.returncode != 0 or b"pstkit-readpst" not in rp.stdout:
            summary.error("installed pstkit-readpst", common.one_line(rp.stdout + rp.stderr, 300))
        else:
            summary.ok("installed pstkit-readpst", common.one_line(rp.stdout))
        ls = common.run([cli, "ls", "-r", pst], timeout=60)
        expected_names = ["Projects", "Alpha"]

        env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(prefix, "lib", "pkgconfig"))
        src = os.path.join(work, "list_folders.cpp")
        with open(src, "w") as f:
            f.write(CONSUMER)
        shutil.copy(os.path.join(REPO, "examples", "mapi_client.cpp"), work)

        def judge_mapi(name, exe):
            # A fresh store per build: the client creates it, then lists it.
            target = os.path.join(work, re.sub(r"\W+", "_", name) + ".pst")
            menv = dict(os.environ, PSTKIT_PROFILE_DIR=os.path.join(work, "profiles"))
            made = common.run([exe, "create", target], timeout=120, env=menv)
            listed = common.run([exe, "list", target], timeout=120, env=menv) if made.returncode == 0 else made
            text = listed.stdout.decode(errors="replace")
            if listed.returncode != 0 or '"MAPI sample"' not in text or "Hello from a MAPI client" not in text:
                summary.error(name, "exit %s: %s %s" % (listed.returncode, common.one_line(listed.stderr, 300),
                                                       common.one_line(text, 200)))
            else:
                summary.ok(name, "the MAPI client created a mail item and listed it")

        def judge(name, exe):
            r = common.run([exe, pst], timeout=60)
            if r.returncode != 0:
                summary.error(name, "exit %d: %s" % (r.returncode, common.one_line(r.stderr, 300)))
                return
            names = [line.split("\t")[1] for line in r.stdout.decode().splitlines()]
            missing = [n for n in expected_names if n not in names]
            listed = ls.stdout.decode()
            unknown = [n for n in names if n not in listed]
            if missing or unknown:
                summary.error(name, "folders %s; missing %s; not in `pstkit ls` %s" % (names, missing, unknown))
            else:
                summary.ok(name, "%d folders, as `pstkit ls -r` lists them" % len(names))

        # pkg-config
        flags = common.run(["pkg-config", "--cflags", "--libs", "pstkit"], timeout=30, env=env)
        mapi_flags = common.run(["pkg-config", "--cflags", "--libs", "pstkit-mapi"], timeout=30, env=env)
        if flags.returncode != 0 or mapi_flags.returncode != 0:
            summary.error("pkg-config", common.one_line(flags.stderr + mapi_flags.stderr, 300))
        else:
            exe = os.path.join(work, "list_folders_pc")
            cc = common.run(["g++", "-O1", src, "-o", exe, *flags.stdout.decode().split()], timeout=300)
            if cc.returncode != 0:
                summary.error("g++ $(pkg-config pstkit)", common.one_line(cc.stderr, 400))
            else:
                judge("g++ $(pkg-config pstkit)", exe)
            mapi_exe = os.path.join(work, "mapi_client_pc")
            cc = common.run(["g++", "-std=c++20", "-DUNICODE", "-D_UNICODE", os.path.join(work, "mapi_client.cpp"),
                             "-o", mapi_exe, *mapi_flags.stdout.decode().split()], timeout=300)
            if cc.returncode != 0:
                summary.error("g++ $(pkg-config pstkit-mapi)", common.one_line(cc.stderr, 400))
            else:
                judge_mapi("g++ $(pkg-config pstkit-mapi)", mapi_exe)

        # CMake package
        proj = os.path.join(work, "proj")
        os.makedirs(proj)
        with open(os.path.join(proj, "CMakeLists.txt"), "w") as f:
            f.write(CMAKE_PROJECT)
        shutil.copy(src, proj)
        shutil.copy(os.path.join(work, "mapi_client.cpp"), proj)
        cfg = common.run(["cmake", "-S", proj, "-B", os.path.join(proj, "build"), "-DCMAKE_PREFIX_PATH=" + prefix],
                         timeout=300)
        bld = cfg if cfg.returncode != 0 else common.run(
            ["cmake", "--build", os.path.join(proj, "build"), "-j2"], timeout=600)
        if bld.returncode != 0:
            summary.error("find_package(pstkit)", common.one_line(bld.stdout + bld.stderr, 500))
        else:
            judge("find_package(pstkit) -> pstkit::pstkit", os.path.join(proj, "build", "list_folders"))
            judge_mapi("find_package(pstkit) -> pstkit::mapi", os.path.join(proj, "build", "mapi_client"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return summary.close()


if __name__ == "__main__":
    sys.exit(main())
