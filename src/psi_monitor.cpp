// src/psi_monitor.cpp — memory pressure from Linux PSI (see psi_monitor.hpp).
#include "psi_monitor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "futex.hpp"
#include "grace/detail/atomic.hpp"

namespace grace::detail {
namespace {

// 100 ms of "some" memory stall within a 2 s window.
constexpr const char* kTrigger = "some 100000 2000000";

futex_mutex g_lock;  // guards g_started
bool g_started = false;
// The status text: a pointer to a literal, or to g_status_text once the
// monitor has written it (it writes it once per process, before publishing
// it with [PS1]; rcu_stats() reads it with [PS2]).
char g_status_text[256];
atomic<const char*> g_status{"PSI monitor not started (no domain has reclaimed yet)"};
// Written by the monitor thread once its trigger is armed.
atomic<bool> g_available{false};

void publish_status() noexcept {
  g_status.store(g_status_text, std::memory_order_release);  // [PS1] pairs with [PS2]
}

// The memory.pressure file of our cgroup v2, if any.
std::string cgroup_pressure_file() {
  FILE* f = std::fopen("/proc/self/cgroup", "re");
  if (f == nullptr) return {};
  char line[512];
  std::string path;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, "0::", 3) == 0) {
      path = line + 3;
      while (!path.empty() && (path.back() == '\n' || path.back() == '\r')) path.pop_back();
      break;
    }
  }
  std::fclose(f);
  if (path.empty()) return {};
  return "/sys/fs/cgroup" + (path == "/" ? std::string() : path) + "/memory.pressure";
}

int arm_trigger(const std::string& file, char* why, std::size_t why_size) {
  const int fd = ::open(file.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    std::snprintf(why, why_size, "%s: %s", file.c_str(), std::strerror(errno));
    return -1;
  }
  if (::write(fd, kTrigger, std::strlen(kTrigger) + 1) < 0) {
    std::snprintf(why, why_size, "%s: cannot arm trigger: %s", file.c_str(), std::strerror(errno));
    ::close(fd);
    return -1;
  }
  return fd;
}

void monitor_main() noexcept {
  char why_cgroup[200] = "";
  char why_proc[200] = "";
  int fd = -1;
  std::string used;
  try {
    const std::string cg = cgroup_pressure_file();
    if (!cg.empty()) fd = arm_trigger(cg, why_cgroup, sizeof why_cgroup);
    if (fd >= 0) used = cg;
    if (fd < 0) {
      fd = arm_trigger("/proc/pressure/memory", why_proc, sizeof why_proc);
      if (fd >= 0) used = "/proc/pressure/memory";
    }
  } catch (...) {
    fd = -1;
  }
  if (fd < 0) {
    // Precision-limited: the reasons are cut rather than the status.
    std::snprintf(g_status_text, sizeof g_status_text, "PSI unavailable (%.90s%s%.90s)", why_cgroup,
                  why_cgroup[0] != '\0' ? "; " : "", why_proc);
  } else {
    std::snprintf(g_status_text, sizeof g_status_text, "PSI trigger \"%s\" on %.150s", kTrigger,
                  used.c_str());
  }
  publish_status();
  if (fd < 0) return;
  g_available.store(true, std::memory_order_relaxed);  // a statistic only
  for (;;) {
    pollfd p{fd, POLLPRI, 0};
    const int n = ::poll(&p, 1, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || (p.revents & (POLLERR | POLLNVAL)) != 0) break;
    if ((p.revents & POLLPRI) != 0) broadcast_memory_pressure();
  }
  g_available.store(false, std::memory_order_relaxed);
  ::close(fd);
}

}  // namespace

void ensure_psi_monitor() noexcept {
  g_lock.lock();
  if (!g_started) {
    g_started = true;
    g_status.store("PSI monitor starting", std::memory_order_release);  // [PS1]
    try {
      std::thread(monitor_main).detach();
    } catch (...) {
      // [PS1] as above.
      g_status.store("PSI unavailable (cannot start its thread)", std::memory_order_release);
    }
  }
  g_lock.unlock();
}

bool psi_available() noexcept { return g_available.load(std::memory_order_relaxed); }

const char* psi_status() noexcept {
  return g_status.load(std::memory_order_acquire);  // [PS2] pairs with [PS1]
}

void psi_child_after_fork() noexcept {
  g_lock.reset_after_fork();
  g_started = false;
  g_available.store(false, std::memory_order_relaxed);
  g_status.store("PSI monitor not restarted yet in this child", std::memory_order_relaxed);
}

}  // namespace grace::detail
