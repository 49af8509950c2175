// src/grace_period.cpp — the grace-period engine (see grace_period.hpp and
// docs/design/grace-period.md).
#include "grace_period.hpp"

#include <sched.h>

#include <cstdio>
#include <thread>

#include "flavor.hpp"
#include "futex.hpp"
#include "grace/detail/reader.hpp"
#include "misuse.hpp"
#include "registry.hpp"
#include "stall.hpp"

namespace grace::detail {
namespace {

// Tunables.  Named so that tests and the model can reason about them.
constexpr int kLeaderSpins = 64;     // reader scans before a leader sleeps
constexpr int kFollowerSpins = 128;  // polls before a follower sleeps
constexpr int kExpeditedSpins = 32;  // pause-spins before an expedited wait yields
constexpr std::int64_t kMinStallPollNs = 1'000'000;      // 1 ms
constexpr std::int64_t kMaxStallPollNs = 1'000'000'000;  // 1 s
// While a domain holds producers back at its hard limit, stalls are due
// after 100 ms (src/registry.cpp): rescan often enough to see them.
constexpr std::int64_t kUrgentStallPollNs = 20'000'000;  // 20 ms

struct engine {
  // Grace periods started.  Written by the leader only (under leader); read
  // by gp_get_state() with acquire ([GP0] pairs with [GP1]'s release).
  atomic<std::uint64_t> seq{1};
  // Sequence of the last completed grace period.  Written by the leader
  // ([GP4] release); read by pollers and waiters ([GP4'] acquire).
  atomic<std::uint64_t> completed{1};
  // Leadership: 0 free, 1 held.  The leader runs grace periods.
  atomic<std::uint32_t> leader{0};
  // Bumped when a leader steps down; followers sleep on it.
  atomic<std::uint32_t> done_gen{0};
  atomic<std::uint32_t> done_waiters{0};
  // Bumped by readers waking a sleeping leader; the leader sleeps on it.
  atomic<std::uint32_t> reader_wake{0};
  // Number of expedited callers waiting: the leader must not sleep.
  atomic<std::uint32_t> expedite_requests{0};
  // The grace-period thread (rcu_start_poll): requested cookie and wake word.
  atomic<std::uint64_t> requested{0};
  atomic<std::uint32_t> gp_thread_wake{0};
  futex_mutex gp_thread_lock;  // guards gp_thread_started
  bool gp_thread_started = false;
  // Statistics (relaxed: counters only).
  atomic<std::uint64_t> n_expedited{0};
  atomic<std::uint64_t> n_sleeps{0};
  atomic<std::uint64_t> n_sleeps_unwoken{0};  // ended with no reader's wake
};

constinit engine g_engine;

// How long a sleeping leader sleeps before it rescans for stalls.
std::int64_t stall_poll_ns() noexcept {
  const std::int64_t quarter = stall_timeout_ns() / 4;
  return quarter < kMinStallPollNs ? kMinStallPollNs
                                   : (quarter > kMaxStallPollNs ? kMaxStallPollNs : quarter);
}

// Waits until every reader is outside a section or entered under seq_bits.
void wait_for_readers(std::uint64_t seq, std::uint64_t seq_bits, bool expedited) noexcept {
  int spins = 0;
  for (;;) {
    if (readers_quiescent(seq, seq_bits, spins >= kLeaderSpins)) return;
    const bool no_sleep =
        expedited || g_engine.expedite_requests.load(std::memory_order_relaxed) != 0;
    if (spins < kLeaderSpins) {
      ++spins;
      cpu_relax();
      continue;
    }
    if (no_sleep) {
      sched_yield();
      continue;
    }
    // Sleep until a reader leaves its section.  Relaxed RMW on the flag: the
    // heavy barrier below orders it before our rescan and before the
    // readers' flag loads.
    g_read_side.unlock_flags.fetch_or(kWriterSleeping, std::memory_order_relaxed);
    // [GP6] acquire pairs with [RD6]: if we read a reader's bump, its
    // section's end is visible to the rescan below.
    const std::uint32_t wake = g_engine.reader_wake.load(std::memory_order_acquire);
    // [GP5] pairs with [RD4] (membarrier flavor) or [RD5] (fence flavor):
    // either the rescan sees a reader's unlock, or that reader sees
    // kWriterSleeping and bumps reader_wake (so the futex does not sleep).
    heavy_barrier();
    // Sleep only while kWriterSleeping is still set: a reader that cleared
    // it has bumped reader_wake (after our snapshot, or the snapshot's
    // [GP6] shows us the clear) and so has woken us already.
    if (!readers_quiescent(seq, seq_bits, true) &&
        g_engine.expedite_requests.load(std::memory_order_relaxed) == 0 &&
        (g_read_side.unlock_flags.load(std::memory_order_relaxed) & kWriterSleeping) != 0) {
      g_engine.n_sleeps.fetch_add(1, std::memory_order_relaxed);
      // Bounded sleep: the rescan after it is what times stalled readers.
      const std::int64_t ns = stall_urgent() ? kUrgentStallPollNs : stall_poll_ns();
      const timespec timeout{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
      futex_wait(g_engine.reader_wake, wake, &timeout);
      // Relaxed: a statistic (a sleep that ran to its bound, or a signal);
      // the rescan below decides.
      if (g_engine.reader_wake.load(std::memory_order_relaxed) == wake) {
        g_engine.n_sleeps_unwoken.fetch_add(1, std::memory_order_relaxed);
      }
    }
    g_read_side.unlock_flags.fetch_and(~kWriterSleeping, std::memory_order_relaxed);
    spins = 0;
  }
}

// One grace period.  Caller holds leadership.
void run_grace_period(bool expedited) noexcept {
  const std::uint64_t s = g_engine.seq.load(std::memory_order_relaxed) + 1;  // leader-owned
  const std::uint64_t seq_bits = (s << kSeqShift) & kSeqMask;
  const std::uint64_t word =
      seq_bits | (g_read_side.gp_word.load(std::memory_order_relaxed) & kFenceBit) | 1;
  g_engine.seq.store(s, std::memory_order_release);  // [GP1] pairs with [GP0]
  // [GP1] release pairs with [RD1]: a reader that copies this word sees the
  // updater's earlier stores (the unpublished pointer).
  g_read_side.gp_word.store(word, std::memory_order_release);
  if (registered_reader_count() == 0) {
    // No reader thread exists, so none can be in a section.  A thread that
    // registers from now on takes the registry lock after our check, so it
    // copies the new word and sees the updaters' stores: their own ones
    // through [GP1], those of followers through their [SY1] fence and
    // [GP2-E] (liburcu takes the same shortcut).
    thread_fence(std::memory_order_seq_cst);  // [GP2-E] pairs with [SY1]
  } else {
    heavy_barrier();  // [GP2] pairs with [RD2]
    wait_for_readers(s, seq_bits, expedited);
  }
  // [GP4] release pairs with [GP4'] (pollers, followers): the grace period's
  // end happens before what they do after seeing it expire.
  g_engine.completed.store(s, std::memory_order_release);
  if (expedited) g_engine.n_expedited.fetch_add(1, std::memory_order_relaxed);
}

bool expired(rcu_cookie cookie) noexcept {
  return g_engine.completed.load(std::memory_order_acquire) >= cookie.seq;  // [GP4']
}

void step_down() noexcept {
  // [LD2] release pairs with [LD1]: the next leader sees seq as we left it.
  g_engine.leader.store(0, std::memory_order_release);
  // seq_cst RMW then seq_cst load; the follower does the mirror image
  // ([FW1]): either we see its done_waiters increment, or its futex_wait
  // sees the new done_gen.
  g_engine.done_gen.fetch_add(1, std::memory_order_seq_cst);  // [FW2] pairs with [FW1]
  // [FW2'] seq_cst load, the second half of [FW2]; pairs with [FW1].
  if (g_engine.done_waiters.load(std::memory_order_seq_cst) != 0) {
    futex_wake(g_engine.done_gen);
  }
}

void gp_thread_main() noexcept {
  for (;;) {
    // [GT2] acquire pairs with [GT1]: we then see every `requested` raised
    // before the wake we consume.
    const std::uint32_t gen = g_engine.gp_thread_wake.load(std::memory_order_acquire);
    // Relaxed: ordered after [GT2]; `requested` publishes nothing else.
    const rcu_cookie want{g_engine.requested.load(std::memory_order_relaxed)};
    if (!expired(want)) {
      gp_wait(want, false);
      continue;
    }
    futex_wait(g_engine.gp_thread_wake, gen);
  }
}

}  // namespace

rcu_cookie gp_get_state() noexcept {
  ensure_initialized();
  // [SY1] seq_cst fence pairs with [GP2-F] and [GP2-E]: the caller's earlier
  // stores (the unpublished pointer) precede the leader's fence, hence every
  // reader section the leader treats as quiescent, or that registers after
  // an empty-registry check, sees them.  Needed in the membarrier flavor
  // too: without it the unpublishing store may still sit in the caller's
  // store buffer when a reader copies the new sequence and loads the old
  // pointer, and [GP2] drains it too late (spin mutant cookie_unordered,
  // docs/design/verification.md).
  thread_fence(std::memory_order_seq_cst);
  return rcu_cookie{g_engine.seq.load(std::memory_order_acquire) + 1};  // [GP0]
}

bool gp_poll(rcu_cookie cookie) noexcept { return expired(cookie); }

void gp_wait(rcu_cookie cookie, bool expedited) noexcept {
  if (expired(cookie)) return;
  if (expedited) {
    g_engine.expedite_requests.fetch_add(1, std::memory_order_relaxed);
    wake_grace_period_waiter();  // a sleeping leader: stop sleeping
  }
  int spins = 0;
  while (!expired(cookie)) {
    std::uint32_t free = 0;
    // [LD1] acquire pairs with [LD2].
    if (g_engine.leader.compare_exchange_strong(free, 1, std::memory_order_acquire,
                                                std::memory_order_relaxed)) {
      while (!expired(cookie)) {
        run_grace_period(expedited ||
                         g_engine.expedite_requests.load(std::memory_order_relaxed) != 0);
      }
      step_down();
      break;
    }
    // Relaxed: a stale generation only makes the futex_wait below return at
    // once; the wait itself is ordered by [FW1]/[FW2].
    const std::uint32_t gen = g_engine.done_gen.load(std::memory_order_relaxed);
    if (expired(cookie)) break;
    if (spins < kFollowerSpins || expedited) {
      ++spins;
      if (spins < kExpeditedSpins) cpu_relax(); else sched_yield();
      continue;
    }
    g_engine.done_waiters.fetch_add(1, std::memory_order_seq_cst);  // [FW1]
    if (g_engine.leader.load(std::memory_order_relaxed) != 0 && !expired(cookie)) {
      futex_wait(g_engine.done_gen, gen);
    }
    g_engine.done_waiters.fetch_sub(1, std::memory_order_relaxed);
  }
  if (expedited) g_engine.expedite_requests.fetch_sub(1, std::memory_order_relaxed);
}

void gp_request(rcu_cookie cookie) noexcept {
  if (expired(cookie)) return;
  // Raise `requested` to the cookie.  Relaxed: [GT1] below publishes it to
  // the grace-period thread.
  std::uint64_t cur = g_engine.requested.load(std::memory_order_relaxed);
  while (cur < cookie.seq &&
         !g_engine.requested.compare_exchange_weak(cur, cookie.seq, std::memory_order_relaxed,
                                                   std::memory_order_relaxed)) {
  }
  g_engine.gp_thread_lock.lock();
  if (!g_engine.gp_thread_started) {
    try {
      std::thread(gp_thread_main).detach();
      g_engine.gp_thread_started = true;
    } catch (...) {
      print_message("rcu_start_poll: cannot start the grace-period thread; the grace period "
                    "will run when some thread next waits for one");
    }
  }
  g_engine.gp_thread_lock.unlock();
  // [GT1] release pairs with [GT2] on the grace-period thread: it then sees
  // the raised `requested`.
  g_engine.gp_thread_wake.fetch_add(1, std::memory_order_release);
  futex_wake(g_engine.gp_thread_wake);
}

void wake_grace_period_waiter() noexcept {
  // [RD6] release pairs with [GP6].
  g_engine.reader_wake.fetch_add(1, std::memory_order_release);
  futex_wake(g_engine.reader_wake);
}

gp_counters gp_stats() noexcept {
  return gp_counters{g_engine.completed.load(std::memory_order_relaxed) - 1,
                     g_engine.n_expedited.load(std::memory_order_relaxed),
                     g_engine.n_sleeps.load(std::memory_order_relaxed),
                     g_engine.n_sleeps_unwoken.load(std::memory_order_relaxed)};
}

void engine_child_after_fork() noexcept {
  // Only this thread exists.  A grace period the parent had in flight is
  // abandoned: completed stays behind seq, which only makes cookies wait
  // for the child's next grace period.
  g_engine.leader.store(0, std::memory_order_relaxed);
  g_engine.done_waiters.store(0, std::memory_order_relaxed);
  g_engine.expedite_requests.store(0, std::memory_order_relaxed);
  g_engine.gp_thread_lock.reset_after_fork();
  g_engine.gp_thread_started = false;
  g_read_side.unlock_flags.fetch_and(~kWriterSleeping, std::memory_order_relaxed);
}

}  // namespace grace::detail
