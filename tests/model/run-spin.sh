#!/usr/bin/env bash
# tests/model/run-spin.sh — generate, compile and run a spin verifier (pan).
#
#   run-spin.sh MODEL [-DNAME[=VAL]...] [--liveness] [--expect-fail]
#
#   default       safety run: assertions and invalid end states (pan built
#                 with -DSAFETY), exhaustive.
#   --liveness    adds -DLIVENESS to the model (its ltl claim) and runs
#                 pan -a -f (acceptance cycles under weak fairness).
#   --expect-fail the run must find a counterexample (a mutant): exit 0 when
#                 spin reports errors, 1 when it reports none.  The tail of the
#                 counterexample's replay is printed.
#
# Without --expect-fail the run must report "errors: 0" and a complete search
# (no "max search depth too small"). Prints one summary line:
#   spin: <defines> mode=... states=... depth=... memory=...MB time=...s errors=N
# Needs spin and gcc (scripts/install-deps.sh installs spin).
set -euo pipefail

model=""
defines=()
liveness=0
expect_fail=0
for a in "$@"; do
  case "$a" in
    --liveness) liveness=1 ;;
    --expect-fail) expect_fail=1 ;;
    -D*) defines+=("$a") ;;
    *) [[ -z $model ]] || { echo "run-spin.sh: two models given" >&2; exit 2; }
       model=$a ;;
  esac
done
[[ -n $model ]] || { echo "usage: run-spin.sh MODEL [-DX...] [--liveness] [--expect-fail]" >&2; exit 2; }
command -v spin >/dev/null || { echo "run-spin.sh: spin not installed (scripts/install-deps.sh)" >&2; exit 2; }

model=$(realpath "$model")
work=$(mktemp -d "${TMPDIR:-/tmp}/grace-spin.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
cp "$model" model.pml

cflags=(-O2 -w)
panflags=(-m200000 -w24)
if [[ $liveness -eq 1 ]]; then
  defines+=(-DLIVENESS)
  cflags+=(-DNFAIR=3)
  panflags+=(-a -f)
  mode=liveness
else
  cflags+=(-DSAFETY)
  mode=safety
fi

spin "${defines[@]}" -a model.pml > spin.out 2>&1 || { cat spin.out; exit 2; }
gcc "${cflags[@]}" -o pan pan.c || exit 2
set +e
./pan "${panflags[@]}" > pan.out 2>&1
set -e

errors=$(sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' pan.out | tail -1)
states=$(awk '/states, stored/ {print $1; exit}' pan.out)
depth=$(sed -n 's/.*depth reached \([0-9][0-9]*\).*/\1/p' pan.out | tail -1)
mem=$(awk '/total actual memory usage/ {print $1; exit}' pan.out)
secs=$(sed -n 's/^pan: elapsed time \([0-9.e+]*\) seconds.*/\1/p' pan.out | tail -1)
if [[ -z $errors ]]; then
  echo "run-spin.sh: could not parse pan's output:" >&2
  cat pan.out >&2
  exit 2
fi
echo "spin: ${defines[*]:-(none)} mode=$mode states=${states:-?} depth=${depth:-?}" \
     "memory=${mem:-?}MB time=${secs:-?}s errors=$errors"

if [[ $expect_fail -eq 1 ]]; then
  if [[ $errors -gt 0 ]]; then
    grep -E "pan:[0-9]+:|assertion violated|invalid end state|acceptance cycle" pan.out | head -3 || true
    if [[ -f model.pml.trail ]]; then
      echo "---- counterexample (tail of spin -t replay)"
      spin -t -p -g -l "${defines[@]}" model.pml 2>&1 | grep -E "proc|assert|violated|<<<<<" \
        | tail -25 || true
    fi
    echo "run-spin.sh: counterexample found, as expected"
    exit 0
  fi
  echo "run-spin.sh: FAIL: the mutant produced no counterexample" >&2
  exit 1
fi

if grep -q "max search depth too small" pan.out; then
  echo "run-spin.sh: FAIL: search incomplete (max search depth too small)" >&2
  exit 1
fi
if [[ $errors -ne 0 ]]; then
  grep -E "pan:[0-9]+:|assertion violated|invalid end state|acceptance cycle" pan.out >&2 || true
  echo "---- counterexample (tail of spin -t replay)" >&2
  spin -t -p -g -l "${defines[@]}" model.pml 2>&1 | tail -40 >&2 || true
  echo "run-spin.sh: FAIL: $errors error(s)" >&2
  exit 1
fi
echo "run-spin.sh: verified"
