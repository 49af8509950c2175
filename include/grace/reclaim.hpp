// grace/reclaim.hpp — controlling deferred reclamation: memory limits,
// statistics, memory pressure (shrinkers, PSI) and RCU stall warnings.
//
// Bounded memory.  Each domain counts the objects (and, for rcu_obj_base and
// rcu_retire, the bytes: sizeof(T)) retired but not yet reclaimed.  Above the
// soft limit its worker runs expedited grace periods.  At the hard limit the
// worker stops taking new work from the retiring threads' lists until it has
// reclaimed what it holds; a retiring thread whose list is full then waits
// (outside a read-side section) or spills into an overflow list (inside one,
// or inside a callback, on the worker or an executor's thread: waiting there
// could deadlock).  So the worker's backlog (rcu_stats().pending)
// stays below  hard limit + threads x kThreadBacklog,  and the objects retired but
// not yet freed below  hard limit + 2 x threads x kThreadBacklog  (kThreadBacklog =
// 4096 per retiring thread), plus whatever readers retire while inside
// sections and callbacks retire (the documented overshoot).  Defaults: soft 8 Ki, hard 32 Ki
// objects, no byte limits: one flooding thread stays under 41 Ki objects.
//
// Memory pressure, the kernel's shrinker way.  Caches register a shrinker
// (count: how much could you free; scan: free up to n).  On memory pressure —
// a Linux PSI trigger on the memory pressure file of the process's cgroup (or
// /proc/pressure/memory), or an explicit reclaim_now() — grace expedites a
// grace period, runs every pending callback and calls the shrinkers.
// Registration and unregistration never block the reclaim path: the shrinker
// list is itself RCU-protected (as Linux 6.7 made its shrinkers).
//
// Stall warnings.  A reader that holds back a grace period for longer than
// the stall timeout (default 10 s) is reported once per stall through the
// stall hook (default: a line on stderr with the thread id and duration),
// like the kernel's RCU CPU stall warnings.  While a retiring thread is held
// back at a domain's hard limit, a reader blocking the grace period for more
// than 100 ms (or the timeout, if shorter) is reported as stalled: a stalled
// reader never pins memory at the limit silently.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>

#include "grace/rcu.hpp"

namespace grace {

struct reclaim_limits {
  std::size_t soft_objects = 8 * 1024;   // expedite above this
  std::size_t hard_objects = 32 * 1024;  // retiring threads wait above this
  std::size_t soft_bytes = 0;            // 0: no byte limit
  std::size_t hard_bytes = 0;
};

// Sets the domain's limits.  Takes effect at the worker's next batch.  A hard
// limit below the soft one is raised to it.  Hard limits of 0 (objects and
// bytes both) mean "unbounded", liburcu's behaviour: a retiring thread whose
// list is full then never waits, and the backlog can grow without bound.
void set_reclaim_limits(rcu_domain& dom, const reclaim_limits& limits) noexcept;
reclaim_limits get_reclaim_limits(rcu_domain& dom) noexcept;

// Where a domain's callbacks run.  By default on the domain's worker thread
// (never inside unlock(), never on the retiring thread).  An executor gets
// each ready batch as a task and must run it exactly once, on any thread
// (a pool, a low-priority thread, or inline: `[](auto task) { task(); }`);
// the worker waits for the task to finish before the next batch, so batches
// still complete in order and rcu_barrier() keeps its meaning.  If the
// executor throws, the worker runs the batch itself.  An empty executor
// restores the default.
using rcu_callback_executor = std::function<void(std::function<void()> task)>;
void set_callback_executor(rcu_domain& dom, rcu_callback_executor executor);

struct rcu_domain_stats {
  // Grace periods of the shared engine (every domain sees the same).
  std::uint64_t grace_periods = 0;
  std::uint64_t expedited_grace_periods = 0;
  // This domain's callbacks.
  std::uint64_t callbacks_queued = 0;   // taken in by the worker so far
  std::uint64_t callbacks_invoked = 0;  // run so far
  std::uint64_t pending = 0;            // taken in, not yet run
  std::uint64_t peak_pending = 0;
  std::uint64_t pending_bytes = 0;
  std::uint64_t overflowed = 0;         // retires that spilled (list full inside a reader)
  std::uint64_t hard_limit_hits = 0;    // times a retiring thread waited at the hard limit
  // Memory pressure.
  std::uint64_t memory_pressure_events = 0;  // PSI events and reclaim_now() calls
  std::uint64_t shrinker_freed = 0;          // objects the shrinkers reported freed
  bool psi_available = false;                // a PSI trigger is armed
  const char* psi_status = "";               // why not, or which file
  // Stall warnings (process-wide).
  std::uint64_t stalls = 0;
};

rcu_domain_stats rcu_stats(rcu_domain& dom = rcu_default_domain()) noexcept;

// ---- Shrinkers -------------------------------------------------------------

// A registered shrinker; unregisters on destruction (after which count and
// scan are never called again).  Must not be destroyed from inside count or
// scan, nor inside a read-side section (it waits for a grace period).
class shrinker_registration {
 public:
  shrinker_registration() noexcept = default;
  shrinker_registration(shrinker_registration&& other) noexcept;
  shrinker_registration& operator=(shrinker_registration&& other) noexcept;
  ~shrinker_registration();
  void reset() noexcept;  // unregister now
  explicit operator bool() const noexcept { return node_ != nullptr; }

 private:
  friend shrinker_registration register_shrinker(rcu_domain&, std::function<std::size_t()>,
                                                 std::function<std::size_t(std::size_t)>);
  explicit shrinker_registration(void* node) noexcept : node_(node) {}
  void* node_ = nullptr;
};

// count(): how many objects the cache could free now (cheap, approximate).
// scan(n): free up to n objects, return how many were freed.
// Both run on whichever thread handles the pressure (a grace worker, or the
// caller of reclaim_now()), inside a read-side section: they must not block
// on grace periods.  Throws std::bad_alloc if registration cannot allocate.
shrinker_registration register_shrinker(rcu_domain& dom, std::function<std::size_t()> count,
                                        std::function<std::size_t(std::size_t)> scan);

// Handles memory pressure now, as a PSI event would: expedites a grace
// period, runs every callback queued to dom before the call, then asks the
// domain's shrinkers to free what they can.  Returns the objects freed
// during the call (callbacks the worker ran meanwhile + shrinker reports).
// Precondition: not inside a read-side section.
std::size_t reclaim_now(rcu_domain& dom = rcu_default_domain()) noexcept;

// ---- Stall warnings ----------------------------------------------------------

struct rcu_stall_info {
  int tid;                            // the stalled reader's thread id
  std::chrono::nanoseconds duration;  // how long it has blocked the grace period
  std::uint64_t grace_period;         // the grace period it blocks
  bool memory_limit;                  // reported early: a domain is at its hard limit
};

// Called once per stall, on the thread running the grace period, outside any
// grace lock.  Must not wait for a grace period.  nullptr restores the default
// (one line on stderr).
using rcu_stall_hook = void (*)(const rcu_stall_info& info, void* ctx);
void rcu_set_stall_hook(rcu_stall_hook hook, void* ctx) noexcept;
// Default 10 s.  Clamped to at least 1 ms.
void rcu_set_stall_timeout(std::chrono::milliseconds timeout) noexcept;

}  // namespace grace
