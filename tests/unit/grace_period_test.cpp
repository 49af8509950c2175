// tests/unit/grace_period_test.cpp — rcu_synchronize(), the expedited
// variant, the polled API (rcu_get_state / rcu_poll_state / rcu_start_poll /
// rcu_cond_synchronize) and concurrent callers.
//
// The central check (hold_reader_while): a reader enters a section and says
// so; updaters then wait for a grace period; a correct wait cannot return
// while the reader is inside.  Each updater records, the moment its wait
// returns, whether the reader was still inside: that verdict is exact, it
// does not depend on timing.  The reader stays inside for a safety window so
// that a broken wait has the chance to return early, and the negative
// control (a "wait" that does not wait) shows the harness catches it.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>
#include <vector>

#include "grace/rcu.hpp"
#include "test_util.hpp"

namespace {

using grace_test::one_shot;
using grace_test::scaled;
using grace_test::watchdog;

struct hold_outcome {
  int returned_during_window = 0;  // waits seen returned before the reader left
  int returned_while_inside = 0;   // waits that returned with the reader inside
  int returned = 0;                // waits that returned at all
};

// A reader thread enters a section; then each waiter runs on its own thread
// (so cookies taken inside a waiter postdate the reader's lock()).
hold_outcome hold_reader_while(const std::vector<std::function<void()>>& waiters,
                               grace::rcu_domain& read_dom = grace::rcu_default_domain()) {
  hold_outcome outcome;
  one_shot reader_in;
  one_shot release;
  std::atomic<bool> reader_inside{false};
  std::atomic<int> returned{0};
  std::atomic<int> returned_inside{0};

  std::thread reader([&] {
    read_dom.lock();
    reader_inside.store(true);
    reader_in.set();
    release.wait();
    // Cleared before unlock(): a wait that returns while this is still true
    // returned before the section ended.
    reader_inside.store(false);
    read_dom.unlock();
  });
  reader_in.wait();
  std::vector<std::thread> updaters;
  for (const auto& w : waiters) {
    updaters.emplace_back([&] {
      w();
      if (reader_inside.load()) returned_inside.fetch_add(1);
      returned.fetch_add(1);
    });
  }
  std::this_thread::sleep_for(grace_test::safety_window());
  outcome.returned_during_window = returned.load();
  release.set();
  reader.join();
  for (std::thread& t : updaters) t.join();
  outcome.returned_while_inside = returned_inside.load();
  outcome.returned = returned.load();
  return outcome;
}

void expect_held_back(const hold_outcome& o, int waiters) {
  EXPECT_EQ(o.returned_during_window, 0);
  EXPECT_EQ(o.returned_while_inside, 0);
  EXPECT_EQ(o.returned, waiters);
}

// Negative control: a wait that does not wait must be caught by the harness.
TEST(GracePeriodHarness, CatchesAWaitThatDoesNotWait) {
  const hold_outcome o = hold_reader_while({[] {}});
  EXPECT_EQ(o.returned_while_inside, 1);
  EXPECT_EQ(o.returned_during_window, 1);
}

TEST(GracePeriod, SynchronizeWaitsForAPreexistingReader) {
  watchdog dog("SynchronizeWaitsForAPreexistingReader");
  expect_held_back(hold_reader_while({[] { grace::rcu_synchronize(); }}), 1);
}

TEST(GracePeriod, ExpeditedWaitsForAPreexistingReader) {
  watchdog dog("ExpeditedWaitsForAPreexistingReader");
  expect_held_back(hold_reader_while({[] { grace::rcu_synchronize_expedited(); }}), 1);
}

TEST(GracePeriod, UserDomainSynchronizeWaitsForADefaultDomainReader) {
  watchdog dog("UserDomainSynchronizeWaitsForADefaultDomainReader");
  grace::rcu_domain user;
  expect_held_back(hold_reader_while({[&] { grace::rcu_synchronize(user); }}), 1);
}

TEST(GracePeriod, FourConcurrentSynchronizeCallersAllWait) {
  watchdog dog("FourConcurrentSynchronizeCallersAllWait");
  auto sync = [] { grace::rcu_synchronize(); };
  expect_held_back(hold_reader_while({sync, sync, sync, sync}), 4);
}

// A leader that went to sleep on the futex (the reader stays inside long
// enough) is joined by an expedited caller: both still wait for the reader.
TEST(GracePeriod, SleepingAndExpeditedCallersTogether) {
  watchdog dog("SleepingAndExpeditedCallersTogether");
  expect_held_back(hold_reader_while({[] { grace::rcu_synchronize(); },
                                      [] {
                                        std::this_thread::sleep_for(
                                            std::chrono::milliseconds(10));
                                        grace::rcu_synchronize_expedited();
                                      }}),
                   2);
}

TEST(GracePeriod, CondSynchronizeWaitsForAPreexistingReader) {
  watchdog dog("CondSynchronizeWaitsForAPreexistingReader");
  expect_held_back(hold_reader_while({[] {
                     const grace::rcu_cookie c = grace::rcu_get_state();
                     grace::rcu_cond_synchronize(c);
                     EXPECT_TRUE(grace::rcu_poll_state(c));
                   }}),
                   1);
}

// A cookie does not expire while a reader that began before it is inside,
// even though the grace-period thread is asked to run grace periods.
TEST(GracePeriod, PolledCookieDoesNotExpireUnderAPreexistingReader) {
  watchdog dog("PolledCookieDoesNotExpireUnderAPreexistingReader");
  expect_held_back(hold_reader_while({[] {
                     const grace::rcu_cookie c = grace::rcu_start_poll();
                     ASSERT_TRUE(grace_test::wait_until([&] { return grace::rcu_poll_state(c); }));
                   }}),
                   1);
}

// Sections that begin after a grace period started do not hold it back: a
// reader that is almost always inside (unlock immediately followed by lock)
// cannot starve rcu_synchronize().
TEST(GracePeriod, LaterSectionsDoNotBlockSynchronize) {
  watchdog dog("LaterSectionsDoNotBlockSynchronize");
  std::atomic<bool> stop{false};
  std::atomic<long> sections{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      grace::rcu_domain& dom = grace::rcu_default_domain();
      dom.lock();
      while (!stop.load(std::memory_order_relaxed)) {
        dom.unlock();
        dom.lock();
        if (r == 1) {  // and nested sections inside
          dom.lock();
          dom.unlock();
        }
        sections.fetch_add(1, std::memory_order_relaxed);
      }
      dom.unlock();
    });
  }
  // The readers are cycling before the first grace period starts.
  EXPECT_TRUE(grace_test::wait_until([&] { return sections.load() >= 100; }));
  const long rounds = scaled(200);
  for (long i = 0; i < rounds; ++i) {
    if (i % 2 == 0) {
      grace::rcu_synchronize();
    } else {
      grace::rcu_synchronize_expedited();
    }
  }
  stop.store(true);
  for (std::thread& t : readers) t.join();
}

