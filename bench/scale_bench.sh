#!/usr/bin/env bash
# Exporting several files: one `pstkit export` per file, one after the
# other, against `pstkit plan` cutting them into work units run by GNU
# parallel (docs/SCALE.md). Both write .eml trees the same shape; the script
# checks that they hold the same files with the same bytes.
#
# Usage: bench/scale_bench.sh [--build DIR] [--workdir DIR] [--files N] [--messages M]
#                             [--jobs J] [--target-bytes B] [--runs R]
#
#   --build DIR        build directory with pstkit and make_large_pst (default: build under the repo root)
#   --workdir DIR      generated stores and outputs (default /work/bench-data/scale; stores are kept
#                      and reused, outputs removed at the end)
#   --files N          stores to generate (default 4)
#   --messages M       messages per store (default 4000: 98 MB with make_large_pst's defaults)
#   --jobs J           GNU parallel -j (default 2)
#   --target-bytes B   pstkit plan --target-bytes (default 32000000)
#   --runs R           runs of each command (default 1); the best wall time is shown
#
# Each command is timed with /usr/bin/time (wall, CPU of the whole process
# tree, peak RSS: the largest single process, since GNU time reports the
# children's ru_maxrss). The page cache is warm (the stores were just read
# or written), as a rerun on a batch machine would find it.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
build="$root/build"
workdir=/work/bench-data/scale
nfiles=4
messages=4000
jobs=2
target=32000000
runs=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    --files) nfiles=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --target-bytes) target=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "scale_bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
pstkit="$build/pstkit"
[[ -x "$pstkit" && -x "$build/make_large_pst" ]] || { echo "scale_bench.sh: build $build first" >&2; exit 2; }
command -v parallel > /dev/null || { echo "scale_bench.sh: needs GNU parallel (apt-get install parallel)" >&2; exit 2; }
mkdir -p "$workdir"
trap 'rm -rf "$workdir/out-seq" "$workdir/out-par" "$workdir/units.jsonl" "$workdir/time.txt"' EXIT

files=()
for ((i = 0; i < nfiles; i++)); do
  f="$workdir/store$i-$messages.pst"
  # make_large_pst's content is deterministic: the same arguments give the same store.
  [[ -s "$f" ]] || "$build/make_large_pst" "$f" "$messages" > /dev/null
  files+=("$f")
done
total_mb=$(du -cm "${files[@]}" | tail -1 | cut -f1)
echo "$nfiles stores of $messages messages, $total_mb MB in all; parallel -j$jobs, --target-bytes $target; $(nproc) cores"

timed() {  # timed LABEL CMD... (CMD is run by bash -c)
  local label=$1 best="" line="" i
  for ((i = 0; i < runs; i++)); do
    rm -rf "$workdir/out-seq" "$workdir/out-par"
    /usr/bin/time -o "$workdir/time.txt" -f '%e %U %S %M' bash -c "$2"
    read -r wall user sys rss < <(tail -1 "$workdir/time.txt")
    if [[ -z $best ]] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best=$wall
      line=$(awk -v l="$label" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" \
        'BEGIN { printf "  %-44s %8.2f s wall %8.2f s CPU %8.1f MB peak RSS", l, w, u + s, r / 1024 }')
    fi
  done
  echo "$line"
}

# One export per file, sequentially, each into out-seq/<stem> (the directory
# `pstkit export FILE... -o DIR` and the plan of several files give it).
seq_cmd=""
for f in "${files[@]}"; do
  seq_cmd+="'$pstkit' export -q -o '$workdir/out-seq/$(basename "$f" .pst)' '$f' && "
done
seq_cmd+="true"
timed "export per file, sequential" "$seq_cmd"
seq_tree=$(cd "$workdir/out-seq" && find . -type f ! -name 'manifest*.json' -print0 | sort -z | xargs -0 sha256sum | sha256sum)
seq_files=$(find "$workdir/out-seq" -type f ! -name 'manifest*.json' | wc -l)

plan_cmd="'$pstkit' plan --target-bytes $target ${files[*]} > '$workdir/units.jsonl'"
timed "plan" "$plan_cmd"
echo "  ($(wc -l < "$workdir/units.jsonl") units)"

par_cmd="'$pstkit' plan --target-bytes $target ${files[*]} | parallel --pipe -N1 -j$jobs '$pstkit' export -q --unit - -o '$workdir/out-par'"
timed "plan | parallel --pipe -N1 -j$jobs export --unit -" "$par_cmd"
par_tree=$(cd "$workdir/out-par" && find . -type f ! -name 'manifest*.json' -print0 | sort -z | xargs -0 sha256sum | sha256sum)
par_files=$(find "$workdir/out-par" -type f ! -name 'manifest*.json' | wc -l)

par2_cmd="parallel -j$jobs '$pstkit' export -q -o '$workdir/out-par' --unit {} :::: '$workdir/units.jsonl'"
timed "parallel -j$jobs export --unit {} :::: units.jsonl" "$par2_cmd"

xargs_cmd="xargs -d '\\n' -n1 -P$jobs '$pstkit' export -q -o '$workdir/out-par' --unit < '$workdir/units.jsonl'"
timed "xargs -P$jobs export --unit (no GNU parallel)" "$xargs_cmd"

if [[ "$seq_tree" == "$par_tree" ]]; then
  echo "  same $seq_files files, same bytes, sequential and by units"
else
  echo "  DIFFERENT: $seq_files files sequentially, $par_files by units" >&2
  exit 1
fi
