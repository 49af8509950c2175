// src/debug_yield.cpp — the GRACE_DEBUG_YIELD seam (grace/detail/atomic.hpp):
// at every atomic access, sometimes yield the CPU or spin a little, so that
// interleavings a 2-core machine rarely produces happen often.
#include "grace/detail/atomic.hpp"

#if defined(GRACE_DEBUG_YIELD) && GRACE_DEBUG_YIELD
#include <sched.h>

#include <cstdint>

namespace grace::detail {

void debug_yield() noexcept {
  // xorshift per thread: no shared state, no atomics (it must not recurse).
  static thread_local std::uint64_t state = 0x9e3779b97f4a7c15ULL ^
                                            reinterpret_cast<std::uintptr_t>(&state);
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  const unsigned roll = static_cast<unsigned>(state % 64);
  if (roll == 0) {
    sched_yield();
  } else if (roll < 4) {
    for (unsigned i = 0; i < roll * 64; ++i) cpu_relax();
  }
}

}  // namespace grace::detail
#endif
