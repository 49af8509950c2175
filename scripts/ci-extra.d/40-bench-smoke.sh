#!/usr/bin/env bash
# CI smoke test of grace-bench (not a performance gate: nothing here compares
# numbers).  Runs `grace-bench --quick --csv` and checks that the CSV has its
# exact header and every workload for grace and liburcu; then checks that the
# liburcu-compatible command line prints a SUMMARY line in test_urcu's format.
# Takes about 45 s on 2 cores.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

bin=build/release/bench/grace-bench
if [[ ! -x $bin ]]; then
  cmake --preset release >/dev/null
  cmake --build --preset release -j "${GRACE_JOBS:-2}" --target grace-bench
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

timeout 180 "$bin" --quick --csv "$out/bench.csv" --json "$out/bench.json" --plot "$out/plots" \
  > "$out/table.txt"
cat "$out/table.txt"

fail=0
header=$(head -1 "$out/bench.csv")
if [[ $header != "workload,impl,threads,metric,value,unit" ]]; then
  echo "bench-smoke: bad CSV header: $header" >&2
  fail=1
fi
workloads=$("$bin" --list | awk '{print $1}')
for w in $workloads; do
  for impl in grace liburcu; do
    if ! grep -q "^$w,$impl," "$out/bench.csv"; then
      echo "bench-smoke: no result for workload $w, impl $impl" >&2
      fail=1
    fi
  done
done
ls "$out/plots"/*.svg >/dev/null || { echo "bench-smoke: no charts written" >&2; fail=1; }

summary=$(timeout 30 "$bin" urcu 1 1 1)
echo "$summary"
re='^SUMMARY grace-bench:grace +testdur +1 nr_readers +1 rdur +0 wdur +0 nr_writers +1 wdelay +0 nr_reads +[0-9]+ nr_writes +[0-9]+ nr_ops +[0-9]+$'
if [[ ! $summary =~ $re ]]; then
  echo "bench-smoke: the urcu SUMMARY line does not match test_urcu's format" >&2
  fail=1
fi
exit $fail
