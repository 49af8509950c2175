// tests/unit/flavor_test.cpp — the flavor choice and the fence fallback.
//
// grace picks its flavor once per process, on first use, so every case runs
// in a fresh process: the test binary re-executes itself in a child mode
// (tests/support/child_process.hpp) with
//   - GRACE_FLAVOR=fence                      -> fence flavor, by request;
//   - a seccomp filter refusing membarrier(2) -> fence flavor, reason EPERM;
//   - neither                                 -> the flavor this process got
//                                                (the control);
//   - membarrier refused *after* start-up     -> abort with a message.
// Each child runs the same small workload (readers, synchronize, retire,
// barrier, with exact counts) and reports its flavor on stdout.
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "grace/rcu.hpp"
#include "test_util.hpp"

namespace {

using grace_test::count_occurrences;
using grace_test::run_self;

// ---- The workload every child runs -------------------------------------------

struct item : grace::rcu_obj_base<item> {
  long gen;
  long check;
  std::atomic<long>* freed;
  item(long g, std::atomic<long>* f) : gen(g), check(~g), freed(f) {}
  ~item() {
    check = 0;  // poison: a reader that sees this saw a reclaimed item
    freed->fetch_add(1);
  }
};

// Returns 0 if readers, grace periods and reclamation all behaved.
int run_workload() {
  std::atomic<long> freed{0};
  grace::rcu_ptr<item> current(new item(0, &freed));
  std::atomic<bool> stop{false};
  std::atomic<long> bad{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        std::scoped_lock g(grace::rcu_default_domain());
        const item* p = current.load();
        if (p->check != ~p->gen) bad.fetch_add(1);
      }
    });
  }
  const long updates = grace_test::scaled(2000);
  std::thread updater([&] {
    for (long i = 1; i <= updates; ++i) {
      item* old = current.exchange(new item(i, &freed));
      if (i % 4 == 0) {
        grace::rcu_synchronize();
        delete old;
      } else {
        old->retire();
      }
    }
  });
  updater.join();
  grace::rcu_barrier();
  stop.store(true);
  for (std::thread& t : readers) t.join();
  delete current.exchange(nullptr);
  const bool ok = bad.load() == 0 && freed.load() == updates + 1;
  if (!ok) {
    std::fprintf(stderr, "workload failed: bad=%ld freed=%ld expected=%ld\n", bad.load(),
                 freed.load(), updates + 1);
  }
  return ok ? 0 : 1;
}

void print_flavor() {
  std::printf("flavor=%s\nreason=%s\n",
              grace::rcu_current_flavor() == grace::rcu_flavor::fence ? "fence" : "membarrier",
              grace::rcu_flavor_reason());
}

GRACE_CHILD_MODE(workload) {
  const int rc = run_workload();
  print_flavor();
  return rc;
}

// ---- seccomp ---------------------------------------------------------------------

#if defined(__x86_64__)
constexpr bool kHaveSeccompTest = true;

// Refuses membarrier(2) with EPERM; allows everything else.
sock_filter g_filter[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_membarrier, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};
sock_fprog g_prog = {static_cast<unsigned short>(sizeof g_filter / sizeof g_filter[0]), g_filter};

constexpr int kSeccompUnavailable = 77;
constexpr const char kSeccompUnavailableMsg[] = "SECCOMP-UNAVAILABLE\n";

// Installs the filter on every thread of the process (TSYNC); true on success.
// Raw system calls: also used between fork() and execve().
bool install_membarrier_filter() {
  if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) != 0) return false;
  return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &g_prog) == 0;
}

void seccomp_pre_exec(void*) {
  if (!install_membarrier_filter()) {
    syscall(SYS_write, STDERR_FILENO, kSeccompUnavailableMsg, sizeof kSeccompUnavailableMsg - 1);
    syscall(SYS_exit_group, kSeccompUnavailable);
  }
}

// grace starts in the membarrier flavor, then membarrier is refused.
GRACE_CHILD_MODE(refused_later) {
  // A registered reader, so that grace periods need the heavy barrier (with
  // no reader at all a grace period may skip it).
  { std::scoped_lock g(grace::rcu_default_domain()); }
  grace::rcu_synchronize();
  if (grace::rcu_current_flavor() != grace::rcu_flavor::membarrier) {
    std::printf("already in the fence flavor: %s\n", grace::rcu_flavor_reason());
    return kSeccompUnavailable;
  }
  if (!install_membarrier_filter()) {
    std::fputs(kSeccompUnavailableMsg, stderr);
    return kSeccompUnavailable;
  }
  grace::rcu_synchronize();  // must abort: readers can no longer be kept safe
  std::printf("rcu_synchronize returned\n");
  return 0;
}
#else
constexpr bool kHaveSeccompTest = false;
#endif

