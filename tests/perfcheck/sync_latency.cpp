// tests/perfcheck/sync_latency.cpp — rcu_synchronize() latency, grace vs
// liburcu memb synchronize_rcu(), measured in the same run.  Not a test (no
// timed assertions anywhere in ctest): a quick tool whose numbers go into the
// reports; bench/ has the real benchmarks.
//
//   perfcheck_sync_latency [ITERATIONS [ROUNDS]]     default 20000 and 20
//
// For each situation (no thread registered; the caller registered with both
// libraries but outside any section; one reader thread looping over short
// sections of both libraries), ROUNDS interleaved rounds each time
// ITERATIONS/ROUNDS calls of grace then of liburcu, one clock read per call,
// and prints p50/p99 of each and the ratio of the medians.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "grace/rcu.hpp"

#define _LGPL_SOURCE
#include <urcu/urcu-memb.h>

namespace {

using clock_type = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reader_running{false};
std::atomic<int> g_data{0};
volatile int g_sink = 0;

void reader_main() {
  urcu_memb_register_thread();
  long n = 0;
  while (!g_stop.load(std::memory_order_relaxed)) {
    {
      std::scoped_lock guard(grace::rcu_default_domain());
      g_sink = g_data.load(std::memory_order_relaxed);
    }
    urcu_memb_read_lock();
    g_sink = g_data.load(std::memory_order_relaxed);
    urcu_memb_read_unlock();
    for (int i = 0; i < 8; ++i) g_sink = g_sink + 1;
    if (++n == 1000) g_reader_running.store(true, std::memory_order_release);
  }
  urcu_memb_unregister_thread();
}

template <class F>
void time_calls(std::vector<double>& out, long n, F f) {
  for (long i = 0; i < n; ++i) {
    const auto t0 = clock_type::now();
    f();
    const auto t1 = clock_type::now();
    out.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

void run(const char* situation, long iterations, long rounds) {
  std::vector<double> grace_us, urcu_us;
  grace_us.reserve(static_cast<std::size_t>(iterations));
  urcu_us.reserve(static_cast<std::size_t>(iterations));
  const long per_round = iterations / rounds;
  for (long r = 0; r < rounds; ++r) {
    time_calls(grace_us, per_round, [] { grace::rcu_synchronize(); });
    time_calls(urcu_us, per_round, [] { urcu_memb_synchronize_rcu(); });
  }
  const double g50 = percentile(grace_us, 0.50), g99 = percentile(grace_us, 0.99);
  const double u50 = percentile(urcu_us, 0.50), u99 = percentile(urcu_us, 0.99);
  std::printf("%-10s  grace p50 %8.2f us  p99 %8.2f us | liburcu-memb p50 %8.2f us  p99 %8.2f us"
              " | p50 ratio grace/liburcu %.2f\n",
              situation, g50, g99, u50, u99, g50 / u50);
}

}  // namespace

int main(int argc, char** argv) {
  const long iterations = argc > 1 ? std::atol(argv[1]) : 20000;
  const long rounds = argc > 2 ? std::atol(argv[2]) : 20;
  if (iterations < 1 || rounds < 1 || iterations < rounds) {
    std::fprintf(stderr, "usage: %s [ITERATIONS [ROUNDS]]\n", argv[0]);
    return 2;
  }
  // Settle start-up costs of both libraries before timing.
  grace::rcu_synchronize();
  urcu_memb_synchronize_rcu();
  std::printf("rcu_synchronize latency, %ld calls each, %ld interleaved rounds, flavor %s\n",
              iterations, rounds,
              grace::rcu_current_flavor() == grace::rcu_flavor::membarrier ? "membarrier"
                                                                           : "fence");
  run("no reader", iterations, rounds);
  // The caller itself registered with both libraries, outside any section:
  // liburcu skips its membarriers only when no thread is registered at all.
  urcu_memb_register_thread();
  grace::rcu_default_domain().lock();
  grace::rcu_default_domain().unlock();
  run("idle reg.", iterations, rounds);
  std::thread reader(reader_main);
  while (!g_reader_running.load(std::memory_order_acquire)) std::this_thread::yield();
  run("1 reader", iterations, rounds);
  g_stop.store(true, std::memory_order_relaxed);
  reader.join();
  urcu_memb_unregister_thread();
  return 0;
}
