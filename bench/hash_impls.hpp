// bench/hash_impls.hpp — the hash-table adapters compiled into this
// grace-bench (hash_ops.h is their interface).
#pragma once

#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "hash_ops.h"

namespace gb {

// What the hash_* workloads run, grace first: grace, cds_lfht, unordered_map,
// tbb (those found at build time).
const std::vector<const gb_hash_impl*>& hash_impls();
// Any of those, or cds_lfht_qsbr (urcu_hash only); null if not compiled in.
const gb_hash_impl* find_hash_impl(const std::string& name);
// Hash peers missing from this build, and why.
std::vector<std::string> skipped_hash_impls();

// A thread running fn between impl's thread_online and thread_offline.
template <class F>
std::thread hash_thread(const gb_hash_impl& impl, F fn) {
  return std::thread([&impl, fn = std::move(fn)]() mutable {
    impl.thread_online();
    fn();
    impl.thread_offline();
  });
}
// Runs fn on such a thread and waits for it.
template <class F>
void on_hash_thread(const gb_hash_impl& impl, F fn) {
  hash_thread(impl, std::move(fn)).join();
}

}  // namespace gb
