#!/usr/bin/env bash
# bench/hash_map_bench.sh — builds bench/hash_map_bench.cpp against a built
# libgrace and runs (1) the lookup/insert timings, (2) callgrind instruction
# counts per lookup for grace::hash_map, cds_lfht and std::unordered_map.
#   bench/hash_map_bench.sh [BUILD_DIR (default build/release)] [KEYS (default 1000000)]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${1:-build/release}
keys=${2:-1000000}
out=$build/hash_map_bench
mkdir -p "$build"
gcc -O2 -Wall -Wextra -Werror -c bench/hash_map_bench_lfht.c -o "$out-lfht.o" $(pkg-config --cflags liburcu-cds liburcu-memb)
g++ -std=c++20 -O2 -DNDEBUG -Wall -Wextra -Werror -Iinclude bench/hash_map_bench.cpp "$out-lfht.o" \
  -o "$out" -L"$build" -lgrace -Wl,-rpath,"$(pwd)/$build" \
  $(pkg-config --libs liburcu-cds liburcu-memb) -pthread
"$out" --keys "$keys"
n=100000
echo "# instructions per lookup (callgrind, $keys keys, $n hit lookups, each in its own section)"
for impl in grace lfht umap; do
  f=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file="$f" --collect-atstart=no \
    --toggle-collect="*lookup_loop_$impl*" "$out" --insn "$impl" --keys "$keys" --lookups "$n" \
    >/dev/null 2>&1
  ir=$(callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
  rm -f "$f"
  printf '%-8s %6.1f instructions/lookup\n' "$impl" "$(echo "$ir / $n" | bc -l)"
done
