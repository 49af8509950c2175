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

// Runs `scenario` (from hash_map_adopt.hpp) with the worker held at its
// build's observe_build_step call after `skip` calls, then lets the held
// step run: keys must go missing.
template <class Scenario>
void expect_keys_lost(int skip, Scenario scenario, const char* where) {
#if GRACE_TEST_ASAN
  __lsan::ScopedDisabler leaks_expected;
#endif
  hm_adopt::gated_domain gd;
  hm_adopt::held_step hold(skip);
  hm_adopt::map m(gd.dom);
  const auto keys = scenario(m, gd, hold);
  ASSERT_EQ(hm_adopt::missing(m, keys), 0u) << "keys missing before the held step resumed";
  hold.release();
  gd.drain();
  EXPECT_GT(hm_adopt::missing(m, keys), 0u) << "the store into " << where << " went unnoticed";
}

TEST(HashMapNegativeControl, AStepThatStoresIntoAnAdoptedTableIsCaught) {
  expect_keys_lost(0, hm_adopt::adopt_during_a_step, "bucket 0's link");
}

// The same at the scale of a mapped table, the worker held between two
// steps: the store lands on a page of the second step.
TEST(HashMapNegativeControl, ALaterStepThatStoresIntoAnAdoptedMappedTableIsCaught) {
  expect_keys_lost(1, hm_adopt::adopt_mapped_during_a_later_step, "a later page's link");
}

}  // namespace
