// src/reclaimer.hpp — a domain's deferred reclamation: per-thread retire
// lists, a worker thread, grace-period-tagged batches, rcu_barrier.
//
// Flow: a retiring thread pushes into its list for the domain
// (grace/detail/retire_list.hpp).  The worker empties all lists into a batch,
// tags it with a cookie taken *after* it saw the nodes (so the grace period
// it waits for began after every retire in the batch), waits for the newest
// batch's grace period (one grace period serves every pending batch), and
// runs the callbacks in order.  No fixed sleeps: the worker sleeps only when
// there is nothing at all to do, and a push wakes it.
//
// Memory bound: each thread can have at most kThreadBacklog nodes in its list; a
// full list makes the producer wait for the worker (outside a read-side
// section) or spill into the domain's overflow list (inside one, where
// waiting could deadlock).  The worker collects while no grace period is
// running, so pending <= lists + one batch per grace period.
//
// Progress: pushes are wait-free until the list is full; the worker is
// blocking.  rcu_barrier() blocks.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>

#include "futex.hpp"
#include "grace/detail/retire_list.hpp"
#include "grace/rcu.hpp"
#include "grace/reclaim.hpp"

namespace grace::detail {

struct callback_batch {
  rcu_cookie cookie;            // run once this has expired
  rcu_head* head = nullptr;     // FIFO list through rcu_head::next
  rcu_head* tail = nullptr;
  std::uint64_t count = 0;
  std::uint64_t bytes = 0;
  std::uint64_t barrier_ticket = 0;  // barriers satisfied once this batch ran

  // Appends the list first..last (linked through next, last->next null).
  void append(rcu_head* first, rcu_head* last, std::uint64_t n) noexcept {
    if (tail != nullptr) tail->next = first; else head = first;
    tail = last;
    count += n;
  }
};

// A registered shrinker: a node of the domain's RCU-protected list.
struct shrinker_node {
  std::function<std::size_t()> count;
  std::function<std::size_t(std::size_t)> scan;
  rcu_ptr<shrinker_node> next;
  reclaimer* owner = nullptr;
};

class reclaimer {
 public:
  explicit reclaimer(rcu_domain& dom) noexcept : domain_(dom) {}
  reclaimer(const reclaimer&) = delete;
  reclaimer& operator=(const reclaimer&) = delete;

  // The calling thread's list for this domain (created on first use).
  // Returns null only if the list cannot be allocated.
  retire_list* list_for_this_thread() noexcept;

  // Enqueues where a list push failed (full, or no list).
  void push_slow(retire_list* list, rcu_head* node, std::uint64_t size) noexcept;

  // rcu_barrier(): returns once every callback queued before the call ran.
  // With a deadline, gives up then and returns false.
  bool barrier(const timespec* deadline) noexcept;

  // The domain's destructor: barrier, then stop the worker, release lists.
  void shutdown() noexcept;

  void wake_worker() noexcept;
  // A producer's list is over half full: end a pacing wait now.
  void end_pacing() noexcept;
  void wake_if_sleeping() noexcept;
  // After a push: wakes a sleeping worker (and fences in the fence flavor).
  void notify_after_push() noexcept;
  // Starts the worker if it is not running (first retire; forked child).
  void ensure_worker() noexcept;
  void fill_stats(rcu_domain_stats& out) const noexcept;

  void set_limits(const reclaim_limits& limits) noexcept;
  void set_executor(rcu_callback_executor executor) noexcept;
  reclaim_limits limits() const noexcept;

  // Memory pressure: run what is queued with expedited grace periods, then
  // the shrinkers.  reclaim_now() does it on the caller's thread (returns
  // objects freed); note_pressure() asks the worker to (PSI events).
  std::size_t reclaim_now() noexcept;
  void note_pressure() noexcept;
  void add_shrinker(shrinker_node* node) noexcept;
  void remove_shrinker(shrinker_node* node) noexcept;

  // Flag word read by every push (see retire_list.hpp).
  atomic<std::uint32_t> worker_flags{0};

  // Fork support (all domains are on one global list).
  void prepare_fork() noexcept;
  void parent_after_fork() noexcept;
  void child_after_fork() noexcept;

  // Guarded by the global list lock (src/reclaimer.cpp).
  reclaimer* next_domain = nullptr;  // every reclaimer, for fork handling
  std::uint64_t lists_alive = 0;     // lists that still point at us
  bool dead = false;                 // the domain was destroyed
  // End of fields guarded by the global list lock.

