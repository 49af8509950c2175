// Negative control for the worker's touches of a table an update adopted
// (table::touch(), hash_map::take_order()): this translation unit builds
// grace::hash_map with GRACE_HASH_MAP_BROKEN_TOUCH_STORE=1, where a build
// step touches a page by storing 0 into its bucket's link word instead of
// writing back the value it read.  The scenario of
// HashMapBuildAhead.AStepThatTouchesAnAdoptedTableChangesNothing must catch
// it: the held step resumes after the adopted table's bucket 0 got an
// overflow line, its store wipes the link, and the keys in that line are
// lost.  These tests pass only when keys went missing.
//
// Deterministic (the worker is held inside the step), no data race (the
// broken touch is an atomic store), so it runs under TSAN too, and under
// ASAN with the leak checker off for this thread's allocations (the lost
// line and its elements are never freed).
#define GRACE_HASH_MAP_BROKEN_TOUCH_STORE 1
#include <gtest/gtest.h>

#include "hash_map_adopt.hpp"
#include "sanitizers.hpp"
#if GRACE_TEST_ASAN
#include <sanitizer/lsan_interface.h>
#endif

namespace {

TEST(HashMapNegativeControl, AStepThatStoresIntoAnAdoptedTableIsCaught) {
#if GRACE_TEST_ASAN
  __lsan::ScopedDisabler leaks_expected;
#endif
  hm_adopt::gated_domain gd;
  hm_adopt::held_step hold;
  hm_adopt::map m(gd.dom);
  const auto keys = hm_adopt::adopt_during_a_step(m, gd, hold);
  ASSERT_EQ(hm_adopt::missing(m, keys), 0u) << "keys missing before the held step resumed";
  hold.release();
  gd.drain();
  EXPECT_GT(hm_adopt::missing(m, keys), 0u) << "the store into bucket 0's link went unnoticed";
}

// The same at the scale of a mapped table, the worker held between two
// steps: the store lands on a page of the second step.
TEST(HashMapNegativeControl, ALaterStepThatStoresIntoAnAdoptedMappedTableIsCaught) {
#if GRACE_TEST_ASAN
  __lsan::ScopedDisabler leaks_expected;
#endif
  hm_adopt::gated_domain gd;
  hm_adopt::held_step hold(/*calls_to_skip=*/1);
  hm_adopt::map m(gd.dom);
  const auto keys = hm_adopt::adopt_mapped_during_a_later_step(m, gd, hold);
  ASSERT_EQ(hm_adopt::missing(m, keys), 0u) << "keys missing before the held step resumed";
  hold.release();
  gd.drain();
  EXPECT_GT(hm_adopt::missing(m, keys), 0u) << "the store into a later page's link went unnoticed";
}

}  // namespace
