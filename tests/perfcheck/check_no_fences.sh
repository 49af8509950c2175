#!/usr/bin/env bash
# ctest read_pair_no_fences: the reader fast path is plain loads and stores.
#
#   check_no_fences.sh PROGRAM [LIBGRACE_SO]
#
# PROGRAM is perfcheck_read_pair (read_pair.cpp).  For each checked function,
# objdump -d disassembles its body, and
#   * the whole body must contain no `lock` prefix, no mfence, no xchg (an
#     implicit lock) and no reference to __tls_get_addr (initial-exec TLS);
#   * its fast path must contain no call: the instructions from the entry,
#     falling through every conditional branch ([[likely]] lays the fast path
#     out straight) and following unconditional jumps, up to the `ret`.  The
#     slow paths (registration, fence flavor, waking a writer) are calls by
#     design and live off that path.
# Positive: grace_read_pair, grace_read_pair_x8 must pass.
# Negative control: bad_fence_pair, bad_rmw_pair, bad_seq_cst_store_pair and
# bad_call_pair each hold one forbidden thing and must each be rejected; a
# check that passes them proves nothing, so that fails this test.
# Library (shared builds): libgrace.so must export the TLS symbol
# grace::detail::tls_reader_word and carry the STATIC_TLS flag (it uses the
# initial-exec model), and PROGRAM must reach the word with an initial-exec
# relocation (R_X86_64_TPOFF64), not a dynamic one (DTPMOD64/DTPOFF64).
# Exit 77 (skip) when objdump or readelf is missing.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 PROGRAM [LIBGRACE_SO]" >&2
  exit 2
fi
prog=$1
lib=${2:-}
for tool in objdump readelf; do
  command -v "$tool" >/dev/null 2>&1 || { echo "check_no_fences: $tool not found; skipped"; exit 77; }
done

tls_symbol=_ZN5grace6detail15tls_reader_wordE

# check_function NAME [VERBOSE]: prints the fast path and the verdict; returns 0 when
# the function is clean, 1 when not (with the reasons on stdout).
check_function() {
  local name=$1 listing
  listing=$(objdump -d --no-show-raw-insn --disassemble="$name" "$prog" |
            awk -v fn="<$name>:" '$0 ~ fn { on = 1; next } on && /^$/ { exit } on { print }')
  if [[ -z $listing ]]; then
    echo "  $name: not found in $prog"
    return 2
  fi
  # Each line: "  addr:\tmnemonic operands".  Walk the fast path in awk.
  awk -v name="$name" -v verbose="${2:-0}" '
    function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
    {
      split($0, parts, "\t")
      addr = trim(parts[1]); sub(/:$/, "", addr)
      insn = trim(parts[2]); for (i = 3; i in parts; ++i) insn = insn " " trim(parts[i])
      n = ++count; at[n] = addr; text[n] = insn; index_of[addr] = n
    }
    END {
      bad = 0
      for (i = 1; i <= count; ++i) {
        t = text[i]
        if (t ~ /^lock[ \t]/ || t ~ /^lock$/) { print "  " name ": lock prefix: " t; bad = 1 }
        if (t ~ /mfence/) { print "  " name ": fence: " t; bad = 1 }
        # xchg with memory is implicitly locked; `xchg %ax,%ax` is a nop.
        if (t ~ /^xchg/ && t ~ /\(/) { print "  " name ": xchg (implicitly locked): " t; bad = 1 }
        if (t ~ /__tls_get_addr/) { print "  " name ": dynamic TLS: " t; bad = 1 }
      }
      # The fast path: fall through conditional branches, follow jmp, stop at ret.
      i = 1; steps = 0; path = ""
      while (i >= 1 && i <= count && steps < 200) {
        t = text[i]; ++steps
        path = path "    " t "\n"
        split(t, f, /[ \t]+/)
        m = f[1]
        if (m ~ /^call/) { print "  " name ": call on the fast path: " t; bad = 1 }
        if (m ~ /^ret/) break
        if (m ~ /^jmp/) {
          if (f[2] in index_of) { i = index_of[f[2]]; continue }
          print "  " name ": jump out of the function on the fast path: " t; bad = 1; break
        }
        ++i
      }
      if (m !~ /^ret/ && !bad) { print "  " name ": fast path does not reach a ret"; bad = 1 }
      printf "  %s: fast path, %d instructions%s\n", name, steps, verbose ? ":" : ""
      if (verbose) printf "%s", path
      exit bad
    }' <<<"$listing"
}

fail=0
echo "== positive: the reader fast path must be plain loads and stores"
for fn in grace_read_pair grace_read_pair_x8; do
  verbose=0
  [[ $fn == grace_read_pair ]] && verbose=1
  if check_function "$fn" "$verbose"; then
    echo "  $fn: ok"
  else
    echo "  $fn: REJECTED"
    fail=1
  fi
done

echo "== negative control: each deliberately bad function must be rejected"
# Each must be rejected for its own reason, not for something incidental.
declare -A expected=(
  [bad_fence_pair]='lock prefix|fence'
  [bad_rmw_pair]='lock prefix'
  [bad_seq_cst_store_pair]='xchg|fence'
  [bad_call_pair]='call on the fast path'
)
for fn in bad_fence_pair bad_rmw_pair bad_seq_cst_store_pair bad_call_pair; do
  rc=0
  out=$(check_function "$fn") || rc=$?
  reasons=$(grep -v 'fast path,' <<<"$out" || true)
  echo "$reasons"
  if [[ $rc -eq 1 ]] && grep -Eq "${expected[$fn]}" <<<"$reasons"; then
    echo "  $fn: rejected, as it must be"
  else
    echo "$out"
    echo "  $fn: NOT rejected (rc $rc): the check cannot see what it is for"
    fail=1
  fi
done

echo "== the program reaches the reader word with initial-exec TLS"
relocs=$(readelf -rW "$prog" | grep "$tls_symbol" || true)
echo "${relocs:-  (no relocation names $tls_symbol)}" | sed 's/^/  /'
if ! grep -q 'TPOFF64' <<<"$relocs" || grep -q 'DTPMOD64\|DTPOFF64' <<<"$relocs"; then
  echo "  FAIL: expected an R_X86_64_TPOFF64 relocation and no dynamic TLS one"
  fail=1
fi

if [[ -n $lib ]]; then
  echo "== the library: $lib"
  sym=$(readelf --dyn-syms -W "$lib" |
        awk -v s="$tls_symbol" '$8 == s && $4 == "TLS" && $7 != "UND"')
  if [[ -n $sym ]]; then
    echo "  exports TLS symbol: $sym"
  else
    echo "  FAIL: no defined TLS symbol $tls_symbol in the dynamic symbol table"
    fail=1
  fi
  flags=$(readelf -d "$lib" | grep '(FLAGS)' || true)
  if grep -q 'STATIC_TLS' <<<"$flags"; then
    echo "  flags: $(sed 's/.*(FLAGS)[ \t]*//' <<<"$flags") (initial-exec TLS)"
  else
    echo "  FAIL: no STATIC_TLS flag (readelf -d: '${flags:-no FLAGS entry}')"
    fail=1
  fi
else
  echo "== the library: static build, no shared library to check"
fi

if [[ $fail -ne 0 ]]; then
  echo "read_pair_no_fences: FAILED"
  exit 1
fi
echo "read_pair_no_fences: ok"
