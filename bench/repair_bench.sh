#!/usr/bin/env bash
# Speed and memory of `pstkit repair` and `pstkit recover` on generated files
# whose NBT and BBT root pages are destroyed, side by side with a full read
# (`pstkit dump --json --full`) of the intact file.
#
# Usage: bench/repair_bench.sh [--pstkit BIN] [--make BIN] [--workdir DIR]
#                              [--messages N...] [--runs R] [--out FILE.md]
#                              [--keep]
#
#   --pstkit BIN     pstkit binary (default: build/pstkit under the repo root)
#   --make BIN       make_large_pst (default: build/make_large_pst)
#   --workdir DIR    where the files are generated and cached (default:
#                    $TMPDIR/pstkit-repair-bench); a few GB free are needed
#   --messages N...  one row per size: a store of N messages in 4 folders,
#                    plain and HTML bodies, a 64 KiB attachment on every
#                    fourth (`make_large_pst F N 4 64`); default 50000 (1.24
#                    GB) and 10000 (about 250 MB), to show memory flat in size
#   --runs R         timed runs per command (default 3; the median is shown)
#   --out FILE       also write the Markdown table to FILE
#   --keep           keep the repaired and recovered files of the last run
#
# Per size, once (cached in DIR): intact-N.pst is generated, and
# damaged-N.pst is a copy with the 512 bytes at the NBT and BBT root offsets
# that `pstkit info --json` names zeroed (both B-tree roots destroyed).
# Then, R times each, under /usr/bin/time -f '%e %U %S %M':
#   pstkit dump --json --full intact-N.pst > /dev/null
#   pstkit repair --quiet work.pst          (work.pst: a fresh copy of
#       damaged-N.pst made before each run, untimed; the backup is the
#       default work.pst.bak, a hard link on the same file system)
#   pstkit recover --quiet damaged-N.pst out.pst   (out.pst removed before)
# Each repaired and recovered file must then pass `pstkit check` (exit 0)
# and hold as many messages as the intact one (`pstkit info --json`), or the
# script fails. The table gives median wall seconds, median CPU seconds
# (user + system), the largest peak RSS, and repair/dump and recover/dump
# ratios of the medians. The files are read from the page cache (the first
# of the runs warms it).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

pstkit="$root/build/pstkit"
make_large="$root/build/make_large_pst"
workdir="${TMPDIR:-/tmp}/pstkit-repair-bench"
sizes=()
runs=3
out=""
keep=0

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

