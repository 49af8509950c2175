// bench/workloads/memory.cpp — flood and stalled_reader: how much memory
// deferred reclamation holds when retiring outpaces it, and when a reader
// stalls every grace period.
//
// Pending objects are counted by the bench itself (allocated and not yet
// freed, probe.cpp), the same way for every implementation.  RSS is read
// from /proc/self/statm; the heap is trimmed before each run so that one
// implementation's garbage does not count against the next.
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "../util.hpp"
#include "../workload.hpp"

namespace gb {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;
// A flood that outruns reclamation this far is stopped early (the process
// would otherwise risk the machine's memory); reported as is.
constexpr std::int64_t kFloodCap = 20'000'000;

// Captures this process's stderr into a temporary file while alive, then
// replays it and says whether it contained `needle`.
class stderr_capture {
 public:
  stderr_capture() {
    std::fflush(stderr);
    saved_ = dup(2);
    file_ = std::tmpfile();
    if (file_ != nullptr) dup2(fileno(file_), 2);
  }
  ~stderr_capture() { finish(); }
  stderr_capture(const stderr_capture&) = delete;
  stderr_capture& operator=(const stderr_capture&) = delete;

  std::string finish() {
    if (saved_ < 0) return text_;
    std::fflush(stderr);
    dup2(saved_, 2);
    close(saved_);
    saved_ = -1;
    if (file_ != nullptr) {
      std::rewind(file_);
      char buf[4096];
      std::size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, file_)) > 0) text_.append(buf, n);
      std::fclose(file_);
      file_ = nullptr;
    }
    std::fputs(text_.c_str(), stderr);
    return text_;
  }

 private:
  int saved_ = -1;
  std::FILE* file_ = nullptr;
  std::string text_;
};

void wait_for_live(std::int64_t target, std::int64_t timeout_ns) {
  const std::int64_t end = now_ns() + timeout_ns;
  while (live_objects() > target && now_ns() < end) std::this_thread::sleep_for(std::chrono::microseconds(100));
}

}  // namespace

void run_flood(context& ctx) {
  collector col("flood");
  const std::int64_t span = ctx.pick<std::int64_t>(1'000'000'000, 2'000'000'000);
  const int rounds = ctx.pick(1, 3);
  chart c;
  c.file = "flood";
  c.title = "flood: objects retired and not yet freed, 1 flooder + 1 reader (lower is better)";
  c.xlabel = "time (ms)";
  c.ylabel = "pending objects";
  for (int round = 0; round < rounds; ++round) {
    for (const gb_impl* impl : ctx.with(GB_CAP_RETIRE | GB_CAP_READ)) {
      trim_heap();
      const std::int64_t live0 = live_objects();
      const std::uint64_t rss0 = rss_bytes();
      gb_payload live{GB_LIVE, 0};
      gb_shared shared{&live, 0};
      std::atomic<bool> stop{false};
      std::uint64_t retired = 0;
      std::thread reader = impl_thread(*impl, [&] { impl->read_until_stop(&shared, 0); });
      std::thread flooder = impl_thread(*impl, [&] {
        constexpr std::size_t kBatch = 64;
        gb_payload* objs[kBatch];
        while (!stop.load(std::memory_order_relaxed)) {
          for (auto& p : objs) p = impl->alloc_obj();
          impl->retire_objs(objs, kBatch);
          retired += kBatch;
        }
        impl->barrier();
      });
      series s{impl->name, {}};
      std::int64_t peak = 0;
      std::uint64_t peak_rss = rss0;
      const std::int64_t t0 = now_ns();
      for (std::int64_t t = t0; t - t0 < span; t = now_ns()) {
        const std::int64_t pending = live_objects() - live0;
        peak = std::max(peak, pending);
        peak_rss = std::max(peak_rss, rss_bytes());
        s.pts.emplace_back(static_cast<double>(t - t0) / 1e6, static_cast<double>(pending));
        if (pending > kFloodCap) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      const double secs = static_cast<double>(now_ns() - t0) / 1e9;
      stop.store(true);
      flooder.join();
      std::atomic_ref(shared.stop).store(1);
      reader.join();
      col.value(*impl, 2, "peak_pending", "objects", static_cast<double>(peak));
      col.value(*impl, 2, "peak_rss_growth", "MiB", static_cast<double>(peak_rss - rss0) / kMiB);
      col.value(*impl, 2, "retired_per_s", "objects/s", static_cast<double>(retired) / secs);
      if (round == 0) c.data.push_back(std::move(s));
    }
  }
  col.flush(ctx.rep);
  ctx.charts.push_back(std::move(c));
}

void run_stalled_reader(context& ctx) {
  collector col("stalled_reader");
  constexpr std::int64_t kStallNs = 1'000'000'000;  // the reader parks 1 s
  constexpr std::size_t kBatch = 16;                // the updater retires 16
  constexpr std::int64_t kPaceNs = 100'000;         // ... every 100 us
  const int rounds = ctx.pick(1, 2);
  for (int round = 0; round < rounds; ++round) {
    for (const gb_impl* impl : ctx.with(GB_CAP_RETIRE | GB_CAP_READ)) {
      trim_heap();
      const std::int64_t live0 = live_objects();
      const std::uint64_t rss0 = rss_bytes();
      int release = 0;
      std::atomic<bool> parked{false}, stop{false};
      std::atomic<std::uint64_t> retired{0};
      std::int64_t released_at = 0;
      stderr_capture capture;
      std::thread reader = impl_thread(*impl, [&] {
        parked.store(true);
        impl->park_in_section(&release);
      });
      while (!parked.load()) std::this_thread::yield();
      std::thread updater = impl_thread(*impl, [&] {
        gb_payload* objs[kBatch];
        for (std::int64_t t = now_ns(); !stop.load(std::memory_order_relaxed); t = now_ns()) {
          for (auto& p : objs) p = impl->alloc_obj();
          impl->retire_objs(objs, kBatch);  // grace: may block (back-pressure)
          retired.fetch_add(kBatch, std::memory_order_relaxed);
          spin_until(t + kPaceNs);
        }
        impl->barrier();  // ck frees only when its owner polls or barriers
      });
      std::int64_t peak = 0;
      std::uint64_t peak_rss = rss0;
      const std::int64_t t0 = now_ns();
      while (now_ns() - t0 < kStallNs) {
        peak = std::max(peak, live_objects() - live0);
        peak_rss = std::max(peak_rss, rss_bytes());
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      const std::uint64_t retired_in_stall = retired.load(std::memory_order_relaxed);
      released_at = now_ns();
      std::atomic_ref(release).store(1, std::memory_order_release);
      stop.store(true);
      reader.join();
      wait_for_live(live0, 5'000'000'000);
      const double recovery_ms = static_cast<double>(now_ns() - released_at) / 1e6;
      updater.join();
      const bool warned = capture.finish().find("stall") != std::string::npos;
      col.value(*impl, 2, "peak_pending", "objects", static_cast<double>(peak));
      col.value(*impl, 2, "rss_growth", "MiB", static_cast<double>(peak_rss - rss0) / kMiB);
      col.value(*impl, 2, "retired_during_stall", "objects", static_cast<double>(retired_in_stall));
      col.value(*impl, 2, "recovery", "ms", recovery_ms);
      col.value(*impl, 2, "stall_warning", "yes=1", warned ? 1.0 : std::nan(""));
    }
  }
  col.flush(ctx.rep);
}

}  // namespace gb
