// tests/unit/rcu_ptr_test.cpp — rcu_ptr<T>: load/store/exchange/
// compare_exchange, and publication: a reader that loads a pointer sees the
// object fully initialized, and never an object already reclaimed.
//
// Oracle for publication: every object is filled with a pattern derived from
// its generation before it is published; the deleter poisons it before
// freeing.  A reader that sees a field off-pattern saw an unpublished or a
// reclaimed object.
#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <atomic>
#include <thread>
#include <vector>

#include "grace/rcu.hpp"
#include "test_util.hpp"

namespace {

using grace_test::scaled;
using grace_test::watchdog;

TEST(RcuPtr, DefaultIsNull) {
  grace::rcu_ptr<int> p;
  EXPECT_EQ(p.load(), nullptr);
}

TEST(RcuPtr, LoadStoreExchange) {
  int a = 1;
  int b = 2;
  grace::rcu_ptr<int> p(&a);
  EXPECT_EQ(p.load(), &a);
  p.store(&b);
  EXPECT_EQ(p.load(), &b);
  EXPECT_EQ(p.exchange(&a), &b);
  EXPECT_EQ(p.load(), &a);
  EXPECT_EQ(p.exchange(nullptr), &a);
  EXPECT_EQ(p.load(), nullptr);
}

TEST(RcuPtr, CompareExchange) {
  int a = 1;
  int b = 2;
  grace::rcu_ptr<int> p(&a);
  int* expected = &a;
  EXPECT_TRUE(p.compare_exchange(expected, &b));
  EXPECT_EQ(expected, &a);
  EXPECT_EQ(p.load(), &b);
  // Failure: expected is updated to the current value, nothing published.
  expected = &a;
  EXPECT_FALSE(p.compare_exchange(expected, nullptr));
  EXPECT_EQ(expected, &b);
  EXPECT_EQ(p.load(), &b);
}

TEST(RcuPtr, CompareExchangeFromManyThreadsPublishesEachOnce) {
  // Four updaters push a counter forward with CAS; every increment lands.
  struct box : grace::rcu_obj_base<box> {
    long value;
    explicit box(long v) : value(v) {}
  };
  grace::rcu_ptr<box> p(new box(0));
  const long per_thread = scaled(2000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (long i = 0; i < per_thread; ++i) {
        box* fresh = new box(0);
        std::scoped_lock g(grace::rcu_default_domain());
        box* cur = p.load();
        do {
          fresh->value = cur->value + 1;
        } while (!p.compare_exchange(cur, fresh));
        cur->retire();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(p.load()->value, 4 * per_thread);
  p.exchange(nullptr)->retire();
  grace::rcu_barrier();
}

constexpr int kFields = 16;
constexpr long kPoison = 0x5a5a5a5a5a5a5a5a;

struct pattern;

// Poisons the object before freeing it, so that a reader that still uses it
// sees the poison (release builds) or ASAN reports the use after free.
struct poisoning_deleter {
  void operator()(pattern* p) const;
};

struct pattern : grace::rcu_obj_base<pattern, poisoning_deleter> {
  std::array<long, kFields> fields{};
  void fill(long gen) {
    for (int i = 0; i < kFields; ++i) fields[static_cast<std::size_t>(i)] = gen * 1000 + i;
  }
  // The generation, or -1 if the fields do not follow one pattern.
  long check() const {
    const long gen = fields[0] / 1000;
    for (int i = 0; i < kFields; ++i) {
      if (fields[static_cast<std::size_t>(i)] != gen * 1000 + i) return -1;
    }
    return gen;
  }
  void poison() {
    for (long& f : fields) f = kPoison;
  }
};

void poisoning_deleter::operator()(pattern* p) const {
  p->poison();
  delete p;
}

// One reader loads the object, then the updater replaces and reclaims it
// with `reclaim`, then the reader checks the object it still holds.
long check_after_reclaim(void (*reclaim)(pattern*)) {
  auto* first = new pattern;
  first->fill(7);
  grace::rcu_ptr<pattern> current(first);
  grace_test::one_shot loaded;
  grace_test::one_shot reclaimed;
  long seen = 0;
  std::thread reader([&] {
    std::scoped_lock g(grace::rcu_default_domain());
    const pattern* p = current.load();
    loaded.set();
    reclaimed.wait();
    seen = p->check();
  });
  loaded.wait();
  auto* next = new pattern;
  next->fill(8);
  reclaim(current.exchange(next));
  std::this_thread::sleep_for(grace_test::safety_window());  // room for a wrong reclaim
  reclaimed.set();
  reader.join();
  current.exchange(nullptr)->retire();
  grace::rcu_barrier();
  return seen;
}

TEST(RcuPtr, ReaderKeepsItsObjectUntilItUnlocks) {
  watchdog dog("ReaderKeepsItsObjectUntilItUnlocks");
  EXPECT_EQ(check_after_reclaim([](pattern* old) { old->retire(); }), 7);
  EXPECT_EQ(check_after_reclaim([](pattern* old) { grace::rcu_retire(old, poisoning_deleter{}); }),
            7);
}

// Negative control: reclaiming at once (poisoned, kept allocated so the
// control itself stays free of use-after-free) is caught by the check.
TEST(RcuPtr, OracleCatchesImmediateReclaim) {
  static std::vector<std::unique_ptr<pattern>> graveyard;
  EXPECT_EQ(check_after_reclaim([](pattern* old) {
              old->poison();
              graveyard.emplace_back(old);
            }),
            -1);
  graveyard.clear();
}

// Writers publish freshly initialized objects; readers check each one they
// load is complete and not reclaimed; the old ones are retired.
TEST(RcuPtr, PublishedObjectsAreFullyInitialized) {
  watchdog dog("PublishedObjectsAreFullyInitialized");
  auto* first = new pattern;
  first->fill(1);
  grace::rcu_ptr<pattern> current(first);
  std::atomic<bool> stop{false};
  std::atomic<long> bad{0};
  std::atomic<long> reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      long last_gen = 0;
      long n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        std::scoped_lock g(grace::rcu_default_domain());
        const pattern* p = current.load();
        const long gen = p->check();
        if (gen < last_gen) bad.fetch_add(1);  // torn, poisoned or going back
        last_gen = gen;
        ++n;
      }
      reads.fetch_add(n);
    });
  }
  const long updates = scaled(20000);
  for (long gen = 2; gen < updates + 2; ++gen) {
    auto* p = new pattern;
    p->fill(gen);
    pattern* old = current.exchange(p);
    if (gen % 2 == 0) {
      old->retire();
    } else {
      grace::rcu_retire(old, poisoning_deleter{});
    }
  }
  stop.store(true);
  for (std::thread& t : readers) t.join();
  current.exchange(nullptr)->retire();
  grace::rcu_barrier();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(reads.load(), 0);
}

}  // namespace
