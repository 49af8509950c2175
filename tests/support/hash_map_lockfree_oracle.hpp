// Oracles for grace::hash_map's lock-free update protocol (per-key slot
// claims, tombstones, freeze/copy/mark migration), shared by
// tests/unit/hash_map_lockfree_test.cpp and the freeze negative control
// tests/unit/hash_map_negative_freeze_test.cpp, so that the control runs
// exactly the check it must fail.
//
// The lost-insert oracle: each thread owns a disjoint key range and keeps an
// exact model of it (only it updates those keys), so every result is
// predictable: insert(k) returns true iff the model says k is absent, erase(k)
// iff present, and a lookup after the update returned agrees with the model.
// Small traits make the map grow, shrink and rehash (tombstones) all the time,
// so most updates meet a migration.  A claim that lands in a bucket already
// copied into the next table (the bug the negative control plants) is lost
// when that resize finishes: a later lookup misses the key, or a later erase
// returns false.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "hash_map_oracle.hpp"

namespace hm_lockfree {

// hm_oracle::checked_value plus a count of live values (constructed minus
// destroyed): a leak or a double destruction shows up as a non-zero balance
// once the map is gone and the domain drained.
struct tracked_value {
  static inline std::atomic<std::int64_t> live{0};
  std::uint64_t key = 0;
  std::uint64_t check = 0;
  explicit tracked_value(std::uint64_t k) : key(k), check(k ^ hm_oracle::kMagic) {
    live.fetch_add(1, std::memory_order_relaxed);
  }
  tracked_value(const tracked_value& o) : key(o.key), check(o.check) {
    live.fetch_add(1, std::memory_order_relaxed);
  }
  tracked_value(tracked_value&& o) noexcept : key(o.key), check(o.check) {
    live.fetch_add(1, std::memory_order_relaxed);
  }
  tracked_value& operator=(const tracked_value&) = delete;
  ~tracked_value() {
    *static_cast<volatile std::uint64_t*>(&check) = hm_oracle::kPoison;
    live.fetch_sub(1, std::memory_order_relaxed);
  }
  bool ok_for(std::uint64_t k) const {
    return key == k &&
           *static_cast<const volatile std::uint64_t*>(&check) == (k ^ hm_oracle::kMagic);
  }
};

using hm_oracle::oracle_key;  // scrambled keys: random buckets

struct lost_insert_result {
  std::uint64_t ops = 0;
  std::uint64_t lost = 0;     // a key the model holds is missing (lookup or erase said so)
  std::uint64_t phantom = 0;  // a key the model lacks was found or refused an insert
  std::uint64_t corrupt = 0;  // a lookup returned a destroyed or foreign element
  std::uint64_t failures() const { return lost + phantom + corrupt; }
};

struct lost_insert_config {
  int threads = 4;
  std::uint64_t keys_per_thread = 1500;
  int rounds = 6;
  // Between rounds, erase all keys but one in keep_one_in (then insert them
  // again: revived tombstones), so the map also shrinks (a sparse table being
  // migrated: many empty buckets) and rehashes at the same size.
  bool with_erase = true;
  std::uint64_t keep_one_in = 8;
  // Stop every thread at the first failure (the negative control).
  bool stop_on_failure = false;
};

// The default per-thread hook: nothing.  A hook returns an object that lives
// as long as the worker thread's work (e.g. a leak-checker disabler).
struct no_hook {
  struct none {};
  none operator()() const { return {}; }
};

// The configuration the negative control runs (and the real map must pass):
// one thread, erases included.  Erases make the map shrink and rehash, and a
// table being shrunk has many empty buckets: an insert that meets an empty
// bucket already marked M (the broken build leaves its first empty slot
// open) claims a slot there.  With one thread such a lost element stays in
// the old table only (nothing can copy it), so the broken map merely leaks
// it; with several, a claim racing a copy could leave one element in both
// tables and the broken map would free it twice, aborting a sanitizer build
// instead of failing the oracle.
inline lost_insert_config negative_control_config() {
  lost_insert_config c;
  c.threads = 1;
  c.keep_one_in = 16;
  c.keys_per_thread = 3000 / static_cast<std::uint64_t>(hm_oracle::kScale);
  c.rounds = 4;
  c.with_erase = true;
  return c;
}

// Runs the oracle on m (which must be empty); `on_thread` runs first in every
// worker thread (the negative control turns leak checking off there).  Ends
// with the map quiescent, every key of every thread present (when no failure
// was seen), and no resize in progress (reserve(0) finishes one: a lost claim
// becomes visible as a missing key only when its table is retired).
template <class Map, class Hook = no_hook>
lost_insert_result run_lost_insert_oracle(Map& m, const lost_insert_config& cfg,
                                          Hook on_thread = Hook{}) {
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> ops{0}, lost{0}, phantom{0}, corrupt{0};
  auto worker = [&](int id) {
    [[maybe_unused]] auto guard = on_thread();
    const std::uint64_t base = static_cast<std::uint64_t>(id) * cfg.keys_per_thread;
    const std::uint64_t n = cfg.keys_per_thread;
    std::vector<char> present(n, 0);
    std::uint64_t my_ops = 0, my_lost = 0, my_phantom = 0, my_corrupt = 0;
    auto failed = [&] {
      if ((my_lost | my_phantom | my_corrupt) != 0 && cfg.stop_on_failure) {
        stop.store(true, std::memory_order_relaxed);
      }
      return stop.load(std::memory_order_relaxed);
    };
    // Every key checked against the model (after updates that returned).
    auto check_all = [&] {
      for (std::uint64_t i = 0; i < n; ++i) {
        const std::uint64_t k = oracle_key(base + i);
        std::scoped_lock rs(m.domain());
        const tracked_value* v = m.find(k);
        if (present[i] && v == nullptr) ++my_lost;
        if (!present[i] && v != nullptr) ++my_phantom;
        if (v != nullptr && !v->ok_for(k)) ++my_corrupt;
      }
    };
    for (int round = 0; round < cfg.rounds && !failed(); ++round) {
      // Alternate the direction, so that claims meet buckets on both sides
      // of the migration cursor.
      for (std::uint64_t j = 0; j < n; ++j) {
        const std::uint64_t i = (round % 2 == 0) ? j : n - 1 - j;
        const std::uint64_t k = oracle_key(base + i);
        const bool ins = m.insert(k, tracked_value(k));
        ++my_ops;
        if (ins != !present[i]) {
          if (ins) {
            ++my_lost;  // inserted a key it held: the earlier claim was lost
          } else {
            ++my_phantom;
          }
        }
        present[i] = 1;
      }
      check_all();
      if (failed() || !cfg.with_erase || round == cfg.rounds - 1) continue;
      for (std::uint64_t i = 0; i < n; ++i) {
        if ((i + static_cast<std::uint64_t>(round)) % cfg.keep_one_in == 0) continue;
        const bool er = m.erase(oracle_key(base + i));
        ++my_ops;
        if (er != static_cast<bool>(present[i])) {
          if (er) {
            ++my_phantom;
          } else {
            ++my_lost;
          }
        }
        present[i] = 0;
      }
      check_all();
    }
    ops += my_ops;
    lost += my_lost;
    phantom += my_phantom;
    corrupt += my_corrupt;
  };
  std::vector<std::thread> ts;
  for (int t = 0; t < cfg.threads; ++t) ts.emplace_back(worker, t);
  for (auto& t : ts) t.join();
  // Quiescent: finish the resize in progress, if any, so that its old table
  // (where a lost claim would still be visible) is retired.
  m.reserve(0);
  return {ops.load(), lost.load(), phantom.load(), corrupt.load()};
}

// After a clean run of the oracle: the keys oracle_key(0 .. keys-1) present
// once each, size() exact, iteration sees each key exactly once with intact
// contents.  Returns the number of discrepancies (0 when all holds).
template <class Map>
std::uint64_t verify_full(Map& m, std::uint64_t keys) {
  std::uint64_t bad = 0;
  if (m.size() != keys) ++bad;
  std::vector<std::uint64_t> want;
  want.reserve(keys);
  for (std::uint64_t j = 0; j < keys; ++j) {
    const std::uint64_t k = oracle_key(j);
    want.push_back(k);
    std::scoped_lock rs(m.domain());
    const tracked_value* v = m.find(k);
    if (v == nullptr || !v->ok_for(k)) ++bad;
  }
  std::vector<std::uint64_t> seen;
  {
    std::scoped_lock rs(m.domain());
    m.for_each([&](std::uint64_t k, const tracked_value& v) {
      if (!v.ok_for(k)) ++bad;
      seen.push_back(k);
    });
  }
  std::sort(want.begin(), want.end());
  std::sort(seen.begin(), seen.end());
  if (seen != want) ++bad;  // a key missed, visited twice, or unknown
  return bad;
}

}  // namespace hm_lockfree
