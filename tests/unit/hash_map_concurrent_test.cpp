// Concurrent oracle tests for grace::hash_map.  Short (about a second in
// release builds; scaled down under TSAN): the long runs belong to the
// stress tier.  The negative control that must fail these oracles is
// hash_map_negative_test.cpp.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "hash_map_oracle.hpp"

namespace {

using hm_oracle::checked_value;
using hm_oracle::kScale;
using oracle_map = grace::hash_map<std::uint64_t, checked_value, std::hash<std::uint64_t>,
                                   std::equal_to<std::uint64_t>, hm_oracle::resize_heavy_traits>;

// A.1 and reclamation: stable keys are found by every lookup, with intact
// contents, while other keys come and go (forcing grows and shrinks) and the
// stable keys' elements are replaced and retired.  Counts exact at the end.
template <class Traits>
void stable_keys_always_found() {
  hm_oracle::oracle_domain od;
  grace::hash_map<std::uint64_t, checked_value, std::hash<std::uint64_t>,
                  std::equal_to<std::uint64_t>, Traits>
      m(od.dom);
  const int waves = 24 / kScale;
  const auto r = hm_oracle::run_replace_oracle(m, 2, 2, 256, 1500 / kScale, waves, false);
  EXPECT_EQ(r.missing, 0u) << "stable keys not found in " << r.lookups << " lookups";
  EXPECT_EQ(r.corrupt, 0u) << "elements read after reclamation";
  EXPECT_GT(r.lookups, 0u);
  // Quiescent: every churn key was erased by its writer.
  EXPECT_EQ(m.size(), 256u);
  std::scoped_lock rs(m.domain());
  std::set<std::uint64_t> seen;
  m.for_each([&](std::uint64_t k, const checked_value& v) {
    EXPECT_TRUE(v.ok_for(k));
    EXPECT_TRUE(seen.insert(k).second) << "twice: " << k;
  });
  EXPECT_EQ(seen.size(), 256u);
}

TEST(HashMapConcurrent, StableKeysAlwaysFoundDuringChurnAndResize) {
  stable_keys_always_found<hm_oracle::resize_heavy_traits>();
}

// The same, with every grown table built ahead on the domain's worker.
TEST(HashMapConcurrent, StableKeysAlwaysFoundWithTablesBuiltAhead) {
  stable_keys_always_found<hm_oracle::built_ahead_traits>();
}

// E.1: concurrent insert() of the same key succeeds exactly once; so does
// concurrent erase().  The keys' growth forces resizes during the race.
TEST(HashMapConcurrent, SameKeyInsertAndEraseSucceedExactlyOnce) {
  constexpr int kThreads = 4;
  const std::uint64_t keys = 20000 / kScale;
  hm_oracle::oracle_domain od;
  oracle_map m(od.dom);
  std::vector<std::atomic<int>> inserted(keys), erased(keys);
  auto worker = [&](int id, bool do_erase) {
    // Each thread walks the keys from a different offset.
    for (std::uint64_t i = 0; i < keys; ++i) {
      const std::uint64_t k = (i + static_cast<std::uint64_t>(id) * keys / kThreads) % keys;
      if (!do_erase) {
        if (m.insert(k, checked_value(k))) inserted[k].fetch_add(1, std::memory_order_relaxed);
      } else {
        if (m.erase(k)) erased[k].fetch_add(1, std::memory_order_relaxed);
      }
    }
  };
  for (bool phase : {false, true}) {
    std::vector<std::thread> ts;
    for (int t = 0; t < kThreads; ++t) ts.emplace_back(worker, t, phase);
    for (auto& t : ts) t.join();
    if (!phase) {
      EXPECT_EQ(m.size(), keys);  // exact at quiescence
      for (std::uint64_t k = 0; k < keys; ++k) {
        ASSERT_EQ(inserted[k].load(), 1) << k;
        auto v = m.get(k);
        ASSERT_TRUE(v.has_value() && v->ok_for(k)) << k;
      }
    }
  }
  EXPECT_EQ(m.size(), 0u);
  for (std::uint64_t k = 0; k < keys; ++k) ASSERT_EQ(erased[k].load(), 1) << k;
}

// F.1: an iteration inside one section sees each stable key exactly once and
// no element twice, while other keys are inserted and erased (with resizes).
TEST(HashMapConcurrent, IterationSeesStableKeysOnceDuringChurn) {
  hm_oracle::oracle_domain od;
  oracle_map m(od.dom);
  constexpr std::uint64_t kStable = 300;
  for (std::uint64_t k = 0; k < kStable; ++k) m.insert(k, checked_value(k));
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    const std::uint64_t churn = 3000 / kScale;
    for (int wave = 0; wave < 10 / kScale + 1; ++wave) {
      for (std::uint64_t i = 0; i < churn; ++i) m.insert(kStable + i, checked_value(kStable + i));
      for (std::uint64_t i = 0; i < churn; ++i) m.erase(kStable + i);
    }
    stop.store(true, std::memory_order_relaxed);
  });
  int iterations = 0;
  while (!stop.load(std::memory_order_relaxed) || iterations == 0) {
    std::scoped_lock rs(m.domain());
    std::vector<int> stable_seen(kStable, 0);
    std::set<const checked_value*> elements;
    bool ok = true;
    m.for_each([&](std::uint64_t k, const checked_value& v) {
      if (!v.ok_for(k)) ok = false;
      if (!elements.insert(&v).second) ok = false;  // the same element twice
      if (k < kStable) ++stable_seen[k];
    });
    ASSERT_TRUE(ok) << "iteration " << iterations;
    for (std::uint64_t k = 0; k < kStable; ++k) ASSERT_EQ(stable_seen[k], 1) << k;
    ++iterations;
  }
  writer.join();
  EXPECT_GT(iterations, 0);
  EXPECT_EQ(m.size(), kStable);
}

}  // namespace
