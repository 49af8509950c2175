#!/usr/bin/env bash
# scripts/ci-extra.d/20-torture.sh — rcutorture-style runs of grace-torture
# (tests/stress/torture.cpp), each with its negative control.
#
#   release  60 s, 2 readers + 1 updater, mixed retire paths   must pass
#   release  20 s, the same in the fence flavor (--fence)      must pass
#   release  10 s, --broken (grace periods that do not wait)   must FAIL
#   yield    20 s, GRACE_DEBUG_YIELD=ON build (preset yield)   must pass
#   yield     5 s, --broken                                    must FAIL
#
# "Must pass": exit 0, i.e. no reader saw an age >= 2, poison, a checksum
# mismatch or its object change, and every object was freed.  "Must FAIL":
# exit 1, the oracle's verdict (not a crash, a usage error or a stall), so a
# torture test that cannot fail fails CI.  Every run prints its age histogram.
#
# Reuses build/release (scripts/test.sh built it; configured here if absent);
# builds only the grace-torture target of preset yield.  About 2.5 minutes on
# 2 cores: 115 s of runs plus the yield build.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
jobs=${GRACE_JOBS:-2}

# run EXPECTED_RC LABEL BINARY ARGS... : run one torture, check its exit status.
run() {
  local want=$1 label=$2 bin=$3; shift 3
  local seconds=0 prev=""
  for a in "$@"; do
    [[ $prev == --seconds ]] && seconds=${a%.*}
    prev=$a
  done
  echo
  echo "---- torture [$label]: $bin $* (expect exit $want)"
  local start=$SECONDS rc=0
  # The tool's own watchdog reports a stall (exit 2) after 30 s without an
  # update; the timeout is the backstop for a hang in its teardown.
  timeout --signal=KILL $(( seconds + 90 )) "$bin" "$@" || rc=$?
  echo "---- torture [$label]: exit $rc after $(( SECONDS - start ))s"
  if [[ $rc -ne $want ]]; then
    if [[ $want -eq 1 ]]; then
      echo "20-torture.sh: [$label] the broken flavor was NOT caught (exit $rc, expected 1)" >&2
    else
      echo "20-torture.sh: [$label] failed (exit $rc)" >&2
    fi
    exit 1
  fi
}

if [[ ! -f build/release/CMakeCache.txt ]]; then
  cmake --preset release
fi
cmake --build build/release --target grace-torture -j "$jobs"
rel=build/release/grace-torture

run 0 "release" "$rel" --seconds 60 --readers 2 --updaters 1
run 0 "release, fence flavor" "$rel" --seconds 20 --readers 2 --fence
run 1 "release, negative control" "$rel" --seconds 10 --readers 2 --broken

echo
echo "---- configuring and building preset yield (GRACE_DEBUG_YIELD=ON), grace-torture only"
cmake --preset yield >/dev/null
cmake --build build/yield --target grace-torture -j "$jobs"
yld=build/yield/grace-torture

run 0 "yield" "$yld" --seconds 20 --readers 2
run 1 "yield, negative control" "$yld" --seconds 5 --readers 2 --broken

echo
echo "20-torture.sh: all torture runs behaved (correct runs clean, broken runs caught)"
