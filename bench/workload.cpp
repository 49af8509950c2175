// bench/workload.cpp — the workload registry, context and collector.
#include "workload.hpp"

#include <algorithm>

#include "util.hpp"

namespace gb {

const std::vector<workload>& all_workloads() {
  static const std::vector<workload> list = {
      {"read_pair", "lock+unlock cost: 1 and 2 readers, with and without an updater", run_read_pair},
      {"read_pair_nested", "nested lock+unlock inside an outer section", run_read_pair_nested},
      {"sync_latency_idle", "synchronize latency, no reader", run_sync_latency_idle},
      {"sync_latency_reader", "synchronize latency, one reader looping", run_sync_latency_reader},
      {"sync_concurrent", "k threads synchronize at once: time until all return", run_sync_concurrent},
      {"retire_enqueue", "cost of one retire (call_rcu)", run_retire_enqueue},
      {"retire_throughput", "retire+free objects/s through barrier, batch sizes swept", run_retire_throughput},
      {"retire_latency", "retire-to-free latency", run_retire_latency},
      {"barrier_latency", "barrier latency, empty queue and a few callbacks", run_barrier_latency},
      {"flood", "one thread retires flat out beside a reader: pending objects, RSS", run_flood},
      {"stalled_reader", "a reader parks 1 s while an updater retires", run_stalled_reader},
      {"mixed", "test_urcu: readers and a writer (synchronize or retire)", run_mixed},
      {"hash_lookup", "hash map lookups (hits, misses) by key count: grace::hash_map and peers", run_hash_lookup},
      {"hash_mixed", "hash map ops/s, 0/10/50/100 % updates, 1 and 2 threads", run_hash_mixed},
      {"hash_update", "hash map ops/s, 10/50/100 % read-copy-updates of present keys", run_hash_update},
      {"hash_resize", "hash map grow and shrink: ns per insert/erase, lookup latency meanwhile", run_hash_resize},
  };
  return list;
}

std::vector<const gb_impl*> context::with(unsigned caps) const {
  std::vector<const gb_impl*> out;
  for (const gb_impl* i : impls) {
    if ((i->caps & caps) == caps) out.push_back(i);
  }
  return out;
}

collector::entry& collector::slot(const std::string& impl, int threads, const std::string& metric) {
  key k{impl, threads, metric};
  auto it = entries_.find(k);
  if (it == entries_.end()) {
    order_.push_back(k);
    it = entries_.emplace(k, entry{}).first;
  }
  return it->second;
}

void collector::value(const std::string& impl, int threads, const std::string& metric,
                      const std::string& unit, double v) {
  entry& e = slot(impl, threads, metric);
  e.unit = unit;
  e.values.push_back(v);
}

void collector::samples(const std::string& impl, int threads, const std::string& prefix,
                        const std::string& unit, const std::vector<double>& v) {
  entry& e = slot(impl, threads, prefix);
  e.unit = unit;
  e.distribution = true;
  e.values.insert(e.values.end(), v.begin(), v.end());
}

std::vector<double> collector::pooled(const std::string& impl, int threads,
                                      const std::string& prefix) const {
  auto it = entries_.find(key{impl, threads, prefix});
  return it == entries_.end() ? std::vector<double>{} : it->second.values;
}

void collector::flush(report& rep) const {
  // Metric-major order, so that the table lists grace and its peers for one
  // metric together.
  std::vector<std::pair<int, std::string>> metrics;
  for (const key& k : order_) {
    std::pair<int, std::string> m{std::get<1>(k), std::get<2>(k)};
    if (std::find(metrics.begin(), metrics.end(), m) == metrics.end()) metrics.push_back(m);
  }
  for (const auto& [threads, metric] : metrics) {
    for (const key& k : order_) {
      if (std::get<1>(k) != threads || std::get<2>(k) != metric) continue;
      const entry& e = entries_.at(k);
      const std::string& impl = std::get<0>(k);
      if (!e.distribution) {
        rep.add({workload_, impl, threads, metric, median(e.values), e.unit});
        continue;
      }
      rep.add({workload_, impl, threads, metric + "_p50", percentile(e.values, 0.50), e.unit});
      rep.add({workload_, impl, threads, metric + "_p99", percentile(e.values, 0.99), e.unit});
      rep.add({workload_, impl, threads, metric + "_max", percentile(e.values, 1.0), e.unit});
    }
  }
}

}  // namespace gb
