// bench/workloads/retire.cpp — retire_enqueue, retire_throughput,
// retire_latency and barrier_latency: what deferred reclamation costs the
// retiring thread, how fast objects flow through to free, and how late.
#include <string>
#include <thread>
#include <vector>

#include "../util.hpp"
#include "../workload.hpp"

namespace gb {
namespace {

// Runs fn on a thread that is online for impl, and waits for it.
template <class F>
void on_thread(const gb_impl& impl, F fn) {
  std::thread t = impl_thread(impl, fn);
  t.join();
}

std::vector<gb_payload*> alloc_batch(const gb_impl& impl, std::size_t n) {
  std::vector<gb_payload*> v(n);
  for (auto& p : v) p = impl.alloc_obj();
  return v;
}

}  // namespace

void run_retire_enqueue(context& ctx) {
  collector col("retire_enqueue");
  // Batches stay below grace's per-thread backlog (4096) and are drained (barrier,
  // untimed) between batches: this is the enqueue cost, not back-pressure.
  // The first retire of a batch finds the reclamation worker idle and may
  // pay for waking it (a futex wake: µs on a VM); it is timed apart, so
  // ns_per_retire (the mean over the whole batch) splits into the steady
  // per-retire cost and the wake.  batch_steady_p50 is the median over
  // batches of the steady per-retire cost.
  constexpr std::size_t kBatch = 1000;
  const int batches = ctx.pick(10, 40);
  for (int round = 0; round < ctx.opt.rounds; ++round) {
    for (const gb_impl* impl : ctx.with(GB_CAP_RETIRE)) {
      std::vector<double> per_batch;  // steady ns per retire, one value per batch
      on_thread(*impl, [&] {
        std::int64_t first = 0;
        std::int64_t rest = 0;
        impl->barrier();
        for (int b = 0; b < batches; ++b) {
          auto objs = alloc_batch(*impl, kBatch);
          const std::int64_t t0 = now_ns();
          impl->retire_objs(objs.data(), 1);
          const std::int64_t t1 = now_ns();
          impl->retire_objs(objs.data() + 1, objs.size() - 1);
          const std::int64_t t2 = now_ns();
          first += t1 - t0;
          rest += t2 - t1;
          per_batch.push_back(static_cast<double>(t2 - t1) / static_cast<double>(kBatch - 1));
          impl->barrier();
        }
        col.value(*impl, 1, "ns_per_retire", "ns",
                  static_cast<double>(first + rest) / static_cast<double>(batches * kBatch));
        col.value(*impl, 1, "ns_per_retire_steady", "ns",
                  static_cast<double>(rest) / static_cast<double>(batches * (kBatch - 1)));
        col.value(*impl, 1, "first_retire_ns", "ns",
                  static_cast<double>(first) / static_cast<double>(batches));
      });
      // The distribution over batches: its p50 is the median steady cost,
      // robust to the batches that an interrupt or a grace period's IPI hit.
      col.samples(*impl, 1, "batch_steady", "ns", per_batch);
    }
  }
  col.flush(ctx.rep);
}

void run_retire_throughput(context& ctx) {
  collector col("retire_throughput");
  const std::vector<std::size_t> sizes =
      ctx.opt.quick ? std::vector<std::size_t>{1, 64, 4096}
                    : std::vector<std::size_t>{1, 8, 64, 512, 4096, 32768};
  const std::int64_t budget = ctx.pick<std::int64_t>(60'000'000, 250'000'000);
  for (int round = 0; round < ctx.opt.rounds; ++round) {
    for (std::size_t batch : sizes) {
      for (const gb_impl* impl : ctx.with(GB_CAP_RETIRE)) {
        on_thread(*impl, [&] {
          impl->barrier();
          std::uint64_t n = 0;
          const std::int64_t t0 = now_ns();
          std::int64_t t1 = t0;
          std::vector<gb_payload*> objs(batch);
          do {  // end to end: allocate, retire, wait until all are freed
            for (auto& p : objs) p = impl->alloc_obj();
            impl->retire_objs(objs.data(), objs.size());
            impl->barrier();
            n += batch;
            t1 = now_ns();
          } while (t1 - t0 < budget);
          col.value(*impl, 1, "objects_per_s_batch_" + std::to_string(batch), "objects/s",
                    static_cast<double>(n) * 1e9 / static_cast<double>(t1 - t0));
        });
      }
    }
  }
  col.flush(ctx.rep);
  chart c;
  c.file = "retire_throughput";
  c.title = "retire_throughput: retire+free through barrier (higher is better)";
  c.xlabel = "objects retired between barriers";
  c.ylabel = "objects/s";
  c.logx = c.logy = true;
  for (const gb_impl* impl : ctx.with(GB_CAP_RETIRE)) {
    c.data.push_back(series_of(ctx.rep, "retire_throughput", impl->name, sizes, [](std::size_t b) {
      return "objects_per_s_batch_" + std::to_string(b);
    }));
  }
  ctx.charts.push_back(std::move(c));
}

void run_retire_latency(context& ctx) {
  collector col("retire_latency");
  // One object every kPaceNs, for `span` per round; each records its retire
  // time, its deleter the free time.
  constexpr std::int64_t kPaceNs = 50'000;
  const std::int64_t span = ctx.pick<std::int64_t>(150'000'000, 600'000'000);
  for (int round = 0; round < ctx.opt.rounds; ++round) {
    for (const gb_impl* impl : ctx.with(GB_CAP_RETIRE)) {
      std::vector<double> ns;
      on_thread(*impl, [&] {
        impl->barrier();
        start_latency_recording(static_cast<std::size_t>(span / kPaceNs) + 16);
        const std::int64_t end = now_ns() + span;
        for (std::int64_t t = now_ns(); t < end; t = now_ns()) {
          gb_payload* p = impl->alloc_obj();
          p->retire_ns = now_ns();
          impl->retire_objs(&p, 1);
          spin_until(t + kPaceNs);
        }
        impl->barrier();
        ns = stop_latency_recording();
      });
      for (double& x : ns) x /= 1e3;
      col.samples(*impl, 1, "latency", "us", ns);
    }
  }
  col.flush(ctx.rep);
  chart c;
  c.file = "retire_latency";
  c.title = "retire_latency: retire-to-free latency CDF (left is better)";
  c.xlabel = "latency (us)";
  c.ylabel = "fraction of objects";
  c.logx = true;
  for (const gb_impl* impl : ctx.with(GB_CAP_RETIRE)) {
    c.data.push_back(cdf_series(impl->name, col.pooled(impl->name, 1, "latency")));
  }
  ctx.charts.push_back(std::move(c));
}

void run_barrier_latency(context& ctx) {
  collector col("barrier_latency");
  constexpr std::size_t kFew = 8;
  const int samples = std::max(1, ctx.pick(30, 120) / ctx.opt.rounds);
  for (int round = 0; round < ctx.opt.rounds; ++round) {
    for (const gb_impl* impl : ctx.with(GB_CAP_RETIRE)) {
      std::vector<double> empty_us, few_us;
      on_thread(*impl, [&] {
        impl->barrier();
        for (int i = 0; i < samples; ++i) {
          std::int64_t t0 = now_ns();
          impl->barrier();
          empty_us.push_back(static_cast<double>(now_ns() - t0) / 1e3);
          auto objs = alloc_batch(*impl, kFew);
          impl->retire_objs(objs.data(), objs.size());
          t0 = now_ns();
          impl->barrier();
          few_us.push_back(static_cast<double>(now_ns() - t0) / 1e3);
        }
      });
      col.samples(*impl, 1, "empty", "us", empty_us);
      col.samples(*impl, 1, "few_callbacks", "us", few_us);
    }
  }
  col.flush(ctx.rep);
}

}  // namespace gb
