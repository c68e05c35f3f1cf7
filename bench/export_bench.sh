#!/usr/bin/env bash
# Exporting mail: `pstkit export --format eml` side by side with `readpst -D -e`
# (its default parallel jobs and -j 0) and `pffexport -f all`, on the same
# files, all writing to the same file system, in one run.
#
# Usage: bench/export_bench.sh [--build DIR] [--workdir DIR] [--runs N]
#                              [--pstkit-args ARGS]... [--no-peers]
#                              [--peers LIST] [--settle] FILE...
#
#   --build DIR     build directory with pstkit (default: build under the repo root)
#   --pstkit-args ARGS  extra arguments of one pstkit run, split on spaces
#                   ("--jobs 2", "--format mbox --jobs 0"); repeated, each is
#                   timed on its own line; the first is the one the peers are
#                   compared with (default: one run with no extra arguments)
#   --no-peers      time pstkit only (not readpst and pffexport)
#   --peers LIST    the peers to time, comma-separated: readpst, pffexport
#                   (default both; pffexport takes about 20x pstkit's time
#                   on a 1 GB store)
#   --workdir DIR   where the outputs go (default: a temporary directory under
#                   $TMPDIR, removed at the end); every tool writes there
#   --runs N        runs of each command (default 1); the best wall time is shown
#   --settle        before each run, drop the page cache and read the store,
#                   the tool and its libraries back into it (root only:
#                   /proc/sys/vm/drop_caches), so that every run starts from
#                   the same memory state; with earlier runs' output still
#                   cached, the kernel reclaims memory during later runs and
#                   system time can double (docs/BENCHMARKS.md, session 16).
#                   For long series on large stores: every run then also
#                   reads the output file system's metadata from disk again,
#                   which on small stores costs every tool more than the
#                   drift it avoids.
#
# Each command is timed with /usr/bin/time (wall, CPU, peak RSS). Every run
# writes into a new directory, and the outputs are deleted only at the end:
# ext4 skips the inodes of files deleted in the last 60-300 s when it
# allocates new ones (recently_deleted() in fs/ext4/ialloc.c), so a run
# made just after another run's output was deleted pays for that scan in
# system time (up to several times readpst's whole system time here).
# Prints, per file, one line per tool and pstkit's wall time as a multiple
# of each peer's.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
build="$root/build"
workdir=""
runs=1
files=()
pstkit_args=()
peers=1
peer_list=",readpst,pffexport,"
settle=0
current_file=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --pstkit-args) pstkit_args+=("$2"); shift 2 ;;
    --no-peers) peers=0; shift ;;
    --peers) peer_list=",$2,"; shift 2 ;;
    --settle) settle=1; shift ;;
    -*) echo "export_bench.sh: unknown option $1" >&2; exit 2 ;;
    *) files+=("$1"); shift ;;
  esac
done
((${#files[@]} > 0)) || { echo "usage: export_bench.sh [--build DIR] [--workdir DIR] [--runs N] [--pstkit-args ARGS]... [--no-peers] [--peers LIST] [--settle] FILE..." >&2; exit 2; }
if ((settle)) && [[ ! -w /proc/sys/vm/drop_caches ]]; then
  echo "export_bench.sh: --settle needs to write /proc/sys/vm/drop_caches (run as root)" >&2
  exit 2
fi
((${#pstkit_args[@]} > 0)) || pstkit_args=("")
[[ -x "$build/pstkit" ]] || { echo "export_bench.sh: $build/pstkit not built" >&2; exit 2; }
cleanup=""
if [[ -z "$workdir" ]]; then
  workdir=$(mktemp -d "${TMPDIR:-/tmp}/pstkit-export-bench.XXXXXX")
  cleanup=$workdir
fi
outputs=()
trap 'rm -rf "${outputs[@]}"; [[ -n "$cleanup" ]] && rm -rf "$cleanup"' EXIT
mkdir -p "$workdir"

best_wall=""
run_number=0
timed() {  # timed LABEL OUTDIR CMD... -> prints a line; best wall time in $best_wall
  # OUTDIR in CMD is replaced by a new directory for each run.
  local label=$1 base=$2; shift 2
  local best="" line="" i out="" arg
  for ((i = 0; i < runs; i++)); do
    out="$base.run$((run_number += 1))"
    outputs+=("$out")
    mkdir -p "$out"
    local cmd=()
    for arg in "$@"; do cmd+=("${arg//"$base"/"$out"}"); done
    # The last run's files are flushed first: its writeback would compete
    # with this run for the cores.
    sync
    if ((settle)); then
      # Then the store, the tool and its libraries are read back: a run
      # should not pay for loading its program from disk.
      echo 1 > /proc/sys/vm/drop_caches
      local program
      program=$(command -v "${cmd[0]}")
      cat "$current_file" "$program" $(ldd "$program" 2> /dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 }') > /dev/null
    fi
    if ! /usr/bin/time -o "$workdir/time.txt" -f '%e %U %S %M' "${cmd[@]}" > /dev/null 2> "$workdir/stderr.txt"; then
      # readpst and pffexport exit non-zero on items they cannot read; their output still counts.
      [[ -s "$workdir/time.txt" ]] || { echo "  $label failed: $(tail -1 "$workdir/stderr.txt")"; best_wall=""; return; }
    fi
    read -r wall user sys rss < <(tail -1 "$workdir/time.txt")
    if [[ -z $best ]] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best=$wall
      line=$(awk -v l="$label" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" \
        'BEGIN { printf "  %-34s %8.2f s wall %8.2f s CPU %8.1f MB peak RSS", l, w, u + s, r / 1024 }')
    fi
  done
  local n
  n=$(find "$out" -type f | wc -l)
  echo "$line  $n files"
  best_wall=$best
}

echo "## export; load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; best of $runs$( ((settle)) && echo "; page cache settled before each run")"
for f in "${files[@]}"; do
  echo "### $(basename "$f") ($(du -h "$f" | cut -f1))"
  current_file=$f
  ours=""
  for extra in "${pstkit_args[@]}"; do
    read -r -a words <<< "$extra"
    timed "pstkit export${extra:+ $extra}" "$workdir/pstkit" \
      "$build/pstkit" export -q --overwrite "${words[@]}" -o "$workdir/pstkit" "$f"
    [[ -n $ours ]] || ours=$best_wall
  done
  declare -A peer=()
  if ((peers)) && [[ $peer_list == *,readpst,* ]] && command -v readpst > /dev/null; then
    # -D: readpst leaves Deleted Items out without it, pstkit exports them
    # (the same work; "2003_high-encryption" keeps all its items there).
    timed "readpst -D -e (default jobs)" "$workdir/readpst" readpst -q -D -e -o "$workdir/readpst" "$f"
    peer[readpst_e]=$best_wall
    timed "readpst -D -e -j 0" "$workdir/readpst0" readpst -q -D -e -j 0 -o "$workdir/readpst0" "$f"
    peer[readpst_e_j0]=$best_wall
  fi
  if ((peers)) && [[ $peer_list == *,pffexport,* ]] && command -v pffexport > /dev/null; then
    timed "pffexport -f all" "$workdir/pffexport" pffexport -q -f all -t "$workdir/pffexport/out" "$f"
    peer[pffexport]=$best_wall
  fi
  for k in "${!peer[@]}"; do
    [[ -n ${peer[$k]} && -n $ours ]] &&
      awk -v k="$k" -v p="${peer[$k]}" -v o="$ours" 'BEGIN { if (o > 0) printf "  pstkit is %.1fx as fast as %s\n", p / o, k }'
  done
  unset peer
done
