// Negative control for the migration's publication order (the copies before
// M, [HM9] in include/grace/hash_map.hpp): this translation unit builds
// grace::hash_map with GRACE_HASH_MAP_BROKEN_EARLY_MARK=1, where a migration
// sets M BEFORE it copies the bucket's entries (and pauses in between).  A
// lookup can then follow M into the next table before the copies are there,
// and report a stable key missing.  The A.1 oracle of hash_map_concurrent_test.cpp must
// catch it: this test passes only when a lookup missed a stable key.
//
// No data race and no use-after-free (only the order is wrong), so it runs
// under ASAN and TSAN too.  Bounded: at most 20 short oracle runs, stopping at
// the first miss (typically the first run, well under a second).
#define GRACE_HASH_MAP_BROKEN_EARLY_MARK 1
#include <gtest/gtest.h>

#include <cstdint>

#include "hash_map_oracle.hpp"

namespace {

TEST(HashMapNegativeControl, MarkingBeforeCopyingIsCaughtByTheOracle) {
  using broken_map = grace::hash_map<std::uint64_t, hm_oracle::checked_value,
                                     std::hash<std::uint64_t>, std::equal_to<std::uint64_t>,
                                     hm_oracle::resize_heavy_traits>;
  std::uint64_t missing = 0, lookups = 0;
  for (int attempt = 0; attempt < 20 && missing == 0; ++attempt) {
    hm_oracle::oracle_domain od;
    broken_map m(od.dom);
    const auto r = hm_oracle::run_replace_oracle(m, 2, 1, 256, 300 / hm_oracle::kScale, 4, false);
    missing += r.missing;
    lookups += r.lookups;
  }
  EXPECT_GT(missing, 0u) << "the oracle missed lookups through half-migrated buckets in "
                         << lookups << " lookups";
}

}  // namespace
