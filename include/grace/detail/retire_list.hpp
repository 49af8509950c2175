// grace/detail/retire_list.hpp — the retiring thread's side of deferred
// reclamation: a single-producer single-consumer list per (thread, domain).
//
// The producer is the thread that retires; the consumer is the domain's
// reclamation worker.  A push links the node to the previous one through its
// own rcu_head::next (the node's cache line is being written anyway, for its
// callback) and publishes it with one release store of `top` (free on x86):
// no lock, no read-modify-write, no syscall, and no other shared cache line.
// The worker takes everything pushed since its last visit into a batch
// tagged with a grace-period cookie taken after it has seen the nodes, so a
// batch never runs before a grace period that started after every one of its
// retires (docs/design/reclamation.md).
//
// A thread may have at most kThreadBacklog nodes the worker has not taken
// yet; beyond that ("the list is full") the producer takes the slow path,
// which wakes the worker and waits for room, unless it is inside a read-side
// section (waiting there could deadlock), in which case the node goes to the
// domain's overflow list.
#pragma once

#include <cstddef>
#include <cstdint>

#include "grace/detail/atomic.hpp"

namespace grace {

// An intrusive callback node, as liburcu's struct rcu_head: embed it in the
// object to reclaim and pass it to call_rcu().  The callback may throw only to
// report a bug: the worker then prints a message and calls std::terminate().
struct rcu_head {
  rcu_head* next = nullptr;
  void (*func)(rcu_head*) = nullptr;
};

class rcu_domain;

namespace detail {

class reclaimer;

struct retire_list;
// Ends the worker's pacing wait early (src/reclaimer.cpp).
void retire_ask_for_room(retire_list& list) noexcept;

// Nodes a thread may have queued that the worker has not taken yet.
inline constexpr std::size_t kThreadBacklog = 4096;

struct alignas(64) retire_list {
  // Producer-private: only the owning thread reads or writes these.
  rcu_head* newest_local = nullptr;  // the last node pushed
  std::uint64_t pushed_local = 0;    // nodes pushed so far
  std::uint64_t taken_cached = 0;    // last `taken` seen; refreshed past half the backlog
  std::uint64_t bytes_local = 0;     // mirrors bytes
  reclaimer* owner = nullptr;        // the domain state this list feeds
  // The domain worker's flag word (see kWorkerSleeping below).
  atomic<std::uint32_t>* worker_flags = nullptr;
  retire_list* next_of_thread = nullptr;  // this thread's other lists

  // top: the newest node's address (bits 0-47) and the low 16 bits of the
  // push count (bits 48-63).  Written by the producer ([RT1] release), read
  // by the worker ([RC1] acquire), which walks exactly the nodes pushed since
  // its last visit: the count, not the address of the last node it took,
  // marks where to stop (that node may have been freed and pushed again).
  alignas(64) atomic<std::uint64_t> top{0};
  // Bytes pushed so far (as the callers declared them): written by the
  // producer before [RT1] (relaxed: read after [RC1], and only for limits
  // and statistics, where a late value is harmless).
  atomic<std::uint64_t> bytes{0};
  // Nodes the worker has taken.  Written by the worker, read by the
  // producer to bound its backlog (relaxed: the producer never touches a
  // node after pushing it, so the value orders nothing; a stale value is
  // smaller and only makes the producer take the slow path early).
  alignas(64) atomic<std::uint64_t> taken{0};
  std::uint64_t bytes_seen = 0;  // worker-private: bytes already collected

  // Guarded by the global list lock (src/reclaimer.cpp).
  retire_list* next_list = nullptr;
  bool orphaned = false;  // owner thread exited; the worker frees the list once empty

  static constexpr unsigned kCountShift = 48;
  static constexpr std::uint64_t kAddressMask = (std::uint64_t{1} << kCountShift) - 1;

  // Whether a node's address fits in top (user-space addresses on x86-64
  // and AArch64 do; a node elsewhere takes the overflow list).
  static bool linkable(const rcu_head* node) noexcept {
    return (reinterpret_cast<std::uintptr_t>(node) >> kCountShift) == 0;
  }

