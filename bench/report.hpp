// bench/report.hpp — results, the machine description, and the three ways
// out: the human table (stdout), CSV and JSON.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace gb {

struct result {
  std::string workload;
  std::string impl;
  int threads = 1;
  std::string metric;
  double value = 0;  // NaN: not applicable ("n/a")
  std::string unit;
};

// Lower is better for everything except rates (units ending in "/s").
bool higher_is_better(const std::string& unit);

struct machine {
  std::string cpu;
  unsigned cores = 0;
  std::string kernel;
  std::string compiler;
  std::string build;       // build type and grace's library kind
  std::string membarrier;  // "private-expedited" or why not
  std::string flavor;      // grace's flavor (and why, if fence)
  std::string peers;       // compiled in / skipped
  std::string line() const;
};

machine describe_machine();

class report {
 public:
  void add(result r) { results_.push_back(std::move(r)); }
  const std::vector<result>& results() const { return results_; }

  // One row per (workload, threads, metric, peer): grace's value, the
  // peer's, and grace/peer, marked '+' where grace is better, '-' where
  // worse (by the metric's direction).
  void print_table(std::FILE* out) const;
  bool write_csv(const std::string& path) const;
  bool write_json(const std::string& path, const machine& m) const;

 private:
  std::vector<result> results_;
};

// "%.3g"-style number, "n/a" for NaN.
std::string format_value(double v);

}  // namespace gb
