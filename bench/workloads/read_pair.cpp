// bench/workloads/read_pair.cpp — read_pair and read_pair_nested: the cost of
// one lock+unlock, with 1 and 2 reader threads, and with 1 reader beside an
// updater that runs grace periods back to back (for the lock baseline: takes
// the write lock back to back).
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "../util.hpp"
#include "../workload.hpp"

namespace gb {
namespace {

// Runs fn in chunks until target_ns has elapsed; returns ns per pair.
double time_pairs(void (*fn)(std::uint64_t), std::int64_t target_ns) {
  constexpr std::uint64_t kChunk = 1 << 16;
  fn(kChunk);  // warm up: registration, caches
  std::uint64_t n = 0;
  const std::int64_t t0 = now_ns();
  std::int64_t t1 = t0;
  do {
    fn(kChunk);
    n += kChunk;
    t1 = now_ns();
  } while (t1 - t0 < target_ns);
  return static_cast<double>(t1 - t0) / static_cast<double>(n);
}

struct variant {
  int readers;
  bool updater;
  const char* metric;
};
constexpr variant kVariants[] = {
    {1, false, "ns_per_pair"},
    {2, false, "ns_per_pair"},
    {1, true, "ns_per_pair_with_updater"},
};

void run_variant(const gb_impl& impl, const variant& v, bool nested, std::int64_t target_ns,
                 collector& col) {
  void (*fn)(std::uint64_t) = nested ? impl.read_pairs_nested : impl.read_pairs;
  std::atomic<int> ready{0};
  std::atomic<bool> go{false}, stop{false};
  std::vector<double> ns(static_cast<std::size_t>(v.readers));
  std::uint64_t updates = 0;
  std::int64_t update_ns = 0;
  std::vector<std::thread> threads;
  for (int r = 0; r < v.readers; ++r) {
    threads.push_back(impl_thread(impl, [&, r] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      ns[static_cast<std::size_t>(r)] = time_pairs(fn, target_ns);
    }));
  }
  std::thread upd;
  if (v.updater) {
    upd = impl_thread(impl, [&] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      const std::int64_t t0 = now_ns();
      while (!stop.load(std::memory_order_relaxed)) {
        if (impl.write_lock != nullptr) {
          impl.write_lock();
          impl.write_unlock();
        } else {
          impl.synchronize();
        }
        ++updates;
      }
      update_ns = now_ns() - t0;
    });
  }
  const int expected = v.readers + (v.updater ? 1 : 0);
  while (ready.load() != expected) std::this_thread::yield();
  go.store(true, std::memory_order_release);
  for (auto& t : threads) t.join();
  stop.store(true);
  if (upd.joinable()) upd.join();
  double sum = 0;
  for (double x : ns) sum += x;
  col.value(impl, v.readers, v.metric, "ns", sum / static_cast<double>(ns.size()));
  if (v.updater) {
    col.value(impl, v.readers, "updater_ops_per_s", "ops/s",
              update_ns > 0 ? static_cast<double>(updates) * 1e9 / static_cast<double>(update_ns) : 0);
  }
}

void run(context& ctx, bool nested) {
  const char* name = nested ? "read_pair_nested" : "read_pair";
  collector col(name);
  const unsigned caps = GB_CAP_READ | (nested ? static_cast<unsigned>(GB_CAP_NESTED) : 0u);
  const std::int64_t target = ctx.pick<std::int64_t>(20'000'000, 100'000'000);
  for (int round = 0; round < ctx.opt.rounds; ++round) {
    for (const variant& v : kVariants) {
      for (const gb_impl* impl : ctx.with(caps)) {
        if (v.updater && impl->synchronize == nullptr && impl->write_lock == nullptr) continue;
        run_variant(*impl, v, nested, target, col);
      }
    }
  }
  col.flush(ctx.rep);
  if (nested) return;
  // Chart: read-side throughput per reader thread, by configuration.
  chart c;
  c.file = "read_pair";
  c.title = "read_pair: lock+unlock pairs per second per reader (higher is better)";
  c.xlabel = "configuration";
  c.ylabel = "million pairs/s per reader";
  c.type = chart::kind::bars;
  c.logy = true;
  c.categories = {"1 reader", "2 readers", "1 reader + updater"};
  for (const gb_impl* impl : ctx.with(caps)) {
    series s{impl->name, {}};
    for (std::size_t i = 0; i < std::size(kVariants); ++i) {
      for (const result& r : ctx.rep.results()) {
        if (r.workload == name && r.impl == impl->name && r.threads == kVariants[i].readers &&
            r.metric == kVariants[i].metric && r.value > 0) {
          s.pts.emplace_back(static_cast<double>(i), 1e3 / r.value);
        }
      }
    }
    c.data.push_back(std::move(s));
  }
  ctx.charts.push_back(std::move(c));
}

}  // namespace

void run_read_pair(context& ctx) { run(ctx, false); }
void run_read_pair_nested(context& ctx) { run(ctx, true); }

}  // namespace gb
