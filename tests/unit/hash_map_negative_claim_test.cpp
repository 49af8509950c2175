// Negative control for the worker's claim of a table's construction
// (hm_detail::claim_construction(), order_finishing()): this translation unit
// builds grace::hash_map with GRACE_HASH_MAP_BROKEN_NO_CLAIM=1, where the
// worker only checks that nobody took the order and then constructs the
// table.  The scenario of
// HashMapBuildAhead.AnOverdueUpdateDuringTheClaimBuildsItsOwnTable must catch
// it: with the worker held between its check and the construction, the
// overdue update adopts the memory and the map starts using it; released, the
// worker constructs a fresh header over the table in use, finds the order
// adopted, and frees (unmaps) what it constructed.  The map's next lookup
// then reads unmapped memory, and the process dies (or, should the lookups
// survive, keys are missing, and it aborts).
//
// A death test: the scenario runs in a child process, which must die after
// it printed that the update adopted the order (so it dies of the broken
// construction, not of the setup).  Deterministic (the worker is held).
#define GRACE_HASH_MAP_BROKEN_NO_CLAIM 1
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "hash_map_adopt.hpp"

namespace {

// The scenario; returns only if the broken construction went unnoticed.
void adopt_during_the_construction() {
  hm_adopt::gated_domain gd;
  hm_adopt::held_step hold(/*calls_to_skip=*/3);  // the three touching steps
  hm_adopt::map m(gd.dom);
  const auto dropped = hm_adopt::adopt_traits::orders_dropped.load();
  const auto keys = hm_adopt::overdue_mapped_order(m, gd, hold);
  // Adopted: the order was not dropped, and the map uses the ordered size.
  if (hm_adopt::adopt_traits::orders_dropped.load() != dropped || m.bucket_count() != 16384) return;
  std::fputs("the overdue update adopted the order\n", stderr);
  hold.release();
  gd.drain();
  // Reached only if the lookups survived the freed table: lost keys count
  // as caught too.
  if (hm_adopt::missing(m, keys) != 0) std::abort();
}

TEST(HashMapNegativeControl, ConstructingWithoutTheClaimIsCaught) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        adopt_during_the_construction();
        std::_Exit(0);  // survived: no exit handler may turn this into a death
      },
      "the overdue update adopted the order");
}

}  // namespace
