#!/usr/bin/env bash
# Side-by-side timing of pstkit against libpff's pffexport and libpst's readpst.
#
# Usage: bench/run_bench.sh [--pstkit BIN] [--runs R] [--warmup W] [--out FILE.md]
#                           [--corpus DIR] [--min-size BYTES] [--top N]
#                           [--outdir DIR] [--files F...]
#
#   --pstkit BIN     pstkit binary (default: build/pstkit under the repo root)
#   --runs R         timed runs per tool and file (default 10)
#   --warmup W       untimed runs before them (default 2)
#   --out FILE       also write the Markdown table to FILE
#   --corpus DIR     corpus directory (default: $PSTKIT_CORPUS, <repo>/../shared/corpus)
#   --min-size N     default file selection: corpus files larger than N bytes
#                    (default 1048576) that libpff opens
#   --top N          only the N largest of those (default: all)
#   --outdir DIR     where pffexport and readpst write (default: a temporary
#                    directory under $TMPDIR); emptied before every run
#   --files F...     benchmark these files instead (all remaining arguments
#                    up to the next option)
#
# Per file, one hyperfine invocation times the three tools in the same
# session (--warmup W --runs R, a fresh output directory before every run):
#   pstkit dump --json --full FILE > /dev/null
#   pffexport -q -m all -f all -t OUTDIR/x FILE
#   readpst -q -D -o OUTDIR FILE                   (-D: deleted items too)
# The table gives each tool's median wall-clock seconds with the min-max
# range, the ratios of the medians (> 1: pstkit is faster), mean CPU
# seconds (user + system, from hyperfine) and peak RSS (one more run under
# /usr/bin/time -f %M). Needs hyperfine and python3; a missing peer is
# reported and its columns are left out.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

pstkit="$root/build/pstkit"
runs=10
warmup=2
out=""
corpus=""
min_size=1048576
top=0
outdir=""
files=()

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

