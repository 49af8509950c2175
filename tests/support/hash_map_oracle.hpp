// Oracle workloads for grace::hash_map, shared by the concurrent tests
// (tests/unit/hash_map_concurrent_test.cpp) and the negative control
// (tests/unit/hash_map_negative_test.cpp), so that the control runs exactly
// the check it must fail.
//
// The value type carries its key and a check word (key ^ kMagic); its
// destructor overwrites the check word with kPoison (a volatile store: not
// removed as a dead store).  A reader that sees a wrong key or a wrong check
// word read an element after it was destroyed: reclamation is broken.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "grace/hash_map.hpp"

namespace hm_oracle {

inline constexpr std::uint64_t kMagic = 0x5bd1e9955bd1e995ULL;
inline constexpr std::uint64_t kPoison = 0xdeaddeaddeaddeadULL;

#if defined(GRACE_TSAN)
inline constexpr int kScale = 8;  // TSAN is ~10x slower: shorter runs
#else
inline constexpr int kScale = 1;
#endif

struct checked_value {
  std::uint64_t key = 0;
  std::uint64_t check = 0;
  checked_value() = default;
  explicit checked_value(std::uint64_t k) : key(k), check(k ^ kMagic) {}
  checked_value(const checked_value&) = default;
  checked_value& operator=(const checked_value&) = default;
  ~checked_value() { *static_cast<volatile std::uint64_t*>(&check) = kPoison; }
  bool ok_for(std::uint64_t k) const {
    return key == k && *static_cast<const volatile std::uint64_t*>(&check) == (k ^ kMagic);
  }
};

// The oracles' j-th key: a bijective scramble of j (the splitmix64
// finalizer), so that keys land in buckets at random.  Consecutive keys
// would not: under the map's multiplicative (Fibonacci) hash they fill the
// buckets almost evenly, and a table being migrated then has no empty bucket
// and no chain of uneven length.  Shared with hash_map_lockfree_oracle.hpp.
inline std::uint64_t oracle_key(std::uint64_t j) {
  std::uint64_t z = j + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Small tables and small migration chunks: resizes are frequent and long.
struct resize_heavy_traits {
  static constexpr std::size_t kMinBuckets = 1;
  static constexpr std::size_t kMigrateChunk = 2;
  static constexpr std::size_t kGrowLoad = 4;
  static constexpr std::size_t kTargetLoad = 2;
};

// Counts what became of the orders of tables built ahead on the domain's
// worker (Traits::observe_order): taken with their table (a resize started
// with it), or dropped (stale, failed, or abandoned past twice the load).
struct order_counters {
  static inline std::atomic<std::uint64_t> orders_taken{0};
  static inline std::atomic<std::uint64_t> orders_dropped{0};
  static void observe_order(bool taken) {
    (taken ? orders_taken : orders_dropped).fetch_add(1, std::memory_order_relaxed);
  }
};

// resize_heavy_traits with every grown table built ahead on the domain's
// worker (hash_map::grow_from_order()): updates run at loads past kGrowLoad
// while the worker builds, take its table, or (past twice kGrowLoad) adopt
// the order and finish the table themselves while the worker may still be
// touching it.  Tables this small mostly take the overdue path: a grace
// period outlasts the few inserts to twice the load.
struct built_ahead_traits : resize_heavy_traits, order_counters {
  static constexpr std::size_t kBuildAheadBytes = 1;
};

// The default policy at a small scale (grow past 2 per bucket, 4x), tables
// of 4 KiB or more built ahead: inserts outlast the worker's build from a
// few thousand keys on, so most grows take the worker's table.
struct growing_ahead_traits : order_counters {
  static constexpr std::size_t kMinBuckets = 16;
  static constexpr std::size_t kMigrateChunk = 16;
  static constexpr std::size_t kGrowLoad = 2;
  static constexpr std::size_t kTargetLoad = 1;
  static constexpr std::size_t kBuildAheadBytes = 64 * 64;
};

// A domain of its own for each oracle map (default reclamation limits, so
// the writers also meet the back-pressure path), drained when the test ends.
struct oracle_domain {
  grace::rcu_domain dom;
  ~oracle_domain() { grace::rcu_barrier(dom); }
};

struct replace_result {
  std::uint64_t lookups = 0;
  std::uint64_t missing = 0;  // a stable key not found: A.1 broken
  std::uint64_t corrupt = 0;  // wrong key or poisoned check: reclamation broken
  std::uint64_t replaces = 0;
};

// Stable keys oracle_key([0, stable)) are inserted first and never erased; writers
// replace them (insert_or_assign) and insert/erase churn keys (forcing grows
// and shrinks); readers look stable keys up and validate what they see,
// holding each element for a short while.  Readers stop when the writers have
// done `waves` waves each, or when stop_on_corruption and one was seen.
template <class Map>
replace_result run_replace_oracle(Map& m, int readers, int writers, std::uint64_t stable,
                                  std::uint64_t churn, int waves, bool stop_on_corruption) {
  for (std::uint64_t i = 0; i < stable; ++i) {
    m.insert(oracle_key(i), checked_value(oracle_key(i)));
  }
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> lookups{0}, missing{0}, corrupt{0}, replaces{0};
  std::vector<std::thread> threads;
  for (int r = 0; r < readers; ++r) {
    threads.emplace_back([&, r] {
      std::mt19937_64 rng(1000 + r);
      std::uint64_t n = 0, miss = 0, bad = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        const std::uint64_t k = oracle_key(rng() % stable);
        std::scoped_lock rs(m.domain());
        const checked_value* v = m.find(k);
        ++n;
        if (v == nullptr) {
          ++miss;
          continue;
        }
        // Hold the element a little, as a real reader would.
        for (int spin = 0; spin < 20; ++spin) grace::detail::cpu_relax();
        if (!v->ok_for(k)) {
          ++bad;
          if (stop_on_corruption) stop.store(true, std::memory_order_relaxed);
        }
      }
      lookups += n;
      missing += miss;
      corrupt += bad;
    });
  }
  std::vector<std::thread> wthreads;
  for (int w = 0; w < writers; ++w) {
    wthreads.emplace_back([&, w] {
      std::mt19937_64 rng(2000 + w);
      const std::uint64_t base = stable + static_cast<std::uint64_t>(w) * churn;
      std::uint64_t reps = 0;
      for (int wave = 0; wave < waves && !stop.load(std::memory_order_relaxed); ++wave) {
        for (std::uint64_t i = 0; i < churn; ++i) {
          m.insert(oracle_key(base + i), checked_value(oracle_key(base + i)));
          const std::uint64_t k = oracle_key(rng() % stable);
          m.insert_or_assign(k, checked_value(k));
          ++reps;
        }
        for (std::uint64_t i = 0; i < churn; ++i) {
          m.erase(oracle_key(base + i));
          const std::uint64_t k = oracle_key(rng() % stable);
          m.insert_or_assign(k, checked_value(k));
          ++reps;
        }
      }
      replaces += reps;
    });
  }
  for (auto& t : wthreads) t.join();
  stop.store(true, std::memory_order_relaxed);
  for (auto& t : threads) t.join();
  return {lookups.load(), missing.load(), corrupt.load(), replaces.load()};
}

}  // namespace hm_oracle
