// grace::hash_map's tables built ahead on the domain's worker
// (Traits::kBuildAheadBytes, hash_map::grow_from_order()): the update past
// the grow threshold orders the table and goes on; a later update takes the
// built table; an update past twice the threshold does not wait for the
// worker but adopts the table it is building, or builds one itself when the
// order has no memory; a map destroyed with an order out, or with an adopted
// table the worker still touches, frees the memory exactly once (ASAN and
// LSan in the ASAN build: these small tables come from calloc()).  The
// worker is held back with a callback executor that waits at a gate, or
// inside a build step (Traits::observe_build_step), so each step is
// deterministic.  The negative controls: for a touch that overwrites an
// adopted table, hash_map_negative_adopt_test.cpp; for a construction
// without the claim, hash_map_negative_claim_test.cpp.  The concurrent
// oracles run with every table built ahead in hash_map_lockfree_test.cpp and
// hash_map_concurrent_test.cpp.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <fstream>
#include <sys/resource.h>
#include <string>
#include <functional>
#include <optional>

#include "grace/hash_map.hpp"
#include "grace/reclaim.hpp"
#include "hash_map_adopt.hpp"
#include "hash_map_oracle.hpp"
#include "sanitizers.hpp"

namespace {

// 16 buckets grow past 32 elements, to 64 buckets (4 KiB): built ahead.
using ahead_traits = hm_oracle::growing_ahead_traits;
using ahead_map = grace::hash_map<std::uint64_t, std::uint64_t, std::hash<std::uint64_t>,
                                  std::equal_to<std::uint64_t>, ahead_traits>;

using hm_adopt::gated_domain;

void insert_range(ahead_map& m, std::uint64_t from, std::uint64_t to) {
  for (std::uint64_t k = from; k < to; ++k) ASSERT_TRUE(m.insert(k, k * 3));
}

void expect_all_present(const ahead_map& m, std::uint64_t n) {
  EXPECT_EQ(m.size(), n);
  for (std::uint64_t k = 0; k < n; ++k) {
    const auto v = m.get(k);
    ASSERT_TRUE(v.has_value()) << k;
    EXPECT_EQ(*v, k * 3);
  }
}

TEST(HashMapBuildAhead, ALaterUpdateTakesTheTableTheWorkerBuilt) {
  gated_domain gd;
  ahead_map m(gd.dom);
  insert_range(m, 0, 40);  // the 33rd insert ordered the table; the worker is held
  EXPECT_EQ(m.bucket_count(), 16u) << "the update past the threshold built the table itself";
  EXPECT_FALSE(m.resizing());
  expect_all_present(m, 40);  // load 2.5: longer chains, every key found
  gd.drain();                 // the worker builds it
  insert_range(m, 40, 41);    // takes it: the resize starts
  EXPECT_TRUE(m.resizing());
  insert_range(m, 41, 42);  // migrates the 16 buckets (one chunk) and publishes
  EXPECT_FALSE(m.resizing());
  EXPECT_EQ(m.bucket_count(), 64u);
  expect_all_present(m, 42);
}

TEST(HashMapBuildAhead, AnUpdatePastTwiceTheGrowLoadAdoptsTheOrder) {
  gated_domain gd;
  ahead_map m(gd.dom);
  insert_range(m, 0, 64);  // load 4: still waiting
  EXPECT_EQ(m.bucket_count(), 16u);
  insert_range(m, 64, 66);  // the 65th adopts the order (64 buckets), the 66th migrates
  EXPECT_EQ(m.bucket_count(), 64u) << "the ordered size, not buckets_for(65) = 128";
  expect_all_present(m, 66);
  gd.drain();  // the build finds the order adopted and lets go, freeing nothing
  expect_all_present(m, 66);
  // The next grow (past 128) orders again, and takes the built table.
  insert_range(m, 66, 129);
  EXPECT_EQ(m.bucket_count(), 64u);
  gd.drain();
  insert_range(m, 129, 140);  // takes it, then 4 updates migrate 64 buckets
  EXPECT_EQ(m.bucket_count(), 256u);
  expect_all_present(m, 140);
}

// The worker is held inside a step of the build (it has read the order as
// still building) while an update adopts the table, the map uses it, and
// the map is destroyed: the memory stays mapped until the step lets go (ASAN
// would report the touches of freed memory), and is freed once (LSan).
TEST(HashMapBuildAhead, DestroyedWhileTheWorkerTouchesAnAdoptedTable) {
  gated_domain gd;
  hm_adopt::held_step hold;
  {
    hm_adopt::map m(gd.dom);
    hm_adopt::adopt_during_a_step(m, gd, hold);
    EXPECT_EQ(m.bucket_count(), 64u);
  }
  hold.release();  // the step touches the table's first page, then lets go last
  gd.drain();
}

// The same, with the map kept: the step's touch writes bucket 0's link back,
// which by then points to an overflow line of the adopted table, and every
// key stays found.  (The negative control stores 0 there instead.)
TEST(HashMapBuildAhead, AStepThatTouchesAnAdoptedTableChangesNothing) {
  gated_domain gd;
  hm_adopt::held_step hold;
  hm_adopt::map m(gd.dom);
  const auto keys = hm_adopt::adopt_during_a_step(m, gd, hold);
  hold.release();
  gd.drain();
  EXPECT_EQ(hm_adopt::missing(m, keys), 0u);
}

// The same with a mapped table adopted between two of its build's steps:
// the update populates what the worker has not touched, and the later step
// touches pages of a table in use, one of them starting at a bucket with an
// overflow line.  (The negative control runs this scenario too.)
TEST(HashMapBuildAhead, ALaterStepThatTouchesAnAdoptedMappedTableChangesNothing) {
  gated_domain gd;
  hm_adopt::held_step hold(/*calls_to_skip=*/1);  // the first step touches
  hm_adopt::map m(gd.dom);
  const auto keys = hm_adopt::adopt_mapped_during_a_later_step(m, gd, hold);
  EXPECT_EQ(m.bucket_count(), 16384u) << "the ordered table, adopted";
  EXPECT_FALSE(m.resizing());
  hold.release();
  gd.drain();
  EXPECT_EQ(hm_adopt::missing(m, keys), 0u);
  EXPECT_EQ(m.size(), keys.size());
}

// The worker is held after it claimed the construction of the table it
// built (order_finishing()): updates past the threshold, not yet overdue,
// leave the order to it rather than abandon a table about to be published.
TEST(HashMapBuildAhead, AnUpdateLeavesATableBeingConstructedToTheWorker) {
  gated_domain gd;
  hm_adopt::held_step hold(/*calls_to_skip=*/1);  // past the (one) touching step
  hm_adopt::map m(gd.dom);
  for (std::uint64_t k = 0; k < 33; ++k) ASSERT_TRUE(m.insert(k, k * 3));  // orders
  const auto dropped = hm_adopt::adopt_traits::orders_dropped.load();
  gd.open();
  hold.wait_arrival();
  for (std::uint64_t k = 33; k < 40; ++k) ASSERT_TRUE(m.insert(k, k * 3));  // load 2.5
  EXPECT_EQ(hm_adopt::adopt_traits::orders_dropped.load(), dropped) << "an update dropped the order";
  EXPECT_FALSE(m.resizing());
  hold.release();
  gd.drain();
  ASSERT_TRUE(m.insert(40, 120));  // takes the table the worker published
  EXPECT_TRUE(m.resizing());
  ASSERT_TRUE(m.insert(41, 123));
  EXPECT_EQ(m.bucket_count(), 64u);
  for (std::uint64_t k = 0; k < 42; ++k) EXPECT_EQ(m.get(k), std::optional<std::uint64_t>(k * 3));
}

// The worker is held after it claimed the construction of a mapped table
// (three touching steps, then the claim), and updates go past twice the grow
// load: the overdue update cannot adopt a claimed table, so it abandons the
// order and builds one itself, and the worker, finding the order abandoned,
// frees what it constructed.  Every key stays found.  (The negative control,
// hash_map_negative_claim_test.cpp, constructs without the claim: the update
// adopts, and the worker then constructs over the table in use and frees it.)
TEST(HashMapBuildAhead, AnOverdueUpdateDuringTheClaimBuildsItsOwnTable) {
  gated_domain gd;
  hm_adopt::held_step hold(/*calls_to_skip=*/3);  // the three touching steps
  hm_adopt::map m(gd.dom);
  const auto dropped = hm_adopt::adopt_traits::orders_dropped.load();
  const auto keys = hm_adopt::overdue_mapped_order(m, gd, hold);
  EXPECT_EQ(hm_adopt::adopt_traits::orders_dropped.load(), dropped + 1)
      << "the overdue update adopted a table the worker had claimed";
  EXPECT_EQ(m.bucket_count(), 32768u) << "the update's own table, sized for the keys it found";
  hold.release();
  gd.drain();
  EXPECT_EQ(hm_adopt::missing(m, keys), 0u);
  EXPECT_EQ(m.size(), keys.size());
}

// Orders whose memory cannot be mapped (allocation failure, injected): the
// build reports the failure.
struct failing_ahead_traits : ahead_traits {
  static inline bool fail = false;
  static bool inject_alloc_failure() { return fail; }
};
using failing_map = grace::hash_map<std::uint64_t, std::uint64_t, std::hash<std::uint64_t>,
                                    std::equal_to<std::uint64_t>, failing_ahead_traits>;

// Inserts keys 0..32 (value k); the 33rd orders a table whose mapping fails.
void order_without_memory(failing_map& m) {
  for (std::uint64_t k = 0; k < 32; ++k) ASSERT_TRUE(m.insert(k, k));
  failing_ahead_traits::fail = true;
  ASSERT_TRUE(m.insert(32, 32));
  failing_ahead_traits::fail = false;
}

// The next update past the threshold drops the failed order, and the one
// after orders again.
TEST(HashMapBuildAhead, AFailedBuildIsOrderedAgain) {
  gated_domain gd;
  failing_map m(gd.dom);
  order_without_memory(m);
  gd.drain();
  ASSERT_TRUE(m.insert(33, 33));  // drops the failed order
  EXPECT_EQ(m.bucket_count(), 16u);
  EXPECT_FALSE(m.resizing());
  ASSERT_TRUE(m.insert(34, 34));  // orders again
  gd.drain();
  ASSERT_TRUE(m.insert(35, 35));  // takes it
  ASSERT_TRUE(m.insert(36, 36));  // and migrates
  EXPECT_EQ(m.bucket_count(), 64u);
  for (std::uint64_t k = 0; k < 37; ++k) EXPECT_EQ(m.get(k), std::optional<std::uint64_t>(k));
}

// With the worker held, an update past twice the grow load finds nothing to
// adopt, and builds the table itself.
TEST(HashMapBuildAhead, AnUpdatePastTwiceTheGrowLoadBuildsItselfWhenTheOrderHasNoMemory) {
  gated_domain gd;
  failing_map m(gd.dom);
  order_without_memory(m);
  for (std::uint64_t k = 33; k < 65; ++k) ASSERT_TRUE(m.insert(k, k));
  EXPECT_EQ(m.bucket_count(), 16u);
  ASSERT_TRUE(m.insert(65, 65));  // past 64: builds buckets_for(65) itself
  EXPECT_EQ(m.bucket_count(), 128u);
  gd.drain();
  for (std::uint64_t k = 0; k < 66; ++k) EXPECT_EQ(m.get(k), std::optional<std::uint64_t>(k));
}

TEST(HashMapBuildAhead, DestroyedWhileTheTableIsBeingBuilt) {
  gated_domain gd;
  {
    ahead_map m(gd.dom);
    insert_range(m, 0, 40);
  }  // the order is abandoned: the worker frees what it builds
  gd.drain();
}

TEST(HashMapBuildAhead, DestroyedWithABuiltTableNotYetTaken) {
  gated_domain gd;
  {
    ahead_map m(gd.dom);
    insert_range(m, 0, 40);
    gd.drain();  // built, and no update came to take it
  }  // the destructor frees it
}

TEST(HashMapBuildAhead, AStaleOrderIsDroppedAndANewOnePlaced) {
  gated_domain gd;
  ahead_map m(gd.dom);
  insert_range(m, 0, 40);  // a 64-bucket table on order
  m.reserve(200);  // a 256-bucket table comes first; its resize drops the order
  EXPECT_EQ(m.bucket_count(), 256u);
  gd.drain();                // the dropped order's build builds nothing
  insert_range(m, 40, 513);  // the 513th orders a 1024-bucket table
  insert_range(m, 513, 514);  // still building: no resize
  EXPECT_EQ(m.bucket_count(), 256u);
  gd.drain();
  insert_range(m, 514, 540);  // takes it; 16 updates migrate 256 buckets
  EXPECT_EQ(m.bucket_count(), 1024u);
  expect_all_present(m, 540);
}

// A table of 4 MiB (and its header) is built in steps of
// hm_detail::kBuildStep, a grace period apart; each drain() runs the steps
// queued before it, so at least one more each time.
struct large_ahead_traits : ahead_traits {
  static constexpr std::size_t kMinBuckets = 16384;  // 1 MiB; grows past 32K keys to 4 MiB
};
using large_map = grace::hash_map<std::uint64_t, std::uint64_t, std::hash<std::uint64_t>,
                                  std::equal_to<std::uint64_t>, large_ahead_traits>;

TEST(HashMapBuildAhead, ALargeTableIsBuiltInSteps) {
  gated_domain gd;
  large_map m(gd.dom);
  for (std::uint64_t k = 0; k <= 32768; ++k) ASSERT_TRUE(m.insert(k, k));  // orders 64K buckets
  EXPECT_EQ(m.bucket_count(), 16384u);
  constexpr std::size_t kBytes = (std::size_t{4} << 20) + 64 * 3;  // buckets and header, at most
  constexpr std::size_t kSteps = (kBytes + grace::hm_detail::kBuildStep - 1) / grace::hm_detail::kBuildStep;
  for (std::size_t step = 0; step < kSteps; ++step) gd.drain();
  ASSERT_TRUE(m.insert(32769, 32769));  // takes it
  EXPECT_TRUE(m.resizing());
  for (std::uint64_t k = 32770; k < 34000; ++k) ASSERT_TRUE(m.insert(k, k));  // 1024 chunks
  EXPECT_FALSE(m.resizing());
  EXPECT_EQ(m.bucket_count(), 65536u);
  for (std::uint64_t k = 0; k < 34000; ++k) ASSERT_EQ(m.get(k), std::optional<std::uint64_t>(k));
}

// This process's anonymous resident memory, in KiB (/proc/self/status).
long rss_anon_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("RssAnon:", 0) == 0) return std::stol(line.substr(8));
  }
  return -1;
}

