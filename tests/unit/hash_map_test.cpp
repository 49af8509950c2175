// Unit tests for grace::hash_map (include/grace/hash_map.hpp): every
// operation, single-threaded, deterministic.  Concurrent oracle tests live in
// hash_map_concurrent_test.cpp; the negative control in
// hash_map_negative_test.cpp.
#include "grace/hash_map.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

// Tiny tables and one-bucket migration chunks: resizes happen often and stay
// in progress across many operations.
struct tiny_traits {
  static constexpr std::size_t kMinBuckets = 1;
  static constexpr std::size_t kMigrateChunk = 1;
  static constexpr std::size_t kGrowLoad = 4;
  static constexpr std::size_t kTargetLoad = 2;
};

// Every key in one bucket: exercises tags, overflow lines and equality.
struct collide_hash {
  std::size_t operator()(int) const noexcept { return 42; }
};

using small_map = grace::hash_map<int, int, std::hash<int>, std::equal_to<int>, tiny_traits>;

TEST(HashMap, EmptyMap) {
  grace::hash_map<int, int> m;
  EXPECT_EQ(m.size(), 0u);
  EXPECT_TRUE(m.empty());
  EXPECT_FALSE(m.get(1).has_value());
  EXPECT_FALSE(m.contains(1));
  EXPECT_FALSE(m.erase(1));
  std::scoped_lock rs(grace::rcu_default_domain());
  EXPECT_EQ(m.find(1), nullptr);
  int visits = 0;
  m.for_each([&](int, int) { ++visits; });
  EXPECT_EQ(visits, 0);
}

TEST(HashMap, InsertGetErase) {
  grace::hash_map<int, std::string> m;
  EXPECT_TRUE(m.insert(1, "one"));
  EXPECT_FALSE(m.insert(1, "uno"));  // present: unchanged
  EXPECT_EQ(m.get(1).value(), "one");
  EXPECT_EQ(m.size(), 1u);
  EXPECT_TRUE(m.erase(1));
  EXPECT_FALSE(m.erase(1));
  EXPECT_FALSE(m.get(1).has_value());
  EXPECT_EQ(m.size(), 0u);
}

TEST(HashMap, InsertOrAssign) {
  grace::hash_map<int, std::string> m;
  EXPECT_TRUE(m.insert_or_assign(7, "a"));
  EXPECT_FALSE(m.insert_or_assign(7, "b"));
  EXPECT_EQ(m.get(7).value(), "b");
  EXPECT_EQ(m.size(), 1u);
}

TEST(HashMap, FindPointerStaysValidInSection) {
  grace::hash_map<int, std::string> m;
  m.insert(3, "three");
  std::scoped_lock rs(grace::rcu_default_domain());
  const std::string* p = m.find(3);
  ASSERT_NE(p, nullptr);
  m.insert_or_assign(3, "drei");  // the old element is retired, not freed
  m.erase(3);
  EXPECT_EQ(*p, "three");
}

TEST(HashMap, ManyKeysGrowAndShrink) {
  small_map m;
  constexpr int kN = 5000;
  for (int i = 0; i < kN; ++i) ASSERT_TRUE(m.insert(i, i * 3));
  EXPECT_EQ(m.size(), static_cast<std::size_t>(kN));
  EXPECT_GE(m.bucket_count() * 4 + 64, static_cast<std::size_t>(kN) / 2);
  for (int i = 0; i < kN; ++i) ASSERT_EQ(m.get(i).value_or(-1), i * 3) << i;
  EXPECT_FALSE(m.contains(kN));
  for (int i = 0; i < kN; i += 2) ASSERT_TRUE(m.erase(i));
  for (int i = 0; i < kN; ++i) ASSERT_EQ(m.contains(i), i % 2 == 1) << i;
  for (int i = 1; i < kN; i += 2) ASSERT_TRUE(m.erase(i));
  EXPECT_EQ(m.size(), 0u);
  // Let the resizes finish (each update migrates one bucket), then the
  // table is small again.
  for (int i = 0; i < 20000 && (m.resizing() || m.bucket_count() >= 64); ++i) {
    m.insert(i, i);
    m.erase(i);
  }
  EXPECT_LT(m.bucket_count(), 64u);
}

