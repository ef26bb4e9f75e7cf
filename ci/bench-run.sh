#!/usr/bin/env bash
# ci/bench-run.sh [--size N] [--reps R] [--layer L]: `ci/bench run`.
#
# Times `stride run` against `bazel test //...` for the same kind of change
# (one Go file of a library in the middle of the graph), in one run, on a
# synthetic workspace (tools/synth) whose output base is warm:
#   fresh: `bazel shutdown` before each measurement (a CI runner: new Bazel
#          server, output base restored from a cache);
#   warm:  the server stays up (a developer's machine, `stride watch`).
# Each measurement gets its own fresh one-line edit of the same file,
# committed, so both commands see exactly one changed file with new content.
# As on a CI runner that runs stride on every push, stride's digest cache
# holds each base commit's map (an untimed `stride affected` after each
# bazel measurement).
# stride runs with --bazel-cds=on (its Bazel server maps a class-data-sharing
# archive, written when the warm-up's server shut down); in fresh mode each
# rep also times stride with --bazel-cds=off, reported on its own row.
# Servers are stopped with `stride shutdown` (a plain `bazel shutdown`
# would kill a server started with other startup flags).
# Prints the medians, the ratios stride/bazel (goal <= 0.2 fresh) and
# stride's own time as a fraction of its run (timing.overhead_ms /
# timing.total_ms from report.json, which counts the affected computation's
# bazel query as overhead; and without the affected step). Does not assert.
#
# Environment: BENCH_DIR (default /tmp/stride-bench), STRIDE=/path (else
# built), BENCH_DISK_CACHE (used to warm the output base only),
# BENCH_REPO_CACHE.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

size=5000
reps=3
layer=""
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --layer) layer=$2; shift 2 ;;
    -h | --help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done

BENCH_DIR=${BENCH_DIR:-/tmp/stride-bench}
DISK_CACHE=${BENCH_DISK_CACHE:-/tmp/stride-bench-diskcache}
REPO_CACHE=${BENCH_REPO_CACHE:-/tmp/stride-bench-repocache}
BIN=$BENCH_DIR/bin
WS=$BENCH_DIR/run-$size
OUT=$BENCH_DIR/run-$size.results
DIGESTS=$BENCH_DIR/run-$size.digests

setup
mkdir -p "$BIN" "$OUT"
say "building synth$([ -z "${STRIDE:-}" ] && echo ' and stride')"
(cd "$ROOT" && go build -o "$BIN/synth" ./tools/synth/cmd/synth) || die "building synth failed"
if [ -z "${STRIDE:-}" ]; then
  (cd "$ROOT" && go build -o "$BIN/stride" ./tools/stride/cmd/stride) || die "building stride failed"
  STRIDE=$BIN/stride
fi

now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR == 0) {print "nan"} else if (NR % 2) {print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2}}'; }
git_ws() {
  git -C "$WS" -c user.name=bench -c user.email=bench@example.com "$@"
}

if [ ! -d "$WS/.git" ]; then
  say "generating a $size-target workspace in $WS"
  "$BIN/synth" -out "$WS" -force -targets "$size" -seed 1 -changes 0 -bootstrap "$ROOT" >&2
fi
{
  echo "startup --max_idle_secs=600"
  echo "common --repository_cache=$REPO_CACHE"
} >"$WS/user.bazelrc"
cd "$WS"
git_ws checkout -q -B main >/dev/null 2>&1 || true

# The file to edit: the first library source of a middle layer.
layers=$(find lib -mindepth 1 -maxdepth 1 -type d | sort)
[ -n "$layers" ] || die "no lib/ layers in $WS"
if [ -z "$layer" ]; then
  n=$(echo "$layers" | wc -l)
  layer=$(echo "$layers" | sed -n "$(((n + 1) / 2))p")
else
  layer=lib/$layer
fi
file=$(find "$layer" -name '*.go' ! -name '*_test.go' | sort | head -1)
[ -n "$file" ] || die "no Go library source under $layer"
say "the change: one line appended to $file, one commit per measurement"

edit=0
change() {
  edit=$((edit + 1))
  # Set from an init function, so the linker keeps it and every binary
  # and test that depends on the file changes (an unused variable would be
  # dropped, leaving the test binaries identical and their results cached).
  local v
  v="benchEdit$(date +%s%N)"
  printf '\nvar %s int\n\nfunc init() { %s = %d }\n' "$v" "$v" "$edit" >>"$file"
  git_ws commit -q -am "bench: edit $edit of $file"
}

say "warming the output base: bazel build //... and bazel test //... (with the disk cache $DISK_CACHE)"
bazel test --disk_cache="$DISK_CACHE" --build_tests_only=false //... >"$OUT/warm.log" 2>&1 ||
  { tail -30 "$OUT/warm.log" >&2; die "bazel test //... failed while warming; see $OUT/warm.log"; }
