// Read-copy-update of one element: grace::hash_map::replace(),
// erase(key, expected) and update() (D.2 in include/grace/hash_map.hpp).
// Deterministic cases first, then the lost-update oracle
// (tests/support/hash_map_update_oracle.hpp), whose negative control is
// tests/unit/hash_map_negative_replace_test.cpp.
#include <gtest/gtest.h>

#include <cstdint>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>

#include "grace/hash_map.hpp"
#include "hash_map_oracle.hpp"
#include "hash_map_update_oracle.hpp"
#include "test_util.hpp"

namespace {

using map = grace::hash_map<int, std::string>;
using int_map = grace::hash_map<int, int>;

TEST(HashMapUpdate, ReplaceSwapsTheElementItWasGiven) {
  map m;
  m.insert(1, "one");
  std::scoped_lock rs(m.domain());
  const std::string* p = m.find(1);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(m.replace(1, p, "uno"));
  EXPECT_EQ(*p, "one");  // the old element stays readable in this section (B.2)
  EXPECT_EQ(*m.find(1), "uno");
  EXPECT_EQ(m.size(), 1u);
}

// Key 1's element "one", found as p in the test's section, then replaced
// by "eins" (insert_or_assign).
class HashMapReplacedSince : public ::testing::Test {
 protected:
  HashMapReplacedSince() {
    m.insert(1, "one");
    p = m.find(1);
    EXPECT_FALSE(m.insert_or_assign(1, "eins"));
  }
  map m;
  std::scoped_lock<grace::rcu_domain> rs{m.domain()};  // after m: unlocked before m dies
  const std::string* p = nullptr;
};

TEST_F(HashMapReplacedSince, ReplaceRefusesTheOldElement) {
  EXPECT_FALSE(m.replace(1, p, "uno"));
  EXPECT_EQ(*m.find(1), "eins");
  // The element it now has is accepted.
  EXPECT_TRUE(m.replace(1, m.find(1), "uno"));
  EXPECT_EQ(*m.find(1), "uno");
}

TEST_F(HashMapReplacedSince, ConditionalEraseRefusesTheOldElement) {
  EXPECT_FALSE(m.erase(1, p));
  EXPECT_EQ(*m.find(1), "eins");
  EXPECT_FALSE(m.erase(1, nullptr));  // null matches nothing
  EXPECT_EQ(*m.find(1), "eins");
  EXPECT_TRUE(m.erase(1, m.find(1)));
  EXPECT_EQ(m.find(1), nullptr);
  EXPECT_EQ(m.size(), 0u);
}

TEST(HashMapUpdate, ReplaceNeverInserts) {
  map m;
  m.insert(1, "one");
  m.insert(2, "two");
  std::scoped_lock rs(m.domain());
  const std::string* p = m.find(1);
  ASSERT_TRUE(m.erase(1));
  EXPECT_FALSE(m.replace(1, p, "uno"));  // erased since
  EXPECT_EQ(m.find(1), nullptr);
  // Inserted again: a new element, so p is stale still (no ABA through a
  // revived tombstone).
  ASSERT_TRUE(m.insert(1, "ein"));
  EXPECT_FALSE(m.replace(1, p, "uno"));
  EXPECT_EQ(*m.find(1), "ein");
  EXPECT_FALSE(m.replace(3, m.find(2), "three"));  // absent key, another key's element
  EXPECT_EQ(m.find(3), nullptr);
  EXPECT_FALSE(m.replace(1, m.find(2), "x"));  // present key, another key's element
  EXPECT_EQ(*m.find(1), "ein");
  // A null expected (what find() returns for an absent key) matches nothing.
  EXPECT_FALSE(m.replace(3, m.find(3), "three"));
  EXPECT_FALSE(m.contains(3));
  EXPECT_FALSE(m.replace(1, nullptr, "x"));
  EXPECT_EQ(*m.find(1), "ein");
  EXPECT_EQ(m.size(), 2u);
}

TEST(HashMapUpdate, UpdateAppliesItsFunctionToTheCurrentValue) {
  int_map m;
  m.insert(7, 40);
  EXPECT_TRUE(m.update(7, [](int v) { return v + 2; }));
  EXPECT_EQ(m.get(7), 42);
  int calls = 0;
  EXPECT_FALSE(m.update(8, [&calls](int v) {
    ++calls;
    return v;
  }));
  EXPECT_EQ(calls, 0);
  EXPECT_FALSE(m.contains(8));
}

TEST(HashMapUpdate, UpdateWhoseFunctionThrowsChangesNothing) {
  int_map m;
  m.insert(7, 40);
  EXPECT_THROW(m.update(7, [](int) -> int { throw std::runtime_error("no"); }), std::runtime_error);
  EXPECT_EQ(m.get(7), 40);
  // The section update() took is closed again: a grace period completes.
  grace::rcu_synchronize();
}

// An element found before a resize is still the key's element after it:
// migration moves the pointer, not the element.
TEST(HashMapUpdate, ReplaceAcceptsAnElementFoundBeforeAResize) {
  grace::hash_map<int, int, std::hash<int>, std::equal_to<int>, hm_oracle::resize_heavy_traits> m;
  for (int k = 0; k < 8; ++k) m.insert(k, k);
  std::scoped_lock rs(m.domain());
  const int* p = m.find(3);
  const std::size_t before = m.bucket_count();
  m.reserve(4096);  // finishes any resize, then migrates everything
  ASSERT_GT(m.bucket_count(), before);
  EXPECT_TRUE(m.replace(3, p, 30));
  EXPECT_EQ(*m.find(3), 30);
}

// Every key collides and overflow-line allocations can be made to fail: a
// migration of the one bucket then stops half-way, leaving it frozen and
// unmarked.
bool g_fail_alloc = false;
struct collide_hash {
  std::size_t operator()(int) const noexcept { return 42; }
};
struct failing_traits : hm_oracle::resize_heavy_traits {
  static bool inject_alloc_failure() { return g_fail_alloc; }
};

// A replace that meets its key's bucket frozen finishes the bucket's
// migration first, then replaces the same element in the new table; if the
// migration cannot allocate, it throws with the map unchanged.
TEST(HashMapUpdate, ReplaceInAFrozenBucketFinishesItsMigrationFirst) {
  grace::hash_map<int, int, collide_hash, std::equal_to<int>, failing_traits> m;
  int keys = 0;
  while (!(m.resizing() && keys > 7)) {  // more keys than one line holds
    ASSERT_TRUE(m.insert(keys, keys));
    ++keys;
  }
  std::scoped_lock rs(m.domain());
  const int* p = m.find(3);
  ASSERT_NE(p, nullptr);
  g_fail_alloc = true;
  EXPECT_THROW(m.replace(3, p, 30), std::bad_alloc);
  EXPECT_TRUE(m.resizing());
  EXPECT_EQ(m.find(3), p);  // unchanged, found through the frozen bucket
  g_fail_alloc = false;
  EXPECT_TRUE(m.replace(3, p, 30));
  EXPECT_EQ(*m.find(3), 30);
  EXPECT_EQ(m.size(), static_cast<std::size_t>(keys));
}

TEST(HashMapUpdate, NoIncrementLost) {
  hm_oracle::oracle_domain od;
  grace::hash_map<std::uint64_t, std::uint64_t, std::hash<std::uint64_t>,
                  std::equal_to<std::uint64_t>, hm_oracle::resize_heavy_traits>
      m(od.dom);
  hm_update::config cfg;
  cfg.increments = static_cast<std::uint64_t>(grace_test::scaled(100000));
  const auto r = hm_update::run_lost_update_oracle(m, cfg);
  EXPECT_EQ(r.absent, 0u) << "a counter went missing during a resize";
  EXPECT_EQ(r.made, cfg.increments * static_cast<std::uint64_t>(cfg.threads));
  EXPECT_EQ(r.counted, r.made) << "lost " << r.made - r.counted << " increments (churn ops "
                               << r.churn_ops << ", retries " << r.retries << ")";
  // How often the updates raced (each retry is one); not asserted: on a
  // loaded machine the two may rarely overlap.
  RecordProperty("retries", static_cast<int>(r.retries));
  EXPECT_GT(r.churn_ops, 0u);
}

#if GRACE_CHECKED
// Key 1 in m, and p: its value, found in a section that has ended.
class HashMapUpdateDeathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    m.insert(1, 1);
    std::scoped_lock rs(m.domain());
    p = m.find(1);
  }
  int_map m;
  const int* p = nullptr;
};

TEST_F(HashMapUpdateDeathTest, ReplaceOutsideASection) {
  EXPECT_DEATH(m.replace(1, p, 2), "grace: hash_map::replace: called outside a read-side section");
}

TEST_F(HashMapUpdateDeathTest, ConditionalEraseOutsideASection) {
  EXPECT_DEATH(m.erase(1, p),
               "grace: hash_map::erase\\(key, expected\\): called outside a read-side section");
}

TEST_F(HashMapUpdateDeathTest, FindOutsideASection) {
  EXPECT_DEATH(
      (void)m.find(1),
      "grace: hash_map::find: called outside a read-side section \\(the result could be freed");
}
#endif

}  // namespace
