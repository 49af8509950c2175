#!/usr/bin/env bash
# scripts/ci-extra.d/25-litmus-yield.sh — the litmus tests of
# docs/design/requirements.md (tests/unit/litmus_test.cpp) in the yield-
# injection build (preset yield, GRACE_DEBUG_YIELD=ON): every atomic access,
# grace's and the tests' own, may yield or spin, so interleavings are wider
# than in the preset runs, which already run these tests at the default count.
#
#   Litmus.*                  GRACE_LITMUS_ITERS=5000 runs per correct
#                             scenario (5x the default): no forbidden outcome
#   Litmus.*Caught, x5        every negative control (broken primitive) must
#                             see its forbidden outcome, five times over
#
# Each series prints its outcome histogram (GRACE_LITMUS_VERBOSE=1).
# Reuses build/yield (20-torture.sh configures it and builds the library);
# builds only grace_unit_tests there.  About 60-80 s on 2 cores, most of it
# the build (the runs take ~15 s).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
jobs=${GRACE_JOBS:-2}

# GRACE_LITMUS_BUILD_DIR: another tree configured with GRACE_DEBUG_YIELD=ON.
dir=${GRACE_LITMUS_BUILD_DIR:-build/yield}
if [[ ! -f $dir/CMakeCache.txt ]]; then
  cmake --preset yield >/dev/null
fi
grep -q '^GRACE_DEBUG_YIELD:BOOL=ON' "$dir/CMakeCache.txt" || {
  echo "25-litmus-yield.sh: $dir is not a GRACE_DEBUG_YIELD=ON build" >&2
  exit 1
}
echo "---- building grace_unit_tests in $dir (GRACE_DEBUG_YIELD=ON)"
cmake --build "$dir" --target grace_unit_tests -j "$jobs"
bin=$dir/grace_unit_tests

export GRACE_LITMUS_VERBOSE=1
start=$SECONDS
echo
echo "---- litmus [yield]: every guarantee, GRACE_LITMUS_ITERS=${GRACE_LITMUS_ITERS:-5000}"
# The tests' own watchdogs abort a hang after 60 s; the timeout is the backstop.
GRACE_LITMUS_ITERS=${GRACE_LITMUS_ITERS:-5000} \
  timeout --signal=KILL 300 "$bin" --gtest_filter='Litmus.*'
echo
echo "---- litmus [yield]: negative controls, 5 repetitions"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! timeout --signal=KILL 300 "$bin" --gtest_filter='Litmus.*Caught' --gtest_repeat=5 >"$log" 2>&1; then
  grep -E -B2 -A8 'Failure|FAILED' "$log" | tail -60 >&2 || tail -60 "$log" >&2
  echo "25-litmus-yield.sh: a broken variant was NOT caught (see above)" >&2
  exit 1
fi
grep -c '^\[       OK \]' "$log" | sed 's/^/negative controls caught: /'
echo "25-litmus-yield.sh: correct runs clean, every broken variant caught ($(( SECONDS - start ))s of runs)"