 private:
  void worker_main() noexcept;
  bool collect(callback_batch& into) noexcept;
  bool has_queued_work() noexcept;
  void spill(rcu_head* node, std::uint64_t size) noexcept;
  void note_progress() noexcept;
  bool at_hard_limit() const noexcept;
  bool above_soft_limit() const noexcept;
  std::size_t run_shrinkers() noexcept;
  void invoke(callback_batch& batch) noexcept;
  void sleep_until_work() noexcept;
  void finish_barriers(std::uint64_t ticket) noexcept;
  void pace_grace_periods(std::uint64_t ticket_seen) noexcept;

  rcu_domain& domain_;

  // Guarded by worker_lock_: starting and stopping the worker.
  futex_mutex worker_lock_;
  bool worker_running_ = false;
  bool stopping_ = false;
  // End of fields guarded by worker_lock_.
  // Mirrors worker_running_ for a lock-free check on the retire slow path.
  atomic<bool> worker_started_{false};
  // The worker is detached (so a forked child has nothing to join); it sets
  // worker_exited_ to 1 as its last act, and shutdown() waits for that.
  atomic<std::uint32_t> worker_exited_{0};

  // Bumped to wake the worker; the worker sleeps on it.
  atomic<std::uint32_t> worker_wake_{0};
  // True while the worker waits in pace_grace_periods().
  atomic<bool> pacing_{false};
  atomic<bool> stop_{false};

  // Overflow list (pushes that could not wait for list space), guarded by
  // overflow_lock_.
  futex_mutex overflow_lock_;
  rcu_head* overflow_head_ = nullptr;
  rcu_head* overflow_tail_ = nullptr;
  // The list's length: changed only under overflow_lock_ (exact there, and
  // collect() takes it as the batch's count); a relaxed hint elsewhere.
  atomic<std::uint64_t> overflow_count_{0};

  // Bumped whenever the worker takes in or runs callbacks; producers held
  // back at the hard limit sleep on it.
  atomic<std::uint32_t> progress_gen_{0};
  atomic<std::uint32_t> progress_waiters_{0};

  // rcu_barrier: tickets requested (by callers) and completed (by the
  // worker).  Callers sleep on barrier_gen_.
  atomic<std::uint64_t> barrier_requested_{0};
  atomic<std::uint64_t> barrier_done_{0};
  atomic<std::uint32_t> barrier_gen_{0};

  // Worker-private.
  std::deque<callback_batch> pending_;
  // When the worker last started waiting for a grace period (CLOCK_MONOTONIC).
  std::int64_t last_gp_start_ns_ = 0;
  // Callbacks in the batch the worker took in last (0: none).
  std::uint64_t last_batch_ = 0;

  // At most one grace period per window while retires stream in (a fraction
  // of the retire-to-free latency target of 100 µs; see pace_grace_periods);
  // a flood (kFloodBatch callbacks or more for the last grace period) gets
  // the longer window, unless a byte limit is set.
  static constexpr std::int64_t kGatherWindowNs = 20'000;
  static constexpr std::int64_t kFloodWindowNs = 100'000;
  static constexpr std::uint64_t kFloodBatch = 64;

  // Limits (relaxed: independent settings, read once per worker iteration).
  atomic<std::uint64_t> soft_objects_{reclaim_limits{}.soft_objects};
  atomic<std::uint64_t> hard_objects_{reclaim_limits{}.hard_objects};
  atomic<std::uint64_t> soft_bytes_{0};
  atomic<std::uint64_t> hard_bytes_{0};

  // Where callbacks run: empty = on the worker.  Guarded by executor_lock_.
  futex_mutex executor_lock_;
  rcu_callback_executor executor_;

  // Memory pressure.  pressure_requests_ > 0 makes the worker expedite;
  // pressure_pending_ counts PSI events whose shrinker run is still due.
  atomic<std::uint32_t> pressure_requests_{0};
  atomic<std::uint32_t> pressure_pending_{0};
  // The shrinkers: an RCU-protected list; writers serialize on shrinker_lock_.
  futex_mutex shrinker_lock_;
  rcu_ptr<shrinker_node> shrinkers_;

  // Statistics: written by the worker (or the owner of the event) with
  // relaxed operations; read by rcu_stats().
  atomic<std::uint64_t> queued_{0};
  atomic<std::uint64_t> invoked_{0};
  atomic<std::uint64_t> pending_objects_{0};  // in pending_ (worker-written)
  atomic<std::uint64_t> pending_bytes_{0};
  atomic<std::uint64_t> peak_pending_{0};
  atomic<std::uint64_t> overflowed_{0};
  atomic<std::uint64_t> overflow_bytes_{0};
  atomic<std::uint64_t> hard_limit_hits_{0};
  atomic<std::uint64_t> pressure_events_{0};
  atomic<std::uint64_t> shrinker_freed_{0};
};

}  // namespace grace::detail
