// bench/workloads/sync.cpp — sync_latency_idle, sync_latency_reader and
// sync_concurrent: how long synchronize takes, and how many membarrier(2)
// calls a grace period costs.
#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "../util.hpp"
#include "../workload.hpp"

namespace gb {
namespace {

// Times n synchronize calls on the calling (online) thread; microseconds.
std::vector<double> time_syncs(const gb_impl& impl, int n, double* membarriers_per_gp) {
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(n));
  impl.synchronize();  // warm up
  const std::uint64_t mb0 = membarrier_syscalls();
  for (int i = 0; i < n; ++i) {
    const std::int64_t t0 = now_ns();
    impl.synchronize();
    us.push_back(static_cast<double>(now_ns() - t0) / 1e3);
  }
  *membarriers_per_gp = static_cast<double>(membarrier_syscalls() - mb0) / n;
  return us;
}

void latency(context& ctx, const char* name, bool with_reader) {
  collector col(name);
  const int per_round = ctx.pick(300, 3000) / ctx.opt.rounds;
  for (int round = 0; round < ctx.opt.rounds; ++round) {
    for (const gb_impl* impl : ctx.with(GB_CAP_SYNC | GB_CAP_READ)) {
      gb_payload live{GB_LIVE, 0};
      gb_shared shared{&live, 0};
      std::thread reader;
      std::atomic<bool> reading{false};
      if (with_reader) {
        reader = impl_thread(*impl, [&] {
          reading.store(true);
          impl->read_until_stop(&shared, 0);
        });
        while (!reading.load()) std::this_thread::yield();
      }
      double mb = 0;
      std::vector<double> us;
      std::thread t = impl_thread(*impl, [&] { us = time_syncs(*impl, per_round, &mb); });
      t.join();
      if (with_reader) {
        std::atomic_ref(shared.stop).store(1);
        reader.join();
      }
      col.samples(*impl, 1, "latency", "us", us);
      col.value(*impl, 1, "membarrier_per_gp", "syscalls", mb);
    }
  }
  col.flush(ctx.rep);
  chart c;
  c.file = name;
  c.title = std::string(name) + ": synchronize latency CDF (left is better)";
  c.xlabel = "latency (us)";
  c.ylabel = "fraction of calls";
  c.logx = true;
  for (const gb_impl* impl : ctx.with(GB_CAP_SYNC | GB_CAP_READ)) {
    c.data.push_back(cdf_series(impl->name, col.pooled(impl->name, 1, "latency")));
  }
  ctx.charts.push_back(std::move(c));
}

// k threads start together and each calls synchronize once; microseconds
// from the first call to the last return.
double concurrent_once(const gb_impl& impl, int k) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::int64_t> start(static_cast<std::size_t>(k)), end(static_cast<std::size_t>(k));
  std::vector<std::thread> ts;
  for (int i = 0; i < k; ++i) {
    ts.push_back(impl_thread(impl, [&, i] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      start[static_cast<std::size_t>(i)] = now_ns();
      impl.synchronize();
      end[static_cast<std::size_t>(i)] = now_ns();
    }));
  }
  while (ready.load() != k) std::this_thread::yield();
  go.store(true, std::memory_order_release);
  for (auto& t : ts) t.join();
  return static_cast<double>(*std::max_element(end.begin(), end.end()) -
                             *std::min_element(start.begin(), start.end())) /
         1e3;
}

}  // namespace

void run_sync_latency_idle(context& ctx) { latency(ctx, "sync_latency_idle", false); }
void run_sync_latency_reader(context& ctx) { latency(ctx, "sync_latency_reader", true); }

void run_sync_concurrent(context& ctx) {
  collector col("sync_concurrent");
  const int reps = std::max(1, ctx.pick(15, 60) / ctx.opt.rounds);
  for (int round = 0; round < ctx.opt.rounds; ++round) {
    for (int k : {1, 2, 4, 8}) {
      for (const gb_impl* impl : ctx.with(GB_CAP_SYNC)) {
        std::vector<double> us;
        for (int r = 0; r < reps; ++r) us.push_back(concurrent_once(*impl, k));
        col.value(*impl, k, "all_return_us", "us", median(us));
      }
    }
  }
  col.flush(ctx.rep);
}

}  // namespace gb
