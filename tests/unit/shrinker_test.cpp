// Memory pressure (grace/reclaim.hpp): shrinkers, reclaim_now(), the PSI
// path, and registration racing the reclaim path.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "grace/rcu.hpp"
#include "grace/reclaim.hpp"

namespace grace::detail {
void broadcast_memory_pressure() noexcept;  // what a PSI event calls (src/reclaimer.cpp)
}

namespace {

// A fake cache of `size` objects.
struct fake_cache {
  std::atomic<std::size_t> size{0};
  std::atomic<int> scans{0};
  grace::shrinker_registration attach(grace::rcu_domain& dom) {
    return grace::register_shrinker(
        dom, [this] { return size.load(); },
        [this](std::size_t n) {
          ++scans;
          const std::size_t freed = std::min(n, size.load());
          size -= freed;
          return freed;
        });
  }
};

struct node : grace::rcu_obj_base<node> {};

TEST(Shrinker, ReclaimNowRunsCallbacksAndShrinkers) {
  grace::rcu_domain dom;
  fake_cache cache;
  cache.size = 1000;
  auto reg = cache.attach(dom);
  for (int i = 0; i < 100; ++i) (new node)->retire(std::default_delete<node>(), dom);
  const std::size_t freed = grace::reclaim_now(dom);
  EXPECT_EQ(cache.size.load(), 0u);
  // Every callback queued before the call has run when it returns; the count
  // it returns covers those it ran (the worker may have run some already).
  const grace::rcu_domain_stats st = grace::rcu_stats(dom);
  EXPECT_EQ(st.callbacks_invoked, 100u);
  EXPECT_GE(freed, 1000u);
  EXPECT_LE(freed, 100u + 1000u);
  EXPECT_EQ(st.pending, 0u);
  EXPECT_EQ(st.memory_pressure_events, 1u);
  EXPECT_EQ(st.shrinker_freed, 1000u);
}

TEST(Shrinker, UnregisteredShrinkerIsNeverCalled) {
  grace::rcu_domain dom;
  fake_cache cache;
  cache.size = 10;
  {
    auto reg = cache.attach(dom);
  }
  grace::reclaim_now(dom);
  EXPECT_EQ(cache.scans.load(), 0);
  EXPECT_EQ(cache.size.load(), 10u);
}

TEST(Shrinker, PressureEventRunsShrinkersOnTheWorker) {
  grace::rcu_domain dom;
  fake_cache cache;
  cache.size = 50;
  auto reg = cache.attach(dom);
  (new node)->retire(std::default_delete<node>(), dom);  // starts the worker
  grace::detail::broadcast_memory_pressure();
  for (int i = 0; i < 5000 && cache.size.load() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(cache.size.load(), 0u);
  EXPECT_GE(grace::rcu_stats(dom).memory_pressure_events, 1u);
}

// Registration and unregistration never block the reclaim path, and a
// shrinker is never called after its unregistration returned.
TEST(Shrinker, RegisterAndUnregisterWhileReclaiming) {
  grace::rcu_domain dom;
  std::atomic<bool> stop{false};
  std::thread reclaimer([&] {
    while (!stop) grace::reclaim_now(dom);
  });
  for (int round = 0; round < 200; ++round) {
    fake_cache cache;
    cache.size = 1u << 20;
    auto reg = cache.attach(dom);
    std::this_thread::yield();
    reg.reset();
    const int scans_after = cache.scans.load();
    std::this_thread::yield();
    EXPECT_EQ(cache.scans.load(), scans_after);  // never called again
  }
  stop = true;
  reclaimer.join();
}

TEST(Shrinker, PsiStatusIsReported) {
  grace::rcu_domain dom;
  (new node)->retire(std::default_delete<node>(), dom);  // starts worker and monitor
  grace::rcu_barrier(dom);
  const grace::rcu_domain_stats st = grace::rcu_stats(dom);
  ASSERT_NE(st.psi_status, nullptr);
  EXPECT_STRNE(st.psi_status, "");
  std::printf("psi: available=%d status=%s\n", st.psi_available, st.psi_status);
}

}  // namespace
