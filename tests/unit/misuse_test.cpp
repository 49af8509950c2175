// tests/unit/misuse_test.cpp — misuse is reported with a message naming the
// call (docs/misuse.md), and the process dies where the design says it must.
//
// Every death test matches the message text, not just the death.  The
// "threadsafe" death-test style re-executes the binary for each one, so the
// dying process starts clean even though other tests left worker threads.
//
// Build-dependent cases (assert only what holds in every build):
//   unlock() without lock(): checked builds (no NDEBUG in *this* compile)
//     abort inside unlock(); unchecked builds are caught by the next grace
//     period's scan.  Both messages name rcu_domain::unlock.
//   thread exit inside a section: always a message; abort only if the
//     *library* was built without NDEBUG.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

#include "grace/rcu.hpp"
#include "grace_period.hpp"  // src/: gp_stats(), the leader's sleeps

namespace {

class MisuseDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

void lock_default() { grace::rcu_default_domain().lock(); }
void unlock_default() { grace::rcu_default_domain().unlock(); }

TEST_F(MisuseDeathTest, SynchronizeInsideAReader) {
  EXPECT_DEATH(
      {
        lock_default();
        grace::rcu_synchronize();
      },
      "grace: rcu_synchronize: called inside a read-side section; it would deadlock");
}

TEST_F(MisuseDeathTest, ExpeditedSynchronizeInsideAReader) {
  EXPECT_DEATH(
      {
        lock_default();
        grace::rcu_synchronize_expedited();
      },
      "grace: rcu_synchronize_expedited: called inside a read-side section");
}

TEST_F(MisuseDeathTest, CondSynchronizeInsideAReader) {
  EXPECT_DEATH(
      {
        lock_default();
        grace::rcu_cond_synchronize(grace::rcu_get_state());
      },
      "grace: rcu_cond_synchronize: called inside a read-side section");
}

TEST_F(MisuseDeathTest, BarrierInsideAReader) {
  EXPECT_DEATH(
      {
        lock_default();
        grace::rcu_barrier();
      },
      "grace: rcu_barrier: called inside a read-side section; it would deadlock");
}

TEST_F(MisuseDeathTest, NestedSectionStillCountsAsInside) {
  EXPECT_DEATH(
      {
        lock_default();
        lock_default();
        unlock_default();
        grace::rcu_synchronize();
      },
      "grace: rcu_synchronize: called inside a read-side section");
}

TEST_F(MisuseDeathTest, UserDomainDestroyedInsideAReader) {
  EXPECT_DEATH(
      {
        auto* dom = new grace::rcu_domain;
        grace::rcu_retire(new int(1), std::default_delete<int>(), *dom);
        lock_default();
        delete dom;
      },
      "grace: rcu_domain::~rcu_domain: called inside a read-side section");
}

TEST_F(MisuseDeathTest, UnlockWithoutLock) {
  EXPECT_DEATH(
      {
        lock_default();  // register this thread
        unlock_default();
        unlock_default();  // the misuse: checked builds abort here
        // Unchecked builds: the next grace period's scan reports it.
        std::thread([] { grace::rcu_synchronize(); }).join();
      },
      "grace: rcu_domain::unlock: .*unlock\\(\\) without (a matching )?lock\\(\\)");
}

// After an unbalanced unlock, the next lock() on that thread must report the
// unbalanced unlock (checked builds already died in unlock()).
TEST_F(MisuseDeathTest, LockAfterUnlockWithoutLockReportsTheUnlock) {
  EXPECT_DEATH(
      {
        lock_default();
        unlock_default();
        unlock_default();
        lock_default();
      },
      "grace: rcu_domain::(lock|unlock): .*unlock\\(\\) (was called )?without "
      "(a matching )?lock\\(\\)");
}

// An unbalanced unlock on a thread that never locked.
TEST_F(MisuseDeathTest, UnlockWithoutLockOnAFreshThread) {
  EXPECT_DEATH(
      {
        std::thread([] {
          unlock_default();
          lock_default();
          unlock_default();
        }).join();
        grace::rcu_synchronize();
        std::_Exit(0);  // unreported: fails the death test
      },
      "grace: rcu_domain::(lock|unlock): .*unlock\\(\\) (was called )?without "
      "(a matching )?lock\\(\\)");
}

TEST_F(MisuseDeathTest, NestingOverflow) {
  EXPECT_DEATH(
      {
        for (std::uint32_t i = 0; i < grace::kMaxNesting + 1; ++i) lock_default();
      },
      "grace: rcu_domain::lock: read-side sections nested too deeply");
}

// Exit status: 0 (release library: message only, the thread is unregistered
// and grace periods go on) or SIGABRT (checked library).
bool exited_cleanly_or_aborted(int status) {
  return (WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
         (WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

TEST_F(MisuseDeathTest, ThreadExitInsideASection) {
  EXPECT_EXIT(
      {
        std::thread([] { lock_default(); }).join();
        // Release library: the dead thread must not hold back grace periods.
        grace::rcu_synchronize();
        std::fprintf(stderr, "synchronize returned\n");
        std::_Exit(0);
      },
      exited_cleanly_or_aborted,
      "grace: thread exit: the thread exited inside a read-side section");
}

// The same while a grace period already waits, asleep, for the dying
// thread's section, and another thread keeps entering and leaving sections
// (under the current sequence: they never wake the leader).  The exit
// itself wakes the leader: the leader slept, and no sleep ran to its bound
// (1 s; the exit comes after about 100 ms).  Without the wake in
// on_thread_exit() a sleep does, and synchronize takes the whole second.
TEST_F(MisuseDeathTest, ThreadExitInsideASectionWakesAWaitingGracePeriod) {
  EXPECT_EXIT(
      {
        std::atomic<bool> locked{false};
        std::atomic<bool> done{false};
        std::thread dying([&] {
          lock_default();
          locked.store(true);
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        });  // exits inside its section
        std::thread other([&] {
          while (!done.load()) {
            lock_default();
            unlock_default();
            std::this_thread::sleep_for(std::chrono::microseconds(200));
          }
        });
        while (!locked.load()) std::this_thread::yield();
        const grace::detail::gp_counters before = grace::detail::gp_stats();
        grace::rcu_synchronize();
        const grace::detail::gp_counters after = grace::detail::gp_stats();
        done.store(true);
        other.join();
        dying.join();
        const auto slept = after.sleeps - before.sleeps;
        const auto unwoken = after.unwoken - before.unwoken;
        std::fprintf(stderr, "the leader slept %llu times, %llu to the bound\n",
                     static_cast<unsigned long long>(slept),
                     static_cast<unsigned long long>(unwoken));
        std::_Exit(slept == 0 ? 4 : unwoken != 0 ? 3 : 0);
      },
      exited_cleanly_or_aborted,
      "grace: thread exit: the thread exited inside a read-side section");
}

// A callback that throws: the worker names it (by symbol when the executable
// exports it, else by address) and terminates.  The child prints the address
// it expects; the matcher checks grace printed the same one.
void throwing_callback(grace::rcu_head*) { throw std::runtime_error("deleter bug"); }

bool names_the_callback(const std::string& err) {
  const std::string marker = "expect callback at ";
  const std::size_t at = err.find(marker);
  if (at == std::string::npos) return false;
  const std::size_t end = err.find('\n', at);
  const std::string address = err.substr(at + marker.size(), end - at - marker.size());
  const std::string message = "grace: a reclamation callback (";
  const std::size_t m = err.find(message);
  if (m == std::string::npos) return false;
  const std::size_t m_end = err.find('\n', m);
  const std::string line = err.substr(m, m_end - m);
  return line.find(" at " + address + ",") != std::string::npos &&
         line.find("threw an exception; deleters must not throw") != std::string::npos;
}

// gtest's death tests take a Matcher<const std::string&> for stderr (gmock's
// Truly() is not linked into this binary).
class names_the_callback_matcher : public ::testing::MatcherInterface<const std::string&> {
 public:
  bool MatchAndExplain(const std::string& err,
                       ::testing::MatchResultListener* /*listener*/) const override {
    return names_the_callback(err);
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "names the throwing callback by the address the child printed";
  }
};

TEST_F(MisuseDeathTest, CallbackThatThrowsTerminates) {
  EXPECT_DEATH(
      {
        static grace::rcu_head head;
        std::fprintf(stderr, "expect callback at %p\n",
                     reinterpret_cast<void*>(&throwing_callback));
        grace::call_rcu(&head, throwing_callback);
        grace::rcu_barrier();
      },
      ::testing::Matcher<const std::string&>(new names_the_callback_matcher));
}

}  // namespace
