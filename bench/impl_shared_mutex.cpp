// bench/impl_shared_mutex.cpp — std::shared_mutex, the lock baseline for the
// read workloads: readers take it shared; updaters take it exclusive and may
// free the old version as soon as they release it (no grace period).
#include <atomic>
#include <cstdlib>
#include <shared_mutex>

#include "impl_ops.h"

namespace {

std::shared_mutex g_lock;

void nothing() {}

void read_pairs(std::uint64_t n) {
  for (std::uint64_t i = 0; i < n; ++i) {
    g_lock.lock_shared();
    g_lock.unlock_shared();
  }
}

std::uint64_t read_until_stop(gb_shared* s, std::uint64_t rdur) {
  std::uint64_t reads = 0;
  for (;;) {
    g_lock.lock_shared();
    gb_payload* p = std::atomic_ref(s->ptr).load(std::memory_order_acquire);
    if (p != nullptr && p->value != GB_LIVE) std::abort();  // saw freed memory
    if (rdur != 0) gb_loop_sleep(rdur);
    g_lock.unlock_shared();
    ++reads;
    if (std::atomic_ref(s->stop).load(std::memory_order_relaxed) != 0) break;
  }
  return reads;
}

void park(const int* release) {
  g_lock.lock_shared();
  while (std::atomic_ref(*const_cast<int*>(release)).load(std::memory_order_acquire) == 0) {
    gb_loop_sleep(64);
  }
  g_lock.unlock_shared();
}

void write_lock() { g_lock.lock(); }
void write_unlock() { g_lock.unlock(); }

}  // namespace

// Not nestable (a recursive shared lock can deadlock behind a waiting
// writer), no grace periods, no deferred reclamation.
extern "C" const gb_impl gb_impl_shared_mutex = {
    "shared_mutex", GB_CAP_READ, nothing, nothing, read_pairs, nullptr, read_until_stop,
    park,           nullptr,     write_lock, write_unlock, nullptr, nullptr, nullptr,
};
