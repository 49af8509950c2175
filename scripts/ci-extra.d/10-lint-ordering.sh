#!/usr/bin/env bash
# Ordering-label lint (scripts/lint-ordering.py): every non-relaxed atomic
# operation, fence, compiler fence and heavy barrier in include/ and src/ has
# a [LABEL] naming its partner; docs/design/memory-ordering.md's table is
# current; and the negative control (tests/model/lint-negative) is rejected.
# Takes about a second.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

python3 scripts/lint-ordering.py
python3 scripts/lint-ordering.py --check-doc docs/design/memory-ordering.md

# Negative control: the lint must reject the bad input, for each reason.
set +e
out=$(python3 scripts/lint-ordering.py --files tests/model/lint-negative/*.cpp 2>&1)
rc=$?
set -e
echo "$out" | sed 's/^/  negative control: /'
if [[ $rc -eq 0 ]]; then
  echo "lint-ordering: FAIL: the negative control passed the lint" >&2
  exit 1
fi
for want in "unlabeled ordering point: load(acquire)" "unlabeled ordering point: atomic_thread_fence" \
            "[NX9] is named but no ordering point carries it" "[NX2] has no partner"; do
  if ! grep -qF -- "$want" <<<"$out"; then
    echo "lint-ordering: FAIL: the negative control did not report: $want" >&2
    exit 1
  fi
done
echo "lint-ordering: negative control rejected, as expected"
