#!/usr/bin/env bash
# SaveChanges with write-behind against one commit per message, and four
# MAPI writer processes of one store against one (docs/MAPI.md "Shared
# stores", "Write-behind"), in one run.
#
# Usage: bench/mapi_shared_bench.sh [--build DIR] [--messages N] [--workdir DIR]
#
#   --build DIR     build directory with mapi_create_messages (default: build)
#   --messages N    messages per measurement (default 10000)
#   --workdir DIR   where the stores go (default: a temporary directory)
#
# Each line times `mapi_create_messages mapi FILE N` (CreateMessage, SetProps,
# ModifyRecipients, SaveChanges per message into a fresh store):
#   write-behind (defaults: batches of $PSTKIT_MAPI_BATCH, 500, or 200 ms)
#   one commit per SaveChanges (PSTKIT_MAPI_BATCH=1)
#   4 processes at once, N/4 each, write-behind
#   write-behind, 1 process, with `pstkit ls` of the store in a loop: each
#     ls finds a batch pending (nearly always) and has it committed first
#     (docs/COMMIT_PROTOCOL.md "Saved changes pending"); prints the ls
#     times then, and of the same ls on the idle store afterwards
# then `pstkit check` of each store.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
build="$root/build"
messages=10000
workdir=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    *) echo "mapi_shared_bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
for tool in pstkit mapi_create_messages; do
  [[ -x "$build/$tool" ]] || { echo "mapi_shared_bench.sh: $build/$tool not built" >&2; exit 2; }
done
cleanup=""
if [[ -z "$workdir" ]]; then
  workdir=$(mktemp -d "${TMPDIR:-/tmp}/pstkit-shared-bench.XXXXXX")
  cleanup=$workdir
fi
trap '[[ -n "$cleanup" ]] && rm -rf "$cleanup"' EXIT
mkdir -p "$workdir"
export PSTKIT_PROFILE_DIR="$workdir/profiles"
export PSTKIT_LOCK_TIMEOUT=600
create=$build/mapi_create_messages

fresh() {  # fresh NAME: an empty store with the folder Bench
  rm -f "$workdir/$1.pst"
  "$build/pstkit" create "$workdir/$1.pst" > /dev/null
  "$build/pstkit" mkdir "$workdir/$1.pst" Bench > /dev/null
}
report() {  # report LABEL SECONDS NAME
  local size verdict
  size=$(stat -c %s "$workdir/$3.pst")
  if "$build/pstkit" check "$workdir/$3.pst" > /dev/null 2>&1; then verdict="checks clean"; else verdict="CHECK FAILED"; fi
  awk -v l="$1" -v w="$2" -v n="$messages" -v s="$size" -v v="$verdict" \
    'BEGIN { printf "  %-44s %8.2f s wall %9.0f messages/s %12d bytes, %s\n", l, w, n / w, s, v }'
}
now() { date +%s.%N; }

echo "## $messages small messages per line; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
fresh behind
t0=$(now); "$create" mapi "$workdir/behind.pst" "$messages"; t1=$(now)
report "write-behind, 1 process" "$(echo "$t1 - $t0" | bc)" behind

fresh each
t0=$(now); PSTKIT_MAPI_BATCH=1 "$create" mapi "$workdir/each.pst" "$messages"; t1=$(now)
report "one commit per SaveChanges, 1 process" "$(echo "$t1 - $t0" | bc)" each

fresh four
quarter=$((messages / 4))
t0=$(now)
pids=()
for w in 0 1 2 3; do
  "$create" mapi "$workdir/four.pst" "$quarter" $((w * quarter)) & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
t1=$(now)
report "write-behind, 4 processes at once" "$(echo "$t1 - $t0" | bc)" four

# A reader while one writer has batches pending.
fresh readers
t0=$(now)
"$create" mapi "$workdir/readers.pst" "$messages" & writer=$!
busy=()
while kill -0 "$writer" 2> /dev/null; do
  a=$(now)
  "$build/pstkit" ls "$workdir/readers.pst" > /dev/null 2>&1 || true
  b=$(now)
  busy+=("$(echo "$b - $a" | bc)")
done
wait "$writer"
t1=$(now)
report "write-behind, 1 process, pstkit ls looping" "$(echo "$t1 - $t0" | bc)" readers
idle=()
for _ in $(seq 20); do
  a=$(now); "$build/pstkit" ls "$workdir/readers.pst" > /dev/null; b=$(now)
  idle+=("$(echo "$b - $a" | bc)")
done
stats() {  # stats LABEL TIMES...: count, median, 90th percentile, max in ms
  local label=$1; shift
  printf '%s\n' "$@" | sort -n | awk -v l="$label" '{ t[NR] = $1 } END {
    p = int(NR * 0.9 + 0.5); if (p < 1) p = 1
    printf "  %-44s %5d runs, median %6.1f ms, 90%% %6.1f ms, max %6.1f ms\n", l, NR,
      1000 * t[int((NR + 1) / 2)], 1000 * t[p], 1000 * t[NR] }'
}
stats "pstkit ls while the writer writes" "${busy[@]}"
stats "pstkit ls on the idle store" "${idle[@]}"