TEST(HashMap, AllKeysCollide) {
  grace::hash_map<int, int, collide_hash> m;
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(m.insert(i, i));  // many overflow lines
  for (int i = 0; i < 100; ++i) ASSERT_EQ(m.get(i).value_or(-1), i);
  for (int i = 0; i < 100; i += 3) ASSERT_TRUE(m.erase(i));
  for (int i = 0; i < 100; ++i) ASSERT_EQ(m.contains(i), i % 3 != 0);
  // Holes are reused.
  for (int i = 0; i < 100; i += 3) ASSERT_TRUE(m.insert(i, -i));
  for (int i = 0; i < 100; ++i) ASSERT_EQ(m.get(i).value_or(1), i % 3 == 0 ? -i : i);
  EXPECT_EQ(m.size(), 100u);
}

// User hashes that differ only in their high bits (std::hash<uint64_t> is the
// identity): the Fibonacci mix must still spread them over buckets and tags.
TEST(HashMap, HighBitKeysSpreadOverBuckets) {
  grace::hash_map<std::uint64_t, std::uint64_t> m;
  for (std::uint64_t i = 0; i < 4096; ++i) ASSERT_TRUE(m.insert(i << 52, i));
  for (std::uint64_t i = 0; i < 4096; ++i) ASSERT_EQ(m.get(i << 52).value_or(~0ULL), i);
  // Iteration visits each once (the prefix partition of the index space).
  std::set<std::uint64_t> seen;
  {
    std::scoped_lock rs(m.domain());
    m.for_each([&](std::uint64_t k, std::uint64_t) { EXPECT_TRUE(seen.insert(k).second); });
  }
  EXPECT_EQ(seen.size(), 4096u);
}

// Keys whose mixed hashes share the 16-bit tag: a tag match whose key differs
// must not end the lookup (equal tag, different key, same bucket).
struct tag_collide_hash {
  // Same user hash for 2k and 2k+1: same bucket and same tag, keys differ.
  std::size_t operator()(int k) const noexcept { return static_cast<std::size_t>(k / 2); }
};

TEST(HashMap, TagCollisionsFallThroughToTheKeyCompare) {
  grace::hash_map<int, int, tag_collide_hash> m;
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(m.insert(i, i * 10));
  for (int i = 0; i < 200; ++i) ASSERT_EQ(m.get(i).value_or(-1), i * 10);
  for (int i = 0; i < 200; i += 2) ASSERT_TRUE(m.erase(i));  // the first of each pair
  for (int i = 0; i < 200; ++i) ASSERT_EQ(m.contains(i), i % 2 == 1);
  ASSERT_FALSE(m.get(1000).has_value());
}

// Lookups through a table that is mid-migration still find every key (in
// frozen buckets, in marked ones, in untouched ones), and a key erased after
// its bucket migrated is not found through the old table.
TEST(HashMap, LookupsDuringMigrationFollowFrozenAndMarkedBuckets) {
  small_map m;
  for (int i = 0; i < 64; ++i) ASSERT_TRUE(m.insert(i, i));
  int checked = 0;
  for (int round = 0; round < 2000 && checked < 200; ++round) {
    const int k = 1000 + round;
    ASSERT_TRUE(m.insert(k, k));  // each update migrates one bucket (kMigrateChunk = 1)
    if (!m.resizing()) continue;
    ++checked;
    for (int i = 0; i < 64; ++i) ASSERT_EQ(m.get(i).value_or(-1), i) << "round " << round;
    ASSERT_TRUE(m.erase(k));
    ASSERT_FALSE(m.contains(k));
    ASSERT_TRUE(m.insert(k, k));
  }
  EXPECT_GT(checked, 0);
}

