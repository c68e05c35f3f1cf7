#!/usr/bin/env bash
# Side-by-side timing of pstkit against libpff's pffexport and libpst's readpst.
#
# Usage: bench/run_bench.sh [--pstkit BIN] [--repeat R] [--out FILE.md]
#                           [--corpus DIR] [--min-size BYTES] [--files F...]
#
#   --pstkit BIN     pstkit binary (default: build/pstkit under the repo root)
#   --repeat R       runs per tool and file; the median is reported (default 3)
#   --out FILE       also write the Markdown report to FILE (e.g. docs/BENCHMARKS.md)
#   --corpus DIR     corpus directory (default: $PSTKIT_CORPUS, <repo>/../shared/corpus)
#   --min-size N     default file selection: corpus files larger than N bytes
#                    (default 1048576) that libpff opens
#   --files F...     benchmark these files instead (all remaining arguments
#                    up to the next option)
#
# For each file and tool, R runs of
#   pstkit dump --json --full FILE > /dev/null
#   pffexport -q -m all -f all -t TMP/x FILE        (output in a temp dir, removed)
#   readpst -q -D -o TMP/r FILE                     (-D: deleted items too)
# each under /usr/bin/time -f '%e %M'. Elapsed seconds are taken with bash's
# $EPOCHREALTIME around that call (millisecond resolution; %e has only 10 ms),
# peak RSS from %M. The file is read once beforehand so that every tool
# starts with it in the page cache. A tool that is missing is reported and its
# columns are left out; a run that exits non-zero is marked with '!'.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

pstkit="$root/build/pstkit"
repeat=3
out=""
corpus=""
min_size=1048576
files=()

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

