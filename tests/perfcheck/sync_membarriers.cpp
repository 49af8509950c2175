// tests/perfcheck/sync_membarriers.cpp — grace periods for strace to count
// membarrier(2) calls (ctest sync_membarriers_per_gp, check_membarriers.sh).
//
//   perfcheck_sync_membarriers reader|noreader GPS
//   perfcheck_sync_membarriers_urcu reader|noreader GPS      (liburcu memb)
//
// Runs GPS grace periods (rcu_synchronize / synchronize_rcu) from the main
// thread, with or without one reader thread looping over short read-side
// sections, and prints "grace_periods=G" and, for grace, the library's own
// counts: "leader_sleeps=S" (each sleep adds one membarrier, the handshake
// [GP5] with the readers' unlock) and "flavor=...".  The claim checked: one
// membarrier per grace period, plus one per sleep, plus start-up calls.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#if defined(PERFCHECK_URCU_ONLY)
#define _LGPL_SOURCE
#include <urcu/urcu-memb.h>
#else
#include "grace/rcu.hpp"
#include "grace_period.hpp"  // src/: gp_stats(), internal statistics
#endif

namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reader_running{false};
std::atomic<int> g_data{0};
volatile int g_sink = 0;

void reader_section() {
#if defined(PERFCHECK_URCU_ONLY)
  urcu_memb_read_lock();
  g_sink = g_data.load(std::memory_order_relaxed);
  urcu_memb_read_unlock();
#else
  std::scoped_lock guard(grace::rcu_default_domain());
  g_sink = g_data.load(std::memory_order_relaxed);
#endif
}

void reader_main() {
#if defined(PERFCHECK_URCU_ONLY)
  urcu_memb_register_thread();
#endif
  long n = 0;
  while (!g_stop.load(std::memory_order_relaxed)) {
    reader_section();
    // Short sections with some room between them, as a real reader has.
    for (int i = 0; i < 8; ++i) g_sink = g_sink + 1;
    if (++n == 1000) g_reader_running.store(true, std::memory_order_release);
  }
#if defined(PERFCHECK_URCU_ONLY)
  urcu_memb_unregister_thread();
#endif
}

void synchronize() {
#if defined(PERFCHECK_URCU_ONLY)
  urcu_memb_synchronize_rcu();
#else
  grace::rcu_synchronize();
#endif
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::strcmp(argv[1], "reader") != 0 && std::strcmp(argv[1], "noreader") != 0)) {
    std::fprintf(stderr, "usage: %s reader|noreader GRACE_PERIODS\n", argv[0]);
    return 2;
  }
  const bool with_reader = std::strcmp(argv[1], "reader") == 0;
  const long gps = std::atol(argv[2]);
  std::thread reader;
  if (with_reader) {
    reader = std::thread(reader_main);
    while (!g_reader_running.load(std::memory_order_acquire)) std::this_thread::yield();
  }
#if !defined(PERFCHECK_URCU_ONLY)
  const auto before = grace::detail::gp_stats();
#endif
  for (long i = 0; i < gps; ++i) {
    g_data.store(static_cast<int>(i), std::memory_order_relaxed);
    synchronize();
  }
#if !defined(PERFCHECK_URCU_ONLY)
  const auto after = grace::detail::gp_stats();
#endif
  g_stop.store(true, std::memory_order_relaxed);
  if (with_reader) reader.join();
#if defined(PERFCHECK_URCU_ONLY)
  std::printf("grace_periods=%ld\n", gps);
#else
  std::printf("grace_periods=%llu\n",
              static_cast<unsigned long long>(after.completed - before.completed));
  std::printf("leader_sleeps=%llu\n",
              static_cast<unsigned long long>(after.sleeps - before.sleeps));
  std::printf("flavor=%s\n",
              grace::rcu_current_flavor() == grace::rcu_flavor::membarrier ? "membarrier" : "fence");
#endif
  return 0;
}
