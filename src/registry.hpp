// src/registry.hpp — the registry of reader threads, thread exit, fork.
//
// Each registered thread has a node (in its own TLS, so registration never
// allocates) on an intrusive list guarded by the registry lock.  The lock is
// held only for short list walks and updates, never while sleeping, so
// pthread_atfork's prepare handler may take it.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "grace/detail/atomic.hpp"

namespace grace::detail {

// Registers the calling thread as a reader (first lock()).  Idempotent.
void register_reader_thread() noexcept;

// One pass over the registered readers for grace period `seq` (whose bits in
// the reader word are `seq_bits`): true when every reader is outside a
// section or entered its section under `seq_bits`.  Reports a corrupt reader
// word (unbalanced unlock) and aborts.  With check_stalls, also times the
// blocking readers and reports stalls (src/stall.hpp).
bool readers_quiescent(std::uint64_t seq, std::uint64_t seq_bits, bool check_stalls) noexcept;

// Number of registered reader threads (tests, statistics).
std::size_t registered_reader_count() noexcept;

// Makes sure the calling thread's exit runs grace's cleanup (reader
// unregistration, orphaning of its retire lists).  Idempotent.
void arm_thread_exit_hook() noexcept;

// Installs pthread_atfork handlers and the thread-exit key; called once from
// ensure_initialized().
void install_process_hooks() noexcept;

// Fork handlers of the individual subsystems (called by src/registry.cpp's
// pthread_atfork handlers, in this order).
void reclaim_prepare_fork() noexcept;
void reclaim_parent_after_fork() noexcept;
void reclaim_child_after_fork() noexcept;
void engine_child_after_fork() noexcept;

// Called on thread exit for the reclamation side (src/reclaimer.cpp).
void reclaim_thread_exit() noexcept;

}  // namespace grace::detail
