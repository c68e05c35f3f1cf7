#!/usr/bin/env bash
# Creating small messages through MAPI, side by side with `pstkit import`.
#
# Usage: bench/mapi_create_bench.sh [--build DIR] [--messages N] [--workdir DIR]
#
#   --build DIR     build directory with pstkit and mapi_create_messages
#                   (default: build under the repo root)
#   --messages N    messages to create (default 100000)
#   --workdir DIR   where the stores go (default: a temporary directory
#                   under $TMPDIR, removed at the end)
#
# `mapi_create_messages mbox` writes N small messages (bench/mapi_create_messages.cpp
# says which) as an mbox; then, one after the other, each timed with
# /usr/bin/time (wall, CPU, peak RSS):
#   pstkit import --create --folder Bench import.pst bench.mbox
#   mapi_create_messages mapi mapi.pst N      (CreateMessage, SetProps,
#       ModifyRecipients, SaveChanges per message, through a profile and
#       a MAPILogonEx session)
# and `pstkit check` of both files; prints messages per second and sizes.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
build="$root/build"
messages=100000
workdir=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    *) echo "mapi_create_bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
for tool in pstkit mapi_create_messages; do
  [[ -x "$build/$tool" ]] || { echo "mapi_create_bench.sh: $build/$tool not built" >&2; exit 2; }
done
cleanup=""
if [[ -z "$workdir" ]]; then
  workdir=$(mktemp -d "${TMPDIR:-/tmp}/pstkit-create-bench.XXXXXX")
  cleanup=$workdir
fi
trap '[[ -n "$cleanup" ]] && rm -rf "$cleanup"' EXIT
mkdir -p "$workdir"
export PSTKIT_PROFILE_DIR="$workdir/profiles"
rm -f "$workdir/import.pst" "$workdir/mapi.pst"
"$build/mapi_create_messages" mbox "$workdir/bench.mbox" "$messages"

echo "## $messages small messages; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
timed() {  # timed LABEL CMD... -> one line: label, wall, CPU, peak RSS, messages/s
  local label=$1; shift
  /usr/bin/time -o "$workdir/time.txt" -f '%e %U %S %M' "$@" > /dev/null 2> "$workdir/stderr.txt" || {
    echo "$label failed: $(tail -1 "$workdir/stderr.txt")" >&2; return 1; }
  read -r wall user sys rss < "$workdir/time.txt"
  awk -v l="$label" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v n="$messages" \
    'BEGIN { printf "  %-40s %8.2f s wall %8.2f s CPU %8.1f MB peak RSS %9.0f messages/s\n", l, w, u + s, r / 1024, n / w }'
}
timed "pstkit import (batches of 500)" "$build/pstkit" import --create --folder Bench "$workdir/import.pst" "$workdir/bench.mbox"
timed "MAPI CreateMessage/SaveChanges" "$build/mapi_create_messages" mapi "$workdir/mapi.pst" "$messages"
for f in import mapi; do
  size=$(stat -c %s "$workdir/$f.pst")
  if "$build/pstkit" check "$workdir/$f.pst" > /dev/null 2>&1; then verdict="checks clean"; else verdict="CHECK FAILED"; fi
  echo "  $f.pst: $size bytes, $verdict"
done
