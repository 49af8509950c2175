// bench/workload.hpp — what a workload sees: the options, the selected
// implementations, a collector that turns per-round values into medians,
// and the report and charts it adds to.
//
// Method (bench/README.md): every workload runs in rounds; in each round it
// runs every selected implementation once, in the same order (A B C A B C
// ...), so slow drifts of a shared machine hit all of them alike.  A scalar
// is reported as the median over rounds; a latency distribution pools the
// samples of all rounds and reports p50, p99 and max.
#pragma once

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "impl_ops.h"
#include "plot.hpp"
#include "report.hpp"

namespace gb {

struct options {
  bool quick = false;
  int rounds = 5;
  std::vector<std::string> only_impls;  // --impl (empty: all); grace always runs
};

struct context {
  const options& opt;
  std::vector<const gb_impl*> impls;  // selected: grace first
  report& rep;
  std::vector<chart>& charts;

  // The selected implementations having every capability in caps.
  std::vector<const gb_impl*> with(unsigned caps) const;
  // A size or duration: the first in --quick, the second otherwise.
  template <class T>
  T pick(T quick, T full) const {
    return opt.quick ? quick : full;
  }
};

class collector {
 public:
  explicit collector(std::string workload) : workload_(std::move(workload)) {}

  // One round's value of a scalar metric.
  void value(const gb_impl& impl, int threads, const std::string& metric, const std::string& unit,
             double v) {
    value(impl.name, threads, metric, unit, v);
  }
  void value(const std::string& impl, int threads, const std::string& metric,
             const std::string& unit, double v);
  // One round's latency samples; flush() reports <prefix>_p50, _p99, _max.
  void samples(const gb_impl& impl, int threads, const std::string& prefix,
               const std::string& unit, const std::vector<double>& v) {
    samples(impl.name, threads, prefix, unit, v);
  }
  void samples(const std::string& impl, int threads, const std::string& prefix,
               const std::string& unit, const std::vector<double>& v);
  // Pooled samples (for charts); empty if none.
  std::vector<double> pooled(const std::string& impl, int threads, const std::string& prefix) const;
  // Medians and percentiles into the report, in first-seen order.
  void flush(report& rep) const;

 private:
  using key = std::tuple<std::string, int, std::string>;  // impl, threads, metric
  struct entry {
    std::string unit;
    bool distribution = false;
    std::vector<double> values;
  };
  std::string workload_;
  std::vector<key> order_;
  std::map<key, entry> entries_;
  entry& slot(const std::string& impl, int threads, const std::string& metric);
};

// A chart series from flushed results: for each x in xs, the value of
// `workload`'s metric metric_of(x) for `impl` (with `threads` threads, or any
// thread count when threads < 0).
template <class X, class MetricOf>
series series_of(const report& rep, const std::string& workload, const std::string& impl,
                 const std::vector<X>& xs, MetricOf metric_of, int threads = -1) {
  series s{impl, {}};
  for (const X& x : xs) {
    const std::string metric = metric_of(x);
    for (const result& r : rep.results()) {
      if (r.workload == workload && r.impl == impl && r.metric == metric &&
          (threads < 0 || r.threads == threads)) {
        s.pts.emplace_back(static_cast<double>(x), r.value);
      }
    }
  }
  return s;
}

// The workloads, in the order a full run takes them.
struct workload {
  const char* name;
  const char* what;
  void (*run)(context&);
};
const std::vector<workload>& all_workloads();

void run_read_pair(context&);
void run_read_pair_nested(context&);
void run_sync_latency_idle(context&);
void run_sync_latency_reader(context&);
void run_sync_concurrent(context&);
void run_retire_enqueue(context&);
void run_retire_throughput(context&);
void run_retire_latency(context&);
void run_barrier_latency(context&);
void run_flood(context&);
void run_stalled_reader(context&);
void run_mixed(context&);
void run_hash_lookup(context&);
void run_hash_mixed(context&);
void run_hash_update(context&);
void run_hash_resize(context&);

}  // namespace gb
