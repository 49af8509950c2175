// src/flavor.cpp — membarrier probe, fallback to the fence flavor, heavy barrier.
#include "flavor.hpp"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "grace/detail/reader.hpp"
#include "grace/rcu.hpp"
#include "misuse.hpp"
#include "registry.hpp"

namespace grace::detail {
namespace {

int sys_membarrier(int cmd) noexcept {
  return static_cast<int>(syscall(__NR_membarrier, cmd, 0U, 0));
}

// Written once under call_once, before any reader or writer uses them.
bool g_fence_mode = false;
char g_reason[160] = "";
atomic<std::uint64_t> g_membarrier_calls{0};

void choose_flavor() noexcept {
  const char* forced = std::getenv("GRACE_FLAVOR");
  if (forced != nullptr && std::strcmp(forced, "fence") == 0) {
    std::snprintf(g_reason, sizeof g_reason, "GRACE_FLAVOR=fence is set");
    g_fence_mode = true;
    return;
  }
  const int supported = sys_membarrier(MEMBARRIER_CMD_QUERY);
  if (supported < 0) {
    std::snprintf(g_reason, sizeof g_reason, "membarrier(MEMBARRIER_CMD_QUERY) failed: %s",
                  std::strerror(errno));
    g_fence_mode = true;
    return;
  }
  if ((supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) {
    std::snprintf(g_reason, sizeof g_reason,
                  "the kernel lacks MEMBARRIER_CMD_PRIVATE_EXPEDITED");
    g_fence_mode = true;
    return;
  }
  if (sys_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) != 0) {
    std::snprintf(g_reason, sizeof g_reason,
                  "membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) failed: %s",
                  std::strerror(errno));
    g_fence_mode = true;
  }
}

void initialize() noexcept {
  choose_flavor();
  if (g_fence_mode) {
    // No reader exists yet (every registration goes through
    // ensure_initialized() first), so relaxed stores suffice: the call_once
    // that runs us synchronizes with every later registration.
    g_read_side.gp_word.store(g_read_side.gp_word.load(std::memory_order_relaxed) | kFenceBit,
                              std::memory_order_relaxed);
    g_read_side.unlock_flags.store(kFenceMode, std::memory_order_relaxed);
    char msg[256];
    std::snprintf(msg, sizeof msg, "%s; using the fence flavor (readers fence)", g_reason);
    print_message(msg);
  }
  install_process_hooks();
}

std::once_flag g_once;
// Set once initialize() has run.  [IN1] release pairs with [IN2]: a thread
// that sees it also sees the flavor chosen.
atomic<bool> g_initialized{false};

}  // namespace

void ensure_initialized() noexcept {
  if (g_initialized.load(std::memory_order_acquire)) return;  // [IN2] pairs with [IN1]
  std::call_once(g_once, [] {
    initialize();
    g_initialized.store(true, std::memory_order_release);  // [IN1] pairs with [IN2]
  });
}

bool fence_mode() noexcept { return g_fence_mode; }

void heavy_barrier() noexcept {
  if (g_fence_mode) {
    // [GP2-F] seq_cst fence: pairs with the readers' [RD5] fences.
    thread_fence(std::memory_order_seq_cst);
    return;
  }
  g_membarrier_calls.fetch_add(1, std::memory_order_relaxed);  // statistics only
  // [GP2] membarrier: every running thread of the process executes a full
  // barrier before this returns (threads not running pass one when they are
  // switched out).  Pairs with [RD2] and [RD4], whose hardware half it is.
  if (sys_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0) {
    report_misuse("grace period (rcu_synchronize or a reclamation worker)",
                  "membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) was refused after start-up "
                  "(a seccomp filter installed later?); readers cannot be kept safe, aborting",
                  misuse_action::abort_always);
  }
}

std::uint64_t membarrier_calls() noexcept {
  return g_membarrier_calls.load(std::memory_order_relaxed);
}

}  // namespace grace::detail

namespace grace {

rcu_flavor rcu_current_flavor() noexcept {
  detail::ensure_initialized();
  return detail::fence_mode() ? rcu_flavor::fence : rcu_flavor::membarrier;
}

const char* rcu_flavor_reason() noexcept {
  detail::ensure_initialized();
  return detail::g_reason;
}

}  // namespace grace
