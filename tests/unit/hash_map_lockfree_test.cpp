// Concurrent oracles aimed at grace::hash_map's lock-free update protocol
// (per-key slot claims, tombstones and revival, freeze/copy/mark migration
// helped by every update): no lost insert while the map grows, shrinks and
// rehashes (tests/support/hash_map_lockfree_oracle.hpp), exact per-key
// accounting of racing insert/erase/insert_or_assign (E.1), lookups after an
// update returned (C.1, C.2) during migrations, the destructor's ownership
// rules mid-resize (each element destroyed exactly once), and a throwing
// move constructor inside an insert's read-side section.  Each
// test takes well under a second in a release build (scaled down under
// TSAN).  The negative control that must fail the lost-insert oracle is
// hash_map_negative_freeze_test.cpp.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <new>
#include <optional>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "grace/detail/reader.hpp"
#include "grace/hash_map.hpp"
#include "hash_map_lockfree_oracle.hpp"
#include "hash_map_oracle.hpp"

namespace {

using hm_lockfree::tracked_value;
using hm_oracle::kScale;
using lf_map = grace::hash_map<std::uint64_t, tracked_value, std::hash<std::uint64_t>,
                               std::equal_to<std::uint64_t>, hm_oracle::resize_heavy_traits>;

// (a) Disjoint key ranges, each checked against its thread's exact model,
// with erases and re-inserts (tombstones, revival, shrinks, same-size
// rehashes) while resizes run; then every key present once, size() exact,
// and every element destroyed exactly once after the map is gone.
template <class Traits>
void expect_no_lost_insert() {
  using map = grace::hash_map<std::uint64_t, tracked_value, std::hash<std::uint64_t>,
                              std::equal_to<std::uint64_t>, Traits>;
  const std::int64_t live_before = tracked_value::live.load();
  {
    hm_oracle::oracle_domain od;
    {
      map m(od.dom);
      hm_lockfree::lost_insert_config cfg;
      cfg.keys_per_thread = 4000 / static_cast<std::uint64_t>(kScale);
      cfg.rounds = kScale == 1 ? 10 : 4;
      const auto r = hm_lockfree::run_lost_insert_oracle(m, cfg);
      EXPECT_EQ(r.lost, 0u) << "lost inserts in " << r.ops << " updates";
      EXPECT_EQ(r.phantom, 0u) << "keys present that the model lacks";
      EXPECT_EQ(r.corrupt, 0u);
      EXPECT_FALSE(m.resizing());
      EXPECT_EQ(hm_lockfree::verify_full(m, cfg.keys_per_thread * cfg.threads), 0u);
    }
  }  // rcu_barrier: the retired elements and tables are freed
  EXPECT_EQ(tracked_value::live.load(), live_before) << "elements leaked or destroyed twice";
}

TEST(HashMapLockFree, NoLostInsertWhileGrowingShrinkingAndRehashing) {
  expect_no_lost_insert<hm_oracle::resize_heavy_traits>();
}

// (a) again, with every grown table built ahead on the domain's worker:
// updates run past the grow load while it builds, take its table, or
// abandon the order past twice that load.
TEST(HashMapLockFree, NoLostInsertWithTablesBuiltAhead) {
  const std::uint64_t orders_before = hm_oracle::order_counters::orders_taken.load() +
                                      hm_oracle::order_counters::orders_dropped.load();
  expect_no_lost_insert<hm_oracle::built_ahead_traits>();
  EXPECT_GT(hm_oracle::order_counters::orders_taken.load() +
                hm_oracle::order_counters::orders_dropped.load(),
            orders_before)
      << "no grow went through an order";
}

// A writer inserts keys (the map grows from 16 buckets to 256K, its tables
// of 4 KiB and more built ahead on the worker) while a reader looks up keys
// inserted before and checks what it finds.  Every key is present once at
// the end, and some grow took the worker's table.  One writer that pauses
// now and then, and a reader that yields: with every CPU busy updating, the
// worker may get no time to build before twice the load, and every grow
// takes the overdue path (correct, but not what this test is for).
TEST(HashMapLockFree, GrowingWithTablesBuiltAheadLosesNothing) {
  using ahead_map = grace::hash_map<std::uint64_t, tracked_value, std::hash<std::uint64_t>,
                                    std::equal_to<std::uint64_t>, hm_oracle::growing_ahead_traits>;
  constexpr std::uint64_t kStable = 1000;
  const std::uint64_t n = kStable + 200000 / static_cast<std::uint64_t>(kScale);
  const std::uint64_t taken_before = hm_oracle::order_counters::orders_taken.load();
  const std::int64_t live_before = tracked_value::live.load();
  {
    hm_oracle::oracle_domain od;
    ahead_map m(od.dom);
    auto key = [](std::uint64_t j) { return hm_lockfree::oracle_key(j); };
    for (std::uint64_t j = 0; j < kStable; ++j) m.insert(key(j), tracked_value(key(j)));
    std::atomic<bool> writing{true};
    std::atomic<std::uint64_t> refused{0}, missing{0}, corrupt{0};
    std::thread writer([&] {
      for (std::uint64_t j = kStable; j < n; ++j) {
        if (!m.insert(key(j), tracked_value(key(j)))) refused.fetch_add(1);
        // Now and then, leave the CPU to the worker (see above).
        if (j % 1024 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      writing.store(false);
    });
    std::thread reader([&] {
      for (std::uint64_t i = 0; writing.load(); ++i) {
        const std::uint64_t k = key(i % kStable);
        {
          std::scoped_lock rs(m.domain());
          const tracked_value* v = m.find(k);
          if (v == nullptr) {
            missing.fetch_add(1);
          } else if (!v->ok_for(k)) {
            corrupt.fetch_add(1);
          }
        }
        if (i % 64 == 0) std::this_thread::yield();
      }
    });
    writer.join();
    reader.join();
    EXPECT_EQ(refused.load(), 0u);
    EXPECT_EQ(missing.load(), 0u) << "keys present throughout not found (A.1)";
    EXPECT_EQ(corrupt.load(), 0u);
    EXPECT_EQ(hm_lockfree::verify_full(m, n), 0u);  // each key once, intact
  }
  EXPECT_EQ(tracked_value::live.load(), live_before) << "elements leaked or destroyed twice";
  EXPECT_GT(hm_oracle::order_counters::orders_taken.load(), taken_before)
      << "no grow took a table the worker built";
}

// (a) The configuration the negative control runs (one thread, erases).
TEST(HashMapLockFree, NoLostInsertNegativeControlConfiguration) {
  const std::int64_t live_before = tracked_value::live.load();
  {
    hm_oracle::oracle_domain od;
    lf_map m(od.dom);
    const auto cfg = hm_lockfree::negative_control_config();
    const auto r = hm_lockfree::run_lost_insert_oracle(m, cfg);
    EXPECT_EQ(r.failures(), 0u) << r.lost << " lost, " << r.phantom << " phantom, " << r.corrupt
                                << " corrupt in " << r.ops << " updates";
    EXPECT_EQ(hm_lockfree::verify_full(m, cfg.keys_per_thread * cfg.threads), 0u);
  }
  EXPECT_EQ(tracked_value::live.load(), live_before);
}

// (b) Every thread races insert, erase and insert_or_assign on the same few
// keys while a churn thread forces grows and shrinks.  E.1 makes the
// successes exact: per key, successful inserts (insert() true, or
// insert_or_assign() reporting an insertion) minus successful erases is the
// key's final presence, 0 or 1.  Values carry their key; every element is
// destroyed exactly once (revived tombstones, replaced elements, tombstones
// dropped with their table, the destructor's share).
TEST(HashMapLockFree, SameKeyRacesHaveExactAccountingDuringResizes) {
  constexpr int kThreads = 3;
  constexpr std::uint64_t kKeys = 24;
  constexpr std::uint64_t kChurnBase = 1u << 20;
  const int ops = 60000 / kScale;
  const std::int64_t live_before = tracked_value::live.load();
  {
    hm_oracle::oracle_domain od;
    lf_map m(od.dom);
    std::vector<std::atomic<std::int64_t>> balance(kKeys);
    std::atomic<std::uint64_t> corrupt{0};
    std::atomic<int> running{kThreads};
    std::vector<std::thread> ts;
    for (int id = 0; id < kThreads; ++id) {
      ts.emplace_back([&, id] {
        std::mt19937_64 rng(77 + static_cast<std::uint64_t>(id));
        for (int i = 0; i < ops; ++i) {
          const std::uint64_t j = rng() % kKeys;
          const std::uint64_t k = hm_lockfree::oracle_key(j);  // random buckets
          switch (rng() % 4) {
            case 0:
              if (m.insert(k, tracked_value(k))) balance[j].fetch_add(1);
              break;
            case 1:
              if (m.erase(k)) balance[j].fetch_sub(1);
              break;
            case 2:
              if (m.insert_or_assign(k, tracked_value(k))) balance[j].fetch_add(1);
              break;
            default: {
              std::scoped_lock rs(m.domain());
              const tracked_value* v = m.find(k);
              if (v != nullptr && !v->ok_for(k)) corrupt.fetch_add(1);
            }
          }
        }
        running.fetch_sub(1);
      });
    }
    // Churn: other keys come and go in waves (grows, shrinks, rehashes).
    std::thread churn([&] {
      const std::uint64_t n = 400;
      auto key = [](std::uint64_t i) { return hm_lockfree::oracle_key(kChurnBase + i); };
      while (running.load() != 0) {
        for (std::uint64_t i = 0; i < n; ++i) m.insert(key(i), tracked_value(key(i)));
        for (std::uint64_t i = 0; i < n; ++i) m.erase(key(i));
      }
    });
    for (auto& t : ts) t.join();
    churn.join();
    EXPECT_EQ(corrupt.load(), 0u);
    std::uint64_t present = 0;
    for (std::uint64_t j = 0; j < kKeys; ++j) {
      const std::uint64_t k = hm_lockfree::oracle_key(j);
      const std::int64_t b = balance[j].load();
      const bool has = m.contains(k);
      present += has ? 1 : 0;
      EXPECT_EQ(b, has ? 1 : 0) << "key " << k << ": successful inserts minus erases " << b
                                << ", present " << has;
      const auto v = m.get(k);
      if (v.has_value()) {
        EXPECT_TRUE(v->ok_for(k)) << k;
      }
    }
    EXPECT_EQ(m.size(), present);
  }
  EXPECT_EQ(tracked_value::live.load(), live_before) << "elements leaked or destroyed twice";
}

// (c) C.1 and C.2 under migration: a writer inserts a wave of keys in order,
// then erases them in order, publishing its progress after each update
// returned.  Readers check a key against the progress they read before and
// after their lookup: inserted and not yet being erased -> found; erased
// (this wave's erase returned, or an earlier wave) -> not found.  A churn
// thread keeps the map resizing.
TEST(HashMapLockFree, LookupsAfterAnUpdateReturnedSeeIt) {
  constexpr std::uint64_t kWave = 256;
  constexpr std::uint64_t kChurnBase = 1u << 24;
  const int waves = kScale == 1 ? 400 : 30;
  hm_oracle::oracle_domain od;
  lf_map m(od.dom);
  // wave << 32 | erasing << 31 | count of updates of this phase returned.
  std::atomic<std::uint64_t> state{0};
  std::atomic<bool> done{false};
  std::atomic<int> readers_started{0};
  // Scrambled keys: random buckets (hm_lockfree::oracle_key()).
  auto key = [](std::uint64_t j) { return hm_lockfree::oracle_key(j); };
  auto word = [](std::uint64_t w, bool erasing, std::uint64_t n) {
    return w << 32 | (erasing ? std::uint64_t{1} << 31 : 0) | n;
  };
  std::thread writer([&] {
    while (readers_started.load() < 2) std::this_thread::yield();
    for (std::uint64_t w = 0; w < static_cast<std::uint64_t>(waves); ++w) {
      const std::uint64_t base = w * kWave;
      for (std::uint64_t i = 0; i < kWave; ++i) {
        const std::uint64_t k = key(base + i);
        m.insert(k, tracked_value(k));
        state.store(word(w, false, i + 1), std::memory_order_release);
      }
      state.store(word(w, true, 0), std::memory_order_release);
      for (std::uint64_t i = 0; i < kWave; ++i) {
        m.erase(key(base + i));
        state.store(word(w, true, i + 1), std::memory_order_release);
      }
    }
    done.store(true);
  });
  std::thread churn([&] {
    const std::uint64_t n = 300;
    while (!done.load()) {
      for (std::uint64_t i = 0; i < n; ++i)
        m.insert(key(kChurnBase + i), tracked_value(key(kChurnBase + i)));
      for (std::uint64_t i = 0; i < n; ++i) m.erase(key(kChurnBase + i));
    }
  });
  std::atomic<std::uint64_t> missed{0}, stale{0}, corrupt{0}, checks{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      std::mt19937_64 rng(500 + static_cast<std::uint64_t>(r));
      std::uint64_t n = 0;
      readers_started.fetch_add(1);
      while (!done.load(std::memory_order_relaxed)) {
        const std::uint64_t s1 = state.load(std::memory_order_acquire);
        const std::uint64_t w = s1 >> 32;
        const bool erasing1 = (s1 >> 31 & 1) != 0;
        const std::uint64_t n1 = s1 & 0x7fffffff;
        const std::uint64_t i = rng() % kWave;
        // An earlier wave's key: erased before s1 was stored.
        const bool old = w > 0 && (rng() & 1) != 0;
        const std::uint64_t k = key(old ? (w - 1) * kWave + i : w * kWave + i);
        bool found;
        {
          std::scoped_lock rs(m.domain());
          const tracked_value* v = m.find(k);
          found = v != nullptr;
          if (v != nullptr && !v->ok_for(k)) corrupt.fetch_add(1);
        }
        const std::uint64_t s2 = state.load(std::memory_order_acquire);
        ++n;
        if (old || (erasing1 && i < n1)) {
          if (found) stale.fetch_add(1);  // C.2
          continue;
        }
        const bool inserted = erasing1 || i < n1;
        // Erase of key i starts only after the writer stored "erasing, i".
        const bool same_wave = (s2 >> 32) == w;
        const bool erasing2 = (s2 >> 31 & 1) != 0;
        const bool not_erasing = same_wave && (!erasing2 || (s2 & 0x7fffffff) < i);
        if (inserted && not_erasing && !found) missed.fetch_add(1);  // C.1 / A.1
      }
      checks += n;
    });
  }
  writer.join();
  churn.join();
  for (auto& t : readers) t.join();
  EXPECT_EQ(stale.load(), 0u) << "found after erase() returned, in " << checks.load() << " lookups";
  EXPECT_EQ(missed.load(), 0u) << "missed after insert() returned, in " << checks.load()
                               << " lookups";
  EXPECT_EQ(corrupt.load(), 0u);
  EXPECT_GT(checks.load(), 0u);
  EXPECT_EQ(m.size(), 0u);
}

// (c) The destructor mid-resize: some buckets marked (their live elements
// belong to the new table, which also holds tombstones and replacements made
// there), others not; tombstones in the old table.  Every element is
// destroyed exactly once: the live count balances after the domain drains.
TEST(HashMapLockFree, DestructorMidResizeDestroysEachElementOnce) {
  const std::int64_t live_before = tracked_value::live.load();
  int mid_resize = 0;
  for (int attempt = 0; attempt < 3; ++attempt) {
    hm_oracle::oracle_domain od;
    lf_map m(od.dom);
    // Concurrent history first: tombstones, revivals, replacements.
    std::vector<std::thread> ts;
    for (int id = 0; id < 2; ++id) {
      ts.emplace_back([&, id] {
        std::mt19937_64 rng(900 + static_cast<std::uint64_t>(id + 2 * attempt));
        for (int i = 0; i < 6000 / kScale; ++i) {
          const std::uint64_t k = rng() % 700;
          switch (rng() % 3) {
            case 0:
              m.insert(k, tracked_value(k));
              break;
            case 1:
              m.erase(k);
              break;
            default:
              m.insert_or_assign(k, tracked_value(k));
          }
        }
      });
    }
    for (auto& t : ts) t.join();
    // Then start a resize of a table large enough that a few updates cannot
    // finish it, and update keys on both sides of the migration.
    std::uint64_t k = 10000;
    while (!(m.resizing() && m.bucket_count() >= 128)) {
      m.insert(k, tracked_value(k));
      ++k;
    }
    for (std::uint64_t i = 0; i < 6; ++i) {
      m.erase(10000 + 7 * i);                                           // tombstones
      m.insert_or_assign(10001 + 7 * i, tracked_value(10001 + 7 * i));  // replaced
      m.insert(10000 + 7 * i, tracked_value(10000 + 7 * i));            // revived
    }
    if (m.resizing()) ++mid_resize;
  }
  EXPECT_GT(mid_resize, 0) << "no map was destroyed mid-resize";
  EXPECT_EQ(tracked_value::live.load(), live_before) << "elements leaked or destroyed twice";
}

// (c) The destructor with a bucket frozen and copied in part (the copy ran
// out of memory for an overflow line in the new table): the elements the new
// table holds are its own, the rest the old table's; none twice, none lost.
thread_local bool g_lf_fail_alloc = false;
struct lf_failing_traits {
  static constexpr std::size_t kMinBuckets = 1;
  static constexpr std::size_t kMigrateChunk = 1;
  static constexpr std::size_t kGrowLoad = 2;
  static constexpr std::size_t kTargetLoad = 1;
  static bool inject_alloc_failure() { return g_lf_fail_alloc; }
};
struct lf_collide_hash {
  std::size_t operator()(std::uint64_t) const noexcept { return 7; }
};

TEST(HashMapLockFree, DestructorAfterPartialCopyDestroysEachElementOnce) {
  const std::int64_t live_before = tracked_value::live.load();
  {
    hm_oracle::oracle_domain od;
    grace::hash_map<std::uint64_t, tracked_value, lf_collide_hash, std::equal_to<std::uint64_t>,
                    lf_failing_traits>
        m(od.dom);
    // One bucket holds every key.  The map grows to 4 buckets at 3 keys
    // (the next update finishes that), then starts a grow to 16 at 9 keys:
    // 9 live entries and a tombstone to copy.
    std::uint64_t k = 0;
    for (; k < 6; ++k) ASSERT_TRUE(m.insert(k, tracked_value(k)));
    ASSERT_TRUE(m.erase(2));  // a tombstone in the bucket to be frozen
    while (!m.resizing()) {
      ASSERT_TRUE(m.insert(k, tracked_value(k)));
      ++k;
    }
    ASSERT_GT(k, 8u);
    // Updates sweep the cursor over the 4 buckets; the one that reaches the
    // keys' bucket copies 7 entries into the new head line, then needs an
    // overflow line and cannot get one: the bucket stays frozen, unmarked.
    // An update of a key there must finish it first: std::bad_alloc.
    g_lf_fail_alloc = true;
    int threw = 0;
    for (int i = 0; i < 6; ++i) {
      try {
        EXPECT_FALSE(m.erase(5000));
      } catch (const std::bad_alloc&) {
        ++threw;
      }
    }
    g_lf_fail_alloc = false;
    EXPECT_GT(threw, 0);
    EXPECT_TRUE(m.resizing());
    for (std::uint64_t i = 0; i < k; ++i) EXPECT_EQ(m.contains(i), i != 2) << i;
    EXPECT_EQ(m.size(), static_cast<std::size_t>(k - 1));
  }
  EXPECT_EQ(tracked_value::live.load(), live_before) << "elements leaked or destroyed twice";
}

// (c) Copies that fail half-way are finished by other threads: one thread's
// overflow-line and table allocations always fail, so every migration step
// it helps with stops at the first copy that needs a new line (the bucket
// stays frozen, its partial copies in the next table), and its own updates
// that need a line, or must first finish such a bucket, throw with the map
// unchanged.  Another thread's updates (allocations fine) finish those
// buckets: copies already there count as done.  Few distinct hashes make
// long chains, so most copies need overflow lines.  Both threads keep exact
// models of their keys.
struct few_hashes {
  std::size_t operator()(std::uint64_t k) const noexcept { return k % 5; }
};

TEST(HashMapLockFree, CopiesThatFailHalfWayAreFinishedByOthers) {
  const std::int64_t live_before = tracked_value::live.load();
  {
    hm_oracle::oracle_domain od;
    grace::hash_map<std::uint64_t, tracked_value, few_hashes, std::equal_to<std::uint64_t>,
                    lf_failing_traits>
        m(od.dom);
    constexpr std::uint64_t kKeys = 400;
    const int rounds = 12 / kScale + 1;
    std::atomic<std::uint64_t> wrong{0}, threw{0};
    auto worker = [&](int id) {
      g_lf_fail_alloc = id == 0;
      std::vector<char> present(kKeys, 0);
      const std::uint64_t base = static_cast<std::uint64_t>(id) * kKeys;
      for (int round = 0; round < rounds; ++round) {
        for (std::uint64_t i = 0; i < kKeys; ++i) {
          const std::uint64_t k = base + i;
          try {
            if (m.insert(k, tracked_value(k)) != !present[i]) wrong.fetch_add(1);
            present[i] = 1;
          } catch (const std::bad_alloc&) {
            threw.fetch_add(1);
          }
          if (m.contains(k) != static_cast<bool>(present[i])) wrong.fetch_add(1);
        }
        for (std::uint64_t i = round % 2; i < kKeys; i += 2) {
          const std::uint64_t k = base + i;
          try {
            if (m.erase(k) != static_cast<bool>(present[i])) wrong.fetch_add(1);
            present[i] = 0;
          } catch (const std::bad_alloc&) {
            threw.fetch_add(1);
          }
          if (m.contains(k) != static_cast<bool>(present[i])) wrong.fetch_add(1);
        }
      }
      // Leave every key present (allocations fine now).
      g_lf_fail_alloc = false;
      for (std::uint64_t i = 0; i < kKeys; ++i) {
        if (m.insert(base + i, tracked_value(base + i)) != !present[i]) wrong.fetch_add(1);
      }
    };
    std::thread a(worker, 0), b(worker, 1);
    a.join();
    b.join();
    m.reserve(0);  // finishes a resize left half-way
    EXPECT_EQ(wrong.load(), 0u) << "results that disagree with the model";
    EXPECT_GT(threw.load(), 0u) << "the failing thread never met an allocation";
    EXPECT_FALSE(m.resizing());
    EXPECT_EQ(m.size(), 2 * kKeys);
    std::scoped_lock rs(m.domain());
    std::vector<int> seen(2 * kKeys, 0);
    m.for_each([&](std::uint64_t k, const tracked_value& v) {
      ASSERT_LT(k, 2 * kKeys);
      EXPECT_TRUE(v.ok_for(k));
      ++seen[k];
    });
    for (std::uint64_t k = 0; k < 2 * kKeys; ++k) EXPECT_EQ(seen[k], 1) << k;
  }
  EXPECT_EQ(tracked_value::live.load(), live_before) << "elements leaked or destroyed twice";
}

// (d) insert() and insert_or_assign() build the element inside their
// read-side section: a move constructor that throws leaves the section
// (no nesting left, rcu_synchronize() works: it would abort inside one), the
// map unchanged, and no element alive; refused inserts free their
// unpublished element.
std::atomic<int> g_mover_live{0};
thread_local bool g_mover_throws = false;
struct mover {
  int v = 0;
  explicit mover(int x) : v(x) { ++g_mover_live; }
  mover(const mover& o) : v(o.v) { ++g_mover_live; }
  mover(mover&& o) : v(o.v) {
    if (g_mover_throws) throw std::runtime_error("move");
    ++g_mover_live;
  }
  mover& operator=(const mover&) = delete;
  ~mover() { --g_mover_live; }
};
struct lf_tiny_traits {
  static constexpr std::size_t kMinBuckets = 1;
  static constexpr std::size_t kMigrateChunk = 1;
  static constexpr std::size_t kGrowLoad = 4;
  static constexpr std::size_t kTargetLoad = 2;
};

TEST(HashMapLockFree, ThrowingMoveLeavesTheSectionAndTheMapUnchanged) {
  {
    grace::hash_map<int, mover, std::hash<int>, std::equal_to<int>, lf_tiny_traits> m;
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(m.insert(i, mover(i)));
    for (int i = 0; i < 200; ++i) {
      g_mover_throws = true;
      EXPECT_THROW(m.insert(1000 + i, mover(i)), std::runtime_error);
      EXPECT_THROW(m.insert_or_assign(i % 100, mover(-i)), std::runtime_error);
      g_mover_throws = false;
      ASSERT_EQ(grace::detail::read_nesting(), 0u);
    }
    grace::rcu_synchronize();
    EXPECT_EQ(m.size(), 100u);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(m.get(i).value_or(mover(-1)).v, i);
    for (int i = 0; i < 100; ++i) EXPECT_FALSE(m.insert(i, mover(7)));
  }
  grace::rcu_barrier();
  EXPECT_EQ(g_mover_live.load(), 0);
}

// (e) As (c), in a table of 32 buckets or more, so that destroy() prefetches
// elements ahead of the bucket it frees, across frozen, partly copied
// buckets: every element destroyed exactly once.
struct lf_hashes_mod23 {
  std::size_t operator()(std::uint64_t k) const noexcept {
    return (k % 23) * 0x9e3779b97f4a7c15ULL;
  }
};

TEST(HashMapLockFree, DestructorOfALargerTableAfterPartialCopies) {
  const std::int64_t live_before = tracked_value::live.load();
  int partial = 0;
  for (int attempt = 0; attempt < 20; ++attempt) {
    hm_oracle::oracle_domain od;
    grace::hash_map<std::uint64_t, tracked_value, lf_hashes_mod23, std::equal_to<std::uint64_t>,
                    lf_failing_traits>
        m(od.dom);
    std::uint64_t k = 0;
    while (m.bucket_count() < 32 || m.resizing()) {
      ASSERT_TRUE(m.insert(k, tracked_value(k)));
      ++k;
      if (k % 3 == 0) m.erase(k - 2);
    }
    while (!m.resizing()) {
      ASSERT_TRUE(m.insert(k, tracked_value(k)));
      ++k;
    }
    g_lf_fail_alloc = true;
    int threw = 0;
    for (std::uint64_t i = 0; i < 40u + static_cast<std::uint64_t>(attempt); ++i) {
      try {
        m.insert_or_assign(i, tracked_value(i));
      } catch (const std::bad_alloc&) {
        ++threw;
      }
      try {
        m.erase(k + 5000 + i);
      } catch (const std::bad_alloc&) {
        ++threw;
      }
    }
    g_lf_fail_alloc = false;
    if (threw > 0 && m.resizing()) ++partial;
  }
  EXPECT_GT(partial, 0) << "no attempt left a partly copied bucket for the destructor";
  EXPECT_EQ(tracked_value::live.load(), live_before) << "elements leaked or destroyed twice";
}

}  // namespace

