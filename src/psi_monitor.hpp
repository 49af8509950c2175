// src/psi_monitor.hpp — memory pressure from Linux PSI.
//
// A thread waits on a PSI trigger ("some 100 ms of stall in a 2 s window",
// the shortest window unprivileged processes may use) armed on the memory
// pressure file of the process's cgroup v2, or /proc/pressure/memory.  Each
// event asks every domain's worker to reclaim (reclaimer::note_pressure()),
// at most once per window.  Missing PSI (old kernel, no cgroup v2, a
// sandbox) is not an error: rcu_stats() reports it in psi_status.
#pragma once

namespace grace::detail {

// Starts the monitor thread once (and again in a forked child).
void ensure_psi_monitor() noexcept;
bool psi_available() noexcept;
const char* psi_status() noexcept;
void psi_child_after_fork() noexcept;

// Defined in src/reclaimer.cpp: note_pressure() on every domain.
void broadcast_memory_pressure() noexcept;

}  // namespace grace::detail
