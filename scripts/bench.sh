#!/usr/bin/env bash
# The README's main command: grace side by side with liburcu, ck_epoch and
# std::shared_mutex, on this machine, with charts.
#
#   scripts/bench.sh            install missing packages, build the release
#                               preset, run `grace-bench --quick` (under a
#                               minute), charts in build/bench-plots/
#   scripts/bench.sh --full     the full run (under 10 minutes)
#   scripts/bench.sh ARGS...    extra grace-bench options (--csv FILE, --json
#                               FILE, --workload NAME, --impl LIST, ...)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

mode=(--quick)
if [[ ${1:-} == --full ]]; then
  mode=()
  shift
fi

bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "${GRACE_JOBS:-2}" --target grace-bench
exec build/release/bench/grace-bench "${mode[@]}" --plot build/bench-plots "$@"
