// tests/support/litmus.hpp — a tiny harness for litmus-style tests.
//
// A litmus test runs a small multi-threaded scenario many times and counts
// the runs that ended in a *forbidden* outcome (one that a guarantee of
// docs/design/requirements.md says cannot happen).  Each run:
//
//   1. reset()        on the calling thread, while the other threads wait;
//   2. a start barrier: the caller bumps a generation counter; every thread
//      (the caller too) then announces itself and spins until all have, so
//      they start at once, all on a CPU (on a busy machine a thread that was
//      merely woken could start milliseconds late), each after a small
//      random jitter so that both orders of the threads' first steps occur;
//   3. bodies[i]()    thread i's part; bodies[0] runs on the calling thread,
//                     the others on threads that live for the whole series
//                     (so grace registers each of them once);
//   4. check()        on the calling thread, after every body returned:
//                     returns the run's outcome, a short label ("r1=0 r2=1")
//                     and whether it is forbidden.
//
//   litmus::scenario s;
//   s.reset  = [&] { a.store(0, relaxed); ... };
//   s.bodies = {[&] { ... thread 0 ... }, [&] { ... thread 1 ... }};
//   s.check  = [&] { return litmus::outcome{label, forbidden}; };
//   litmus::result r = litmus::run(s, litmus::iterations());
//   EXPECT_EQ(r.forbidden, 0) << r.summary();
//
// A negative control runs the same scenario with a broken primitive and
// run(s, litmus::broken_attempts(), litmus::stop_at_first) so it stops as
// soon as the forbidden outcome is seen.
//
// Widening windows.  A forbidden outcome of a broken primitive usually needs
// one thread to act while another is between two steps.  Between the two
// steps, the scenario first await()s a sign that the other thread is running
// and has passed its first step (e.g. "the updater has stored x"; something
// a correct implementation always lets happen), then widen(pred)s: spins
// until pred() holds or a short window (kWindow) has passed, with pred() the
// event that would expose the bug (e.g. "the updater has already stored y").
// A correct implementation never lets that event happen inside the window,
// so it costs the whole window there; a broken one is caught in most runs,
// even on a machine busy with other work.  The window is not a timing
// claim: any length is correct, only the chance of catching a broken
// variant changes.
//
// GRACE_LITMUS_VERBOSE=1 prints each series' outcome histogram.
//
// Iterations: GRACE_LITMUS_ITERS (runs per correct scenario) overrides the
// default, which keeps the whole Litmus suite under ~5 s in release builds
// and ~30 s under ASAN/TSAN on 2 cores.  scripts/ci-extra.d/25-litmus-yield.sh
// raises it for the yield-injection build.
#pragma once

#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "grace/detail/atomic.hpp"
#include "sanitizers.hpp"

