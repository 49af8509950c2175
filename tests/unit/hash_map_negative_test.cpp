// Negative control for the hash_map reclamation oracle: this translation unit
// builds grace::hash_map with GRACE_HASH_MAP_BROKEN_RECLAIM=1, which frees a
// replaced or erased element at once instead of after a grace period (the
// inline namespace in hash_map.hpp keeps this variant apart from the real one
// in the same binary).  The oracle of hash_map_concurrent_test.cpp must catch
// it: this test passes only when a reader observed a destroyed element.
//
// Skipped under ASAN (the use-after-free would be reported and abort, which
// proves the same thing less usefully) and TSAN (the broken variant is a data
// race by construction).
#define GRACE_HASH_MAP_BROKEN_RECLAIM 1
#include <gtest/gtest.h>

#include <cstdint>

#include "hash_map_oracle.hpp"
#include "sanitizers.hpp"

namespace {

TEST(HashMapNegativeControl, ImmediateFreeIsCaughtByTheOracle) {
#if GRACE_TEST_ASAN || GRACE_TEST_TSAN
  GTEST_SKIP() << "the broken variant is a deliberate use-after-free";
#else
  using broken_map = grace::hash_map<std::uint64_t, hm_oracle::checked_value>;
  // Bounded attempts: each run stops at the first corruption seen.
  std::uint64_t corrupt = 0, lookups = 0;
  for (int attempt = 0; attempt < 20 && corrupt == 0; ++attempt) {
    hm_oracle::oracle_domain od;
    broken_map m(od.dom);
    const auto r = hm_oracle::run_replace_oracle(m, 1, 1, 64, 200, 40, true);
    corrupt += r.corrupt;
    lookups += r.lookups;
  }
  EXPECT_GT(corrupt, 0u) << "the oracle missed immediate frees in " << lookups << " lookups";
#endif
}

}  // namespace
