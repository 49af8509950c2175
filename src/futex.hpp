// src/futex.hpp — thin wrappers over futex(2) and a small futex-based mutex.
//
// The mutex is ours rather than std::mutex for one reason: after fork() the
// child must be able to reset it to "unlocked" whatever state the parent's
// other threads left it in (src/fork.cpp), which is well defined for a plain
// word and undefined for std::mutex.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <ctime>

#include "grace/detail/atomic.hpp"

namespace grace::detail {

// Sleeps while *word == expected (the kernel compares atomically with the
// sleep, so a change made before the call is never missed).  Returns on a
// wake, a changed value, a signal or the timeout; callers re-check.
inline void futex_wait(atomic<std::uint32_t>& word, std::uint32_t expected,
                       const timespec* timeout = nullptr) noexcept {
  syscall(SYS_futex, &word.raw(), FUTEX_WAIT_PRIVATE, expected, timeout, nullptr, 0);
}

inline void futex_wake(atomic<std::uint32_t>& word, int count = INT_MAX) noexcept {
  syscall(SYS_futex, &word.raw(), FUTEX_WAKE_PRIVATE, count, nullptr, nullptr, 0);
}

// Drepper's three-state futex mutex ("Futexes Are Tricky", mutex 3):
// 0 unlocked, 1 locked, 2 locked with possible sleepers.
class futex_mutex {
 public:
  constexpr futex_mutex() noexcept = default;

  void lock() noexcept {
    std::uint32_t c = 0;
    // [MX1] acquire pairs with [MX2]: the previous owner's critical section
    // happens before ours.
    if (state_.compare_exchange_strong(c, 1, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
      return;
    }
    if (c != 2) c = state_.exchange(2, std::memory_order_acquire);  // [MX1]
    while (c != 0) {
      futex_wait(state_, 2);
      c = state_.exchange(2, std::memory_order_acquire);  // [MX1]
    }
  }

  bool try_lock() noexcept {
    std::uint32_t c = 0;
    return state_.compare_exchange_strong(c, 1, std::memory_order_acquire,  // [MX1]
                                          std::memory_order_relaxed);
  }

  void unlock() noexcept {
    // [MX2] release pairs with [MX1].
    if (state_.exchange(0, std::memory_order_release) == 2) futex_wake(state_, 1);
  }

  // Only for the child after fork(): no other thread exists.
  void reset_after_fork() noexcept { state_.store(0, std::memory_order_relaxed); }

 private:
  atomic<std::uint32_t> state_{0};
};

}  // namespace grace::detail
