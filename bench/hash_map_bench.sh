#!/usr/bin/env bash
# bench/hash_map_bench.sh — instructions per hash-map lookup, counted by
# callgrind, for grace::hash_map and each hash peer compiled into grace-bench
# (cds_lfht, unordered_map under shared_mutex, tbb).  The timings live in
# grace-bench (workloads hash_lookup, hash_mixed, hash_resize).
#
#   bench/hash_map_bench.sh [--bin PATH | --build DIR] [--keys N] [--lookups M]
#
# Runs `grace-bench hash_insn IMPL N M hit|miss` under callgrind once per
# table and kind, collecting only inside the table's lookup loop
# (gb_hash_lookups_IMPL: M lookups, each in its own read-side section, the
# value read and checked), and prints instructions per lookup (the loop's
# total / M; the loop's own overhead, about 5 instructions, is included, the
# same for every table).  Defaults: build/release, N = 1000000, M = 100000.
# Exit 77 (skip) when valgrind is missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bin=""
build=build/release
keys=1000000
lookups=100000
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bin) bin=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --keys) keys=$2; shift 2 ;;
    --lookups) lookups=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "hash_map_bench: unknown option '$1'" >&2; exit 2 ;;
  esac
done
[[ -n $bin ]] || bin=$build/bench/grace-bench
[[ -x $bin ]] || { echo "hash_map_bench: no grace-bench at $bin (build the grace-bench target)" >&2; exit 2; }
command -v valgrind >/dev/null 2>&1 || { echo "hash_map_bench: valgrind not found; skipped" >&2; exit 77; }

impls="grace cds_lfht unordered_map tbb"
work=$(mktemp -d "${TMPDIR:-/tmp}/grace-hash-insn.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "instructions per lookup (callgrind; $keys keys, $lookups lookups, each in its own section)"
printf '%-16s %10s %10s\n' impl hit miss
for impl in $impls; do
  row=()
  for kind in hit miss; do
    f=$work/$impl.$kind
    if ! env -u GRACE_FLAVOR valgrind --tool=callgrind --callgrind-out-file="$f" --collect-atstart=no \
         --toggle-collect="gb_hash_lookups_$impl" "$bin" hash_insn "$impl" "$keys" "$lookups" "$kind" \
         >"$work/log" 2>&1; then
      if grep -q "not compiled in" "$work/log"; then row=(); break; fi
      cat "$work/log" >&2
      exit 1
    fi
    ir=$(sed -n 's/^totals: //p' "$f" | awk '{print $1}')
    row+=("$(awk -v a="$ir" -v n="$lookups" 'BEGIN { printf "%.1f", a / n }')")
  done
  [[ ${#row[@]} -eq 2 ]] && printf '%-16s %10s %10s\n' "$impl" "${row[0]}" "${row[1]}"
done
