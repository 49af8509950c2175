// grace/detail/retire_ring.hpp — the retiring thread's side of deferred
// reclamation: a single-producer single-consumer ring per (thread, domain).
//
// The producer is the thread that retires; the consumer is the domain's
// reclamation worker.  A push is plain stores plus one release store of the
// tail (free on x86): no lock, no read-modify-write, no syscall.  The worker
// empties every ring into batches tagged with a grace-period cookie taken
// after it has seen the nodes, so a batch never runs before a grace period
// that started after every one of its retires (docs/design/reclamation.md).
//
// A full ring is the back-pressure: the producer then takes the slow path,
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

inline constexpr std::size_t kRingSize = 4096;  // power of two
static_assert((kRingSize & (kRingSize - 1)) == 0);

struct alignas(64) retire_ring {
  // Producer-private: only the owning thread reads or writes these.
  std::uint64_t tail_local = 0;   // next slot to fill; mirrors tail
  std::uint64_t head_cached = 0;  // last head seen; refreshed when full
  std::uint64_t bytes_local = 0;  // mirrors bytes
  reclaimer* owner = nullptr;      // the domain state this ring feeds
  // The domain worker's flag word (see kWorkerSleeping below).
  atomic<std::uint32_t>* worker_flags = nullptr;
  retire_ring* next_of_thread = nullptr;  // this thread's other rings

  // tail: written by the producer ([RT1] release), read by the worker
  // ([RC1] acquire).  head: written by the worker ([RC2] release), read by
  // the producer ([RT2] acquire).  Separate cache lines: each is written by
  // one side only.
  alignas(64) atomic<std::uint64_t> tail{0};
  // Bytes pushed so far (as the callers declared them): written by the
  // producer before [RT1] (relaxed: read after [RC1], and only for limits
  // and statistics, where a late value is harmless).
  atomic<std::uint64_t> bytes{0};
  alignas(64) atomic<std::uint64_t> head{0};
  std::uint64_t bytes_seen = 0;  // worker-private: bytes already collected

  // Guarded by the global ring lock (src/reclaimer.cpp).
  retire_ring* next_ring = nullptr;
  bool orphaned = false;  // owner thread exited; the worker frees the ring once empty

  // Slots are plain pointers: a slot is written by the producer before its
  // [RT1] and read by the worker after the matching [RC1]; reused by the
  // producer only after [RT2] observes the worker's [RC2].
  alignas(64) rcu_head* slots[kRingSize];

  bool try_push(rcu_head* node, std::uint64_t size) noexcept {
    const std::uint64_t t = tail_local;
    if (t - head_cached >= kRingSize) {
      // [RT2] acquire pairs with [RC2]: the worker is done with these slots.
      head_cached = head.load(std::memory_order_acquire);
      if (t - head_cached >= kRingSize) return false;
    }
    slots[t & (kRingSize - 1)] = node;
    tail_local = t + 1;
    if (size != 0) {
      bytes_local += size;
      bytes.store(bytes_local, std::memory_order_relaxed);
    }
    // [RT1] release pairs with [RC1] in reclaimer::collect(): the worker sees
    // the slot and the node's contents.
    tail.store(t + 1, std::memory_order_release);
    return true;
  }
};

// The ring of the domain this thread retired into last (a one-entry cache;
// other domains go through call_rcu_slow()).
extern constinit thread_local retire_ring* tls_last_ring
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
void retire_notify_slow(retire_ring& ring) noexcept;

}  // namespace detail
}  // namespace grace