TEST(HashMap, RandomOpsMatchStdMap) {
  small_map m;
  std::map<int, int> ref;
  std::mt19937 rng(12345);
  for (int step = 0; step < 30000; ++step) {
    const int k = static_cast<int>(rng() % 600);
    switch (rng() % 4) {
      case 0:
        ASSERT_EQ(m.insert(k, step), ref.emplace(k, step).second);
        break;
      case 1: {
        const bool inserted = ref.insert_or_assign(k, step).second;
        ASSERT_EQ(m.insert_or_assign(k, step), inserted);
        break;
      }
      case 2:
        ASSERT_EQ(m.erase(k), ref.erase(k) == 1);
        break;
      default: {
        auto it = ref.find(k);
        auto got = m.get(k);
        ASSERT_EQ(got.has_value(), it != ref.end());
        if (got) {
          ASSERT_EQ(*got, it->second);
        }
      }
    }
    ASSERT_EQ(m.size(), ref.size());
  }
  std::scoped_lock rs(grace::rcu_default_domain());
  std::map<int, int> seen;
  m.for_each([&](int k, int v) { ASSERT_TRUE(seen.emplace(k, v).second) << "twice: " << k; });
  EXPECT_EQ(seen, ref);
}

TEST(HashMap, IterationDuringMigrationVisitsEachOnce) {
  // Stop in the middle of resizes and iterate: every element exactly once.
  small_map m;
  for (int i = 0; i < 3000; ++i) {
    m.insert(i, i);
    if (i % 97 == 0 && m.resizing()) {
      std::scoped_lock rs(grace::rcu_default_domain());
      std::set<int> seen;
      m.for_each([&](int k, int) { ASSERT_TRUE(seen.insert(k).second) << "twice: " << k; });
      ASSERT_EQ(seen.size(), static_cast<std::size_t>(i + 1));
    }
  }
  // Shrinking, too.
  for (int i = 0; i < 3000; ++i) {
    m.erase(i);
    if (i % 89 == 0 && m.resizing()) {
      std::scoped_lock rs(grace::rcu_default_domain());
      std::set<int> seen;
      m.for_each([&](int k, int) { ASSERT_TRUE(seen.insert(k).second) << "twice: " << k; });
      ASSERT_EQ(seen.size(), static_cast<std::size_t>(3000 - i - 1));
    }
  }
}

TEST(HashMap, ReserveAndClear) {
  grace::hash_map<int, int> m;
  m.reserve(10000);
  const std::size_t b = m.bucket_count();
  EXPECT_GE(b * 4, 10000u);
  EXPECT_FALSE(m.resizing());
  for (int i = 0; i < 10000; ++i) m.insert(i, i);
  EXPECT_EQ(m.bucket_count(), b);  // no resize needed
  m.erase(1);
  EXPECT_EQ(m.bucket_count(), b);  // reserve() is a floor for shrinking
  m.clear();
  EXPECT_EQ(m.size(), 0u);
  EXPECT_FALSE(m.contains(5));
  EXPECT_TRUE(m.insert(5, 6));
  EXPECT_EQ(m.get(5).value(), 6);
}

TEST(HashMap, ClearWhileResizing) {
  small_map m;
  for (int i = 0; i < 2000; ++i) m.insert(i, i);
  m.clear();
  EXPECT_EQ(m.size(), 0u);
  for (int i = 0; i < 2000; ++i) ASSERT_FALSE(m.contains(i));
}

TEST(HashMap, DestructorMidResizeFreesEverything) {
  // ASAN/LSan check: a map destroyed with a resize in progress leaks nothing
  // and frees nothing twice (elements are referenced from both tables).
  auto m = std::make_unique<grace::hash_map<int, std::string, std::hash<int>,
                                            std::equal_to<int>, tiny_traits>>();
  bool saw_resizing = false;
  for (int i = 0; i < 1000; ++i) {
    m->insert(i, std::string(40, 'x'));
    if (m->resizing() && i > 100) {
      saw_resizing = true;
      break;
    }
  }
  EXPECT_TRUE(saw_resizing);
  m.reset();
  grace::rcu_barrier();
}

TEST(HashMap, SeparateDomain) {
  grace::rcu_domain dom;
  {
    grace::hash_map<int, int> m(dom);
    for (int i = 0; i < 100; ++i) m.insert_or_assign(i % 10, i);
    EXPECT_EQ(m.size(), 10u);
    EXPECT_EQ(m.get(3).value(), 93);
    std::scoped_lock rs(dom);
    EXPECT_EQ(*m.find(9), 99);
  }
  grace::rcu_barrier(dom);
}

// Counts live values: every element is destroyed exactly once.
struct counted {
  // Atomic: elements are destroyed on the reclamation worker too.
  static inline std::atomic<int> live{0};
  int v;
  explicit counted(int x) : v(x) { ++live; }
  counted(const counted& o) : v(o.v) { ++live; }
  counted(counted&& o) noexcept : v(o.v) { ++live; }
  ~counted() { --live; }
};