  // The node's `next` links it to the previous push (newest first); the node
  // was being written anyway (its callback), so a push touches no other
  // shared cache line than `top`.
  //
  // Past half the backlog each push re-reads `taken` and, while the backlog
  // stays above half (full included), asks the worker to stop pacing
  // (retire_ask_for_room):
  // a fast producer gets its nodes taken before its list fills and spills.
  bool try_push(rcu_head* node, std::uint64_t size) noexcept {
    const std::uint64_t n = pushed_local;
    if (n - taken_cached >= kThreadBacklog / 2 || !linkable(node)) [[unlikely]] {
      if (!linkable(node)) return false;
      taken_cached = taken.load(std::memory_order_relaxed);
      if (n - taken_cached >= kThreadBacklog / 2) retire_ask_for_room(*this);
      if (n - taken_cached >= kThreadBacklog) return false;
    }
    node->next = newest_local;
    newest_local = node;
    pushed_local = n + 1;
    if (size != 0) {
      bytes_local += size;
      bytes.store(bytes_local, std::memory_order_relaxed);
    }
    // [RT1] release pairs with [RC1] in reclaimer::collect(): the worker sees
    // this node and every earlier one, with their contents and links.
    top.store(reinterpret_cast<std::uintptr_t>(node) | ((n + 1) << kCountShift),
              std::memory_order_release);
    return true;
  }

  // Worker side.  The nodes pushed since the worker last took, oldest first
  // (linked through next; the newest's next is null).
  struct segment {
    rcu_head* oldest = nullptr;
    rcu_head* newest = nullptr;
    std::uint64_t count = 0;
  };

  // Nodes pushed and not yet taken, as far as the worker can tell.  Relaxed:
  // take() reads top with [RC1] before touching a node; the worker's decision
  // to sleep is ordered by the heavy barrier [RC3] against the producer's
  // [RT3], not by this load.
  bool has_untaken() const noexcept {
    return untaken(top.load(std::memory_order_relaxed)) != 0;
  }

  // Takes every node published by `top_seen` ([RC1] is the caller's load);
  // the producer writes only newer nodes and top, never these.  The caller
  // then calls mark_taken(count) to give the producer room.
  segment take(std::uint64_t top_seen) noexcept {
    segment s;
    s.count = untaken(top_seen);
    if (s.count == 0) return s;
    s.newest = reinterpret_cast<rcu_head*>(top_seen & kAddressMask);
    rcu_head* node = s.newest;
    for (std::uint64_t i = 0; i < s.count; ++i) {  // reverse: newest first -> oldest first
      rcu_head* older = node->next;
      node->next = s.oldest;
      s.oldest = node;
      node = older;
    }
    return s;
  }

  void mark_taken(std::uint64_t count) noexcept {
    // Relaxed: see `taken` (only the worker writes it).
    taken.store(taken.load(std::memory_order_relaxed) + count, std::memory_order_relaxed);
  }

 private:
  // Pushes - taken < kThreadBacklog < 2^16, so the low 16 bits of the push count
  // in top determine it.
  std::uint64_t untaken(std::uint64_t top_seen) const noexcept {
    static_assert(kThreadBacklog < (std::uint64_t{1} << (64 - kCountShift)));
    const std::uint64_t taken_now = taken.load(std::memory_order_relaxed);  // the worker's own
    return ((top_seen >> kCountShift) - taken_now) & (~std::uint64_t{0} >> kCountShift);
  }
};

// The list of the domain this thread retired into last (a one-entry cache;
// other domains go through call_rcu_slow()).
extern constinit thread_local retire_list* tls_last_list
    __attribute__((tls_model("initial-exec")));

// Per-domain flag word the producer checks after a push: non-zero means the
// worker sleeps (it must be woken) or fence mode (the producer must fence).
//   writers: the worker around its sleep; fence mode at start-up.
//   readers: every call_rcu() (relaxed: see [RT3]).
inline constexpr std::uint32_t kWorkerSleeping = 1;
inline constexpr std::uint32_t kWorkerFenceMode = 2;

void call_rcu_slow(rcu_head* node, rcu_domain& dom, std::uint64_t size) noexcept;
// Called after a push when *worker_flags != 0: fences in fence mode, wakes a
// sleeping worker.
void retire_notify_slow(retire_list& list) noexcept;

}  // namespace detail
}  // namespace grace