while (($#)); do
  case "$1" in
    --pstkit) pstkit=$2; shift 2 ;;
    --make) make_large=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    --messages)
      shift
      while (($#)) && [[ $1 != --* ]]; do sizes+=("$1"); shift; done ;;
    --runs) runs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "repair_bench.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
((${#sizes[@]})) || sizes=(50000 10000)
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "repair_bench.sh: --runs needs a positive integer" >&2; exit 2; }
for n in "${sizes[@]}"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "repair_bench.sh: --messages needs positive integers" >&2; exit 2; }
done
[[ -x /usr/bin/time ]] || { echo "repair_bench.sh: /usr/bin/time not installed (Debian: time)" >&2; exit 1; }
[[ -x $pstkit ]] || { echo "repair_bench.sh: pstkit not found at $pstkit" >&2; exit 1; }
[[ -x $make_large ]] || { echo "repair_bench.sh: make_large_pst not found at $make_large" >&2; exit 1; }
mkdir -p "$workdir"

# The integer value of a key path in `pstkit info --json FILE`.
info_field() {
  "$pstkit" info --json "$1" | python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[k]
print(v)' "$2"
}

# Zeroes the page at each offset (NBT and BBT roots: 512 bytes, MS-PST 2.2.2.7).
destroy_roots() {
  local file=$1 nbt bbt
  nbt=$(info_field "$file" header.nbt_root.offset)
  bbt=$(info_field "$file" header.bbt_root.offset)
  for off in "$nbt" "$bbt"; do
    dd if=/dev/zero of="$file" bs=512 count=1 seek=$((off / 512)) conv=notrunc status=none
  done
  echo "  roots zeroed: NBT page at $nbt, BBT page at $bbt" >&2
}

# Runs a command under /usr/bin/time; appends "wall cpu rss_kb" to $times.
timed() {
  local tf rc
  tf=$(mktemp)
  rc=0
  /usr/bin/time -o "$tf" -f '%e %U %S %M' "$@" > /dev/null || rc=$?
  awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$tf" >> "$times"
  rm -f "$tf"
  return $rc
}

# "median_wall median_cpu max_rss_mb" of a file of "wall cpu rss_kb" lines.
summary() {
  python3 - "$1" <<'EOF'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
print("%.2f %.2f %.1f" % (statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows),
                          max(r[2] for r in rows) / 1024))
EOF
}

table="| file | size | dump --json --full (intact): wall / CPU / peak RSS | repair (damaged): wall / CPU / peak RSS | recover (damaged): wall / CPU / peak RSS | repair / dump | recover / dump |
|---|---:|---:|---:|---:|---:|---:|"

for n in "${sizes[@]}"; do
  intact="$workdir/intact-$n.pst"
  damaged="$workdir/damaged-$n.pst"
  if [[ ! -f $intact ]]; then
    echo "generating $intact ($n messages)" >&2
    "$make_large" "$intact.tmp" "$n" 4 64 >&2
    mv "$intact.tmp" "$intact"
    rm -f "$damaged"
  fi
  if [[ ! -f $damaged ]]; then
    cp "$intact" "$damaged.tmp"
    destroy_roots "$damaged.tmp"
    mv "$damaged.tmp" "$damaged"
  fi
  messages=$(info_field "$intact" counts.messages)
  size=$(stat -c %s "$intact")
  work="$workdir/work-$n.pst"
  recovered="$workdir/recovered-$n.pst"
  declare -A result=()
  for what in dump repair recover; do
    times=$(mktemp)
    for ((i = 0; i < runs; i++)); do
      case $what in
        dump) timed "$pstkit" dump --json --full "$intact" ;;
        repair)
          rm -f "$work" "$work.bak" "$work.log"
          cp "$damaged" "$work"
          rc=0
          timed "$pstkit" repair --quiet "$work" || rc=$?
          ((rc == 0)) || { echo "repair_bench.sh: repair exited $rc on $work" >&2; exit 1; } ;;
        recover)
          rm -f "$recovered" "$recovered.log"
          rc=0
          timed "$pstkit" recover --quiet "$damaged" "$recovered" || rc=$?
          ((rc == 0)) || { echo "repair_bench.sh: recover exited $rc on $damaged" >&2; exit 1; } ;;
      esac
      echo "  $what run $((i + 1)): $(tail -1 "$times") (wall s, CPU s, peak RSS KB)" >&2
    done
    result[$what]=$(summary "$times")
    rm -f "$times"
  done
  # The results must be whole: check clean, every message there.
  for f in "$work" "$recovered"; do
    "$pstkit" check "$f" > /dev/null || { echo "repair_bench.sh: pstkit check fails on $f" >&2; exit 1; }
    got=$(info_field "$f" counts.messages)
    [[ $got == "$messages" ]] || { echo "repair_bench.sh: $f holds $got messages, the intact file $messages" >&2; exit 1; }
  done
  read -r dw dc dr <<< "${result[dump]}"
  read -r rw rc_ rr <<< "${result[repair]}"
  read -r vw vc vr <<< "${result[recover]}"
  row=$(python3 -c '
import sys
n, size, dw, dc, dr, rw, rc, rr, vw, vc, vr = sys.argv[1:]
cell = lambda w, c, r: "%s s / %s s / %s MB" % (w, c, r)
print("| %s messages | %.2f GB | %s | %s | %s | %.2fx | %.2fx |" % (
    "{:,}".format(int(n)), int(size) / 1e9, cell(dw, dc, dr), cell(rw, rc, rr), cell(vw, vc, vr),
    float(rw) / float(dw), float(vw) / float(dw)))' "$messages" "$size" "$dw" "$dc" "$dr" "$rw" "$rc_" "$rr" "$vw" "$vc" "$vr")
  table+=$'\n'"$row"
  echo "$row" >&2
  if ((!keep)); then rm -f "$work" "$work.bak" "$work.log" "$recovered" "$recovered.log"; fi
done

echo "$table"
[[ -z $out ]] || echo "$table" > "$out"