say "warming stride's digest cache and its Bazel class-data-sharing archive (one stride run)"
shutdown() { "$STRIDE" shutdown --cache-dir "$DIGESTS" >/dev/null 2>&1 || true; }
shutdown
change
"$STRIDE" run --bazel-cds=on --base HEAD~1 --cache-dir "$DIGESTS" --out "$OUT/warmup" >"$OUT/warmup.log" 2>&1 ||
  { tail -30 "$OUT/warmup.log" >&2; die "stride run failed while warming; see $OUT/warmup.log"; }
shutdown
bazel test //... >/dev/null 2>&1 || true

: >"$OUT/samples.tsv"
for mode in fresh warm; do
  for i in $(seq 1 "$reps"); do
    variants=stride
    [ "$mode" = fresh ] && variants="stride stride-nocds"
    for v in $variants; do
      cds=on
      [ "$v" = stride-nocds ] && cds=off
      change
      [ "$mode" = fresh ] && shutdown
      t0=$(now_ms)
      rc=0
      "$STRIDE" run --bazel-cds=$cds --base HEAD~1 --cache-dir "$DIGESTS" --out "$OUT/$mode-$v-$i" >"$OUT/$mode-$v-$i.log" 2>&1 || rc=$?
      t1=$(now_ms)
      [ $rc -eq 0 ] || say "warning: stride run exited $rc ($OUT/$mode-$v-$i.log)"
      read -r total overhead affected affectedn < <(python3 - "$OUT/$mode-$v-$i/report.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
t = r["timing"]
print(t["total_ms"], t["overhead_ms"], t["affected_ms"], r["affected"]["count"])
EOF
)
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$v" "$mode" "$((t1 - t0))" "$total" "$overhead" "$affected" "$affectedn" >>"$OUT/samples.tsv"
    done

    change
    [ "$mode" = fresh ] && shutdown
    t0=$(now_ms)
    rc=0
    bazel test //... >"$OUT/bazel-$mode-$i.log" 2>&1 || rc=$?
    t1=$(now_ms)
    [ $rc -eq 0 ] || say "warning: bazel test //... exited $rc ($OUT/bazel-$mode-$i.log)"
    printf 'bazel\t%s\t%s\n' "$mode" "$((t1 - t0))" >>"$OUT/samples.tsv"
    # A CI runner runs stride on every push, so the next push finds this
    # commit's digest map in its cache (untimed; the server is shut down
    # again before the next fresh measurement).
    "$STRIDE" affected --base HEAD~1 --cache-dir "$DIGESTS" >/dev/null 2>>"$OUT/affected-untimed.log" ||
      say "warning: untimed stride affected failed ($OUT/affected-untimed.log)"
    say "$mode $i: $(awk -F'\t' -v m=$mode '$2==m {last[$1]=$3} END {for (k in last) printf "%s %s ms, ", k, last[k]}' "$OUT/samples.tsv" | sed 's/, $//')"
  done
done

report=$OUT/summary.md
{
  echo "## stride run vs bazel test //... ($size targets, one-file change in $layer, $reps reps, medians)"
  echo
  echo "| server | stride run | bazel test //... | ratio | stride's own (incl. affected's query) | stride's own (excl. affected) | affected | targets affected |"
  echo "|---|---|---|---|---|---|---|---|"
  for row in "fresh stride" "fresh stride-nocds" "warm stride"; do
    set -- $row
    mode=$1 v=$2
    label=$mode
    [ "$v" = stride-nocds ] && label="$mode, --bazel-cds=off"
    s=$(awk -F'\t' -v m=$mode -v t=$v '$1==t && $2==m {print $3}' "$OUT/samples.tsv" | median)
    [ "$s" != nan ] || continue
    b=$(awk -F'\t' -v m=$mode '$1=="bazel" && $2==m {print $3}' "$OUT/samples.tsv" | median)
    o=$(awk -F'\t' -v m=$mode -v t=$v '$1==t && $2==m && $4>0 {print $5/$4}' "$OUT/samples.tsv" | median)
    ox=$(awk -F'\t' -v m=$mode -v t=$v '$1==t && $2==m && $4>0 {print ($5-$6)/$4}' "$OUT/samples.tsv" | median)
    a=$(awk -F'\t' -v m=$mode -v t=$v '$1==t && $2==m {print $6}' "$OUT/samples.tsv" | median)
    n=$(awk -F'\t' -v m=$mode -v t=$v '$1==t && $2==m {print $7}' "$OUT/samples.tsv" | median)
    awk -v m="$label" -v s="$s" -v b="$b" -v o="$o" -v ox="$ox" -v a="$a" -v n="$n" 'BEGIN {
      printf "| %s | %.1f s | %.1f s | %.2f× | %.1f%% | %.1f%% | %.1f s | %d |\n", m, s/1000, b/1000, s/b, o*100, ox*100, a/1000, n }'
  done
  echo
  echo "Goals: ratio <= 0.2 with a fresh server; stride's own time <= 5% of its run."
  echo "Samples: $OUT/samples.tsv (tool [stride: --bazel-cds=on, stride-nocds: off], server, wall ms, report total ms, overhead ms, affected ms, affected count); reports under $OUT/."
} >"$report"
shutdown
cat "$report"
