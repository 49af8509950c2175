// src/stall.hpp — RCU stall warnings (see grace/reclaim.hpp).
//
// The grace-period scan (src/registry.cpp) notes when it first saw each
// blocking reader in its current section; once one has blocked for the stall
// timeout — or at once while some domain sits at its hard limit ("urgent") —
// it is reported through the hook, once per section.
#pragma once

#include <cstdint>

#include "grace/reclaim.hpp"

namespace grace::detail {

// Monotonic clock in nanoseconds.
std::int64_t monotonic_ns() noexcept;

std::int64_t stall_timeout_ns() noexcept;
// True while a domain at its hard limit waits for a grace period.
bool stall_urgent() noexcept;
// Set/cleared by reclamation workers.
void set_stall_urgent(bool urgent) noexcept;

// Calls the hook (outside any grace lock) and counts the stall.
void report_stall(const rcu_stall_info& info) noexcept;
std::uint64_t stall_count() noexcept;

}  // namespace grace::detail
