#!/usr/bin/env bash
# The flood test of deferred reclamation at full length (issue: one thread
# retires as fast as it can for 10 s while readers run): peak backlog under
# 64 Ki objects with the default limits, rcu_barrier drains to zero, and the
# negative control — the same flood with the limits disabled — must exceed
# the bound.  Both are ordinary unit tests, run here for 10 s instead of 1 s.
# Takes about 25 s.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

bin=build/release/grace_unit_tests
[[ -x $bin ]] || { cmake --preset release >/dev/null; cmake --build --preset release -j "${GRACE_JOBS:-2}" --target grace_unit_tests; }
GRACE_FLOOD_SECONDS=10 "$bin" --gtest_filter='ReclaimLimits.Flood*'
