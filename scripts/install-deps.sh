#!/usr/bin/env bash
# Install the Debian 12 packages grace's build, tests, model checking and
# benchmarks need. Idempotent: does nothing (and needs no network) when all are
# present; otherwise runs `apt-get update` once and installs only what is
# missing. Uses sudo only when not already root.
set -euo pipefail

packages=(
  build-essential cmake g++ pkg-config binutils   # toolchain
  clang-14 libclang-rt-14-dev                     # clang build + its sanitizer runtimes
  libgtest-dev googletest                         # unit tests
  libbenchmark-dev gnuplot-nox                    # benchmarks and their plots
  liburcu-dev libck-dev libtbb-dev                # peers measured against in benchmarks
  spin                                            # the Promela model (tests/model)
  valgrind strace                                 # debugging aids used by CI extras
)

missing=()
for p in "${packages[@]}"; do
  # Read the Status line: `dpkg -s` also succeeds for a removed package whose
  # config files remain. (sed reads all input, so no SIGPIPE under pipefail.)
  status=$(dpkg -s "$p" 2>/dev/null | sed -n 's/^Status: //p' || true)
  if [[ $status != "install ok installed" ]]; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-deps: not root and no sudo" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${missing[@]}"
