// bench/workloads/mixed.cpp — mixed: liburcu's test_urcu with 1 reader and
// 1 writer (the machine this was written for has 2 cores); the writer either
// synchronizes per update (test_urcu) or retires (call_rcu).  The lock
// baseline's writer takes the write lock instead.
#include <string>

#include "../urcu_test.hpp"
#include "../workload.hpp"

namespace gb {

void run_mixed(context& ctx) {
  collector col("mixed");
  urcu_params p;
  p.readers = 1;
  p.writers = 1;
  p.seconds = ctx.pick(0.3, 1.0);
  const int threads = static_cast<int>(p.readers + p.writers);
  const int rounds = ctx.pick(2, ctx.opt.rounds);
  for (int round = 0; round < rounds; ++round) {
    for (bool retire : {false, true}) {
      for (const gb_impl* impl : ctx.with(GB_CAP_READ)) {
        if (retire && (impl->caps & GB_CAP_RETIRE) == 0) continue;
        if (!retire && impl->synchronize == nullptr && impl->write_lock == nullptr) continue;
        p.retire = retire;
        const urcu_counts c = run_urcu_test(*impl, p);
        const std::string mode = retire ? "_retire" : "_sync";
        col.value(*impl, threads, "reads_per_s" + mode, "reads/s",
                  static_cast<double>(c.reads) / c.seconds);
        col.value(*impl, threads, "updates_per_s" + mode, "updates/s",
                  static_cast<double>(c.writes) / c.seconds);
      }
    }
  }
  col.flush(ctx.rep);
}

}  // namespace gb