while (($#)); do
  case "$1" in
    --pstkit) pstkit=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --corpus) corpus=$2; shift 2 ;;
    --min-size) min_size=$2; shift 2 ;;
    --files)
      shift
      while (($#)) && [[ $1 != --* ]]; do files+=("$1"); shift; done ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run_bench.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $repeat =~ ^[1-9][0-9]*$ ]] || { echo "run_bench.sh: --repeat needs a positive integer" >&2; exit 2; }

# --- tools ------------------------------------------------------------------
if [[ ! -x /usr/bin/time ]]; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "run_bench.sh: /usr/bin/time missing, installing Debian package 'time'" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null 2>&1 ||
      { DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null 2>&1; } || true
  fi
fi
have_time=0
[[ -x /usr/bin/time ]] && have_time=1
((have_time)) || echo "run_bench.sh: /usr/bin/time not available (apt-get install time): peak RSS not measured" >&2

tools=()
notes=()
if [[ -x $pstkit ]]; then tools+=(pstkit); else notes+=("pstkit not found at $pstkit: skipped"); fi
if command -v pffexport >/dev/null; then tools+=(pffexport); else notes+=("pffexport not installed (Debian: pff-tools): skipped"); fi
if command -v readpst >/dev/null; then tools+=(readpst); else notes+=("readpst not installed (Debian: pst-utils): skipped"); fi
for n in "${notes[@]}"; do echo "run_bench.sh: $n" >&2; done
((${#tools[@]})) || { echo "run_bench.sh: no tool to run" >&2; exit 1; }

has_tool() { local t; for t in "${tools[@]}"; do [[ $t == "$1" ]] && return 0; done; return 1; }

# --- files ------------------------------------------------------------------
libpff_opens() {
  if /usr/bin/python3 -c 'import pypff' 2>/dev/null; then
    /usr/bin/python3 - "$1" <<'EOF' 2>/dev/null
import sys, pypff
f = pypff.file()
f.open(sys.argv[1])
sys.exit(0 if f.get_root_folder() is not None else 1)
EOF
  elif command -v pffinfo >/dev/null; then
    pffinfo "$1" >/dev/null 2>&1
  else
    return 0
  fi
}

if ((${#files[@]} == 0)); then
  if [[ -z $corpus ]]; then
    for c in "${PSTKIT_CORPUS:-}" "$root/../shared/corpus" /work/shared/corpus; do
      [[ -n $c && -d $c ]] && { corpus=$c; break; }
    done
  fi
  [[ -n $corpus && -d $corpus ]] || { echo "run_bench.sh: no corpus directory (use --corpus or --files)" >&2; exit 1; }
  corpus=$(cd "$corpus" && pwd)
  # Largest first.
  while IFS= read -r -d '' line; do
    f=${line#* }
    libpff_opens "$f" && files+=("$f")
  done < <(find "$corpus" -type f -size +"${min_size}"c ! -name MANIFEST.tsv -printf '%s %p\0' | sort -z -n -r)
  ((${#files[@]})) || { echo "run_bench.sh: no corpus file over $min_size bytes that libpff opens" >&2; exit 1; }
fi
for f in "${files[@]}"; do
  [[ -f $f ]] || { echo "run_bench.sh: no such file: $f" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pstkit-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# --- measuring --------------------------------------------------------------
# run_once TOOL FILE -> sets r_secs, r_rss (KB or "") and r_rc
run_once() {
  local tool=$1 file=$2 t0 t1 outdir="$tmp/out"
  rm -rf "$outdir"; mkdir -p "$outdir"
  local -a cmd
  case $tool in
    pstkit) cmd=("$pstkit" dump --json --full "$file") ;;
    pffexport) cmd=(pffexport -q -m all -f all -t "$outdir/x" "$file") ;;
    readpst) cmd=(readpst -q -D -o "$outdir" "$file") ;;
  esac
  : >"$tmp/time"
  t0=$EPOCHREALTIME
  if ((have_time)); then
    /usr/bin/time -o "$tmp/time" -f '%e %M %U %S' "${cmd[@]}" >/dev/null 2>"$tmp/stderr" </dev/null && r_rc=0 || r_rc=$?
  else
    "${cmd[@]}" >/dev/null 2>"$tmp/stderr" </dev/null && r_rc=0 || r_rc=$?
  fi
  t1=$EPOCHREALTIME
  r_secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  r_rss=""
  r_cpu=""
  if ((have_time)); then
    # /usr/bin/time prints "Command exited with non-zero status N" first on failure.
    r_rss=$(awk 'NF == 4 && $2 ~ /^[0-9]+$/ { v = $2 } END { print v }' "$tmp/time")
    # CPU seconds (user + system): steadier than wall-clock on a shared VM.
    r_cpu=$(awk 'NF == 4 && $2 ~ /^[0-9]+$/ { v = $3 + $4 } END { printf "%.2f", v }' "$tmp/time")
  fi
  rm -rf "$outdir"
}

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

human_size() { awk -v b="$1" 'BEGIN { if (b >= 1048576) printf "%.1f MB", b / 1048576; else printf "%.0f KB", b / 1024 }'; }
mb() { [[ -n $1 ]] && awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }' || echo "n/a"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "n/a" }'; }

declare -A secs rss failed cpus
for f in "${files[@]}"; do
  cat -- "$f" >/dev/null  # page cache
  echo "run_bench.sh: $(basename -- "$f") ..." >&2
  for tool in "${tools[@]}"; do
    times=(); cpu_times=(); peak=""; bad=""
    for ((i = 0; i < repeat; i++)); do
      run_once "$tool" "$f"
      times+=("$r_secs")
      [[ -n $r_cpu ]] && cpu_times+=("$r_cpu")
      if [[ -n $r_rss ]] && { [[ -z $peak ]] || ((r_rss > peak)); }; then peak=$r_rss; fi
      if ((r_rc != 0)); then
        bad="!"
        echo "run_bench.sh:   $tool exited $r_rc: $(head -c 200 "$tmp/stderr" | tr '\n' ' ')" >&2
      fi
    done
    secs[$tool,$f]=$(median "${times[@]}")
    cpus[$tool,$f]=$( ((${#cpu_times[@]})) && median "${cpu_times[@]}" || echo "n/a")
    rss[$tool,$f]=$peak
    failed[$tool,$f]=$bad
  done
done

# --- report -----------------------------------------------------------------
version_of() {
  local v
  case $1 in
    pstkit) v=$("$pstkit" --version 2>/dev/null) || v="" ;;
    pffexport) v=$(pffexport -V 2>/dev/null) || v="" ;;
    readpst) v=$(readpst -V 2>/dev/null) || v="" ;;
  esac
  printf '%s\n' "$v" | head -n1
}

report() {
  local cpu
  cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
  echo "# Benchmarks"
  echo
  echo "Generated by \`bench/run_bench.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores${cpu:+, $cpu}); median of $repeat runs, files in the page cache."
  echo
  for t in "${tools[@]}"; do
    local v; v=$(version_of "$t")
    echo "- $t${v:+: $v}"
  done
  for n in "${notes[@]}"; do echo "- $n"; done
  echo
  echo "Commands: \`pstkit dump --json --full FILE > /dev/null\`, \`pffexport -q -m all -f all -t DIR FILE\`, \`readpst -q -D -o DIR FILE\`."
  echo "Seconds are wall-clock (median); CPU is user + system seconds (median), steadier than wall-clock on a shared machine; ratios > 1 mean pstkit is faster; RSS is peak resident memory (MB) from /usr/bin/time. '!' = the tool exited non-zero."
  echo
  local head="| file | size |" sep="|---|---:|"
  for t in "${tools[@]}"; do head+=" $t s |"; sep+="---:|"; done
  if has_tool pstkit; then
    for t in pffexport readpst; do has_tool $t && { head+=" $t/pstkit |"; sep+="---:|"; }; done
  fi
  if ((have_time)); then
    for t in "${tools[@]}"; do head+=" $t CPU s |"; sep+="---:|"; done
    if has_tool pstkit; then
      for t in pffexport readpst; do has_tool $t && { head+=" $t/pstkit CPU |"; sep+="---:|"; }; done
    fi
    for t in "${tools[@]}"; do head+=" $t RSS MB |"; sep+="---:|"; done
  fi
  echo "$head"
  echo "$sep"
  local f row
  for f in "${files[@]}"; do
    local name=${f#"$corpus"/}
    [[ -z $corpus ]] && name=$f
    row="| ${name//|/\\|} | $(human_size "$(stat -c %s -- "$f")") |"
    for t in "${tools[@]}"; do row+=" ${secs[$t,$f]}${failed[$t,$f]} |"; done
    if has_tool pstkit; then
      for t in pffexport readpst; do
        has_tool $t && row+=" $(ratio "${secs[$t,$f]}" "${secs[pstkit,$f]}") |"
      done
    fi
    if ((have_time)); then
      for t in "${tools[@]}"; do row+=" ${cpus[$t,$f]} |"; done
      if has_tool pstkit; then
        for t in pffexport readpst; do
          has_tool $t && row+=" $(ratio "${cpus[$t,$f]}" "${cpus[pstkit,$f]}") |"
        done
      fi
      for t in "${tools[@]}"; do row+=" $(mb "${rss[$t,$f]}") |"; done
    fi
    echo "$row"
  done
}

if [[ -n $out ]]; then
  mkdir -p "$(dirname -- "$out")"
  report | tee "$out"
else
  report
fi
