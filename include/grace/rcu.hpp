// grace/rcu.hpp — the front door: read-side critical sections, grace periods
// and deferred reclamation, with the names of C++26 <rcu> ([saferecl.rcu]).
//
// Overview
//   Readers bracket their accesses to shared data with a read-side section:
//       std::scoped_lock guard(grace::rcu_default_domain());
//   Updaters publish a new version (rcu_ptr<T>::exchange) and hand the old one
//   to rcu_retire(), or wait with rcu_synchronize() until every reader that
//   could still see it has left its section (a grace period), then free it.
//
// Example: a configuration read on every request, replaced rarely.
//
//   struct config : grace::rcu_obj_base<config> { int timeout_ms; };
//   grace::rcu_ptr<config> current{new config{{}, 100}};
//
//   int timeout() {                       // any thread, any time
//     std::scoped_lock guard(grace::rcu_default_domain());
//     return current.load()->timeout_ms;  // no lock, no atomic RMW, no fence
//   }
//   void set_timeout(int ms) {            // updaters serialize among themselves
//     config* old = current.exchange(new config{{}, ms});
//     old->retire();                      // freed after a grace period
//   }
//
// Costs (membarrier flavor, x86-64; docs/performance.md has the numbers):
//   lock()+unlock()            9 instructions inline (x86-64, g++), no fence, no call
//   rcu_synchronize()          one membarrier(2) and a scan of the readers
//   retire()/rcu_retire()      a push into a thread-local list (rcu_retire
//                              also allocates a small node)
//
// Threads need no registration: a thread registers on its first lock() and
// unregisters when it exits.  Sections nest (up to kMaxNesting deep).
//
// Domains.  rcu_default_domain() is the standard's only domain.  grace also
// lets you construct rcu_domain objects: each has its own reclamation worker,
// its own queue (so rcu_barrier() on it waits only for its callbacks) and its
// own statistics.  All domains share one read side and one grace-period
// engine: a reader in any domain holds back grace periods for all of them.
//
// Misuse (docs/misuse.md): rcu_synchronize()/rcu_barrier() inside a read-side
// section, unlock() without lock(), nesting overflow and exiting a thread
// inside a section print a message naming the call; see there which abort.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "grace/detail/reader.hpp"
#include "grace/detail/retire_list.hpp"
#include "grace/rcu_ptr.hpp"

namespace grace {

namespace detail {
struct default_domain_tag {};
}

inline constexpr std::uint32_t kMaxNesting = static_cast<std::uint32_t>(detail::kMaxNesting);

class rcu_domain {
 public:
  // A separate reclamation domain (an extension; the standard has only the
  // default one).  Allocates its worker lazily, on the first retire.
  rcu_domain() noexcept;
  // Runs every callback still queued to this domain (as rcu_barrier()), then
  // stops its worker.  Must not be called inside a read-side section.
  ~rcu_domain();
  rcu_domain(const rcu_domain&) = delete;
  rcu_domain& operator=(const rcu_domain&) = delete;

  // Enter a read-side section.  Nestable.  Wait-free; inline; no fence in
  // the membarrier flavor.  The first call on a thread registers it.
  void lock() noexcept { detail::read_lock(); }
  // Same as lock(); always succeeds (RCU readers never wait).
  bool try_lock() noexcept {
    detail::read_lock();
    return true;
  }
  // Leave a read-side section.  Wait-free; inline.
  void unlock() noexcept { detail::read_unlock(); }

  // Internal: the default domain's constructor, and the domain's
  // reclamation state (created on first use).
  constexpr explicit rcu_domain(detail::default_domain_tag) noexcept : is_default_(true) {}
  detail::reclaimer& reclaim_state() noexcept;
  detail::reclaimer* reclaim_state_if_any() const noexcept {
    // Relaxed: the pointer is only compared here; the slow path that
    // dereferences it loads it with acquire.
    return reclaimer_.load(std::memory_order_relaxed);
  }

