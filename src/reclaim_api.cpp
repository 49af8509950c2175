// src/reclaim_api.cpp — the public calls of grace/reclaim.hpp.
#include <new>
#include <utility>

#include "grace/reclaim.hpp"
#include "grace_period.hpp"
#include "misuse.hpp"
#include "psi_monitor.hpp"
#include "reclaimer.hpp"
#include "stall.hpp"

namespace grace {

void set_reclaim_limits(rcu_domain& dom, const reclaim_limits& limits) noexcept {
  dom.reclaim_state().set_limits(limits);
}

reclaim_limits get_reclaim_limits(rcu_domain& dom) noexcept {
  return dom.reclaim_state().limits();
}

void set_callback_executor(rcu_domain& dom, rcu_callback_executor executor) {
  dom.reclaim_state().set_executor(std::move(executor));
}

rcu_domain_stats rcu_stats(rcu_domain& dom) noexcept {
  rcu_domain_stats out;
  const detail::gp_counters gp = detail::gp_stats();
  out.grace_periods = gp.completed;
  out.expedited_grace_periods = gp.expedited;
  if (detail::reclaimer* r = dom.reclaim_state_if_any()) r->fill_stats(out);
  out.psi_available = detail::psi_available();
  out.psi_status = detail::psi_status();
  out.stalls = detail::stall_count();
  return out;
}

std::size_t reclaim_now(rcu_domain& dom) noexcept {
  if (detail::read_nesting() != 0) {
    detail::report_misuse("reclaim_now", "called inside a read-side section; it would deadlock",
                          detail::misuse_action::abort_always);
  }
  return dom.reclaim_state().reclaim_now();
}

shrinker_registration register_shrinker(rcu_domain& dom, std::function<std::size_t()> count,
                                        std::function<std::size_t(std::size_t)> scan) {
  auto* node = new detail::shrinker_node;
  node->count = std::move(count);
  node->scan = std::move(scan);
  dom.reclaim_state().add_shrinker(node);
  return shrinker_registration(node);
}

shrinker_registration::shrinker_registration(shrinker_registration&& other) noexcept
    : node_(std::exchange(other.node_, nullptr)) {}

shrinker_registration& shrinker_registration::operator=(shrinker_registration&& other) noexcept {
  if (this != &other) {
    reset();
    node_ = std::exchange(other.node_, nullptr);
  }
  return *this;
}

shrinker_registration::~shrinker_registration() { reset(); }

void shrinker_registration::reset() noexcept {
  if (node_ == nullptr) return;
  auto* node = static_cast<detail::shrinker_node*>(std::exchange(node_, nullptr));
  if (detail::read_nesting() != 0) {
    detail::report_misuse("shrinker_registration::reset",
                          "unregistering inside a read-side section would deadlock",
                          detail::misuse_action::abort_always);
  }
  node->owner->remove_shrinker(node);
}

}  // namespace grace
