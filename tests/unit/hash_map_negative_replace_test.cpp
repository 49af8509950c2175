// Negative control for the read-copy-update forms (D.2 in
// include/grace/hash_map.hpp): this translation unit builds grace::hash_map
// with GRACE_HASH_MAP_BROKEN_BLIND_REPLACE=1, where replace() swaps in its
// element whatever the key's current element is.  Two update() calls that
// read the same value then both store value + 1, and one increment is lost.
// The lost-update oracle of hash_map_update_test.cpp must catch it: this test
// passes only when the counters' sum fell short of the increments made.
//
// The broken variant frees nothing early and races nothing (its stores are
// the real map's CAS, only with the wrong expectation), so it runs under
// ASAN and TSAN too.  Bounded: at most 10 oracle runs, stopping at the first
// that loses an increment.
#define GRACE_HASH_MAP_BROKEN_BLIND_REPLACE 1
#include <gtest/gtest.h>

#include <cstdint>

#include "hash_map_update_oracle.hpp"
#include "test_util.hpp"

namespace {

TEST(HashMapNegativeControl, BlindReplaceLosesIncrementsCaughtByTheOracle) {
  using broken_map = grace::hash_map<std::uint64_t, std::uint64_t, std::hash<std::uint64_t>,
                                     std::equal_to<std::uint64_t>, hm_oracle::resize_heavy_traits>;
  hm_update::config cfg;
  cfg.increments = static_cast<std::uint64_t>(grace_test::scaled(100000));
  std::uint64_t lost = 0, made = 0;
  for (int attempt = 0; attempt < 10 && lost == 0; ++attempt) {
    hm_oracle::oracle_domain od;
    broken_map m(od.dom);
    const auto r = hm_update::run_lost_update_oracle(m, cfg);
    made += r.made;
    lost += r.made - r.counted;
  }
  EXPECT_GT(lost, 0u) << "the oracle missed blind replaces in " << made << " increments";
}

}  // namespace