long minor_faults_of_this_thread() {
  rusage u{};
  return ::getrusage(RUSAGE_THREAD, &u) == 0 ? u.ru_minflt : -1;
}

// The worker's touches write every page of a mapped table, the last one
// included: resident anonymous memory grows by the table's size.  A touch
// that only reads maps the kernel's zero page, which counts for nothing
// (clang 14 compiles a relaxed fetch_or of 0 into a plain load).  And each
// page faults once: a touch that reads the page before writing it faults
// twice (the zero page, then a copy-on-write fault that flushes every
// CPU's TLB), which once made the 64 MiB build slower than the fill it
// serves.  (Not counted under a sanitizer: its shadow memory faults too.)
TEST(HashMapBuildAhead, TouchesWriteEveryPageOnce) {
  namespace hd = grace::hm_detail;
  const hd::table::memory m = hd::table::allocate(std::size_t{1} << 16, false);  // 4 MiB + header
  ASSERT_NE(m.mapped, 0u) << "a table this large is its own mapping";
  const long before = rss_anon_kib();
  ASSERT_GE(before, 0) << "no RssAnon in /proc/self/status";
  const long faults_before = minor_faults_of_this_thread();
  for (std::size_t at = 0; at < m.bytes;) at = hd::table::touch(m, at, hd::kBuildStep);
  const long faults = minor_faults_of_this_thread() - faults_before;
  const long grown = rss_anon_kib() - before;
  hd::table::free_memory(m.raw, m.mapped);
  // Every page: 4 MiB and a page.  Other threads of this process may free
  // memory meanwhile, so a quarter of slack.
  EXPECT_GE(grown, static_cast<long>(m.bytes / 1024) * 3 / 4) << "KiB resident after touching "
                                                             << m.bytes / 1024 << " KiB";
  const long pages = static_cast<long>((m.bytes + 4095) / 4096);
  if (!GRACE_TEST_ASAN && !GRACE_TEST_TSAN) {
    EXPECT_LE(faults, pages + pages / 4) << "page faults touching " << pages << " pages";
  }
}

TEST(HashMapBuildAhead, DestroyedBetweenTwoStepsOfABuild) {
  gated_domain gd;
  {
    large_map m(gd.dom);
    for (std::uint64_t k = 0; k <= 32768; ++k) ASSERT_TRUE(m.insert(k, k));
    gd.drain();  // the first step (at least)
  }  // abandoned: the next step frees the half-built mapping
  gd.drain();
}

}  // namespace
