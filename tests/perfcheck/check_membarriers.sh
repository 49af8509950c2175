#!/usr/bin/env bash
# ctest sync_membarriers_per_gp: one membarrier(2) per grace period.
#
#   check_membarriers.sh GRACE_PROGRAM [URCU_PROGRAM]
#
# GRACE_PROGRAM is perfcheck_sync_membarriers (sync_membarriers.cpp): it runs
# 2000 rcu_synchronize() calls with one reader thread looping over short
# sections, then 2000 without any reader.  strace -f -c counts its
# membarrier(2) calls.  Asserted, for each run:
#     calls <= grace periods + leader sleeps + kStartup
# where leader sleeps (the library's own count) each add one membarrier by
# design (the sleeping writer's handshake [GP5]) and kStartup covers the
# flavor probe (MEMBARRIER_CMD_QUERY, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED).
# The membarriers per grace period are printed.  URCU_PROGRAM (liburcu memb,
# the same loops) is only reported: liburcu issues about two per grace period.
# Exit 77 (skip) when strace is missing or cannot trace (no ptrace).
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 GRACE_PROGRAM [URCU_PROGRAM]" >&2
  exit 2
fi
grace_prog=$1
urcu_prog=${2:-}
gps=2000
startup=4  # QUERY + REGISTER, and room for two more start-up calls

if ! command -v strace >/dev/null 2>&1; then
  echo "check_membarriers: strace not found; skipped"
  exit 77
fi
if ! strace -f -o /dev/null true >/dev/null 2>&1; then
  echo "check_membarriers: strace cannot trace here (ptrace refused?); skipped"
  exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/grace-membarrier.XXXXXX")
trap 'rm -rf "$work"' EXIT

# traced PROGRAM MODE -> runs it under strace; sets out (its stdout) and calls.
traced() {
  local prog=$1 mode=$2
  env -u GRACE_FLAVOR strace -f -c -e trace=membarrier -o "$work/strace" \
      "$prog" "$mode" "$gps" >"$work/out"
  out=$(cat "$work/out")
  calls=$(awk '$NF == "membarrier" { print $4 }' "$work/strace")
  calls=${calls:-0}
}
field() { sed -n "s/^$1=//p" <<<"$out"; }

fail=0
for mode in reader noreader; do
  traced "$grace_prog" "$mode"
  flavor=$(field flavor)
  done_gps=$(field grace_periods)
  sleeps=$(field leader_sleeps)
  if [[ $flavor != membarrier ]]; then
    echo "check_membarriers: grace runs the '$flavor' flavor (no membarrier); skipped"
    exit 77
  fi
  limit=$((done_gps + sleeps + startup))
  per_gp=$(awk -v c="$calls" -v g="$done_gps" 'BEGIN { printf "%.3f", c / g }')
  printf 'grace   %-8s %5d grace periods: %5d membarrier calls (%s per GP; %d leader sleeps; limit %d)\n' \
         "$mode" "$done_gps" "$calls" "$per_gp" "$sleeps" "$limit"
  if [[ $done_gps -ne $gps ]]; then
    echo "  FAIL: expected $gps grace periods"
    fail=1
  fi
  if [[ $calls -gt $limit ]]; then
    echo "  FAIL: more than one membarrier per grace period (+1 per leader sleep, +$startup at start-up)"
    fail=1
  fi
done

if [[ -n $urcu_prog ]]; then
  for mode in reader noreader; do
    traced "$urcu_prog" "$mode"
    done_gps=$(field grace_periods)
    per_gp=$(awk -v c="$calls" -v g="$done_gps" 'BEGIN { printf "%.3f", c / g }')
    printf 'liburcu %-8s %5d grace periods: %5d membarrier calls (%s per GP; reported, not checked)\n' \
           "$mode" "$done_gps" "$calls" "$per_gp"
  done
fi

if [[ $fail -ne 0 ]]; then
  echo "sync_membarriers_per_gp: FAILED"
  exit 1
fi
echo "sync_membarriers_per_gp: ok"
