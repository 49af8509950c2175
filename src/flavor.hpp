// src/flavor.hpp — choosing the flavor, and the writer's heavy barrier.
//
// At start-up (before the first reader registers) grace asks the kernel for
// membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) and registers for it.  If that
// works, readers pay no fence and every grace period issues one membarrier.
// If it is missing (ENOSYS: old kernel) or refused (EPERM: seccomp, some
// record/replay tools), or GRACE_FLAVOR=fence is set, grace runs the fence
// flavor: readers fence (out of line) and the heavy barrier is a plain fence.
// It says so once on stderr and through rcu_current_flavor().
#pragma once

#include <cstdint>

namespace grace::detail {

// Idempotent; thread-safe; called by every path that can start a reader or a
// grace period before either does anything.
void ensure_initialized() noexcept;

bool fence_mode() noexcept;

// The writer's half of every store->load handshake with readers:
// membarrier(2) in the membarrier flavor (a full barrier on every running
// thread of the process), a seq_cst fence in the fence flavor (paired there
// with the readers' own fences).  Aborts with a message if membarrier, which
// worked at start-up, is refused later: readers would otherwise be unsafe.
void heavy_barrier() noexcept;

// Number of membarrier(2) calls made so far (statistics and tests).
std::uint64_t membarrier_calls() noexcept;

}  // namespace grace::detail
