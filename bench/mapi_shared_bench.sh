#!/usr/bin/env bash
# SaveChanges with write-behind against one commit per message, and four
# MAPI writer processes of one store against one (docs/MAPI.md "Shared
# stores", "Write-behind"), in one run.
#
# Usage: bench/mapi_shared_bench.sh [--build DIR] [--messages N] [--workdir DIR]
#                                   [--rounds R] [--lone-only] [--baseline DIR]
#
#   --build DIR     build directory with mapi_create_messages (default: build)
#   --messages N    messages per measurement (default 10000)
#   --workdir DIR   where the stores go (default: a temporary directory)
#   --rounds R      repeat the two lone-writer lines R times, alternating
#                   which goes first (default 1): a loaded machine's noise
#                   shows in their spread
#   --lone-only     only the lone-writer lines
#   --baseline DIR  a lone-writer line more per round: DIR/mapi_create_messages,
#                   a build of another commit (stores made by this build)
#
# Each line times `mapi_create_messages mapi FILE N` (CreateMessage, SetProps,
# ModifyRecipients, SaveChanges per message into a fresh store) with
# /usr/bin/time: wall, CPU (user + sys) and voluntary context switches
# ("waits"), of every process of the line:
#   write-behind (defaults: batches of $PSTKIT_MAPI_BATCH, 500, or 200 ms)
#   the same with flush requests off (PSTKIT_MAPI_FLUSH_REQUESTS=0: no
#     batch-pending lock, nothing for other processes to ask; what the
#     cross-process machinery costs a lone writer is the difference)
#   one commit per SaveChanges (PSTKIT_MAPI_BATCH=1)
#   4 processes at once, N/4 each, write-behind
#   write-behind, 1 process, with `pstkit ls` of the store in a loop: each
#     ls finds a batch pending (nearly always) and has it committed first
#     (docs/COMMIT_PROTOCOL.md "Saved changes pending"); prints the ls
#     times then, and of the same ls on the idle store afterwards
# then `pstkit check` of each store. Each line says the load average.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
build="$root/build"
messages=10000
workdir=""
rounds=1
lone_only=0
baseline=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --lone-only) lone_only=1; shift ;;
    --baseline) baseline=$2; shift 2 ;;
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
report() {  # report LABEL NAME: the last timing (time.txt), rate, file size, check
  local size verdict wall user sys switches
  read -r wall user sys switches < "$workdir/time.txt"
  size=$(stat -c %s "$workdir/$2.pst")
  if "$build/pstkit" check "$workdir/$2.pst" > /dev/null 2>&1; then verdict="checks clean"; else verdict="CHECK FAILED"; fi
  awk -v l="$1" -v w="$wall" -v c="$(echo "$user + $sys" | bc)" -v n="$messages" -v s="$size" -v v="$verdict" \
    -v load="$(cut -d' ' -f1 /proc/loadavg)" -v sw="$switches" \
    'BEGIN { printf "  %-44s %6.2f s wall %5.2f s CPU %5.0f msg/s %7d waits %9d bytes, %s, load %s\n", l, w, c, n / w, sw, s, v, load }'
}
# timed CMD...: /usr/bin/time into time.txt: wall, user, sys, and the
# voluntary context switches (a thread going to sleep: a poll's wake
# shows there, unlike in CPU time on a loaded machine); children included.
timed() {
  /usr/bin/time -o "$workdir/time.txt" -f '%e %U %S %w' "$@"
}
now() { date +%s.%N; }

echo "## $messages small messages per line; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
lone() {  # lone on|off|base
  if [[ $1 == base ]]; then
    [[ -n "$baseline" ]] || return 0
    fresh base
    timed "$baseline/mapi_create_messages" mapi "$workdir/base.pst" "$messages"
    report "write-behind, 1 process, --baseline build" base
  elif [[ $1 == on ]]; then
    fresh behind
    timed "$create" mapi "$workdir/behind.pst" "$messages"
    report "write-behind, 1 process" behind
  else
    fresh alone
    PSTKIT_MAPI_FLUSH_REQUESTS=0 timed "$create" mapi "$workdir/alone.pst" "$messages"
    report "the same, flush requests off" alone
  fi
}
for round in $(seq "$rounds"); do
  # Alternating which goes first: a trend in the machine's load then
  # weighs on both.
  if ((round % 2)); then lone on; lone off; lone base; else lone base; lone off; lone on; fi
done
[[ $lone_only == 1 ]] && exit 0

fresh each
PSTKIT_MAPI_BATCH=1 timed "$create" mapi "$workdir/each.pst" "$messages"
report "one commit per SaveChanges, 1 process" each

fresh four
quarter=$((messages / 4))
# One shell waits for the four: its time counts all of their CPU.
timed bash -c 'for w in 0 1 2 3; do "$1" mapi "$2" "$3" $((w * $3)) & done; wait' four "$create" "$workdir/four.pst" "$quarter"
report "write-behind, 4 processes at once, N/4 each" four

# A reader while one writer has batches pending.
fresh readers
timed "$create" mapi "$workdir/readers.pst" "$messages" & writer=$!
busy=()
while kill -0 "$writer" 2> /dev/null; do
  a=$(now)
  "$build/pstkit" ls "$workdir/readers.pst" > /dev/null 2>&1 || true
  b=$(now)
  busy+=("$(echo "$b - $a" | bc)")
done
wait "$writer"
report "write-behind, 1 process, pstkit ls looping" readers
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
