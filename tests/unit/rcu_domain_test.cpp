// tests/unit/rcu_domain_test.cpp — the read side: rcu_domain's lock(),
// try_lock(), unlock(), nesting, registration on first lock, unregistration
// at thread exit, user-constructed domains.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "../../src/registry.hpp"
#include "grace/rcu.hpp"
#include "test_util.hpp"

namespace {

using grace::detail::read_nesting;
using grace_test::one_shot;
using grace_test::watchdog;

TEST(RcuDomain, LockUnlockTracksNesting) {
  grace::rcu_domain& dom = grace::rcu_default_domain();
  EXPECT_EQ(read_nesting(), 0u);
  dom.lock();
  EXPECT_EQ(read_nesting(), 1u);
  dom.unlock();
  EXPECT_EQ(read_nesting(), 0u);
}

TEST(RcuDomain, TryLockAlwaysSucceedsAndNests) {
  grace::rcu_domain& dom = grace::rcu_default_domain();
  EXPECT_TRUE(dom.try_lock());
  EXPECT_EQ(read_nesting(), 1u);
  EXPECT_TRUE(dom.try_lock());
  EXPECT_EQ(read_nesting(), 2u);
  dom.unlock();
  dom.unlock();
  EXPECT_EQ(read_nesting(), 0u);
}

TEST(RcuDomain, ScopedLock) {
  {
    std::scoped_lock guard(grace::rcu_default_domain());
    EXPECT_EQ(read_nesting(), 1u);
    {
      std::scoped_lock inner(grace::rcu_default_domain());
      EXPECT_EQ(read_nesting(), 2u);
    }
    EXPECT_EQ(read_nesting(), 1u);
  }
  EXPECT_EQ(read_nesting(), 0u);
}

TEST(RcuDomain, ScopedLockOnTwoDomainsUsesTryLock) {
  // std::scoped_lock with several "mutexes" goes through std::lock, which
  // calls try_lock(): both domains share the one read side, so it nests.
  grace::rcu_domain other;
  {
    std::scoped_lock guard(grace::rcu_default_domain(), other);
    EXPECT_EQ(read_nesting(), 2u);
  }
  EXPECT_EQ(read_nesting(), 0u);
}

TEST(RcuDomain, DeepNesting) {
  grace::rcu_domain& dom = grace::rcu_default_domain();
  constexpr std::uint32_t kDepth = 3000;
  for (std::uint32_t i = 1; i <= kDepth; ++i) {
    dom.lock();
    ASSERT_EQ(read_nesting(), i);
  }
  for (std::uint32_t i = kDepth; i > 0; --i) {
    ASSERT_EQ(read_nesting(), i);
    dom.unlock();
  }
  EXPECT_EQ(read_nesting(), 0u);
  // The read side still works after unwinding, and so do grace periods.
  dom.lock();
  dom.unlock();
  grace::rcu_synchronize();
}

TEST(RcuDomain, NestingUpToTheLimitIsAllowed) {
  // kMaxNesting levels are fine; one more is misuse (misuse_test.cpp).
  grace::rcu_domain& dom = grace::rcu_default_domain();
  for (std::uint32_t i = 0; i < grace::kMaxNesting; ++i) dom.lock();
  EXPECT_EQ(read_nesting(), grace::kMaxNesting);
  for (std::uint32_t i = 0; i < grace::kMaxNesting; ++i) dom.unlock();
  EXPECT_EQ(read_nesting(), 0u);
  grace::rcu_synchronize();
}

// A reader holds an outer section while another thread synchronizes; nested
// sections opened and closed meanwhile must neither end the outer section
// nor let the grace period treat the reader as new.
TEST(RcuDomain, NestedSectionsKeepTheOuterSectionAlive) {
  watchdog dog("NestedSectionsKeepTheOuterSectionAlive");
  one_shot reader_in;
  one_shot nested_done;
  std::atomic<bool> reader_inside{false};
  std::atomic<bool> sync_returned{false};
  std::atomic<bool> returned_while_inside{false};

  std::thread reader([&] {
    grace::rcu_domain& dom = grace::rcu_default_domain();
    dom.lock();
    reader_inside.store(true);
    reader_in.set();
    // Nested sections while the updater is (probably) waiting for us.
    for (int i = 0; i < 1000; ++i) {
      dom.lock();
      dom.lock();
      dom.unlock();
      dom.unlock();
    }
    nested_done.set();
    std::this_thread::sleep_for(grace_test::safety_window());
    reader_inside.store(false);
    dom.unlock();
  });
  reader_in.wait();
  std::thread updater([&] {
    grace::rcu_synchronize();
    returned_while_inside.store(reader_inside.load());
    sync_returned.store(true);
  });
  nested_done.wait();
  EXPECT_FALSE(sync_returned.load()) << "rcu_synchronize returned during the outer section";
  reader.join();
  updater.join();
  EXPECT_TRUE(sync_returned.load());
  EXPECT_FALSE(returned_while_inside.load());
}

TEST(RcuDomain, FirstLockRegistersTheThread) {
  const std::size_t before = grace::detail::registered_reader_count();
  one_shot locked;
  one_shot may_exit;
  std::size_t seen_before_lock = 0;
  std::size_t seen_after_lock = 0;
  std::thread t([&] {
    // A thread that never locked has the unregistered sentinel word.
    EXPECT_EQ(grace::detail::tls_reader_word.load(std::memory_order_relaxed),
              grace::detail::kUnregisteredWord);
    EXPECT_EQ(read_nesting(), 0u);
    seen_before_lock = grace::detail::registered_reader_count();
    grace::rcu_default_domain().lock();
    EXPECT_EQ(read_nesting(), 1u);
    grace::rcu_default_domain().unlock();
    EXPECT_NE(grace::detail::tls_reader_word.load(std::memory_order_relaxed),
              grace::detail::kUnregisteredWord);
    seen_after_lock = grace::detail::registered_reader_count();
    locked.set();
    may_exit.wait();
  });
  locked.wait();
  EXPECT_EQ(seen_before_lock, before);
  EXPECT_EQ(seen_after_lock, before + 1);
  may_exit.set();
  t.join();
  // pthread_join returns after the thread's key destructors ran.
  EXPECT_EQ(grace::detail::registered_reader_count(), before);
}

TEST(RcuDomain, ThreadThatNeverLocksIsNotRegistered) {
  const std::size_t before = grace::detail::registered_reader_count();
  std::size_t during = 0;
  std::thread t([&] {
    grace::rcu_synchronize();  // updaters need no registration
    during = grace::detail::registered_reader_count();
  });
  t.join();
  EXPECT_EQ(during, before);
  EXPECT_EQ(grace::detail::registered_reader_count(), before);
}

TEST(RcuDomain, ExitedThreadsDoNotHoldBackGracePeriods) {
  watchdog dog("ExitedThreadsDoNotHoldBackGracePeriods");
  const std::size_t before = grace::detail::registered_reader_count();
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([] {
      for (int j = 0; j < 100; ++j) {
        std::scoped_lock g(grace::rcu_default_domain());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(grace::detail::registered_reader_count(), before);
  for (int i = 0; i < 10; ++i) grace::rcu_synchronize();
}

// grace's thread-exit hook runs after C++ thread_local destructors, which
// may still read and retire.
struct uses_grace_at_thread_exit {
  std::atomic<int>* reclaimed = nullptr;
  ~uses_grace_at_thread_exit() {
    if (reclaimed == nullptr) return;
    std::scoped_lock g(grace::rcu_default_domain());
    struct node : grace::rcu_obj_base<node> {
      std::atomic<int>* count;
      explicit node(std::atomic<int>* c) : count(c) {}
      ~node() { count->fetch_add(1); }
    };
    (new node(reclaimed))->retire();
  }
};

TEST(RcuDomain, ThreadLocalDestructorsMayUseGrace) {
  std::atomic<int> reclaimed{0};
  const std::size_t before = grace::detail::registered_reader_count();
  std::thread t([&] {
    static thread_local uses_grace_at_thread_exit user;
    user.reclaimed = &reclaimed;
  });
  t.join();
  EXPECT_EQ(grace::detail::registered_reader_count(), before);
  grace::rcu_barrier();
  EXPECT_EQ(reclaimed.load(), 1);
}

TEST(RcuDomain, UserDomainLockUnlockAndReclaim) {
  grace::rcu_domain dom;
  struct node : grace::rcu_obj_base<node> {
    std::atomic<int>* count;
    explicit node(std::atomic<int>* c) : count(c) {}
    ~node() { count->fetch_add(1); }
  };
  std::atomic<int> reclaimed{0};
  {
    std::scoped_lock g(dom);
    EXPECT_EQ(read_nesting(), 1u);
  }
  for (int i = 0; i < 10; ++i) (new node(&reclaimed))->retire({}, dom);
  grace::rcu_synchronize(dom);
  grace::rcu_barrier(dom);
  EXPECT_EQ(reclaimed.load(), 10);
}

TEST(RcuDomain, ManyUserDomainsComeAndGo) {
  std::atomic<int> reclaimed{0};
  struct node : grace::rcu_obj_base<node> {
    std::atomic<int>* count;
    explicit node(std::atomic<int>* c) : count(c) {}
    ~node() { count->fetch_add(1); }
  };
  for (int d = 0; d < 20; ++d) {
    grace::rcu_domain dom;
    for (int i = 0; i < 5; ++i) (new node(&reclaimed))->retire({}, dom);
  }  // each destructor runs its domain's pending callbacks
  EXPECT_EQ(reclaimed.load(), 100);
}

// All domains share one read side: a reader in a user domain holds back
// grace periods of the default domain, and the other way round.
TEST(RcuDomain, ReaderInAnyDomainHoldsBackEveryDomain) {
  watchdog dog("ReaderInAnyDomainHoldsBackEveryDomain");
  grace::rcu_domain user;
  for (int variant = 0; variant < 2; ++variant) {
    grace::rcu_domain& read_dom = variant == 0 ? user : grace::rcu_default_domain();
    grace::rcu_domain& sync_dom = variant == 0 ? grace::rcu_default_domain() : user;
    one_shot reader_in;
    one_shot release;
    std::atomic<bool> reader_inside{false};
    std::atomic<bool> returned{false};
    std::atomic<bool> returned_while_inside{false};
    std::thread reader([&] {
      read_dom.lock();
      reader_inside.store(true);
      reader_in.set();
      release.wait();
      reader_inside.store(false);
      read_dom.unlock();
    });
    reader_in.wait();
    std::thread updater([&] {
      grace::rcu_synchronize(sync_dom);
      returned_while_inside.store(reader_inside.load());
      returned.store(true);
    });
    std::this_thread::sleep_for(grace_test::safety_window());
    EXPECT_FALSE(returned.load()) << "variant " << variant;
    release.set();
    reader.join();
    updater.join();
    EXPECT_FALSE(returned_while_inside.load()) << "variant " << variant;
  }
}

}  // namespace