 private:
  // Written once (CAS from null) by the first retire; read by every slow path.
  detail::atomic<detail::reclaimer*> reclaimer_{nullptr};
  bool is_default_ = false;
};

namespace detail {
extern rcu_domain g_default_domain;
}

// The process-wide default domain.
inline rcu_domain& rcu_default_domain() noexcept { return detail::g_default_domain; }

namespace detail {
// call_rcu()'s inline fast path: a push into this thread's list for dom.
// `size` is the bytes the callback will free (0 if unknown), for byte limits.
inline void enqueue_callback(rcu_head* node, rcu_domain& dom, std::uint64_t size) noexcept {
  retire_list* list = tls_last_list;
  if (list != nullptr && list->owner == dom.reclaim_state_if_any() && list->try_push(node, size))
      [[likely]] {
    // [RT3] compiler barrier, then a relaxed flag load: the store->load order
    // between [RT1] and this load is supplied by the worker's heavy barrier
    // [RC3] before it sleeps; in fence mode the flag is never zero and
    // retire_notify_slow() fences.
    compiler_fence();
    if (list->worker_flags->load(std::memory_order_relaxed) != 0) [[unlikely]] {
      retire_notify_slow(*list);
    }
    return;
  }
  call_rcu_slow(node, dom, size);
}
}  // namespace detail

// ---- Grace periods -------------------------------------------------------

// Waits until every read-side section that began before the call has ended.
// Concurrent callers share grace periods.  Blocking: spins briefly, then
// sleeps on a futex.  Precondition: not inside a read-side section (it would
// deadlock: grace aborts with a message instead).
void rcu_synchronize(rcu_domain& dom = rcu_default_domain()) noexcept;

// As rcu_synchronize(), for the lowest latency: never sleeps (spins and
// yields), and makes a sleeping grace period in progress stop sleeping.
void rcu_synchronize_expedited(rcu_domain& dom = rcu_default_domain()) noexcept;

// A polled grace-period cookie: rcu_poll_state() is true once a full grace
// period has elapsed since the cookie was taken.
struct rcu_cookie {
  std::uint64_t seq = 0;
  friend constexpr auto operator<=>(const rcu_cookie&, const rcu_cookie&) = default;
};

// A cookie for "a grace period starting after now".  Starts nothing.
rcu_cookie rcu_get_state(rcu_domain& dom = rcu_default_domain()) noexcept;
// As rcu_get_state(), and makes sure such a grace period will run (on the
// grace-period thread) without anyone waiting for it.
rcu_cookie rcu_start_poll(rcu_domain& dom = rcu_default_domain()) noexcept;
// True when a full grace period has elapsed since `cookie` was taken.
// Wait-free.  Synchronizes with the end of that grace period.
bool rcu_poll_state(rcu_domain& dom, rcu_cookie cookie) noexcept;
inline bool rcu_poll_state(rcu_cookie cookie) noexcept {
  return rcu_poll_state(rcu_default_domain(), cookie);
}
// Waits only if rcu_poll_state(cookie) is false.  Same precondition as
// rcu_synchronize().
void rcu_cond_synchronize(rcu_domain& dom, rcu_cookie cookie) noexcept;
inline void rcu_cond_synchronize(rcu_cookie cookie) noexcept {
  rcu_cond_synchronize(rcu_default_domain(), cookie);
}

// ---- Deferred reclamation ------------------------------------------------

// Queues func(head) to run after a grace period, on the domain's worker
// thread.  Allocation-free; a thread-local push in the common case.
// `bytes` (optional) is what the callback will free, for byte limits.
inline void call_rcu(rcu_head* head, void (*func)(rcu_head*),
                     rcu_domain& dom = rcu_default_domain(), std::size_t bytes = 0) noexcept {
  head->func = func;
  detail::enqueue_callback(head, dom, bytes);
}

// Waits until every callback queued to `dom` before the call (by any thread)
// has run.  Does not itself wait for a grace period when nothing is queued.
// Precondition: not inside a read-side section.
void rcu_barrier(rcu_domain& dom = rcu_default_domain()) noexcept;

// Base class for objects reclaimed with retire(), as std::rcu_obj_base.
// Holds an rcu_head and the deleter; no allocation on retire.
template <class T, class D = std::default_delete<T>>
class rcu_obj_base : private rcu_head {
 public:
  // Schedules d(static_cast<T*>(this)) after a grace period in dom.
  void retire(D d = D(), rcu_domain& dom = rcu_default_domain()) noexcept {
    deleter_ = std::move(d);
    rcu_head::func = &rcu_obj_base::reclaim;
    detail::enqueue_callback(static_cast<rcu_head*>(this), dom, sizeof(T));
  }

 protected:
  rcu_obj_base() = default;
  rcu_obj_base(const rcu_obj_base&) noexcept : rcu_head() {}
  rcu_obj_base(rcu_obj_base&&) noexcept : rcu_head() {}
  rcu_obj_base& operator=(const rcu_obj_base&) noexcept { return *this; }
  rcu_obj_base& operator=(rcu_obj_base&&) noexcept { return *this; }
  ~rcu_obj_base() = default;

 private:
  static void reclaim(rcu_head* head) {
    auto* self = static_cast<rcu_obj_base*>(head);
    D d = std::move(self->deleter_);
    d(static_cast<T*>(self));
  }

  [[no_unique_address]] D deleter_{};
};

// Schedules d(p) after a grace period in dom.  Allocates a small node:
// throws std::bad_alloc (and retires nothing) if that fails.
template <class T, class D = std::default_delete<T>>
void rcu_retire(T* p, D d = D(), rcu_domain& dom = rcu_default_domain()) {
  struct node : rcu_head {
    T* ptr;
    [[no_unique_address]] D deleter;
  };
  auto* n = new node{{}, p, std::move(d)};
  n->func = [](rcu_head* head) {
    std::unique_ptr<node> owned(static_cast<node*>(head));
    owned->deleter(owned->ptr);
  };
  detail::enqueue_callback(n, dom, sizeof(T) + sizeof(node));
}

// ---- Flavor --------------------------------------------------------------

enum class rcu_flavor {
  membarrier,  // readers pay no fence; writers use membarrier(2)
  fence,       // membarrier unavailable or refused: readers fence ("mb")
};

// Which flavor this process runs, decided once before the first reader.
rcu_flavor rcu_current_flavor() noexcept;
// Why the fence flavor was chosen ("" in the membarrier flavor).
const char* rcu_flavor_reason() noexcept;

}  // namespace grace
