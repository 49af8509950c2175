#!/usr/bin/env bash
# Instructions per operation, grace vs liburcu memb, counted by callgrind.
#
#   scripts/insn-count.sh [--build DIR | --bin PATH] [--csv FILE] [--quiet]
#   scripts/insn-count.sh --bin PATH --check-read-pair MAX     (ctest read_pair_instructions)
#
# Runs tests/perfcheck/read_pair.cpp (target perfcheck_read_pair; built in DIR,
# default build/release, when missing) once under callgrind.  Each operation is
# a noinline function; callgrind counts only inside it (--toggle-collect).  Per
# operation: run it N1 = 1000 times and N2 = 2000 times after a warm-up, take
# (count(N2) - count(N1)) / (N2 - N1), then subtract the same for an empty
# function (its `ret`): the result is the instructions of the function's body.
# For the read-side pair two numbers are printed:
#   inline   marginal cost of one more lock()+unlock() in a function that holds
#            eight in a row: (body(x8) - body(x1)) / 7.  What a hot loop pays;
#            what grace/rcu.hpp's "10 instructions inline" claims.
#   body     the whole noinline function with one pair, less its `ret`:
#            adds the once-per-function costs (saving a register for the slow
#            path's call, loading the TLS offset from the GOT).
# Counts are user-space instructions: a syscall counts as one instruction, so
# rcu_synchronize's membarrier(2) (or liburcu's two) cost more than shown.
#
# Output: a table "operation, grace insns/op, liburcu insns/op, ratio";
# --csv FILE also writes it as CSV (header: operation,grace,liburcu,ratio).
# --check-read-pair MAX measures only the read pair and fails (exit 1) if the
# inline grace pair exceeds MAX.  Exit 77 (skip) when valgrind is missing or
# grace runs its fence flavor (the claim is about the membarrier flavor).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$root/build/release"
bin=""
csv=""
check_max=""
quiet=0
n1=1000
n2=2000

usage() { sed -n '2,28p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --csv) csv=$2; shift 2 ;;
    --check-read-pair) check_max=$2; shift 2 ;;
    --quiet) quiet=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "insn-count: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

if ! command -v valgrind >/dev/null 2>&1; then
  echo "insn-count: valgrind not found; skipped" >&2
  exit 77
fi

if [[ -z $bin ]]; then
  bin="$build/tests/perfcheck/perfcheck_read_pair"
  if [[ ! -x $bin ]]; then
    [[ -f $build/CMakeCache.txt ]] || cmake --preset release >/dev/null
    cmake --build "$build" --target perfcheck_read_pair >/dev/null
  fi
fi
[[ -x $bin ]] || { echo "insn-count: no program at $bin" >&2; exit 2; }

have_op() { "$bin" list | grep -qx "$1"; }
have_urcu=0
have_op urcu_read_pair && have_urcu=1

if [[ -n $check_max ]]; then
  ops=(empty_op grace_read_pair grace_read_pair_x8)
  [[ $have_urcu -eq 1 ]] && ops+=(urcu_read_pair urcu_read_pair_x8)
else
  ops=(empty_op grace_read_pair grace_read_pair_x8 grace_nested_read_pair
       grace_nested_read_pair_x8 grace_synchronize grace_call_rcu grace_get_poll)
  [[ $have_urcu -eq 1 ]] && ops+=(urcu_read_pair urcu_read_pair_x8 urcu_nested_read_pair
                                   urcu_nested_read_pair_x8 urcu_synchronize urcu_call_rcu)
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/grace-insn.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The flavor as valgrind's process sees it: valgrind must pass membarrier(2).
flavor=$(valgrind --tool=none -q "$bin" flavor 2>&1 | head -1)
if [[ $flavor != membarrier ]]; then
  echo "insn-count: grace runs the '$flavor' flavor under valgrind; the counts are for the" >&2
  echo "membarrier flavor; skipped.  Output: $(valgrind --tool=none -q "$bin" flavor 2>&1 | tr '\n' ' ')" >&2
  exit 77
fi

toggles=()
for op in "${ops[@]}"; do toggles+=("--toggle-collect=$op"); done
if ! env -u GRACE_FLAVOR valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" \
       "${toggles[@]}" "$bin" measure "$n1" "$n2" "${ops[@]}" >"$work/log" 2>&1; then
  cat "$work/log" >&2
  echo "insn-count: the callgrind run failed" >&2
  exit 1
