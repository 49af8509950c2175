// src/domain.cpp — rcu_domain and the public grace-period and barrier calls.
#include <ctime>

#include "flavor.hpp"
#include "grace/rcu.hpp"
#include "grace_period.hpp"
#include "misuse.hpp"
#include "reclaimer.hpp"

namespace grace {
namespace detail {

reclaimer* new_reclaimer(rcu_domain& dom) noexcept;
void delete_unpublished_reclaimer(reclaimer* r) noexcept;

constinit rcu_domain g_default_domain{default_domain_tag{}};

namespace {

// Blocking calls inside a read-side section would wait for the caller's own
// section: a certain deadlock, reported instead in every build.
void require_not_reader(const char* call) noexcept {
  if (read_nesting() != 0) {
    report_misuse(call, "called inside a read-side section; it would deadlock",
                  misuse_action::abort_always);
  }
}

// How long the default domain waits, at exit, for callbacks still queued.
constexpr long kExitDrainSeconds = 1;

}  // namespace
}  // namespace detail

rcu_domain::rcu_domain() noexcept { detail::ensure_initialized(); }

rcu_domain::~rcu_domain() {
  // [DM2] pairs with [DM1]: see reclaim_state().
  detail::reclaimer* r = reclaimer_.load(std::memory_order_acquire);
  if (r == nullptr) return;
  if (is_default_) {
    // Process exit: run what is queued if it can be done promptly (other
    // threads may still be inside sections), and keep the worker for
    // threads that outlive static destruction.
    if (detail::read_nesting() != 0) return;
    timespec deadline{};
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += detail::kExitDrainSeconds;
    if (!r->barrier(&deadline)) {
      detail::print_message("exit: callbacks still queued after 1 s (a reader is stuck?); "
                            "not waiting for them");
    }
    return;
  }
  detail::require_not_reader("rcu_domain::~rcu_domain");
  r->shutdown();
}

detail::reclaimer& rcu_domain::reclaim_state() noexcept {
  // [DM2] acquire pairs with [DM1]: the reclaimer is fully constructed
  // before anyone uses it.
  detail::reclaimer* r = reclaimer_.load(std::memory_order_acquire);
  if (r != nullptr) return *r;
  detail::reclaimer* fresh = detail::new_reclaimer(*this);
  if (fresh == nullptr) {
    detail::report_misuse("call_rcu", "out of memory allocating the domain's reclamation state",
                          detail::misuse_action::abort_always);
  }
  // [DM1] release publishes the new reclaimer (pairs with [DM2]); acquire on
  // failure, for the winner's reclaimer (pairs with the winner's [DM1]).
  if (reclaimer_.compare_exchange_strong(r, fresh, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
    return *fresh;
  }
  detail::delete_unpublished_reclaimer(fresh);
  return *r;
}

void rcu_synchronize(rcu_domain&) noexcept {
  detail::require_not_reader("rcu_synchronize");
  detail::gp_wait(detail::gp_get_state(), false);
}

void rcu_synchronize_expedited(rcu_domain&) noexcept {
  detail::require_not_reader("rcu_synchronize_expedited");
  detail::gp_wait(detail::gp_get_state(), true);
}

rcu_cookie rcu_get_state(rcu_domain&) noexcept { return detail::gp_get_state(); }

rcu_cookie rcu_start_poll(rcu_domain&) noexcept {
  const rcu_cookie cookie = detail::gp_get_state();
  detail::gp_request(cookie);
  return cookie;
}

bool rcu_poll_state(rcu_domain&, rcu_cookie cookie) noexcept { return detail::gp_poll(cookie); }

void rcu_cond_synchronize(rcu_domain&, rcu_cookie cookie) noexcept {
  if (detail::gp_poll(cookie)) return;
  detail::require_not_reader("rcu_cond_synchronize");
  detail::gp_wait(cookie, false);
}

void rcu_barrier(rcu_domain& dom) noexcept {
  detail::require_not_reader("rcu_barrier");
  detail::reclaimer* r = dom.reclaim_state_if_any();
  if (r != nullptr) r->barrier(nullptr);
}

}  // namespace grace
