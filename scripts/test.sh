#!/usr/bin/env bash
# The test command: what CI runs (.ci/run) and what the README tells you to run.
#
#   scripts/test.sh                 all presets: release clang asan tsan debug
#   scripts/test.sh --quick         release preset only
#   scripts/test.sh --preset NAME   only that preset (any in CMakePresets.json)
#
# For each preset: install missing Debian packages (once), configure, build,
# ctest. The test presets exclude the `model` and `bench` labels; set
# GRACE_TEST_ALL=1 to run those too. Then every scripts/ci-extra.d/*.sh runs in
# name order (lints, the spin model, torture runs, bench smoke...).
# Prints a timed summary; stops at the first failure with a non-zero status.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)

presets=(release clang asan tsan debug)
run_extras=1
usage() { sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) presets=(release); shift ;;
    --preset)
      [[ $# -ge 2 ]] || { echo "test.sh: --preset needs a name" >&2; exit 2; }
      presets=("$2"); shift 2 ;;
    --preset=*) presets=("${1#--preset=}"); shift ;;
    --no-extras) run_extras=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "test.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
jobs=${GRACE_JOBS:-2}

summary=()
total_start=$SECONDS
print_summary() {
  echo
  echo "==== summary ($(( SECONDS - total_start ))s total)"
  local line
  for line in "${summary[@]}"; do echo "  $line"; done
}

# stage NAME CMD... : run CMD, record its time; on failure print the summary
# and exit with its status.
stage() {
  local name=$1; shift
  echo
  echo "==== [$name] $*"
  local start=$SECONDS rc=0
  "$@" || rc=$?
  local took=$(( SECONDS - start ))
  if [[ $rc -ne 0 ]]; then
    summary+=("$(printf 'FAIL %-28s %5ss  (exit %d)' "$name" "$took" "$rc")")
    print_summary
    echo "test.sh: stage '$name' failed" >&2
    exit "$rc"
  fi
  summary+=("$(printf 'ok   %-28s %5ss' "$name" "$took")")
}

stage deps bash scripts/install-deps.sh

for p in "${presets[@]}"; do
  stage "$p: configure" cmake --preset "$p"
  stage "$p: build" cmake --build --preset "$p" -j "$jobs"
  if [[ ${GRACE_TEST_ALL:-0} == 1 ]]; then
    # An exclude regex that matches no label overrides the preset's filter.
    stage "$p: test (all labels)" ctest --preset "$p" -LE '^$'
  else
    stage "$p: test" ctest --preset "$p"
  fi
done

if [[ $run_extras -eq 1 ]]; then
  shopt -s nullglob
  extras=("$root"/scripts/ci-extra.d/*.sh)
  shopt -u nullglob
  for x in "${extras[@]}"; do
    stage "extra: $(basename "$x")" bash "$x"
  done
fi

print_summary
echo "test.sh: all stages passed"