TEST(HashMap, ElementsAreReclaimed) {
  {
    grace::hash_map<int, counted> m;
    for (int i = 0; i < 100; ++i) m.insert(i, counted(i));
    for (int i = 0; i < 100; ++i) m.insert_or_assign(i, counted(-i));
    for (int i = 0; i < 50; ++i) m.erase(i);
  }
  grace::rcu_barrier();
  EXPECT_EQ(counted::live, 0);
}

// A value that cannot be copied and whose move constructor is explicit: the
// map constructs its elements by direct initialisation.
struct explicit_move {
  int v;
  explicit explicit_move(int x) : v(x) {}
  explicit explicit_move(explicit_move&& o) noexcept : v(o.v) {}
  explicit_move(const explicit_move&) = delete;
};

TEST(HashMap, ValuesWithAnExplicitMoveConstructor) {
  grace::hash_map<int, explicit_move> m;
  EXPECT_TRUE(m.insert(1, explicit_move(7)));
  EXPECT_FALSE(m.insert(1, explicit_move(8)));
  EXPECT_FALSE(m.insert_or_assign(1, explicit_move(9)));
  {
    std::scoped_lock guard(grace::rcu_default_domain());
    ASSERT_NE(m.find(1), nullptr);
    EXPECT_EQ(m.find(1)->v, 9);
  }
  EXPECT_TRUE(m.erase(1));
  EXPECT_EQ(m.size(), 0u);
}

// Allocation failure, injected through the traits hook.
thread_local bool g_fail_alloc = false;
struct failing_traits : grace::hash_map_default_traits {
  static bool inject_alloc_failure() { return g_fail_alloc; }
};
struct same_hash {
  std::size_t operator()(int) const noexcept { return 1; }
};

TEST(HashMap, BadAllocOnOverflowLineLeavesMapUnchanged) {
  grace::hash_map<int, counted, same_hash, std::equal_to<int>, failing_traits> m;
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(m.insert(i, counted(i)));  // one full bucket
  g_fail_alloc = true;  // the 8th key needs an overflow line
  EXPECT_THROW(m.insert(7, counted(7)), std::bad_alloc);
  EXPECT_THROW(m.insert_or_assign(8, counted(8)), std::bad_alloc);
  EXPECT_FALSE(m.insert(3, counted(33)));  // no allocation needed: fine
  EXPECT_FALSE(m.insert_or_assign(3, counted(30)));
  g_fail_alloc = false;
  EXPECT_EQ(m.size(), 7u);
  EXPECT_FALSE(m.contains(7));
  EXPECT_FALSE(m.contains(8));
  for (int i = 0; i < 7; ++i) EXPECT_EQ(m.get(i).value_or(counted(-1)).v, i == 3 ? 30 : i);
  EXPECT_TRUE(m.insert(7, counted(7)));
  EXPECT_EQ(m.get(7).value_or(counted(-1)).v, 7);
}

struct failing_tiny_traits : tiny_traits {
  static bool inject_alloc_failure() { return g_fail_alloc; }
};

TEST(HashMap, BadAllocDuringMigrationLeavesTheBucketFrozenAndFindable) {
  // Every key collides, so a migration of the one bucket needs overflow
  // lines in the new table.  While allocations fail, that bucket stays frozen
  // and unmarked: lookups still find every key (through the frozen bucket),
  // updates of its keys throw std::bad_alloc with the map unchanged.  Once
  // memory is back, the next update finishes the resize.
  grace::hash_map<int, int, collide_hash, std::equal_to<int>, failing_tiny_traits> m;
  // Insert until a resize starts with more keys than one line holds (tiny
  // traits: resizes at 5 and 17 keys).
  int keys = 0;
  while (!(m.resizing() && keys > 7)) {
    ASSERT_TRUE(m.insert(keys, keys));
    ++keys;
  }
  g_fail_alloc = true;
  int threw = 0;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < keys; ++i) {
      try {
        m.insert_or_assign(i, -1);
      } catch (const std::bad_alloc&) {
        ++threw;
      }
      const int v = m.get(i).value_or(-2);
      ASSERT_TRUE(v == -1 || v == i) << i << " -> " << v;
    }
  }
  EXPECT_GT(threw, 0);
  EXPECT_TRUE(m.resizing());
  for (int i = 0; i < keys; ++i) ASSERT_TRUE(m.contains(i)) << i;
  EXPECT_EQ(m.size(), static_cast<std::size_t>(keys));
  g_fail_alloc = false;
  for (int i = 0; i < 200; ++i) ASSERT_FALSE(m.insert_or_assign(i % keys, i % keys));
  EXPECT_FALSE(m.resizing());
  EXPECT_EQ(m.size(), static_cast<std::size_t>(keys));
  std::scoped_lock rs(grace::rcu_default_domain());
  int n = 0;
  m.for_each([&](int k, int v) {
    EXPECT_EQ(k, v);
    ++n;
  });
  EXPECT_EQ(n, keys);
}

}  // namespace

