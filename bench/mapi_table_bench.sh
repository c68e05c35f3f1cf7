#!/usr/bin/env bash
# The MAPI table engine over a large folder, side by side with pstkit dump.
#
# Usage: bench/mapi_table_bench.sh [--build DIR] [--runs R] [--sizes "N ..."] [--workdir DIR]
#
#   --build DIR    build directory with pstkit, make_large_pst and
#                  mapi_table_query (default: build under the repo root)
#   --runs R       timed runs per command (default 5, after 1 warm-up)
#   --sizes "N.."  folder sizes in messages (default "10000 100000")
#   --workdir DIR  where the generated stores go (default: a temporary
#                  directory under $TMPDIR, removed at the end)
#
# For each size, make_large_pst writes a store whose one folder ("Folder 0")
# holds N messages (no attachments); then one hyperfine session times
#   pstkit dump --json FILE > /dev/null
#   mapi_table_query FILE FOLDER budget T > /dev/null
# where mapi_table_query opens the folder's contents table as a RowSource,
# restricts it to PR_SUBJECT containing "budget" (FL_SUBSTRING |
# FL_IGNORECASE) and PR_MESSAGE_DELIVERY_TIME >= T (the middle of the
# folder's range), sorts by delivery time descending and subject ascending,
# and reads every row. Prints hyperfine's table and each command's peak RSS
# (one more run under /usr/bin/time -f %M). Needs hyperfine.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
build="$root/build"
runs=5
sizes="10000 100000"
workdir=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --sizes) sizes=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    *) echo "mapi_table_bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
for tool in pstkit make_large_pst mapi_table_query; do
  [[ -x "$build/$tool" ]] || { echo "mapi_table_bench.sh: $build/$tool is missing (build it first)" >&2; exit 1; }
done
command -v hyperfine > /dev/null || { echo "mapi_table_bench.sh: needs hyperfine" >&2; exit 1; }
cleanup=""
if [[ -z "$workdir" ]]; then
  workdir=$(mktemp -d "${TMPDIR:-/tmp}/mapi_table_bench.XXXXXX")
  cleanup=$workdir
fi
trap '[[ -n "$cleanup" ]] && rm -rf "$cleanup"' EXIT

for n in $sizes; do
  pst="$workdir/folder_$n.pst"
  [[ -f "$pst" ]] || "$build/make_large_pst" "$pst" "$n" 0 0 1 > /dev/null
  # "Folder 0  [NID] ..." as pstkit ls prints it.
  folder=$("$build/pstkit" ls "$pst" | sed -n 's/.*Folder 0.*\[\([0-9]*\)\].*/\1/p' | head -1)
  [[ -n "$folder" ]] || { echo "mapi_table_bench.sh: no Folder 0 in $pst" >&2; exit 1; }
  # make_large_pst: message i is delivered at 133000000000000000 + i * 600000000 + 1.
  middle=$((133000000000000000 + n / 2 * 600000000))
  dump_cmd="$build/pstkit dump --json $pst > /dev/null"
  table_cmd="$build/mapi_table_query $pst $folder budget $middle > /dev/null"
  echo "## $n messages in one folder ($(du -h "$pst" | cut -f1)), folder $folder"
  "$build/mapi_table_query" "$pst" "$folder" budget "$middle" 2>&1 > /dev/null | sed 's/^/table: /'
  hyperfine --style basic --warmup 1 --runs "$runs" -n "pstkit dump --json" "$dump_cmd" \
    -n "contents table (restrict + 2-key sort)" "$table_cmd" 2>&1 | sed 's/^/  /'
  for cmd in "$dump_cmd" "$table_cmd"; do
    rss=$( { /usr/bin/time -f %M bash -c "$cmd" ; } 2>&1 | tail -1)
    echo "  peak RSS ${rss} KiB: ${cmd#$build/}"
  done
done
