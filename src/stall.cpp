// src/stall.cpp — RCU stall warnings.
#include "stall.hpp"

#include <cstdio>
#include <ctime>

#include "grace/detail/atomic.hpp"
#include "misuse.hpp"

namespace grace::detail {
namespace {

constexpr std::int64_t kDefaultStallTimeoutNs = 10'000'000'000;
constexpr std::int64_t kMinStallTimeoutNs = 1'000'000;

void default_stall_hook(const rcu_stall_info& info, void*) {
  char msg[200];
  std::snprintf(msg, sizeof msg,
                "RCU stall: thread %d has been inside a read-side section for %.3f s, "
                "blocking grace period %llu%s",
                info.tid, static_cast<double>(info.duration.count()) / 1e9,
                static_cast<unsigned long long>(info.grace_period),
                info.memory_limit ? " (a domain reached its hard memory limit)" : "");
  print_message(msg);
}

// All relaxed: independent settings and counters; the hook and its context
// are read as a pair under no lock, so a concurrent change may pair a new
// hook with an old context for one report (documented: set the hook before
// starting readers).
atomic<rcu_stall_hook> g_hook{default_stall_hook};
atomic<void*> g_hook_ctx{nullptr};
atomic<std::int64_t> g_timeout_ns{kDefaultStallTimeoutNs};
atomic<std::uint32_t> g_urgent{0};
atomic<std::uint64_t> g_stalls{0};

}  // namespace

std::int64_t monotonic_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::int64_t stall_timeout_ns() noexcept { return g_timeout_ns.load(std::memory_order_relaxed); }

bool stall_urgent() noexcept { return g_urgent.load(std::memory_order_relaxed) != 0; }

void set_stall_urgent(bool urgent) noexcept {
  if (urgent) {
    g_urgent.fetch_add(1, std::memory_order_relaxed);
  } else {
    g_urgent.fetch_sub(1, std::memory_order_relaxed);
  }
}

void report_stall(const rcu_stall_info& info) noexcept {
  g_stalls.fetch_add(1, std::memory_order_relaxed);
  const rcu_stall_hook hook = g_hook.load(std::memory_order_relaxed);
  hook(info, g_hook_ctx.load(std::memory_order_relaxed));
}

std::uint64_t stall_count() noexcept { return g_stalls.load(std::memory_order_relaxed); }

}  // namespace grace::detail

namespace grace {

void rcu_set_stall_hook(rcu_stall_hook hook, void* ctx) noexcept {
  detail::g_hook_ctx.store(ctx, std::memory_order_relaxed);
  detail::g_hook.store(hook != nullptr ? hook : detail::default_stall_hook,
                       std::memory_order_relaxed);
}

void rcu_set_stall_timeout(std::chrono::milliseconds timeout) noexcept {
  const std::int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
  detail::g_timeout_ns.store(ns < detail::kMinStallTimeoutNs ? detail::kMinStallTimeoutNs : ns,
                             std::memory_order_relaxed);
}

}  // namespace grace