while (($#)); do
  case "$1" in
    --pstkit) pstkit=$2; shift 2 ;;
    --runs|--repeat) runs=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --corpus) corpus=$2; shift 2 ;;
    --min-size) min_size=$2; shift 2 ;;
    --top) top=$2; shift 2 ;;
    --outdir) outdir=$2; shift 2 ;;
    --files)
      shift
      while (($#)) && [[ $1 != --* ]]; do files+=("$1"); shift; done ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run_bench.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "run_bench.sh: --runs needs a positive integer" >&2; exit 2; }
[[ $warmup =~ ^[0-9]+$ ]] || { echo "run_bench.sh: --warmup needs a number" >&2; exit 2; }
[[ $top =~ ^[0-9]+$ ]] || { echo "run_bench.sh: --top needs a number" >&2; exit 2; }

# --- tools ------------------------------------------------------------------
command -v hyperfine >/dev/null || { echo "run_bench.sh: hyperfine not installed (Debian: hyperfine)" >&2; exit 1; }
have_time=0
[[ -x /usr/bin/time ]] && have_time=1
((have_time)) || echo "run_bench.sh: /usr/bin/time not available (Debian: time): peak RSS not measured" >&2

tools=()
notes=()
[[ -x $pstkit ]] || { echo "run_bench.sh: pstkit not found at $pstkit" >&2; exit 1; }
pstkit=$(cd "$(dirname -- "$pstkit")" && pwd)/$(basename -- "$pstkit")
tools+=(pstkit)
if command -v pffexport >/dev/null; then tools+=(pffexport); else notes+=("pffexport not installed (Debian: pff-tools): skipped"); fi
if command -v readpst >/dev/null; then tools+=(readpst); else notes+=("readpst not installed (Debian: pst-utils): skipped"); fi
for n in "${notes[@]}"; do echo "run_bench.sh: $n" >&2; done

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
  # Largest first (ties by name, so that --top is reproducible).
  while IFS= read -r -d '' line; do
    f=${line#* }
    ((top == 0 || ${#files[@]} < top)) || break
    libpff_opens "$f" && files+=("$f")
  done < <(find "$corpus" -type f -size +"${min_size}"c ! -name MANIFEST.tsv -printf '%s %p\0' | sort -z -k1,1nr -k2)
  ((${#files[@]})) || { echo "run_bench.sh: no corpus file over $min_size bytes that libpff opens" >&2; exit 1; }
fi
for f in "${files[@]}"; do
  [[ -f $f ]] || { echo "run_bench.sh: no such file: $f" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pstkit-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
[[ -n $outdir ]] || outdir="$tmp/out"
mkdir -p "$outdir"

q() { printf '%q' "$1"; }

# Markdown table from the hyperfine JSON exports (lines of index, file,
# size, JSON path, peak RSS per tool on stdin).
cat >"$tmp/table.py" <<'PY'
import json, os, sys
corpus, tools = sys.argv[1], sys.argv[2].split(",")
peers = [t for t in tools if t != "pstkit"]
head = ["file", "size"] + [f"{t} s median (min-max)" for t in tools] + [f"{t}/pstkit" for t in peers]
head += [f"{t} CPU s" for t in tools] + [f"{t} RSS MB" for t in tools]
print("| " + " | ".join(head) + " |")
print("|---|" + "---:|" * (len(head) - 1))
for line in sys.stdin:
    idx, path, size, js, rss = line.rstrip("\n").split("\t")
    res = {r["command"]: r for r in json.load(open(js))["results"]}
    rss = rss.split(",")
    name = os.path.relpath(path, corpus) if corpus and path.startswith(corpus + "/") else os.path.basename(path)
    size = int(size)
    row = [name.replace("|", "\\|"), f"{size / 1048576:.1f} MB" if size >= 1048576 else f"{size / 1024:.0f} KB"]
    for t in tools:
        r = res[t]
        bad = "!" if any(c != 0 for c in r.get("exit_codes", [])) else ""
        row.append(f"{r['median']:.3f} ({r['min']:.3f}-{r['max']:.3f}){bad}")
    for t in peers:
        row.append(f"{res[t]['median'] / res['pstkit']['median']:.2f}x")
    for t in tools:
        row.append(f"{res[t]['user'] + res[t]['system']:.3f}")
    for k in rss:
        row.append(f"{int(k) / 1024:.1f}" if k.strip().isdigit() else "n/a")
    print("| " + " | ".join(row) + " |")
PY

# --- measuring --------------------------------------------------------------
cmd_of() {  # tool file -> shell command line
  case $1 in
    pstkit) echo "$(q "$pstkit") dump --json --full $(q "$2") > /dev/null" ;;
    pffexport) echo "pffexport -q -m all -f all -t $(q "$outdir/x") $(q "$2") > /dev/null" ;;
    readpst) echo "readpst -q -D -o $(q "$outdir") $(q "$2") > /dev/null" ;;
  esac
}

results=()  # lines: index<TAB>file<TAB>size<TAB>json<TAB>rss per tool (KB, comma-separated)
i=0
for f in "${files[@]}"; do
  i=$((i + 1))
  cat -- "$f" >/dev/null  # page cache
  echo "run_bench.sh: $(basename -- "$f") ..." >&2
  args=()
  for t in "${tools[@]}"; do args+=(-n "$t" "$(cmd_of "$t" "$f")"); done
  # -N would avoid the shell, but the commands redirect stdout; hyperfine
  # subtracts the shell's own start-up time.
  hyperfine --style none --warmup "$warmup" --runs "$runs" -i \
    --prepare "rm -rf $(q "$outdir") && mkdir -p $(q "$outdir")" \
    --export-json "$tmp/$i.json" "${args[@]}" >&2
  rss=()
  for t in "${tools[@]}"; do
    kb=""
    if ((have_time)); then
      rm -rf "$outdir"; mkdir -p "$outdir"
      /usr/bin/time -o "$tmp/time" -f '%M' bash -c "$(cmd_of "$t" "$f")" </dev/null 2>/dev/null || true
      # %M is the largest peak RSS in the process tree: the tool's, not bash's.
      kb=$(tail -n1 "$tmp/time")
    fi
    rss+=("$kb")
  done
  results+=("$i"$'\t'"$f"$'\t'"$(stat -c %s -- "$f")"$'\t'"$tmp/$i.json"$'\t'"$(IFS=,; echo "${rss[*]}")")
done
rm -rf "$outdir"

# --- report -----------------------------------------------------------------
version_of() {
  local v=""
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
  echo "Generated by \`bench/run_bench.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores${cpu:+, $cpu}; load average $(cut -d' ' -f1-3 /proc/loadavg) at the end); $(hyperfine --version), --warmup $warmup --runs $runs, files in the page cache."
  echo
  for t in "${tools[@]}"; do
    local v; v=$(version_of "$t")
    echo "- $t${v:+: $v}"
  done
  for n in "${notes[@]}"; do echo "- $n"; done
  echo
  printf '%s\n' "${results[@]}" | /usr/bin/python3 "$tmp/table.py" "$corpus" "$(IFS=,; echo "${tools[*]}")"
  echo
  echo "Commands: \`pstkit dump --json --full FILE > /dev/null\`, \`pffexport -q -m all -f all -t DIR FILE\`, \`readpst -q -D -o DIR FILE\` (the peers write files into DIR, emptied before every run). Seconds are wall-clock; ratios are of the medians (> 1: pstkit is faster); CPU is hyperfine's mean user + system seconds; RSS is peak resident memory of one further run (/usr/bin/time %M). '!' = a run exited non-zero."
}

if [[ -n $out ]]; then
  mkdir -p "$(dirname -- "$out")"
  report | tee "$out"
else
  report
fi
