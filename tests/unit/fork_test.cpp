// tests/unit/fork_test.cpp — fork(2) in a process that uses grace.
//
// The child has only the forking thread.  Readers, grace-period leaders and
// reclamation workers of the parent do not exist there, and must not hold
// back or break the child: it can read, synchronize, retire, barrier and
// start threads.  Each child arms alarm(20) so that a hang kills it (and fails
// the test) instead of hanging CI; the parent also gives up after a minute.
//
// TSAN does not support threads in the child of a multi-threaded fork: the
// tests skip there.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <thread>
#include <vector>

#include "../../src/registry.hpp"
#include "grace/hash_map.hpp"
#include "grace/rcu.hpp"
#include "hash_map_oracle.hpp"
#include "test_util.hpp"

namespace {

using grace::detail::read_nesting;
using grace_test::watchdog;

#define SKIP_UNDER_TSAN()                                                                  \
  do {                                                                                     \
    if (grace_test::kTsan) GTEST_SKIP() << "TSAN does not support multi-threaded fork"; \
  } while (0)

// GCC 12's ASAN runtime takes no allocator locks around fork(): a child
// forked while other threads allocate can deadlock when it starts a thread
// (grace's worker or grace-period thread) on a lock held at fork time.  The
// tests whose parent is busy skip under ASAN (the release, clang and debug
// builds run them); the quiet-parent ones still run there.
#if defined(__SANITIZE_ADDRESS__)
#define SKIP_BUSY_PARENT_UNDER_ASAN() \
  GTEST_SKIP() << "libasan (GCC 12) is not fork-safe while other threads allocate"
#else
#define SKIP_BUSY_PARENT_UNDER_ASAN() \
  do {                                \
  } while (0)
#endif

// In the child: report a failed check and exit non-zero.
#define CHILD_CHECK(cond)                                                                  \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      std::fprintf(stderr, "child: check failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::fflush(stderr);                                                                 \
      std::_Exit(1);                                                                       \
    }                                                                                      \
  } while (0)

// Forks; the child runs body() under alarm(20) and exits 0 if it returns.
// Returns the child's wait status (or -1 if it had to be killed).
int run_in_forked_child(const std::function<void()>& body) {
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    alarm(20);
    body();
    std::fflush(stderr);
    std::_Exit(0);
  }
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    const pid_t got = waitpid(pid, &status, WNOHANG);
    if (got == pid) return status;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

std::string describe_status(int status) {
  if (status == -1) return "hung (killed after 60 s)";
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return "signal " + std::to_string(WTERMSIG(status)) +
           (WTERMSIG(status) == SIGALRM ? " (SIGALRM: hung)" : "");
  }
  return "status " + std::to_string(status);
}

bool exited_ok(int status) { return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0; }

struct counted : grace::rcu_obj_base<counted> {
  std::atomic<long>* count;
  explicit counted(std::atomic<long>* c) : count(c) {}
  ~counted() { count->fetch_add(1); }
};

// Everything the child must still be able to do.
void child_exercises_grace() {
  CHILD_CHECK(read_nesting() == 0);
  // Only this thread is registered in the child.
  CHILD_CHECK(grace::detail::registered_reader_count() == 1);
  {
    std::scoped_lock g(grace::rcu_default_domain());
    CHILD_CHECK(read_nesting() == 1);
  }
  grace::rcu_synchronize();
  grace::rcu_synchronize_expedited();
  const grace::rcu_cookie c = grace::rcu_start_poll();  // restarts the GP thread
  CHILD_CHECK(grace_test::wait_until([&] { return grace::rcu_poll_state(c); }, 15));

  static std::atomic<long> freed{0};
  freed.store(0);
  (new counted(&freed))->retire();
  grace::rcu_barrier();  // restarts the worker
  CHILD_CHECK(freed.load() == 1);

  std::thread reader([] {
    for (int i = 0; i < 1000; ++i) {
      std::scoped_lock g(grace::rcu_default_domain());
    }
    grace::rcu_synchronize();
    (new counted(&freed))->retire();
  });
  reader.join();
  grace::rcu_barrier();
  CHILD_CHECK(freed.load() == 2);
  CHILD_CHECK(grace::detail::registered_reader_count() == 1);

  {
    grace::rcu_domain dom;
    for (int i = 0; i < 10; ++i) (new counted(&freed))->retire({}, dom);
  }
  CHILD_CHECK(freed.load() == 12);
}

TEST(Fork, ChildOfABusyProcessWorks) {
  SKIP_UNDER_TSAN();
  SKIP_BUSY_PARENT_UNDER_ASAN();
  watchdog dog("ChildOfABusyProcessWorks");
  // This thread is a registered reader too: its registration must survive.
  { std::scoped_lock g(grace::rcu_default_domain()); }

  std::atomic<bool> stop{false};
  std::atomic<long> freed{0};
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        std::scoped_lock g(grace::rcu_default_domain());
        std::scoped_lock nested(grace::rcu_default_domain());
      }
    });
  }
  threads.emplace_back([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      grace::rcu_synchronize();
      (new counted(&freed))->retire();
    }
  });
  long retired = 0;
  for (int round = 0; round < 3; ++round) {
    // Callbacks pending at the fork.
    for (int i = 0; i < 2000; ++i, ++retired) (new counted(&freed))->retire();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const int status = run_in_forked_child(child_exercises_grace);
    EXPECT_TRUE(exited_ok(status)) << "round " << round << ": child " << describe_status(status);
  }
  stop.store(true);
  for (std::thread& t : threads) t.join();
  grace::rcu_barrier();
  EXPECT_GE(freed.load(), retired);
}