// ---- Tests -----------------------------------------------------------------------

TEST(Flavor, ReportsAFlavor) {
  const grace::rcu_flavor f = grace::rcu_current_flavor();
  if (f == grace::rcu_flavor::membarrier) {
    EXPECT_STREQ(grace::rcu_flavor_reason(), "");
  } else {
    EXPECT_STRNE(grace::rcu_flavor_reason(), "");
  }
}

TEST(Flavor, FenceFlavorByEnvironment) {
  const grace_test::child_result r = run_self("workload", {"GRACE_FLAVOR=fence"});
  ASSERT_EQ(r.exit_code(), 0) << r.describe();
  EXPECT_NE(r.out.find("flavor=fence\n"), std::string::npos) << r.describe();
  EXPECT_NE(r.out.find("reason=GRACE_FLAVOR=fence is set"), std::string::npos) << r.describe();
  EXPECT_EQ(count_occurrences(r.err, "fence flavor"), 1) << r.describe();
  EXPECT_NE(r.err.find("grace: GRACE_FLAVOR=fence is set; using the fence flavor"),
            std::string::npos)
      << r.describe();
}

// Control: without the variable (or with another value) the child gets the
// flavor the kernel allows, as this process did, and says nothing.
TEST(Flavor, DefaultFlavorInAFreshProcess) {
  const char* env = std::getenv("GRACE_FLAVOR");
  if (env != nullptr && std::strcmp(env, "fence") == 0) {
    GTEST_SKIP() << "GRACE_FLAVOR=fence is set for the whole test run";
  }
  for (const char* setting : {"GRACE_FLAVOR=", "GRACE_FLAVOR=membarrier"}) {
    const grace_test::child_result r = run_self("workload", {setting});
    ASSERT_EQ(r.exit_code(), 0) << setting << ": " << r.describe();
    if (grace::rcu_current_flavor() == grace::rcu_flavor::membarrier) {
      EXPECT_NE(r.out.find("flavor=membarrier\n"), std::string::npos) << r.describe();
      EXPECT_EQ(count_occurrences(r.err, "fence flavor"), 0) << r.describe();
    } else {
      EXPECT_NE(r.out.find("flavor=fence\n"), std::string::npos) << r.describe();
      EXPECT_EQ(count_occurrences(r.err, "fence flavor"), 1) << r.describe();
    }
  }
}

TEST(Flavor, SeccompRefusalFallsBackToFences) {
  if (!kHaveSeccompTest) GTEST_SKIP() << "the seccomp filter is written for x86-64";
#if defined(__x86_64__)
  const grace_test::child_result r = run_self("workload", {"GRACE_FLAVOR="}, seccomp_pre_exec);
  if (r.exit_code() == kSeccompUnavailable &&
      r.err.find("SECCOMP-UNAVAILABLE") != std::string::npos) {
    GTEST_SKIP() << "cannot install a seccomp filter here (prctl/seccomp refused)";
  }
  ASSERT_EQ(r.exit_code(), 0) << r.describe();
  EXPECT_NE(r.out.find("flavor=fence\n"), std::string::npos) << r.describe();
  EXPECT_NE(r.out.find("reason=membarrier("), std::string::npos) << r.describe();
  EXPECT_NE(r.out.find("Operation not permitted"), std::string::npos) << r.describe();
  EXPECT_EQ(count_occurrences(r.err, "fence flavor"), 1) << r.describe();
  EXPECT_EQ(count_occurrences(r.err, "grace: membarrier("), 1) << r.describe();
#endif
}

TEST(Flavor, MembarrierRefusedAfterStartUpAborts) {
  if (!kHaveSeccompTest) GTEST_SKIP() << "the seccomp filter is written for x86-64";
  if (grace::rcu_current_flavor() != grace::rcu_flavor::membarrier) {
    GTEST_SKIP() << "this process runs the fence flavor: " << grace::rcu_flavor_reason();
  }
  const grace_test::child_result r = run_self("refused_later", {"GRACE_FLAVOR="});
  if (r.exit_code() == 77) GTEST_SKIP() << "cannot install a seccomp filter here";
  EXPECT_EQ(r.term_signal(), SIGABRT) << r.describe();
  // "grace: <the call>: membarrier(...) was refused after start-up ..."
  const std::size_t at = r.err.find(
      ": membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) was refused after start-up");
  ASSERT_NE(at, std::string::npos) << r.describe();
  const std::size_t line = r.err.rfind('\n', at);
  EXPECT_EQ(r.err.compare(line == std::string::npos ? 0 : line + 1, 7, "grace: "), 0)
      << r.describe();
  EXPECT_EQ(r.out.find("rcu_synchronize returned"), std::string::npos) << r.describe();
}

}  // namespace
