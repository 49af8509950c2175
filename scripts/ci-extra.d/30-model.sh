#!/usr/bin/env bash
# The spin model of the grace-period algorithm and its mutants (label model;
# tests/model, docs/design/verification.md).  About 2 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
build=build/release
if [[ ! -f $build/CTestTestfile.cmake ]]; then
  cmake --preset release >/dev/null
fi
command -v spin >/dev/null || { echo "30-model.sh: spin missing (scripts/install-deps.sh)" >&2; exit 1; }
# Generate the test list if the tree was configured before tests/model existed.
if ! ctest --test-dir "$build" -N -L model | grep -q model_grace; then
  cmake "$build" >/dev/null
fi
ctest --test-dir "$build" -L model --output-on-failure -j "${GRACE_JOBS:-2}"
