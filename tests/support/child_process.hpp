// tests/support/child_process.hpp — running part of a test in a fresh process.
//
// grace decides its flavor once per process, on first use, so a test of the
// fence flavor (or of a seccomp refusal) needs a process that has not touched
// grace yet.  The unit-test binary is its own helper: a test re-executes
// /proc/self/exe with GRACE_UNIT_CHILD_MODE=<name>, and a global gtest
// environment, installed by this header, runs the named child mode before any
// test and exits with its status.  Nothing else in the binary uses grace
// before main() (no global rcu_domain objects in the tests), so the child mode
// is the first user.
//
//   GRACE_CHILD_MODE(fence_workload) { ...; return 0; }   // defines a mode
//   auto r = grace_test::run_self("fence_workload", {"GRACE_FLAVOR=fence"});
//   EXPECT_EQ(r.exit_code(), 0) << r.err;
//
// run_self() forks, optionally runs `pre_exec` in the child (it must be
// async-signal-safe: the parent has threads), then execs.  It captures stdout
// and stderr, and kills a child that runs longer than `timeout_s`.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

extern char** environ;

namespace grace_test {

inline constexpr const char* kChildModeEnv = "GRACE_UNIT_CHILD_MODE";

using child_main = int (*)();

inline std::map<std::string, child_main>& child_modes() {
  static std::map<std::string, child_main> modes;
  return modes;
}

struct child_mode_registrar {
  child_mode_registrar(const char* name, child_main fn) { child_modes()[name] = fn; }
};

#define GRACE_CHILD_MODE(name)                                                        \
  static int grace_child_mode_##name();                                              \
  static const ::grace_test::child_mode_registrar grace_child_mode_registrar_##name( \
      #name, &grace_child_mode_##name);                                              \
  static int grace_child_mode_##name()

// Runs the child mode named by the environment, if any, then exits.
class child_mode_environment : public ::testing::Environment {
 public:
  void SetUp() override {
    const char* mode = std::getenv(kChildModeEnv);
    if (mode == nullptr) return;
    const auto it = child_modes().find(mode);
    int rc = 120;
    if (it == child_modes().end()) {
      std::fprintf(stderr, "child mode '%s' is not defined\n", mode);
    } else {
      rc = it->second();
    }
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(rc);
  }
};

// Installed once, whichever test file includes this header first.
inline const bool kChildModeHookInstalled =
    (::testing::AddGlobalTestEnvironment(new child_mode_environment), true);

struct child_result {
  int status = 0;  // as from waitpid
  bool timed_out = false;
  std::string out;
  std::string err;

  // Exit code, or -1 if the child did not exit normally.
  int exit_code() const { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
  int term_signal() const { return WIFSIGNALED(status) ? WTERMSIG(status) : 0; }
  std::string describe() const {
    std::string s = timed_out ? "timed out; " : "";
    if (WIFEXITED(status)) s += "exit " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) s += "signal " + std::to_string(WTERMSIG(status));
    return s + "\n--- child stdout ---\n" + out + "--- child stderr ---\n" + err;
  }
};

// Counts the non-overlapping occurrences of needle in hay.
inline int count_occurrences(const std::string& hay, const std::string& needle) {
  int n = 0;
  for (std::size_t pos = hay.find(needle); pos != std::string::npos;
       pos = hay.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

// Re-executes this test binary in child mode `mode`, with `extra_env`
// ("NAME=value", replacing any inherited NAME) added to the environment.
// pre_exec(arg), if given, runs in the forked child just before execve.
inline child_result run_self(const std::string& mode, const std::vector<std::string>& extra_env,
                             void (*pre_exec)(void*) = nullptr, void* pre_exec_arg = nullptr,
                             int timeout_s = 60) {
  child_result result;
  // Everything the child needs is built before fork(): after it, the child of
  // a multi-threaded parent may only make async-signal-safe calls.
  std::vector<std::string> env_strings = extra_env;
  env_strings.push_back(std::string(kChildModeEnv) + "=" + mode);
  auto overridden = [&](const char* entry) {
    for (const std::string& e : env_strings) {
      const std::size_t eq = e.find('=');
      if (std::strncmp(entry, e.c_str(), eq + 1) == 0) return true;
    }
    return false;
  };
  for (char** e = environ; *e != nullptr; ++e) {
    if (!overridden(*e)) env_strings.emplace_back(*e);
  }
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  // Run only the calling test in the child, so the environment hook fires
  // (gtest sets environments up only when some test is selected).
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string filter = "--gtest_filter=";
  filter += info != nullptr ? std::string(info->test_suite_name()) + "." + info->name() : "*";
  std::string exe = "/proc/self/exe";
  std::vector<char*> argv{exe.data(), filter.data(), nullptr};

  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2 failed";
    return result;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork failed";
    return result;
  }
  if (pid == 0) {
    // Raw system calls only (no sanitizer interceptors, no locks).
    syscall(SYS_dup2, out_pipe[1], STDOUT_FILENO);
    syscall(SYS_dup2, err_pipe[1], STDERR_FILENO);
    if (pre_exec != nullptr) pre_exec(pre_exec_arg);
    syscall(SYS_execve, argv[0], argv.data(), envp.data());
    static const char msg[] = "run_self: execve failed\n";
    syscall(SYS_write, STDERR_FILENO, msg, sizeof msg - 1);
    syscall(SYS_exit_group, 127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  while (open_fds > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    const int n = poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      const ssize_t got = read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (pollfd& f : fds) {
    if (f.fd >= 0) close(f.fd);
  }
  while (waitpid(pid, &result.status, 0) < 0 && errno == EINTR) {
  }
  return result;
}

}  // namespace grace_test
