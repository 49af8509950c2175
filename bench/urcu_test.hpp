// bench/urcu_test.hpp — liburcu's test_urcu / test_urcu_gc, for any
// implementation: the engine behind the `mixed` workload and the
// `grace-bench urcu` command line.
#pragma once

#include <cstdint>

#include "impl_ops.h"

namespace gb {

struct urcu_params {
  unsigned readers = 1;
  unsigned writers = 1;
  double seconds = 1;
  std::uint64_t wdelay = 0;  // -d: loops between writes (test_urcu's loop_sleep)
  std::uint64_t rdur = 0;    // -c: loops inside each read-side section
  std::uint64_t wdur = 0;    // -e: loops between exchange and synchronize
  std::uint64_t batch = 0;   // -b: test_urcu_gc: free in batches, one synchronize each
  bool retire = false;       // writers retire (call_rcu) instead of synchronizing
};

struct urcu_counts {
  std::uint64_t reads = 0;
  std::uint64_t writes = 0;
  double seconds = 0;  // measured
};

// Readers: lock, load the pointer, check the object, [rdur], unlock.
// Writers: allocate, exchange the pointer, [wdur], then
//   synchronize, poison and free        (default: test_urcu)
//   queue; every `batch`: synchronize, poison and free all (test_urcu_gc)
//   retire                              (retire: the deleter poisons)
//   lock baselines: exchange under the write lock, then poison and free.
urcu_counts run_urcu_test(const gb_impl& impl, const urcu_params& p);

}  // namespace gb
