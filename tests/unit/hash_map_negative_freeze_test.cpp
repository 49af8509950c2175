// Negative control for the migration's freeze (step 1, [HM12] in
// include/grace/hash_map.hpp: every slot of the chain up to and including the
// first empty one loses OPEN): this translation unit builds grace::hash_map
// with GRACE_HASH_MAP_BROKEN_OPEN_EMPTY=1, where that empty slot stays open.
// An insert can then claim it in a bucket that was already copied into the
// next table: it returns true, and the element is gone once the old table is
// retired.  (Only an empty chain, or a claim racing the freeze, is exposed: a
// walk stops at the first frozen entry.)  The lost-insert oracle of
// hash_map_lockfree_test.cpp, in the configuration negative_control_config()
// (one thread, erases: shrinking tables have many empty buckets), must catch
// it: this test passes only when the oracle reported a lost insert.
//
// The lost elements are leaked (their table is retired without them), so the
// oracle's thread runs with the leak checker off under ASAN.  With one thread
// the broken variant frees nothing twice and races nothing (see
// negative_control_config()), so it runs under ASAN and TSAN too.  Bounded:
// at most 10 short oracle runs, stopping at the first failure (typically the
// first shrink of the first run).
#define GRACE_HASH_MAP_BROKEN_OPEN_EMPTY 1
#include <gtest/gtest.h>

#include <cstdint>

#include "hash_map_lockfree_oracle.hpp"

#include "sanitizers.hpp"
#if GRACE_TEST_ASAN
#include <sanitizer/lsan_interface.h>
#endif

namespace {

TEST(HashMapNegativeControl, UnfrozenEmptySlotsLoseInsertsCaughtByTheOracle) {
  using broken_map =
      grace::hash_map<std::uint64_t, hm_lockfree::tracked_value, std::hash<std::uint64_t>,
                      std::equal_to<std::uint64_t>, hm_oracle::resize_heavy_traits>;
#if GRACE_TEST_ASAN
  auto hook = [] { return __lsan::ScopedDisabler(); };
#else
  auto hook = hm_lockfree::no_hook{};
#endif
  auto cfg = hm_lockfree::negative_control_config();
  cfg.stop_on_failure = true;
  std::uint64_t failures = 0, ops = 0;
  for (int attempt = 0; attempt < 10 && failures == 0; ++attempt) {
    hm_oracle::oracle_domain od;
    broken_map m(od.dom);
    const auto r = hm_lockfree::run_lost_insert_oracle(m, cfg, hook);
    ops += r.ops;
    failures += r.lost + r.phantom;
    if (failures == 0) failures += hm_lockfree::verify_full(m, cfg.keys_per_thread * cfg.threads);
  }
  EXPECT_GT(failures, 0u) << "the oracle missed inserts claimed in migrated buckets in " << ops
                          << " updates";
}

}  // namespace