namespace grace_test::litmus {

// Runs per correct scenario by default, and the widening window: fewer runs
// and a wider window under the sanitizers (5-10x slower per access).
#if GRACE_TEST_TSAN
inline constexpr long kDefaultIterations = 300;
inline constexpr std::chrono::microseconds kWindow{200};
#elif GRACE_TEST_ASAN
inline constexpr long kDefaultIterations = 300;
inline constexpr std::chrono::microseconds kWindow{100};
#else
inline constexpr long kDefaultIterations = 1000;
inline constexpr std::chrono::microseconds kWindow{50};
#endif

// Runs per correct scenario: GRACE_LITMUS_ITERS if set (>0), else the default.
inline long iterations() {
  const char* s = std::getenv("GRACE_LITMUS_ITERS");
  if (s != nullptr) {
    const long n = std::atol(s);
    if (n > 0) return n;
  }
  return kDefaultIterations;
}

// The most runs a negative control may take to see its forbidden outcome.
// It stops at the first one, so this only bounds a failing control.
inline long broken_attempts() { return 20 * iterations() + 2000; }

// Per-thread xorshift: no shared state, so it adds no synchronization.
inline std::uint64_t next_random() noexcept {
  static thread_local std::uint64_t state =
      0x9e3779b97f4a7c15ULL ^ reinterpret_cast<std::uintptr_t>(&state);
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

// Spins with pause (`spins` times), then yields: the machine may have fewer
// cores than the scenario has threads, and a pure spin would starve the
// thread it waits for.
template <class Pred>
inline void spin_wait(Pred pred, unsigned spins = 256) {
  for (unsigned i = 0; !pred(); ++i) {
    if (i < spins) {
      grace::detail::cpu_relax();
    } else {
      sched_yield();
    }
  }
}

// Waits for an event that always happens (no time limit: the test's
// watchdog turns a hang into a failure).
template <class Pred>
inline void await(Pred pred) {
  spin_wait(pred);
}

// Spins until pred() or kWindow (or `window`) has passed; returns pred().
template <class Pred>
inline bool widen(Pred pred, std::chrono::microseconds window = kWindow) {
  const auto end = std::chrono::steady_clock::now() + window;
  for (unsigned i = 0;; ++i) {
    if (pred()) return true;
    if ((i & 15) == 15 && std::chrono::steady_clock::now() >= end) return pred();
    grace::detail::cpu_relax();
  }
}

struct outcome {
  std::string label;  // e.g. "r1=0 r2=1"
  bool forbidden = false;
};

struct scenario {
  std::function<void()> reset = [] {};
  std::vector<std::function<void()>> bodies;
  std::function<outcome()> check;
  // Each thread spins a random 0..jitter pauses (~30 ns each on the CI
  // machine) before its body, so that either thread's first step can come
  // first.  0: start together, for store-buffering tests whose window is a
  // few nanoseconds.
  unsigned jitter = 64;
};

struct result {
  long runs = 0;
  long forbidden = 0;
  std::map<std::string, long> histogram;  // outcome label -> runs

  std::string summary() const {
    std::string s = std::to_string(runs) + " runs, " + std::to_string(forbidden) +
                    " forbidden; outcomes:";
    for (const auto& [label, n] : histogram) s += " [" + label + "] x" + std::to_string(n);
    return s;
  }
};

enum class stop_policy { run_all, stop_at_first };
inline constexpr stop_policy run_all = stop_policy::run_all;
inline constexpr stop_policy stop_at_first = stop_policy::stop_at_first;

inline void jitter_spin(unsigned jitter) {
  if (jitter == 0) return;
  const unsigned n = static_cast<unsigned>(next_random() % (jitter + 1));
  for (unsigned i = 0; i < n; ++i) grace::detail::cpu_relax();
}

// The start barrier spins this long (pauses) before it yields: a thread that
// yields there would start late, after the others' first steps.
inline constexpr unsigned kArrivalSpins = 8192;

// Runs `s` up to `runs` times (see the banner).
inline result run(const scenario& s, long runs, stop_policy stop = run_all) {
  result res;
  const std::size_t n = s.bodies.size();
  // The start barrier: workers wait for generation to change; done counts
  // the workers that finished the current run.  Release/acquire on both, so
  // reset() happens before every body and every body before check().
  std::atomic<long> generation{0};
  std::atomic<std::size_t> arrived{0};
  std::atomic<std::size_t> done{0};
  std::atomic<bool> quit{false};
  std::vector<std::thread> workers;
  for (std::size_t i = 1; i < n; ++i) {
    workers.emplace_back([&, i] {
      long seen = 0;
      for (;;) {
        spin_wait([&] { return generation.load(std::memory_order_acquire) != seen; });
        seen = generation.load(std::memory_order_acquire);
        if (quit.load(std::memory_order_acquire)) return;
        arrived.fetch_add(1, std::memory_order_acq_rel);
        spin_wait([&] { return arrived.load(std::memory_order_acquire) == n; }, kArrivalSpins);
        jitter_spin(s.jitter);
        s.bodies[i]();
        done.fetch_add(1, std::memory_order_release);
      }
    });
  }
  for (long r = 0; r < runs; ++r) {
    s.reset();
    done.store(0, std::memory_order_relaxed);
    arrived.store(0, std::memory_order_relaxed);
    generation.store(r + 1, std::memory_order_release);
    arrived.fetch_add(1, std::memory_order_acq_rel);
    spin_wait([&] { return arrived.load(std::memory_order_acquire) == n; }, kArrivalSpins);
    jitter_spin(s.jitter);
    s.bodies[0]();
    spin_wait([&] { return done.load(std::memory_order_acquire) == n - 1; });
    const outcome o = s.check();
    ++res.runs;
    ++res.histogram[o.label];
    if (o.forbidden) {
      ++res.forbidden;
      if (stop == stop_at_first) break;
    }
  }
  quit.store(true, std::memory_order_release);
  generation.fetch_add(1, std::memory_order_release);
  for (std::thread& t : workers) t.join();
  if (std::getenv("GRACE_LITMUS_VERBOSE") != nullptr) {
    std::printf("litmus: %s\n", res.summary().c_str());
  }
  return res;
}

}  // namespace grace_test::litmus
