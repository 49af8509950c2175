// src/registry.cpp — reader registration, thread exit, the read side's slow
// paths and fork handling.
#include "registry.hpp"

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "flavor.hpp"
#include "futex.hpp"
#include "grace/detail/reader.hpp"
#include "grace_period.hpp"
#include "misuse.hpp"
#include "stall.hpp"

namespace grace::detail {

// ---- The read side's globals (declared in grace/detail/reader.hpp) --------

// Sequence 1, N == 1; F is added at start-up in the fence flavor.
constinit read_side_globals g_read_side{};
constinit thread_local atomic<std::uint64_t> tls_reader_word{kUnregisteredWord};

namespace {

struct reader_node {
  atomic<std::uint64_t>* word = nullptr;  // the owner's tls_reader_word
  pid_t tid = 0;
  // Guarded by g_registry_lock.
  reader_node* prev = nullptr;
  reader_node* next = nullptr;
  // Stall tracking, written by scans: the word this reader blocked a grace
  // period with, since when, and the last word reported as a stall.
  std::uint64_t blocking_word = 0;
  std::int64_t blocking_since_ns = 0;
  std::uint64_t reported_word = 0;
  // End of fields guarded by g_registry_lock.
};

constinit thread_local reader_node tls_node;
constinit thread_local bool tls_registered = false;
constinit thread_local bool tls_exit_hook_armed = false;

// Guards the list below.  Never held while sleeping.
constinit futex_mutex g_registry_lock;
// Guarded by g_registry_lock: the registered readers.
constinit reader_node* g_readers = nullptr;
constinit std::size_t g_reader_count = 0;
// End of fields guarded by g_registry_lock.

pthread_key_t g_exit_key;

// How long a reader must block a grace period, while a domain sits at its
// hard limit, before it is reported as stalled.
constexpr std::int64_t kUrgentStallNs = 100'000'000;  // 100 ms

void link(reader_node* n) noexcept {
  n->prev = nullptr;
  n->next = g_readers;
  if (g_readers != nullptr) g_readers->prev = n;
  g_readers = n;
  ++g_reader_count;
}

void unlink(reader_node* n) noexcept {
  if (n->prev != nullptr) n->prev->next = n->next; else g_readers = n->next;
  if (n->next != nullptr) n->next->prev = n->prev;
  n->prev = n->next = nullptr;
  --g_reader_count;
}

// Ends a sleeping leader's wait for a section that is over: only the
// thread that clears kWriterSleeping wakes it (one futex wake per sleep, not
// one per unlock).  Relaxed: [RD6] orders the clear before the bump that the
// leader's [GP6] may read, and the leader re-checks the flag before it sleeps.
void wake_sleeping_leader() noexcept {
  if ((g_read_side.unlock_flags.fetch_and(~kWriterSleeping, std::memory_order_relaxed) &
       kWriterSleeping) != 0) {
    wake_grace_period_waiter();
  }
}

void on_thread_exit(void*) noexcept {
  reclaim_thread_exit();
  if (!tls_registered) return;
  const std::uint64_t word = tls_reader_word.load(std::memory_order_relaxed);
  if ((word & kNestMask) != 0) {
    report_misuse("thread exit",
                  "the thread exited inside a read-side section (lock() without unlock()); "
                  "it is unregistered as if it had unlocked",
                  misuse_action::abort_if_checked);
  }
  g_registry_lock.lock();
  unlink(&tls_node);
  g_registry_lock.unlock();
  if ((word & kNestMask) != 0) {
    // The abandoned section may be the one a sleeping leader waits for, and
    // no unlock of it will wake the leader (read_unlock_slow() wakes only
    // from such a section): wake it here.  A leader whose rescan still saw
    // this thread took the registry lock before our unlink, after its
    // fetch_or of the flag, so our fetch_and sees the flag set.
    wake_sleeping_leader();
  }
  // No scan can see this word any more; a later lock() (from another
  // thread-exit destructor) registers again.
  tls_reader_word.store(kUnregisteredWord, std::memory_order_relaxed);
  tls_registered = false;
}

void prepare_fork() noexcept {
  reclaim_prepare_fork();
  g_registry_lock.lock();
}

void parent_after_fork() noexcept {
  g_registry_lock.unlock();
  reclaim_parent_after_fork();
}

// The child has one thread: this one.  Every other registered reader belongs
// to a thread that does not exist here; its section (if any) is abandoned
// with it, so it must not hold back the child's grace periods.
void child_after_fork() noexcept {
  g_registry_lock.reset_after_fork();
  g_readers = nullptr;
  g_reader_count = 0;
  if (tls_registered) {
    tls_node.tid = static_cast<pid_t>(syscall(SYS_gettid));
    link(&tls_node);
  }
  engine_child_after_fork();
  reclaim_child_after_fork();
}

}  // namespace

void install_process_hooks() noexcept {
  if (pthread_key_create(&g_exit_key, on_thread_exit) != 0) {
    report_misuse("grace start-up", "pthread_key_create failed", misuse_action::abort_always);
  }
  pthread_atfork(prepare_fork, parent_after_fork, child_after_fork);
}

void arm_thread_exit_hook() noexcept {
  if (tls_exit_hook_armed) return;
  ensure_initialized();
  // A non-null value makes the key's destructor run at thread exit; keys run
  // after C++ thread_local destructors, which may still use grace.
  pthread_setspecific(g_exit_key, &tls_node);
  tls_exit_hook_armed = true;
}

void register_reader_thread() noexcept {
  if (tls_registered) return;
  ensure_initialized();
  arm_thread_exit_hook();
  tls_node.word = &tls_reader_word;
  tls_node.tid = static_cast<pid_t>(syscall(SYS_gettid));
  // The idle word: outside any section, F as in the global word.  Relaxed:
  // no scan sees this word before the registry lock publishes the node.
  const std::uint64_t idle = g_read_side.gp_word.load(std::memory_order_relaxed) & ~kNestMask;
  tls_reader_word.store(idle, std::memory_order_relaxed);
  g_registry_lock.lock();
  link(&tls_node);
  g_registry_lock.unlock();
  tls_registered = true;
  // A thread-exit destructor may have cleared the key after it ran; re-arm.
  pthread_setspecific(g_exit_key, &tls_node);
}

bool readers_quiescent(std::uint64_t seq, std::uint64_t seq_bits, bool check_stalls) noexcept {
  constexpr int kMaxReports = 8;
  rcu_stall_info reports[kMaxReports];
  int n_reports = 0;
  std::int64_t now = 0;  // read lazily: only when a reader blocks
  const bool urgent = check_stalls && stall_urgent();
  bool all = true;
  g_registry_lock.lock();
  for (reader_node* n = g_readers; n != nullptr; n = n->next) {
    // [GP3] acquire pairs with the reader's release stores [RD1'] and [RD3]:
    // if this load sees the reader outside its section (or in a section
    // entered under seq_bits), everything the reader did in the section it
    // left happens before what the updater does after the grace period.
    const std::uint64_t word = n->word->load(std::memory_order_acquire);
    if ((word & kNestLimitBit) != 0) {
      char what[160];
      std::snprintf(what, sizeof what,
                    "thread %d called unlock() without lock() (or nested past %u levels)",
                    static_cast<int>(n->tid), static_cast<unsigned>(kMaxNesting));
      report_misuse("rcu_domain::unlock", what, misuse_action::abort_always);
    }
    if ((word & kNestMask) == 0 || (word & kSeqMask) == seq_bits) continue;
    all = false;
    if (!check_stalls) break;
    if (now == 0) now = monotonic_ns();
    if (n->blocking_word != word) {
      n->blocking_word = word;
      n->blocking_since_ns = now;
    }
    const std::int64_t blocked = now - n->blocking_since_ns;
    // At the hard limit a reader counts as stalled sooner, but not at once:
    // ordinary short sections would otherwise be reported by the hundred.
    const std::int64_t limit =
        urgent ? std::min(stall_timeout_ns(), kUrgentStallNs) : stall_timeout_ns();
    if (n->reported_word != word && blocked >= limit &&
        n_reports < kMaxReports) {
      n->reported_word = word;
      reports[n_reports++] = rcu_stall_info{static_cast<int>(n->tid),
                                            std::chrono::nanoseconds(blocked), seq, urgent};
    }
  }
  g_registry_lock.unlock();
  for (int i = 0; i < n_reports; ++i) report_stall(reports[i]);
  return all;
}

std::size_t registered_reader_count() noexcept {
  g_registry_lock.lock();
  const std::size_t n = g_reader_count;
  g_registry_lock.unlock();
  return n;
}

// ---- The read side's slow paths ------------------------------------------

void read_lock_slow(std::uint64_t word) noexcept {
  // An unlock() without lock() borrows through N into L (a real overflow
  // never stores L), and on a thread that never locked it changes the
  // unregistered sentinel: both are reported as the unlock they are.
  if ((word & kNestLimitBit) != 0 || (!tls_registered && word != kUnregisteredWord)) {
    report_misuse("rcu_domain::unlock", "unlock() was called without a matching lock()",
                  misuse_action::abort_always);
  }
  if (!tls_registered) {
    register_reader_thread();
    word = tls_reader_word.load(std::memory_order_relaxed);
  }
  if ((word & kNestMask) == kNestMask) {
    report_misuse("rcu_domain::lock", "read-side sections nested too deeply (more than kMaxNesting)",
                  misuse_action::abort_always);
  }
  if ((word & kNestMask) != 0) {
    // Nested (reached here only through the F bit of the fence flavor).
    tls_reader_word.store(word + 1, std::memory_order_relaxed);
    return;
  }
  // Outermost lock, fence flavor (or first lock after registration).
  // [RD1] as in read_lock(): pairs with [GP1].
  const std::uint64_t gp = g_read_side.gp_word.load(std::memory_order_acquire);
  // [RD1'] as in read_lock(): pairs with [GP3].
  tls_reader_word.store(gp, std::memory_order_release);
  if ((gp & kFenceBit) != 0) {
    // [RD5] seq_cst fence: pairs with [GP2-F] in heavy_barrier().  Either
    // the scan sees our word, or our section sees the updater's stores.
    thread_fence(std::memory_order_seq_cst);
  }
  compiler_fence();  // [RD2]
}

void read_unlock_slow() noexcept {
  std::uint32_t flags = g_read_side.unlock_flags.load(std::memory_order_relaxed);
  if ((flags & kFenceMode) != 0) {
    // [RD5] seq_cst fence: pairs with [GP5]'s fence (fence flavor): either
    // the sleeping writer's rescan sees our word, or we see its flag.
    thread_fence(std::memory_order_seq_cst);
    flags = g_read_side.unlock_flags.load(std::memory_order_relaxed);
  }
  const std::uint64_t word = tls_reader_word.load(std::memory_order_relaxed);
  if ((word & kNestMask) != 0) return;  // nested
  // Only a section the sleeping leader waits for wakes it: one entered
  // before the leader's grace period began (its S differs from gp_word's).
  // A section entered since never blocks that grace period, and its unlock
  // leaves the flag alone: with more runnable threads than CPUs, the leader
  // waits for a preempted reader, and a running one that woke it at every
  // unlock kept the CPU from the preempted one (25 sleeps and wakes per
  // grace period, measured; docs/design/grace-period.md).
  // Relaxed gp_word load: ordered by the handshake that orders the flag
  // load ([GP5] with [RD4] or [RD5]): if the leader's barrier falls before
  // our unlock tail, this load sees the word of its [GP1] (or a later one,
  // once that leader stopped waiting: a spurious wake at worst); if after,
  // the leader's rescan sees our unlock and it does not sleep on us.  (A
  // signal handler's section between our unlock store and the flag load
  // leaves the current S in the word: a leader waiting for our section
  // then sleeps to its bound; docs/design/grace-period.md.)
  if ((flags & kWriterSleeping) == 0 ||
      (word & kSeqMask) == (g_read_side.gp_word.load(std::memory_order_relaxed) & kSeqMask)) {
    return;
  }
  wake_sleeping_leader();  // the unlocks after it see the flag clear: fast path
}

void report_unbalanced_unlock() noexcept {
  report_misuse("rcu_domain::unlock", "unlock() without a matching lock()",
                misuse_action::abort_always);
  __builtin_unreachable();
}

}  // namespace grace::detail
