// tests/support/hash_map_adopt.hpp — an update adopts a table the worker is
// still building (hash_map::take_order()), while the worker is held inside a
// step of that build: the scenario of the adoption tests in
// hash_map_build_ahead_test.cpp and of their negative control,
// hash_map_negative_adopt_test.cpp (which includes this header with
// GRACE_HASH_MAP_BROKEN_TOUCH_STORE=1, so hm_adopt::map is the broken
// variant there).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "grace/hash_map.hpp"
#include "grace/reclaim.hpp"
#include "hash_map_oracle.hpp"

namespace hm_adopt {

// A domain whose callbacks wait at a gate until open() (the worker waits
// with them).  Opened and drained on destruction.
struct gated_domain {
  std::atomic<bool> is_open{false};  // before dom: the executor reads it until dom is gone
  grace::rcu_domain dom;
  gated_domain() {
    grace::set_callback_executor(dom, [this](std::function<void()> task) {
      is_open.wait(false, std::memory_order_acquire);
      task();
    });
  }
  void open() {
    is_open.store(true, std::memory_order_release);
    is_open.notify_all();
  }
  // Every callback queued so far has run (the gate is open).
  void drain() {
    open();
    grace::rcu_barrier(dom);
  }
  ~gated_domain() { drain(); }
};

// Holds the worker at a call of Traits::observe_build_step (the start of a
// build step that touches pages, or the build's claim of the construction),
// the first after `skip` calls, from construction until release().
struct held_step {
  static inline std::atomic<bool> held{false};
  static inline std::atomic<bool> arrived{false};
  static inline std::atomic<int> skip{0};
  explicit held_step(int calls_to_skip = 0) {
    arrived.store(false);
    skip.store(calls_to_skip);
    held.store(true);
  }
  void wait_arrival() {
    while (!arrived.load(std::memory_order_acquire)) std::this_thread::yield();
  }
  void release() {
    held.store(false, std::memory_order_release);
    held.notify_all();
  }
  ~held_step() { release(); }
  held_step(const held_step&) = delete;
  held_step& operator=(const held_step&) = delete;
};

// 16 buckets, a 64-bucket table built ahead past 32 elements (4 KiB of
// buckets and the header: one step, which touches the link words of bucket
// 0 and of the bucket at the second 4 KiB); the step can be held.
struct adopt_traits : hm_oracle::growing_ahead_traits {
  static void observe_build_step() {
    if (!held_step::held.load(std::memory_order_acquire)) return;
    if (held_step::skip.fetch_sub(1) > 0) return;
    held_step::arrived.store(true, std::memory_order_release);
    held_step::held.wait(true, std::memory_order_acquire);
  }
};
using map = grace::hash_map<std::uint64_t, std::uint64_t, std::hash<std::uint64_t>,
                            std::equal_to<std::uint64_t>, adopt_traits>;

// Whether key falls in bucket b of a table of `buckets` buckets (the map's
// own hash: the index is the low bits of the product's high half).  Static:
// the translation unit's own variant of the map (see the file comment).
static bool in_bucket(std::uint64_t key, std::uint64_t b, std::uint64_t buckets) {
  return (grace::hm_detail::mix_parts(std::hash<std::uint64_t>{}(key)).hi & (buckets - 1)) == b;
}

// Holds the worker inside the first step of the 64-bucket table's build,
// has the 65th insert adopt that table, and fills the table's bucket 0 past
// its 7 slots, so its link word points to an overflow line before the held
// step touches that word.  Returns the keys inserted (each with value 3k).
// Call hold.release() and drain the domain afterwards.
inline std::vector<std::uint64_t> adopt_during_a_step(map& m, gated_domain& gd, held_step& hold) {
  std::vector<std::uint64_t> keys;
  std::uint64_t filler = 1'000'000'000;
  auto add = [&](std::uint64_t k) {
    if (m.insert(k, k * 3)) keys.push_back(k);
  };
  while (keys.size() < 33) add(filler++);  // the 33rd orders the table
  gd.open();                               // the worker starts the build ...
  hold.wait_arrival();                     // ... and waits inside its step
  while (keys.size() < 66) add(filler++);  // the 65th adopts it, the 66th migrates
  int in_zero = 0;
  for (std::uint64_t k : keys) in_zero += in_bucket(k, 0, 64) ? 1 : 0;
  for (std::uint64_t k = 0; in_zero < 9; ++k) {
    if (in_bucket(k, 0, 64)) {
      add(k);
      ++in_zero;
    }
  }
  return keys;
}

// A mapped table built in several steps, overdue: from a reserved
// 4096-bucket table, the 8193rd insert orders a 16384-bucket table (1 MiB
// and the header: mmap(), three steps of hm_detail::kBuildStep, then the
// claim of its construction).  The worker is held at the build's
// observe_build_step call after the ones `hold` skips, and inserts go on to
// 300 past the 16384th (the first update past twice the grow load takes the
// order, and the rest finish the resize).  Returns the keys inserted (each
// with value 3k).  Call hold.release() and drain the domain afterwards.
inline std::vector<std::uint64_t> overdue_mapped_order(map& m, gated_domain& gd, held_step& hold) {
  constexpr std::uint64_t kOld = 4096;
  std::vector<std::uint64_t> keys;
  m.reserve(kOld - 1);  // buckets_for(n) leaves room for one more
  if (m.bucket_count() != kOld) {
    ADD_FAILURE() << "reserve() made " << m.bucket_count() << " buckets, not " << kOld;
    return keys;
  }
  std::uint64_t k = 1'000'000'000;
  auto add_until = [&](std::size_t n) {
    for (; keys.size() < n; ++k) {
      if (m.insert(k, k * 3)) keys.push_back(k);
    }
  };
  add_until(2 * kOld + 1);  // the last one orders the table
  gd.open();                // the worker starts the build ...
  hold.wait_arrival();      // ... and waits where `hold` stops it
  add_until(4 * kOld + 301);
  return keys;
}

// The same, the worker held at the start of its second step (the first
// touched 512 KiB), so that the 16385th insert adopts the table (the update
// populates the pages not yet touched); then the bucket at the start of the
// first page the held step touches gets an overflow line.  `hold` must skip
// one call (held_step(1)).
inline std::vector<std::uint64_t> adopt_mapped_during_a_later_step(map& m, gated_domain& gd,
                                                                   held_step& hold) {
  namespace hd = grace::hm_detail;
  constexpr std::uint64_t kNew = 16384;
  static_assert(kNew * sizeof(hd::bucket) >= (std::size_t{1} << 20), "a mapped table");
  std::vector<std::uint64_t> keys = overdue_mapped_order(m, gd, hold);
  // The bucket whose link word starts the second step's first page.
  const std::uint64_t b = (hd::kBuildStep - sizeof(hd::table)) / sizeof(hd::bucket);
  std::size_t in_b = 0;
  for (std::uint64_t key : keys) in_b += in_bucket(key, b, kNew) ? 1 : 0;
  for (std::uint64_t key = 0; in_b < hd::kSlots + 2; ++key) {
    if (in_bucket(key, b, kNew) && m.insert(key, key * 3)) {
      keys.push_back(key);
      ++in_b;
    }
  }
  return keys;
}

// Keys of `keys` that m no longer finds with their value.
inline std::size_t missing(const map& m, const std::vector<std::uint64_t>& keys) {
  std::size_t n = 0;
  for (std::uint64_t k : keys) n += m.get(k) == std::optional<std::uint64_t>(k * 3) ? 0 : 1;
  return n;
}

}  // namespace hm_adopt