fi

# count OP N -> the totals line of the dump labelled "OP N".
count() {
  local f
  f=$(grep -lx "desc: Trigger: Client Request: $1 $2" "$work"/cg.out.* || true)
  [[ -n $f ]] || { echo "insn-count: no callgrind dump for '$1 $2'" >&2; exit 1; }
  sed -n 's/^totals: //p' "$f"
}
declare -A per_call
for op in "${ops[@]}"; do
  per_call[$op]=$(awk -v a="$(count "$op" "$n1")" -v b="$(count "$op" "$n2")" \
                      -v n="$((n2 - n1))" 'BEGIN { printf "%.4f", (b - a) / n }')
done

calc() { awk "BEGIN { v = $1; printf \"%.4f\", v }"; }
fmt() {  # integers as integers, others with one decimal; "-" stays
  [[ $1 == - ]] && { echo -; return; }
  awk -v v="$1" 'BEGIN { if (v == int(v)) printf "%d", v; else printf "%.1f", v }'
}
empty=${per_call[empty_op]}
body() { calc "${per_call[$1]} - $empty"; }
inline_pair() { calc "(${per_call[$1_x8]} - ${per_call[$1]}) / 7"; }

rows=()  # "name|grace|urcu"
add_row() { rows+=("$1|$2|$3"); }
u() { if [[ $have_urcu -eq 1 ]]; then "$@"; else echo -; fi; }

add_row "read lock+unlock, inline (per pair)" "$(inline_pair grace_read_pair)" \
        "$(u inline_pair urcu_read_pair)"
add_row "read lock+unlock, noinline body" "$(body grace_read_pair)" "$(u body urcu_read_pair)"
if [[ -z $check_max ]]; then
  add_row "nested lock+unlock, inline (per pair)" "$(inline_pair grace_nested_read_pair)" \
          "$(u inline_pair urcu_nested_read_pair)"
  add_row "nested lock+unlock, noinline body" "$(body grace_nested_read_pair)" \
          "$(u body urcu_nested_read_pair)"
  add_row "rcu_synchronize, no readers" "$(body grace_synchronize)" "$(u body urcu_synchronize)"
  add_row "call_rcu (enqueue)" "$(body grace_call_rcu)" "$(u body urcu_call_rcu)"
  # liburcu 0.13 has no polled grace periods (0.14 added them).
  add_row "rcu_get_state + rcu_poll_state" "$(body grace_get_poll)" "-"
fi

ratio() {
  [[ $2 == - ]] && { echo -; return; }
  awk -v g="$1" -v l="$2" 'BEGIN { if (l == 0) print "-"; else printf "%.2f", g / l }'
}
[[ $quiet -eq 1 ]] || {
  echo "instructions per operation (callgrind, user space; $n1/$n2-call difference, less an empty call)"
  echo "program: $bin"
  printf '%-40s %14s %16s %8s\n' operation "grace insns/op" "liburcu insns/op" ratio
}
[[ -n $csv ]] && echo "operation,grace,liburcu,ratio" >"$csv"
for r in "${rows[@]}"; do
  IFS='|' read -r name g l <<<"$r"
  gr=$(fmt "$g"); lr=$(fmt "$l"); rt=$(ratio "$g" "$l")
  printf '%-40s %14s %16s %8s\n' "$name" "$gr" "$lr" "$rt"
  [[ -n $csv ]] && echo "\"$name\",$gr,$lr,$rt" >>"$csv"
done
[[ $have_urcu -eq 1 ]] || echo "(liburcu-memb was not found at build time: no comparison)"

if [[ -n $check_max ]]; then
  pair=$(inline_pair grace_read_pair)
  if awk -v p="$pair" -v m="$check_max" 'BEGIN { exit !(p > m) }'; then
    echo "FAIL: an inline grace lock()+unlock() pair costs $(fmt "$pair") instructions, more than $check_max" >&2
    echo "      (the claim in include/grace/detail/reader.hpp and grace/rcu.hpp)" >&2
    exit 1
  fi
  echo "ok: an inline grace lock()+unlock() pair costs $(fmt "$pair") instructions (limit $check_max)"
fi