namespace {

// kHugePages: tables of 4 MiB or more are madvise()d for transparent huge
// pages (a hint).  The map behaves the same; 200K keys reach a table of
// 4 MiB at least (the 16 MiB one is ordered from the worker at 131,073 keys,
// built by touching its pages, and taken once built; an update builds it
// itself past 262,144).
struct huge_page_traits : grace::hash_map_default_traits {
  static constexpr bool kHugePages = true;
};

TEST(HashMap, HugePageTablesBehaveTheSame) {
  grace::hash_map<std::uint64_t, std::uint64_t, std::hash<std::uint64_t>,
                  std::equal_to<std::uint64_t>, huge_page_traits>
      m;
  constexpr std::uint64_t kKeys = 200000;
  for (std::uint64_t k = 0; k < kKeys; ++k) ASSERT_TRUE(m.insert(k * 7919, k));
  EXPECT_GE(m.bucket_count() * 64, std::size_t{4} << 20);
  for (std::uint64_t k = 0; k < kKeys; ++k) ASSERT_EQ(m.get(k * 7919).value_or(~0ull), k);
  for (std::uint64_t k = 0; k < kKeys; k += 2) ASSERT_TRUE(m.erase(k * 7919));
  EXPECT_EQ(m.size(), kKeys / 2);
}

// Heterogeneous lookup: with a transparent Hash and KeyEqual, find(), get()
// and contains() take a std::string_view for std::string keys and build no
// std::string (counted: the key type counts its constructions).
struct counted_string : std::string {
  static inline int built = 0;
  counted_string(std::string_view v) : std::string(v) { ++built; }
};
struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view v) const noexcept {
    return std::hash<std::string_view>{}(v);
  }
};
struct string_equal {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
};

TEST(HashMap, HeterogeneousLookupBuildsNoKey) {
  grace::hash_map<counted_string, int, string_hash, string_equal, tiny_traits> m;
  // Names longer than the small-string buffer: each std::string allocates.
  const std::string_view names[] = {"mail.example.org.", "ns1.example.org.", "www.example.org."};
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(m.insert(counted_string(names[i]), i));
  for (int i = 0; i < 64; ++i) {
    m.insert(counted_string("host" + std::to_string(i) + ".example.net."), i);
  }
  const int built = counted_string::built;
  {
    std::scoped_lock rs(m.domain());
    for (int i = 0; i < 3; ++i) {
      const int* v = m.find(names[i]);
      ASSERT_NE(v, nullptr);
      EXPECT_EQ(*v, i);
    }
    EXPECT_EQ(m.find(std::string_view("ftp.example.org.")), nullptr);
  }
  EXPECT_EQ(m.get(std::string_view("ns1.example.org.")), 1);
  EXPECT_TRUE(m.contains(std::string_view("host63.example.net.")));
  EXPECT_FALSE(m.contains(std::string_view("host64.example.net.")));
  // A string literal is looked up as itself too (hashed as a string_view);
  // misses take the out-of-line rest of the lookup.
  EXPECT_TRUE(m.contains("host7.example.net."));
  EXPECT_FALSE(m.contains("host99.example.net."));
  EXPECT_EQ(counted_string::built, built) << "a lookup built a key";
  // The Key overloads still work, and agree.
  EXPECT_EQ(m.get(counted_string("www.example.org.")), 2);
}

}  // namespace
