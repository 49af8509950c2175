#!/usr/bin/env bash
# CI smoke test of grace-bench (not a performance gate: nothing here compares
# numbers).  Runs `grace-bench --quick --csv` and checks that the CSV has its
# exact header and every workload for grace and liburcu (the hash_* workloads:
# grace and cds_lfht); then checks that the liburcu-compatible command lines
# print SUMMARY lines in test_urcu's and test_urcu_hash's formats.
# Takes about 60 s on 2 cores (the hash workloads and urcu_hash about 38 s of it).
# GRACE_BENCH_BIN overrides the binary (default: the release preset's).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

bin=${GRACE_BENCH_BIN:-build/release/bench/grace-bench}
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
  peers="grace liburcu"
  [[ $w == hash_* ]] && peers="grace cds_lfht"
  for impl in $peers; do
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
summary=$(timeout 30 "$bin" urcu_hash 1 1 1 -A -k 1000 --impl grace,cds_lfht)
echo "$summary"
for impl in grace cds_lfht; do
  re="^SUMMARY grace-bench:$impl +testdur +1 nr_readers +1 rdur +0 nr_writers +1 wdelay +0 nr_reads +[0-9]+ nr_writes +[0-9]+ nr_ops +[0-9]+ nr_add +[0-9]+ nr_add_fail +[0-9]+ nr_remove +[0-9]+ nr_leaked +0$"
  if ! grep -Eq "$re" <<<"$summary"; then
    echo "bench-smoke: no urcu_hash SUMMARY line for $impl in test_urcu_hash's format (or nodes leaked)" >&2
    fail=1
  fi
done
exit $fail
