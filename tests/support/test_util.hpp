// tests/support/test_util.hpp — small helpers shared by the unit tests.
//
//   scaled(n)          iteration counts: n in ordinary builds, less under
//                      TSAN (5-10x slower) so the whole suite stays fast.
//   watchdog           aborts the process with a message if a blocking step
//                      hangs, so a deadlock fails CI instead of stalling it.
//   wait_until(pred)   polls pred (1 ms naps) until true or a generous limit;
//                      the limit is a hang detector, never a timing claim.
//   one_shot           a flag a thread can wait for (test handshakes).
//   safety_window()    how long a test gives a *broken* implementation to do
//                      the wrong thing (e.g. return from rcu_synchronize while
//                      a reader is still inside).  Correct code passes however
//                      long or short it is: it is a window, not an assertion.
#pragma once

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "grace/rcu.hpp"

namespace grace_test {

#if defined(GRACE_TSAN)
inline constexpr bool kTsan = true;
#else
inline constexpr bool kTsan = false;
#endif

// n in ordinary and ASAN builds, n / 8 (at least 1) under TSAN.
constexpr long scaled(long n) { return kTsan ? (n / 8 > 0 ? n / 8 : 1) : n; }

inline std::chrono::milliseconds safety_window() { return std::chrono::milliseconds(50); }

// Seconds after which a blocking step counts as hung.
inline constexpr int kHangSeconds = kTsan ? 120 : 60;

// Aborts the process (with `what` on stderr) unless destroyed within
// `seconds`.  One per blocking step that could deadlock.
class watchdog {
 public:
  explicit watchdog(const char* what, int seconds = kHangSeconds)
      : what_(what), thread_([this, seconds] { run(seconds); }) {}
  ~watchdog() {
    {
      std::lock_guard<std::mutex> g(m_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;

 private:
  void run(int seconds) {
    std::unique_lock<std::mutex> g(m_);
    if (!cv_.wait_for(g, std::chrono::seconds(seconds), [this] { return done_; })) {
      std::fprintf(stderr, "watchdog: '%s' still blocked after %d s: hang, aborting\n", what_,
                   seconds);
      std::abort();
    }
  }

  const char* what_;
  std::mutex m_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;  // last: starts after the fields above exist
};

// Polls pred until it holds; false if it did not within kHangSeconds.
template <class Pred>
bool wait_until(Pred pred, int seconds = kHangSeconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// A flag set once and waited for.
class one_shot {
 public:
  void set() { flag_.store(true, std::memory_order_release); }
  bool is_set() const { return flag_.load(std::memory_order_acquire); }
  // Spins with yields; aborts on a hang.
  void wait() const {
    if (!wait_until([this] { return is_set(); })) {
      std::fprintf(stderr, "one_shot::wait: never set: hang, aborting\n");
      std::abort();
    }
  }

 private:
  std::atomic<bool> flag_{false};
};

// A thread that enters a read-side section of `dom` and stays inside until
// release() (or destruction).  The constructor returns once it is inside.
class held_reader {
 public:
  explicit held_reader(grace::rcu_domain& dom = grace::rcu_default_domain())
      : thread_([this, &dom] {
          dom.lock();
          in_.set();
          release_.wait();
          dom.unlock();
        }) {
    in_.wait();
  }
  held_reader(const held_reader&) = delete;
  held_reader& operator=(const held_reader&) = delete;
  ~held_reader() { release(); }
  // Lets the reader leave its section and waits for the thread to end.
  void release() {
    release_.set();
    if (thread_.joinable()) thread_.join();
  }

 private:
  one_shot in_;
  one_shot release_;
  std::thread thread_;  // last: the thread uses the members above
};

}  // namespace grace_test