TEST(GracePeriod, ConcurrentSynchronizeFromFourThreads) {
  watchdog dog("ConcurrentSynchronizeFromFourThreads");
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      std::scoped_lock g(grace::rcu_default_domain());
    }
  });
  std::atomic<long> done{0};
  const long per_thread = scaled(100);
  std::vector<std::thread> updaters;
  for (int u = 0; u < 4; ++u) {
    updaters.emplace_back([&, u] {
      for (long i = 0; i < per_thread; ++i) {
        const grace::rcu_cookie c = grace::rcu_get_state();
        if (u == 3) {
          grace::rcu_synchronize_expedited();
        } else {
          grace::rcu_synchronize();
        }
        // Every wait covers the cookie taken before it.
        EXPECT_TRUE(grace::rcu_poll_state(c));
        done.fetch_add(1);
      }
    });
  }
  for (std::thread& t : updaters) t.join();
  stop.store(true);
  reader.join();
  EXPECT_EQ(done.load(), 4 * per_thread);
}

TEST(GracePeriod, SynchronizeWithNoReaders) {
  watchdog dog("SynchronizeWithNoReaders");
  for (int i = 0; i < 100; ++i) grace::rcu_synchronize();
  for (int i = 0; i < 100; ++i) grace::rcu_synchronize_expedited();
}

// ---- Polled API ------------------------------------------------------------

TEST(PolledGracePeriod, DefaultCookieHasExpired) {
  EXPECT_TRUE(grace::rcu_poll_state(grace::rcu_cookie{}));
}

TEST(PolledGracePeriod, CookiesAreMonotonicAndSynchronizeExpiresThem) {
  const grace::rcu_cookie c1 = grace::rcu_get_state();
  const grace::rcu_cookie c2 = grace::rcu_get_state();
  EXPECT_LE(c1, c2);
  grace::rcu_synchronize();
  EXPECT_TRUE(grace::rcu_poll_state(c1));
  EXPECT_TRUE(grace::rcu_poll_state(c2));
  const grace::rcu_cookie c3 = grace::rcu_get_state();
  EXPECT_LT(c2, c3);
  grace::rcu_synchronize_expedited();
  EXPECT_TRUE(grace::rcu_poll_state(c3));
  EXPECT_TRUE(grace::rcu_poll_state(grace::rcu_default_domain(), c3));
}

// Inside its own section, a thread's fresh cookie cannot expire: the grace
// period it names must wait for this very section.
TEST(PolledGracePeriod, OwnSectionHoldsBackALaterCookie) {
  grace::rcu_domain& dom = grace::rcu_default_domain();
  dom.lock();
  const grace::rcu_cookie c = grace::rcu_start_poll();
  std::this_thread::sleep_for(grace_test::safety_window());
  EXPECT_FALSE(grace::rcu_poll_state(c));
  dom.unlock();
  EXPECT_TRUE(grace_test::wait_until([&] { return grace::rcu_poll_state(c); }));
}

// rcu_start_poll() makes the grace period happen although nobody waits.
TEST(PolledGracePeriod, StartPollExpiresWithoutAnyoneSynchronizing) {
  for (int i = 0; i < 5; ++i) {
    const grace::rcu_cookie c = grace::rcu_start_poll();
    ASSERT_TRUE(grace_test::wait_until([&] { return grace::rcu_poll_state(c); }))
        << "round " << i << ": the cookie never expired";
  }
}

TEST(PolledGracePeriod, StartPollFromManyThreads) {
  std::vector<std::thread> threads;
  std::atomic<int> expired{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        const grace::rcu_cookie c = grace::rcu_start_poll();
        if (grace_test::wait_until([&] { return grace::rcu_poll_state(c); })) {
          expired.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(expired.load(), 40);
}

TEST(PolledGracePeriod, CondSynchronize) {
  watchdog dog("CondSynchronize");
  // An unexpired cookie: waits, then it has expired.
  const grace::rcu_cookie fresh = grace::rcu_get_state();
  grace::rcu_cond_synchronize(fresh);
  EXPECT_TRUE(grace::rcu_poll_state(fresh));
  // An expired one: returns at once (and again).
  grace::rcu_cond_synchronize(fresh);
  grace::rcu_cond_synchronize(grace::rcu_default_domain(), fresh);
  grace::rcu_cond_synchronize(grace::rcu_cookie{});
}

}  // namespace