// A grace period is in flight in the parent (its leader sleeps, held back by
// a reader) and the reclamation worker waits for it: the child must not
// inherit the wait.
TEST(Fork, ChildOfAProcessWithAStuckGracePeriod) {
  SKIP_UNDER_TSAN();
  SKIP_BUSY_PARENT_UNDER_ASAN();
  watchdog dog("ChildOfAProcessWithAStuckGracePeriod");
  { std::scoped_lock g(grace::rcu_default_domain()); }
  grace_test::held_reader reader;
  std::atomic<bool> synced{false};
  std::thread updater([&] {
    grace::rcu_synchronize();
    synced.store(true);
  });
  std::atomic<long> freed{0};
  for (int i = 0; i < 100; ++i) (new counted(&freed))->retire();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let them block
  const int status = run_in_forked_child(child_exercises_grace);
  EXPECT_TRUE(exited_ok(status)) << "child " << describe_status(status);
  EXPECT_FALSE(synced.load());
  reader.release();
  updater.join();
  grace::rcu_barrier();
  EXPECT_EQ(freed.load(), 100);
}

TEST(Fork, ForkInsideAReadSection) {
  SKIP_UNDER_TSAN();
  watchdog dog("ForkInsideAReadSection");
  grace::rcu_domain& dom = grace::rcu_default_domain();
  dom.lock();
  const int status = run_in_forked_child([&] {
    CHILD_CHECK(read_nesting() == 1);  // the child is still inside
    // A thread's grace period must wait for the child's inherited section.
    std::atomic<bool> done{false};
    std::atomic<bool> done_while_inside{false};
    std::atomic<bool> inside{true};
    std::thread sync([&] {
      grace::rcu_synchronize();
      done_while_inside.store(inside.load());
      done.store(true);
    });
    std::this_thread::sleep_for(grace_test::safety_window());
    CHILD_CHECK(!done.load());
    inside.store(false);
    dom.unlock();
    CHILD_CHECK(read_nesting() == 0);
    sync.join();
    CHILD_CHECK(!done_while_inside.load());
    grace::rcu_synchronize();
    static std::atomic<long> freed{0};
    (new counted(&freed))->retire();
    grace::rcu_barrier();
    CHILD_CHECK(freed.load() == 1);
  });
  EXPECT_EQ(read_nesting(), 1u);
  dom.unlock();
  EXPECT_TRUE(exited_ok(status)) << "child " << describe_status(status);
  grace::rcu_synchronize();
}

// Single-threaded fork (the parent has no other reader): the common case.
TEST(Fork, ChildAfterQuietParent) {
  SKIP_UNDER_TSAN();
  watchdog dog("ChildAfterQuietParent");
  { std::scoped_lock g(grace::rcu_default_domain()); }
  grace::rcu_barrier();
  const int status = run_in_forked_child(child_exercises_grace);
  EXPECT_TRUE(exited_ok(status)) << "child " << describe_status(status);
}

// A hash map whose grow had its table on order from the worker when the
// process forked: in the child that build may never come (the worker is
// gone, and what it had collected is abandoned).  The child's map keeps
// working: past twice the grow load an update adopts the order (the child's
// copy of its memory) and finishes the table itself, and later grows order
// from the child's own worker.

TEST(Fork, HashMapGrowsInAChildForkedWithATableOnOrder) {
  SKIP_UNDER_TSAN();
  watchdog dog("HashMapGrowsInAChildForkedWithATableOnOrder");
  using map = grace::hash_map<std::uint64_t, std::uint64_t, std::hash<std::uint64_t>,
                              std::equal_to<std::uint64_t>, hm_oracle::growing_ahead_traits>;
  grace::rcu_domain dom;
  map m(dom);
  for (std::uint64_t k = 0; k < 33; ++k) ASSERT_TRUE(m.insert(k, k));  // the 33rd orders
  const int status = run_in_forked_child([&m] {
    constexpr std::uint64_t kKeys = 20000;
    for (std::uint64_t k = 33; k < kKeys; ++k) CHILD_CHECK(m.insert(k, k));
    CHILD_CHECK(m.bucket_count() >= 4096);  // grown past every threshold on the way
    for (std::uint64_t k = 0; k < kKeys; ++k) CHILD_CHECK(m.get(k) == std::optional<std::uint64_t>(k));
    CHILD_CHECK(m.size() == kKeys);
  });
  EXPECT_TRUE(exited_ok(status)) << "child " << describe_status(status);
  for (std::uint64_t k = 33; k < 200; ++k) ASSERT_TRUE(m.insert(k, k));  // and the parent's
  EXPECT_GE(m.bucket_count(), 64u);
}

}  // namespace
