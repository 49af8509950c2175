// The lost-update oracle for grace::hash_map's read-copy-update forms
// (update(), replace()), shared by tests/unit/hash_map_update_test.cpp and
// its negative control (tests/unit/hash_map_negative_replace_test.cpp), so
// that the control runs exactly the check it must fail.
//
// `threads` threads add 1 to a few shared counters with update(), picking
// the counter at random, while a churn thread inserts and erases other keys
// so that the map grows, shrinks and migrates the counters' buckets under
// the updates.  Every update() that returned true must have counted: at the
// end each counter holds exactly the number of increments made to it.  A
// replace that does not check the element it read (a blind store) loses the
// increments of updates that came between its read and its store.
#pragma once

#include <atomic>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include "grace/hash_map.hpp"
#include "hash_map_oracle.hpp"

namespace hm_update {

struct config {
  int threads = 2;
  int counters = 2;                   // few: updates of one key collide often
  std::uint64_t increments = 100000;  // per thread
  std::uint64_t churn_keys = 4096;    // the churn thread's key range
};

struct result {
  std::uint64_t made = 0;     // increments whose update() returned true
  std::uint64_t counted = 0;  // the counters' final sum
  std::uint64_t absent = 0;   // update() calls that found a counter missing (must be 0)
  std::uint64_t retries = 0;  // calls of f beyond one per update(): the updates raced
  std::uint64_t churn_ops = 0;
};

// The counters' keys: oracle_key(j) for j < counters; churn keys above them.
template <class Map>
result run_lost_update_oracle(Map& m, const config& cfg) {
  for (int c = 0; c < cfg.counters; ++c) m.insert(hm_oracle::oracle_key(c), 0);
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> churn_ops{0};
  std::thread churn([&] {
    std::uint64_t ops = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      // Fill, then empty: every pass grows the table several times and
      // shrinks it back, migrating the counters' buckets both ways.
      for (std::uint64_t j = 0; j < cfg.churn_keys && !stop.load(std::memory_order_relaxed); ++j) {
        m.insert(hm_oracle::oracle_key(cfg.counters + j), j);
        ++ops;
      }
      for (std::uint64_t j = 0; j < cfg.churn_keys && !stop.load(std::memory_order_relaxed); ++j) {
        m.erase(hm_oracle::oracle_key(cfg.counters + j));
        ++ops;
      }
    }
    churn_ops.store(ops, std::memory_order_relaxed);
  });
  std::vector<std::uint64_t> made(static_cast<std::size_t>(cfg.threads), 0);
  std::vector<std::uint64_t> absent(static_cast<std::size_t>(cfg.threads), 0);
  std::vector<std::uint64_t> calls(static_cast<std::size_t>(cfg.threads), 0);
  std::vector<std::thread> updaters;
  // A start gate: without it one updater can be done before the other has
  // started (nothing to race with on 2 CPUs).
  std::atomic<int> ready{0};
  for (int t = 0; t < cfg.threads; ++t) {
    updaters.emplace_back([&, t] {
      std::mt19937_64 rng(static_cast<std::uint64_t>(t) + 1);
      std::uniform_int_distribution<int> pick(0, cfg.counters - 1);
      ready.fetch_add(1);
      while (ready.load() < cfg.threads) std::this_thread::yield();
      for (std::uint64_t i = 0; i < cfg.increments; ++i) {
        const auto add_one = [&calls, t](std::uint64_t v) {
          ++calls[t];
          return v + 1;
        };
        if (m.update(hm_oracle::oracle_key(pick(rng)), add_one)) {
          ++made[t];
        } else {
          ++absent[t];
        }
      }
    });
  }
  for (auto& u : updaters) u.join();
  stop.store(true, std::memory_order_relaxed);
  churn.join();
  result r;
  for (int t = 0; t < cfg.threads; ++t) {
    r.made += made[t];
    r.absent += absent[t];
    r.retries += calls[t] - made[t];
  }
  for (int c = 0; c < cfg.counters; ++c) {
    if (auto v = m.get(hm_oracle::oracle_key(c))) r.counted += *v;
  }
  r.churn_ops = churn_ops.load(std::memory_order_relaxed);
  return r;
}

}  // namespace hm_update
