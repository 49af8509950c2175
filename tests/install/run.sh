#!/usr/bin/env bash
# End-to-end check of the installed package (ctest: install_consumer).
#
#   tests/install/run.sh BUILD_DIR SOURCE_DIR
#
# 1. cmake --install BUILD_DIR into a fresh temporary prefix;
# 2. configure, build and run tests/install/consumer/ against it with
#    find_package(grace CONFIG REQUIRED);
# 3. compile the same main.cpp with `g++ $(pkg-config --cflags --libs grace)`
#    using only the prefix's pkgconfig directory, and run it.
# Any failure fails the test.
#
# A sanitizer build of libgrace needs a sanitized consumer (the runtime must be
# linked into the executable), so the build's compiler and GRACE_SANITIZE are
# read from BUILD_DIR/CMakeCache.txt and passed on.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 BUILD_DIR SOURCE_DIR" >&2
  exit 2
fi
build_dir=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
consumer_src="$source_dir/tests/install/consumer"

work=$(mktemp -d "${TMPDIR:-/tmp}/grace-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"

cache_get() {  # cache_get VAR -> value from BUILD_DIR/CMakeCache.txt, or empty
  sed -n "s/^$1:[A-Z]*=//p" "$build_dir/CMakeCache.txt" | head -n1
}
cxx=$(cache_get CMAKE_CXX_COMPILER)
cc=$(cache_get CMAKE_C_COMPILER)
build_type=$(cache_get CMAKE_BUILD_TYPE)
sanitize=$(cache_get GRACE_SANITIZE)

san_flags=""
case "$sanitize" in
  "") ;;
  address) san_flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" ;;
  thread) san_flags="-fsanitize=thread" ;;
  *) echo "run.sh: unknown GRACE_SANITIZE '$sanitize'" >&2; exit 2 ;;
esac

echo "== install $build_dir -> $prefix"
cmake --install "$build_dir" --prefix "$prefix"

# Where the library landed (lib, lib64 or lib/<multiarch>).
libdir=$(dirname "$(find "$prefix" -name 'libgrace.*' -print -quit)")
pcdir=$(dirname "$(find "$prefix" -name grace.pc -print -quit)")
[[ -f "$prefix/include/grace/rcu.hpp" ]] || { echo "run.sh: include/grace/rcu.hpp not installed" >&2; exit 1; }

echo "== consumer via find_package(grace)"
cmake -S "$consumer_src" -B "$work/consumer-build" \
  -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE="${build_type:-Release}" \
  ${cxx:+-DCMAKE_CXX_COMPILER="$cxx"} \
  ${cc:+-DCMAKE_C_COMPILER="$cc"} \
  -DCMAKE_CXX_FLAGS="$san_flags" \
  -DCMAKE_EXE_LINKER_FLAGS="$san_flags"
cmake --build "$work/consumer-build"
LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$work/consumer-build/app"
echo "consumer (cmake): ok"

echo "== consumer via pkg-config"
# A plain build is checked with g++ whatever compiled the library (the ABI is
# shared); a sanitized one needs the same toolchain's sanitizer runtime.
pc_cxx=g++
if [[ -n "$sanitize" && -n "$cxx" ]]; then pc_cxx=$cxx; fi
pc_flags=$(PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_LIBDIR="$pcdir" pkg-config --cflags --libs grace)
echo "pkg-config: $pc_flags"
# shellcheck disable=SC2086  # word splitting of the flags is intended
"$pc_cxx" -std=c++20 $san_flags "$consumer_src/main.cpp" -o "$work/app-pc" $pc_flags
LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$work/app-pc"
echo "consumer (pkg-config): ok"
