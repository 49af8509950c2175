// src/reclaimer.cpp — deferred reclamation (see reclaimer.hpp and
// docs/design/reclamation.md).
#include "reclaimer.hpp"

#include <dlfcn.h>
#include <sys/prctl.h>

#include <cstdio>
#include <ctime>
#include <exception>
#include <mutex>
#include <new>
#include <thread>

#include "flavor.hpp"
#include "grace/detail/reader.hpp"
#include "grace_period.hpp"
#include "misuse.hpp"
#include "psi_monitor.hpp"
#include "registry.hpp"
#include "stall.hpp"

namespace grace::detail {

constinit thread_local retire_list* tls_last_list = nullptr;

namespace {

// Guards every list's next_list/orphaned, the list of lists and the list of
// reclaimers (and their lists_alive/dead).  Held for short list walks only.
constinit futex_mutex g_list_lock;
// Guarded by g_list_lock.
constinit retire_list* g_lists = nullptr;
constinit reclaimer* g_reclaimers = nullptr;
// End of fields guarded by g_list_lock.

// This thread's lists, one per domain it retired into (owner-private).
constinit thread_local retire_list* tls_lists = nullptr;
// True on a reclamation worker: it must never wait for its own progress.
constinit thread_local bool tls_is_worker = false;
// True while this thread runs callbacks (the worker, or a thread of the
// user's executor): a retire made by a callback must not
// wait for the worker's progress either, since the worker may be waiting
// for these very callbacks to finish (an executor's task).
constinit thread_local bool tls_running_callbacks = false;

// Caller holds g_list_lock.  Frees a list nobody will push into any more.
void free_list_locked(retire_list* list) noexcept {
  reclaimer* owner = list->owner;
  delete list;
  if (--owner->lists_alive == 0 && owner->dead) delete owner;
}

timespec remaining_until(const timespec& deadline) noexcept {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  timespec left{deadline.tv_sec - now.tv_sec, deadline.tv_nsec - now.tv_nsec};
  if (left.tv_nsec < 0) {
    left.tv_nsec += 1000000000L;
    --left.tv_sec;
  }
  if (left.tv_sec < 0) left = timespec{0, 0};
  return left;
}

[[noreturn]] void callback_threw(rcu_head* node) noexcept {
  Dl_info info{};
  const char* name = "?";
  if (dladdr(reinterpret_cast<void*>(node->func), &info) != 0 && info.dli_sname != nullptr) {
    name = info.dli_sname;
  }
  char what[300];
  std::snprintf(what, sizeof what,
                "a reclamation callback (%s at %p, node %p) threw an exception; "
                "deleters must not throw: calling std::terminate",
                name, reinterpret_cast<void*>(node->func), static_cast<void*>(node));
  print_message(what);
  std::terminate();
}

}  // namespace

// ---- Producer side ---------------------------------------------------------

retire_list* reclaimer::list_for_this_thread() noexcept {
  for (retire_list* r = tls_lists; r != nullptr; r = r->next_of_thread) {
    if (r->owner == this) return r;
  }
  arm_thread_exit_hook();
  auto* list = new (std::nothrow) retire_list;
  if (list == nullptr) return nullptr;
  list->owner = this;
  list->worker_flags = &worker_flags;
  g_list_lock.lock();
  list->next_list = g_lists;
  g_lists = list;
  ++lists_alive;
  g_list_lock.unlock();
  list->next_of_thread = tls_lists;
  tls_lists = list;
  return list;
}

void call_rcu_slow(rcu_head* node, rcu_domain& dom, std::uint64_t size) noexcept {
  reclaimer& r = dom.reclaim_state();
  r.ensure_worker();  // also restarts it in a forked child
  retire_list* list = r.list_for_this_thread();
  if (list != nullptr) {
    tls_last_list = list;
    if (list->try_push(node, size)) {
      compiler_fence();  // [RT3]
      if (list->worker_flags->load(std::memory_order_relaxed) != 0) retire_notify_slow(*list);
      return;
    }
  }
  r.push_slow(list, node, size);
}

void retire_notify_slow(retire_list& list) noexcept { list.owner->notify_after_push(); }

void retire_ask_for_room(retire_list& list) noexcept { list.owner->end_pacing(); }

void reclaimer::end_pacing() noexcept {
  // Relaxed: a stale `false` costs at most the rest of the window (the
  // producer asks again on its next push); the exchange lets one producer
  // per wait make the syscall.
  if (pacing_.load(std::memory_order_relaxed) &&
      pacing_.exchange(false, std::memory_order_relaxed)) {
    wake_worker();
  }
}

void reclaimer::notify_after_push() noexcept {
  std::uint32_t flags = worker_flags.load(std::memory_order_relaxed);
  if ((flags & kWorkerFenceMode) != 0) {
    // [RT4] seq_cst fence pairs with [RC3]'s fence (fence flavor): either the
    // worker's rescan sees our push, or we see kWorkerSleeping.
    thread_fence(std::memory_order_seq_cst);
    flags = worker_flags.load(std::memory_order_relaxed);
  }
  if ((flags & kWorkerSleeping) != 0) wake_if_sleeping();
}

void reclaimer::wake_if_sleeping() noexcept {
  // Only the producer that clears kWorkerSleeping wakes the worker; the
  // pushes after it see the flag clear and stay on the fast path (one
  // futex wake per sleep, not one per push).  Relaxed: [WK1] in
  // wake_worker() orders the clear before the bump that the worker's [WK2]
  // reads, and the worker re-checks the flag before it sleeps.
  if ((worker_flags.fetch_and(~kWorkerSleeping, std::memory_order_relaxed) & kWorkerSleeping) != 0) {
    wake_worker();
  }
}

void reclaimer::push_slow(retire_list* list, rcu_head* node, std::uint64_t size) noexcept {
  ensure_worker();
  if (!retire_list::linkable(node)) {
    spill(node, size);
    return;
  }
  for (;;) {
    if (list != nullptr && list->try_push(node, size)) {
      wake_worker();
      return;
    }
    // The list is full (or missing).  Wait only when the domain is at its
    // hard limit and waiting is safe: inside a read-side section the worker
    // may be waiting for a grace period that waits for this very reader; the
    // worker itself must not wait for its own progress; and a callback (on
    // an executor's thread too) runs while the worker waits for it.
    // Otherwise spill into the overflow list; inside a reader or a callback
    // at the hard limit this is the documented overshoot.
    const bool may_wait =
        list != nullptr && read_nesting() == 0 && !tls_is_worker && !tls_running_callbacks;
    if (!may_wait || !at_hard_limit()) {
      spill(node, size);
      return;
    }
    // Back-pressure: wait until the worker makes progress (takes or runs
    // callbacks), then try again.
    hard_limit_hits_.fetch_add(1, std::memory_order_relaxed);  // statistics
    // Relaxed: a stale generation only makes the futex_wait return at once.
    const std::uint32_t gen = progress_gen_.load(std::memory_order_relaxed);
    progress_waiters_.fetch_add(1, std::memory_order_seq_cst);  // [DR1] pairs with [DR2]
    wake_worker();
    // Refresh (relaxed, see retire_list::taken): the worker may have taken
    // nodes since our try_push.
    const std::uint64_t backlog =
        list->pushed_local - list->taken.load(std::memory_order_relaxed);
    const bool full = backlog >= kThreadBacklog;
    if (full && at_hard_limit()) {
      // While memory is pinned at the limit, the grace period reports the
      // readers blocking it at once (a stall warning), and is told so now.
      set_stall_urgent(true);
      wake_grace_period_waiter();
      futex_wait(progress_gen_, gen);
      set_stall_urgent(false);
    }
    progress_waiters_.fetch_sub(1, std::memory_order_relaxed);
  }
}

void reclaimer::spill(rcu_head* node, std::uint64_t size) noexcept {
  node->next = nullptr;
  overflow_lock_.lock();
  if (overflow_tail_ != nullptr) overflow_tail_->next = node; else overflow_head_ = node;
  overflow_tail_ = node;
  // Relaxed: the counts are read as hints (limits, "is there work?") and
  // statistics; the list itself is published by overflow_lock_.  Updated
  // under the lock so that collect() moves them to pending exactly.
  overflow_count_.fetch_add(1, std::memory_order_relaxed);
  overflow_bytes_.fetch_add(size, std::memory_order_relaxed);
  overflow_lock_.unlock();
  overflowed_.fetch_add(1, std::memory_order_relaxed);
  compiler_fence();  // [RT3], as after a list push
  notify_after_push();
}

void reclaimer::wake_worker() noexcept {
  // [WK1] release pairs with [WK2]: the worker, once awake, sees what the
  // waker did before (pushes, barrier tickets, stop).
  worker_wake_.fetch_add(1, std::memory_order_release);
  futex_wake(worker_wake_, 1);
}

// ---- Worker side -----------------------------------------------------------

void reclaimer::ensure_worker() noexcept {
  // Relaxed: a stale `false` only costs the lock below.
  if (worker_started_.load(std::memory_order_relaxed)) return;
  ensure_psi_monitor();
  worker_lock_.lock();
  if (!worker_running_ && !stopping_) {
    try {
      worker_exited_.store(0, std::memory_order_relaxed);
      std::thread([this] { worker_main(); }).detach();
      worker_running_ = true;
      worker_started_.store(true, std::memory_order_relaxed);
    } catch (...) {
      print_message("call_rcu: cannot start the reclamation worker thread; callbacks stay "
                    "queued until a later retire or rcu_barrier() can start it");
    }
  }
  worker_lock_.unlock();
}

bool reclaimer::collect(callback_batch& into) noexcept {
  g_list_lock.lock();
  for (retire_list** link = &g_lists; *link != nullptr;) {
    retire_list* list = *link;
    if (list->owner != this) {
      link = &list->next_list;
      continue;
    }
    // [RC1] acquire pairs with [RT1]: the nodes pushed up to `top`, their
    // contents and links are visible.
    const std::uint64_t top = list->top.load(std::memory_order_acquire);
    const retire_list::segment seg = list->take(top);
    if (seg.count != 0) {
      into.append(seg.oldest, seg.newest, seg.count);
      // Relaxed: at least the bytes of the pushes up to top (written before
      // [RT1]); possibly a few more, counted early with this batch (limits
      // tolerate that).  Not when no node was taken: a batch that ends up
      // empty is dropped, and bytes counted with it would stay pending.
      const std::uint64_t bytes = list->bytes.load(std::memory_order_relaxed);
      into.bytes += bytes - list->bytes_seen;
      // Count the nodes as pending before the producer may push more: its
      // hard-limit check must never see them in neither place.
      pending_objects_.fetch_add(seg.count, std::memory_order_relaxed);
      pending_bytes_.fetch_add(bytes - list->bytes_seen, std::memory_order_relaxed);
      list->bytes_seen = bytes;
      list->mark_taken(seg.count);
    }
    if (list->orphaned) {
      // The owner exited (its last push preceded setting `orphaned` under
      // the lock we hold), and we drained everything: free the list.
      *link = list->next_list;
      free_list_locked(list);
      continue;
    }
    link = &list->next_list;
  }
  g_list_lock.unlock();
  if (overflow_count_.load(std::memory_order_relaxed) != 0) {
    overflow_lock_.lock();
    rcu_head* first = overflow_head_;
    rcu_head* last = overflow_tail_;
    overflow_head_ = overflow_tail_ = nullptr;
    // Relaxed, and exact: spill() counts each node under this lock, so the
    // counts are the list's (no walk of its nodes: they are cold, and the
    // lock keeps producers out meanwhile).
    const std::uint64_t overflow_bytes = overflow_bytes_.load(std::memory_order_relaxed);
    const std::uint64_t n = overflow_count_.load(std::memory_order_relaxed);
    // Pending first, then the overflow counts drop (as for the lists).
    pending_objects_.fetch_add(n, std::memory_order_relaxed);
    pending_bytes_.fetch_add(overflow_bytes, std::memory_order_relaxed);
    overflow_count_.fetch_sub(n, std::memory_order_relaxed);
    overflow_bytes_.fetch_sub(overflow_bytes, std::memory_order_relaxed);
    overflow_lock_.unlock();
    into.bytes += overflow_bytes;
    if (n != 0) into.append(first, last, n);
  }
  if (into.count != 0) {
    queued_.fetch_add(into.count, std::memory_order_relaxed);
    note_progress();
  }
  return into.count != 0;
}

bool reclaimer::has_queued_work() noexcept {
  if (overflow_count_.load(std::memory_order_relaxed) != 0) return true;
  bool any = false;
  g_list_lock.lock();
  for (retire_list* list = g_lists; list != nullptr && !any; list = list->next_list) {
    if (list->owner != this) continue;
    any = list->has_untaken() || list->orphaned;
  }
  g_list_lock.unlock();
  return any;
}

// Runs the callbacks of a batch in order.  A callback that throws is a bug:
// we name it and terminate.
void run_callbacks(rcu_head* node) noexcept {
  const bool outer = tls_running_callbacks;
  tls_running_callbacks = true;
  while (node != nullptr) {
    rcu_head* next = node->next;
    try {
      node->func(node);
    } catch (...) {
      callback_threw(node);
    }
    node = next;
  }
  tls_running_callbacks = outer;
}

void reclaimer::invoke(callback_batch& batch) noexcept {
  executor_lock_.lock();
  rcu_callback_executor executor = executor_;  // copy: the user may replace it meanwhile
  executor_lock_.unlock();
  if (!executor) {
    run_callbacks(batch.head);
  } else {
    // Hand the batch to the user's executor and wait until it has run, so
    // that batches still complete in order (rcu_barrier relies on it).
    atomic<std::uint32_t> done{0};
    rcu_head* head = batch.head;
    try {
      executor([head, &done] {
        run_callbacks(head);
        // [EX1] release pairs with [EX2]: the callbacks ran before the
        // worker goes on.
        done.store(1, std::memory_order_release);
        futex_wake(done);
      });
    } catch (...) {
      print_message("set_callback_executor: the executor threw; running the batch on the worker");
      // [EX2] as below: did the executor run the task before throwing?
      if (done.load(std::memory_order_acquire) == 0) run_callbacks(head);
      done.store(1, std::memory_order_relaxed);
    }
    while (done.load(std::memory_order_acquire) == 0) futex_wait(done, 0);  // [EX2]
  }
  invoked_.fetch_add(batch.count, std::memory_order_relaxed);
  pending_objects_.fetch_sub(batch.count, std::memory_order_relaxed);
  pending_bytes_.fetch_sub(batch.bytes, std::memory_order_relaxed);
  note_progress();
}

void reclaimer::note_progress() noexcept {
  // seq_cst RMW then seq_cst load, mirrored by the waiting producer ([DR1]):
  // either we see its waiter count, or its futex_wait sees the new gen.
  progress_gen_.fetch_add(1, std::memory_order_seq_cst);  // [DR2] pairs with [DR1]
  // [DR2'] seq_cst load, the second half of [DR2]; pairs with [DR1].
  if (progress_waiters_.load(std::memory_order_seq_cst) != 0) futex_wake(progress_gen_);
}

void reclaimer::finish_barriers(std::uint64_t ticket) noexcept {
  // [BR3] release pairs with [BR4]: the callbacks ran before the waiter
  // returns.
  barrier_done_.store(ticket, std::memory_order_release);
  // Relaxed: waiters read barrier_done_ ([BR4]), not the generation; the
  // futex only needs the value to change.
  barrier_gen_.fetch_add(1, std::memory_order_relaxed);
  futex_wake(barrier_gen_);
}

void reclaimer::sleep_until_work() noexcept {
  // Out of work: the next retire is not part of a stream, and its grace
  // period starts without pacing.
  last_gp_start_ns_ = 0;
  worker_flags.fetch_or(kWorkerSleeping, std::memory_order_relaxed);
  // [WK2] acquire pairs with [WK1].
  const std::uint32_t wake = worker_wake_.load(std::memory_order_acquire);
  // [RC3] heavy barrier pairs with [RT3] (membarrier flavor) and [RT4]
  // (fence flavor): either the rescan below sees a producer's push, or the
  // producer sees kWorkerSleeping and wakes us.
  heavy_barrier();
  // [BR2] as in worker_main(); [WX3] stop_ pairs with [WX0] in shutdown().
  const bool work = has_queued_work() ||
                    barrier_requested_.load(std::memory_order_acquire) >
                        barrier_done_.load(std::memory_order_relaxed) ||
                    pressure_pending_.load(std::memory_order_relaxed) != 0 ||
                    stop_.load(std::memory_order_acquire);
  // A producer that cleared the flag has woken us (or will: the futex sees
  // its bump); sleep only while the flag is still ours.
  if (!work && (worker_flags.load(std::memory_order_relaxed) & kWorkerSleeping) != 0) {
    futex_wait(worker_wake_, wake);
  }
  worker_flags.fetch_and(~kWorkerSleeping, std::memory_order_relaxed);
}

bool reclaimer::at_hard_limit() const noexcept {
  const std::uint64_t hard = hard_objects_.load(std::memory_order_relaxed);
  const std::uint64_t hard_bytes = hard_bytes_.load(std::memory_order_relaxed);
  const std::uint64_t objects = pending_objects_.load(std::memory_order_relaxed) +
                                overflow_count_.load(std::memory_order_relaxed);
  const std::uint64_t bytes = pending_bytes_.load(std::memory_order_relaxed) +
                              overflow_bytes_.load(std::memory_order_relaxed);
  return (hard != 0 && objects >= hard) || (hard_bytes != 0 && bytes >= hard_bytes);
}

bool reclaimer::above_soft_limit() const noexcept {
  const std::uint64_t soft = soft_objects_.load(std::memory_order_relaxed);
  const std::uint64_t soft_bytes = soft_bytes_.load(std::memory_order_relaxed);
  return pressure_requests_.load(std::memory_order_relaxed) != 0 ||
         pending_objects_.load(std::memory_order_relaxed) >= soft ||
         (soft_bytes != 0 && pending_bytes_.load(std::memory_order_relaxed) >= soft_bytes);
}

// While retires stream in, starts grace periods at most once per
// kGatherWindowNs: the callbacks of the window share one grace period, and
// its membarrier (an interrupt on every CPU running a thread of the process,
// the retiring threads included) is paid once per window, not once per few
// retires.  In a flood (the last batch held kFloodBatch callbacks or more)
// the window is kFloodWindowNs: the interrupts then cost the retiring
// threads more than the wait costs the callbacks.  A flood lasts while the
// batches stay that large (64 per window plus grace period); one
// burst lengthens one window.  Not with a byte limit: a producer ends the
// wait early when its list is half full by count, not by bytes, so large
// objects could pile up unseen for the longer window.  Barriers, limits,
// pressure and shutdown do not wait for it.
void reclaimer::pace_grace_periods(std::uint64_t ticket_seen) noexcept {
  // Relaxed: a setting, read once per wait (as in above_soft_limit()).
  const bool flood = last_batch_ >= kFloodBatch && soft_bytes_.load(std::memory_order_relaxed) == 0;
  const std::int64_t window = flood ? kFloodWindowNs : kGatherWindowNs;
  const std::int64_t since = monotonic_ns() - last_gp_start_ns_;
  if (since < 0 || since >= window) return;
  // [WK2] as in sleep_until_work(), loaded before the checks below: a
  // wake_worker() after them changes the word, and the wait returns at once;
  // one before them is seen by them.
  const std::uint32_t wake = worker_wake_.load(std::memory_order_acquire);
  // [BR2] as in worker_main(); stop_ relaxed: only whether to skip the wait
  // (the exit check reads it with [WX3]).
  if (barrier_requested_.load(std::memory_order_acquire) != ticket_seen || above_soft_limit() ||
      stop_.load(std::memory_order_relaxed)) {
    return;
  }
  const timespec left{0, static_cast<long>(window - since)};
  // Relaxed: see end_pacing().  A producer that clears it bumps worker_wake_
  // afterwards, which ends this wait (or makes it return at once).
  pacing_.store(true, std::memory_order_relaxed);
  futex_wait(worker_wake_, wake, &left);
  pacing_.store(false, std::memory_order_relaxed);
}

void reclaimer::worker_main() noexcept {
  tls_is_worker = true;
  // Timed waits of a few µs (pace_grace_periods) need a slack of less than
  // the default 50 µs.
  prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
  std::uint64_t ticket_seen = barrier_done_.load(std::memory_order_relaxed);
  for (;;) {
    pace_grace_periods(ticket_seen);
    // [BR2] acquire pairs with [BR1]: a callback queued before the barrier
    // call is visible to the collect() below.
    const std::uint64_t ticket = barrier_requested_.load(std::memory_order_acquire);
    // At the hard limit, leave new work in the lists (their owners then
    // wait: the back-pressure) until what we hold is reclaimed.  With
    // nothing held, take work whatever the count: progress comes first.
    const bool at_hard = at_hard_limit() && !pending_.empty();
    callback_batch batch;
    last_batch_ = 0;
    if (!at_hard && collect(batch)) {
      last_batch_ = batch.count;
      // Taken after the nodes were seen, so the grace period it names began
      // after every retire in the batch.
      batch.cookie = gp_get_state();
      pending_.push_back(batch);
      const std::uint64_t now = pending_objects_.load(std::memory_order_relaxed);
      if (now > peak_pending_.load(std::memory_order_relaxed)) {
        peak_pending_.store(now, std::memory_order_relaxed);
      }
    }
    if (!at_hard && ticket > ticket_seen) {
      if (pending_.empty()) {
        finish_barriers(ticket);
      } else {
        pending_.back().barrier_ticket = ticket;
      }
      ticket_seen = ticket;
    }
    if (!pending_.empty()) {
      // One grace period serves every pending batch; expedited above the
      // soft limit or under memory pressure.
      last_gp_start_ns_ = monotonic_ns();
      gp_wait(pending_.back().cookie, above_soft_limit());
      while (!pending_.empty() && gp_poll(pending_.front().cookie)) {
        callback_batch done = pending_.front();
        pending_.pop_front();
        invoke(done);
        if (done.barrier_ticket != 0) finish_barriers(done.barrier_ticket);
      }
      continue;
    }
    if (const std::uint32_t events = pressure_pending_.exchange(0, std::memory_order_relaxed)) {
      // PSI events: everything queued ran above, expedited (see
      // note_pressure()); now the caches.
      run_shrinkers();
      pressure_requests_.fetch_sub(events, std::memory_order_relaxed);
      continue;
    }
    // [WX3] acquire pairs with [WX0]: shutdown() ran its barrier before.
    if (stop_.load(std::memory_order_acquire) && !has_queued_work()) break;
    sleep_until_work();
  }
  // [WX1] release pairs with [WX2] in shutdown().
  worker_exited_.store(1, std::memory_order_release);
  futex_wake(worker_exited_);
}

// ---- Limits, statistics, memory pressure -------------------------------------

void reclaimer::set_limits(const reclaim_limits& limits) noexcept {
  std::size_t hard = limits.hard_objects;
  if (hard != 0 && hard < limits.soft_objects) hard = limits.soft_objects;
  std::size_t hard_bytes = limits.hard_bytes;
  if (hard_bytes != 0 && hard_bytes < limits.soft_bytes) hard_bytes = limits.soft_bytes;
  soft_objects_.store(limits.soft_objects, std::memory_order_relaxed);
  hard_objects_.store(hard, std::memory_order_relaxed);
  soft_bytes_.store(limits.soft_bytes, std::memory_order_relaxed);
  hard_bytes_.store(hard_bytes, std::memory_order_relaxed);
  wake_worker();
}

reclaim_limits reclaimer::limits() const noexcept {
  return reclaim_limits{soft_objects_.load(std::memory_order_relaxed),
                        hard_objects_.load(std::memory_order_relaxed),
                        soft_bytes_.load(std::memory_order_relaxed),
                        hard_bytes_.load(std::memory_order_relaxed)};
}

void reclaimer::fill_stats(rcu_domain_stats& out) const noexcept {
  out.callbacks_queued = queued_.load(std::memory_order_relaxed);
  out.callbacks_invoked = invoked_.load(std::memory_order_relaxed);
  out.pending = pending_objects_.load(std::memory_order_relaxed);
  out.peak_pending = peak_pending_.load(std::memory_order_relaxed);
  out.pending_bytes = pending_bytes_.load(std::memory_order_relaxed);
  out.overflowed = overflowed_.load(std::memory_order_relaxed);
  out.hard_limit_hits = hard_limit_hits_.load(std::memory_order_relaxed);
  out.memory_pressure_events = pressure_events_.load(std::memory_order_relaxed);
  out.shrinker_freed = shrinker_freed_.load(std::memory_order_relaxed);
}

std::size_t reclaimer::run_shrinkers() noexcept {
  std::size_t freed = 0;
  std::scoped_lock guard(rcu_default_domain());
  for (shrinker_node* n = shrinkers_.load(); n != nullptr; n = n->next.load()) {
    const std::size_t could = n->count();
    if (could != 0) freed += n->scan(could);
  }
  shrinker_freed_.fetch_add(freed, std::memory_order_relaxed);
  return freed;
}

std::size_t reclaimer::reclaim_now() noexcept {
  pressure_events_.fetch_add(1, std::memory_order_relaxed);
  const std::uint64_t before = invoked_.load(std::memory_order_relaxed);
  pressure_requests_.fetch_add(1, std::memory_order_relaxed);
  barrier(nullptr);
  pressure_requests_.fetch_sub(1, std::memory_order_relaxed);
  const std::uint64_t ran = invoked_.load(std::memory_order_relaxed) - before;
  return static_cast<std::size_t>(ran) + run_shrinkers();
}

void reclaimer::set_executor(rcu_callback_executor executor) noexcept {
  executor_lock_.lock();
  executor_.swap(executor);
  executor_lock_.unlock();
  // The old executor is destroyed here, outside the lock.
}

void reclaimer::note_pressure() noexcept {
  pressure_events_.fetch_add(1, std::memory_order_relaxed);
  pressure_requests_.fetch_add(1, std::memory_order_relaxed);  // expedite until handled
  pressure_pending_.fetch_add(1, std::memory_order_relaxed);
  wake_worker();  // [WK1]: the worker sees pressure_pending_ once awake
}

void reclaimer::add_shrinker(shrinker_node* node) noexcept {
  node->owner = this;
  shrinker_lock_.lock();
  node->next.store(shrinkers_.load());
  shrinkers_.store(node);  // [PT1]: run_shrinkers() sees a complete node
  shrinker_lock_.unlock();
}

void reclaimer::remove_shrinker(shrinker_node* node) noexcept {
  shrinker_lock_.lock();
  rcu_ptr<shrinker_node>* link = &shrinkers_;
  while (link->load() != nullptr && link->load() != node) link = &link->load()->next;
  if (link->load() == node) link->store(node->next.load());
  shrinker_lock_.unlock();
  // Traversals that may still hold the node are read-side sections.
  rcu_synchronize();
  delete node;
}

// ---- rcu_barrier, shutdown -------------------------------------------------

bool reclaimer::barrier(const timespec* deadline) noexcept {
  ensure_worker();
  // [BR1] acq_rel pairs with [BR2]: callbacks queued before this call (by
  // threads that happen before it) are visible to the worker's collect().
  const std::uint64_t ticket = barrier_requested_.fetch_add(1, std::memory_order_acq_rel) + 1;
  wake_worker();
  for (;;) {
    // Relaxed: a stale generation only makes futex_wait return at once.
    const std::uint32_t gen = barrier_gen_.load(std::memory_order_relaxed);
    // [BR4] acquire pairs with [BR3].
    if (barrier_done_.load(std::memory_order_acquire) >= ticket) return true;
    if (deadline == nullptr) {
      futex_wait(barrier_gen_, gen);
      continue;
    }
    const timespec left = remaining_until(*deadline);
    if (left.tv_sec == 0 && left.tv_nsec == 0) return false;
    futex_wait(barrier_gen_, gen, &left);
  }
}

void reclaimer::shutdown() noexcept {
  barrier(nullptr);
  worker_lock_.lock();
  stopping_ = true;
  const bool running = worker_running_;
  worker_lock_.unlock();
  if (running) {
    stop_.store(true, std::memory_order_release);  // [WX0] pairs with [WX3]
    wake_worker();
    // [WX2] acquire pairs with [WX1].
    while (worker_exited_.load(std::memory_order_acquire) == 0) futex_wait(worker_exited_, 0);
  }
  // Lists of exited threads go now; live threads' lists stay theirs and are
  // freed at their exit; the last one frees this object.
  g_list_lock.lock();
  for (retire_list** link = &g_lists; *link != nullptr;) {
    retire_list* list = *link;
    if (list->owner != this) {
      link = &list->next_list;
      continue;
    }
    *link = list->next_list;
    list->next_list = nullptr;
    if (list->orphaned) {
      --lists_alive;
      delete list;
    }
  }
  for (reclaimer** link = &g_reclaimers; *link != nullptr; link = &(*link)->next_domain) {
    if (*link == this) {
      *link = next_domain;
      break;
    }
  }
  dead = true;
  const bool free_now = lists_alive == 0;
  g_list_lock.unlock();
  if (free_now) delete this;
}

// ---- Thread exit, fork, domain creation --------------------------------------

void reclaim_thread_exit() noexcept {
  tls_last_list = nullptr;
  if (tls_lists == nullptr) return;
  g_list_lock.lock();
  for (retire_list* list = tls_lists; list != nullptr;) {
    retire_list* next = list->next_of_thread;
    if (list->owner->dead) {
      free_list_locked(list);  // the domain is gone and drained
    } else {
      // The worker runs what is left, then frees the list.  Woken under the
      // lock: once we release it the list (and a dying domain) may go.
      list->orphaned = true;
      list->owner->wake_worker();
    }
    list = next;
  }
  g_list_lock.unlock();
  tls_lists = nullptr;
}

void reclaimer::prepare_fork() noexcept { overflow_lock_.lock(); }
void reclaimer::parent_after_fork() noexcept { overflow_lock_.unlock(); }

void reclaimer::child_after_fork() noexcept {
  // Only the forking thread exists.  The worker is gone: what it had
  // collected (pending_) is abandoned, leaked rather than run twice; what is
  // still in lists runs in the child once a new worker starts.
  new (&pending_) std::deque<callback_batch>();
  pending_objects_.store(0, std::memory_order_relaxed);
  pending_bytes_.store(0, std::memory_order_relaxed);
  worker_lock_.reset_after_fork();
  worker_running_ = false;
  worker_started_.store(false, std::memory_order_relaxed);
  overflow_lock_.reset_after_fork();
  progress_waiters_.store(0, std::memory_order_relaxed);
  barrier_done_.store(barrier_requested_.load(std::memory_order_relaxed),
                      std::memory_order_relaxed);
  worker_flags.fetch_and(~kWorkerSleeping, std::memory_order_relaxed);
}

void reclaim_prepare_fork() noexcept {
  g_list_lock.lock();
  for (reclaimer* r = g_reclaimers; r != nullptr; r = r->next_domain) r->prepare_fork();
}

void reclaim_parent_after_fork() noexcept {
  for (reclaimer* r = g_reclaimers; r != nullptr; r = r->next_domain) r->parent_after_fork();
  g_list_lock.unlock();
}

void broadcast_memory_pressure() noexcept {
  g_list_lock.lock();
  for (reclaimer* r = g_reclaimers; r != nullptr; r = r->next_domain) r->note_pressure();
  g_list_lock.unlock();
}

void reclaim_child_after_fork() noexcept {
  psi_child_after_fork();
  g_list_lock.reset_after_fork();
  for (retire_list* list = g_lists; list != nullptr; list = list->next_list) {
    bool mine = false;
    for (retire_list* r = tls_lists; r != nullptr; r = r->next_of_thread) mine |= (r == list);
    if (!mine) list->orphaned = true;
  }
  for (reclaimer* r = g_reclaimers; r != nullptr; r = r->next_domain) r->child_after_fork();
  // The next retire takes the slow path, which restarts the worker.
  tls_last_list = nullptr;
}

reclaimer* new_reclaimer(rcu_domain& dom) noexcept {
  ensure_initialized();
  auto* r = new (std::nothrow) reclaimer(dom);
  if (r == nullptr) return nullptr;
  if (fence_mode()) r->worker_flags.store(kWorkerFenceMode, std::memory_order_relaxed);
  g_list_lock.lock();
  r->next_domain = g_reclaimers;
  g_reclaimers = r;
  g_list_lock.unlock();
  return r;
}

void delete_unpublished_reclaimer(reclaimer* r) noexcept {
  g_list_lock.lock();
  for (reclaimer** link = &g_reclaimers; *link != nullptr; link = &(*link)->next_domain) {
    if (*link == r) {
      *link = r->next_domain;
      break;
    }
  }
  g_list_lock.unlock();
  delete r;
}

}  // namespace grace::detail
