// bench/probe.cpp — what every adapter's alloc_obj and deleter report into:
// live-object counting (flood, stalled_reader), retire-to-free latency
// (retire_latency); plus the small helpers in util.hpp.
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <memory>

#include "util.hpp"

namespace {

std::atomic<std::int64_t> g_live{0};
std::atomic<std::uint64_t> g_reclaimed{0};

// Latency buffer: written by reclaiming threads while g_rec_on is set.
std::unique_ptr<double[]> g_rec_buf;
std::size_t g_rec_cap = 0;
std::atomic<std::size_t> g_rec_len{0};
std::atomic<bool> g_rec_on{false};

}  // namespace

extern "C" std::int64_t gb_now_ns(void) {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

extern "C" void gb_on_alloc(gb_payload*) { g_live.fetch_add(1, std::memory_order_relaxed); }

extern "C" void gb_on_reclaim(gb_payload* p) {
  if (p->value != GB_LIVE) {
    std::fprintf(stderr, "grace-bench: an object was reclaimed twice or corrupted\n");
    std::abort();
  }
  if (p->retire_ns != 0 && g_rec_on.load(std::memory_order_acquire)) {
    const std::size_t i = g_rec_len.fetch_add(1, std::memory_order_relaxed);
    if (i < g_rec_cap) g_rec_buf[i] = static_cast<double>(gb_now_ns() - p->retire_ns);
  }
  p->value = 0;  // poison: a reader that still sees it aborts
  g_live.fetch_sub(1, std::memory_order_relaxed);
  g_reclaimed.fetch_add(1, std::memory_order_relaxed);
}

namespace gb {

double median(std::vector<double> v) { return percentile(std::move(v), 0.5); }

double percentile(std::vector<double> v, double q) {
  std::erase_if(v, [](double x) { return std::isnan(x); });
  if (v.empty()) return std::nan("");
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  const std::size_t k = rank == 0 ? 0 : rank - 1;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

std::uint64_t rss_bytes() {
  unsigned long size = 0, resident = 0;
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  if (std::fscanf(f, "%lu %lu", &size, &resident) != 2) resident = 0;
  std::fclose(f);
  return static_cast<std::uint64_t>(resident) * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

void trim_heap() { malloc_trim(0); }

std::int64_t live_objects() { return g_live.load(std::memory_order_relaxed); }
std::uint64_t reclaimed_objects() { return g_reclaimed.load(std::memory_order_relaxed); }

void start_latency_recording(std::size_t capacity) {
  g_rec_buf = std::make_unique<double[]>(capacity);
  g_rec_cap = capacity;
  g_rec_len.store(0, std::memory_order_relaxed);
  g_rec_on.store(true, std::memory_order_release);
}

std::vector<double> stop_latency_recording() {
  g_rec_on.store(false, std::memory_order_release);
  const std::size_t n = std::min(g_rec_len.load(std::memory_order_acquire), g_rec_cap);
  std::vector<double> out(g_rec_buf.get(), g_rec_buf.get() + n);
  return out;
}

std::thread impl_thread(const gb_impl& impl, std::function<void()> fn) {
  return std::thread([&impl, fn = std::move(fn)] {
    impl.thread_online();
    fn();
    impl.thread_offline();
  });
}

void spin_until(std::int64_t deadline_ns) {
  while (now_ns() < deadline_ns) GB_CPU_RELAX();
}

}  // namespace gb
