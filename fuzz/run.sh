#!/bin/sh
# fuzz/run.sh - run libFuzzer targets for a fixed time and report on them.
# Called by `make fuzz` (mk/fuzz.mk):
#
#   sh fuzz/run.sh BUILD SECONDS 'EXTRA LIBFUZZER ARGS' TARGET...
#
# For each target: a fresh working corpus BUILD/fuzz-run/<target>/corpus,
# seeded from fuzz/corpus/<target> (the committed seeds are never written),
# then BUILD/fuzz_<target> for SECONDS with -max_total_time and
# -print_final_stats=1; its output goes to BUILD/fuzz-run/<target>/log and
# a crashing input to BUILD/fuzz-run/<target>/artifacts/.
# At the end a table: executions (libFuzzer's final stats), exec/s, coverage
# (cov: edges and ft: features of the last status line, out of the
# instrumented edges), corpus size. Exit 1 if any target failed.
set -u

build=$1
seconds=$2
extra=$3
shift 3

runs="$build/fuzz-run"
mkdir -p "$runs"
table="$runs/summary.txt"
: > "$table"
status=0

# value of a "stat::NAME: value" final-stats line
stat() {
    sed -n "s/^stat::$1: *\\([0-9]*\\).*/\\1/p" "$2" | tail -n 1
}

# value of "NAME: value" on the last status line carrying coverage
status_field() {
    grep -E '^#[0-9]+' "$2" | grep ' cov: ' | tail -n 1 \
        | sed -n "s/.* $1: \\([^ ]*\\).*/\\1/p"
}

for t in "$@"; do
    dir="$runs/$t"
    rm -rf "$dir"
    mkdir -p "$dir/corpus" "$dir/artifacts"
    if [ ! -d "fuzz/corpus/$t" ] || [ -z "$(ls "fuzz/corpus/$t")" ]; then
        echo "fuzz: fuzz/corpus/$t is missing or empty" >&2
        status=1
        continue
    fi
    cp "fuzz/corpus/$t"/* "$dir/corpus/"
    echo "== fuzz_$t for ${seconds}s (log: $dir/log)"
    # shellcheck disable=SC2086  # extra holds several arguments
    "$build/fuzz_$t" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="$dir/artifacts/" $extra "$dir/corpus" > "$dir/log" 2>&1
    rc=$?

    execs=$(stat number_of_executed_units "$dir/log")
    speed=$(stat average_exec_per_sec "$dir/log")
    cov=$(status_field cov "$dir/log")
    ft=$(status_field ft "$dir/log")
    corp=$(status_field corp "$dir/log")
    edges=$(sed -n 's/^INFO: Loaded [0-9]* modules* *(\([0-9]*\) inline 8-bit counters).*/\1/p' \
            "$dir/log" | head -n 1)
    if [ "$rc" -eq 0 ]; then
        result=ok
    else
        result="FAILED($rc)"
        status=1
        grep -E 'ERROR|property failed|runtime error|SUMMARY' "$dir/log" | head -n 5
        for a in "$dir/artifacts"/*; do
            [ -e "$a" ] && echo "    artifact: $a (replay: $build/replay_$t $a)"
        done
    fi
    printf '%-8s %-10s %12s %8s %7s/%-6s %7s %10s\n' "$t" "$result" "${execs:--}" \
        "${speed:--}" "${cov:--}" "${edges:--}" "${ft:--}" "${corp:--}" >> "$table"
done

echo
echo "fuzzing summary, ${seconds}s per target (logs and artifacts in $runs/)"
printf '%-8s %-10s %12s %8s %14s %7s %10s\n' target result executions exec/s \
    "cov/edges" ft corpus
cat "$table"
exit $status
