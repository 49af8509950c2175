// bench/hash_map_bench.cpp — grace::hash_map lookups vs liburcu's cds_lfht
// and std::unordered_map under std::shared_mutex, measured in one run.
//
// Standalone for now (bench/ and grace-bench belong to the benchmark
// framework; see the wiring note at the end of docs/design/hash_map.md):
//   scripts: bench/hash_map_bench.sh builds it and runs the timings and the
//   callgrind instruction counts.
//
//   hash_map_bench [--keys N] [--lookups M] [--reps R]   timings (ns/lookup, median)
//   hash_map_bench --insn IMPL [--keys N] [--lookups M]  one impl, for callgrind:
//       only the function lookup_loop_IMPL is meant to be collected
//
// Every lookup takes its own read-side section (or shared lock) and reads
// the value, as a caller of get() would.  Keys are random 64-bit numbers;
// lookups visit them in a random order (hits) or look up absent keys
// (misses).
#include <grace/hash_map.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

extern "C" {
void hm_lfht_thread_online(void);
void hm_lfht_thread_offline(void);
void hm_lfht_create(uint64_t n, int auto_resize);
void hm_lfht_insert(const uint64_t* keys, uint64_t n);
uint64_t hm_lfht_lookups(const uint64_t* keys, uint64_t n);
void hm_lfht_destroy(void);
}

namespace {

using clock_type = std::chrono::steady_clock;
using gmap = grace::hash_map<std::uint64_t, std::uint64_t>;

struct mixed_hash {  // the same hash for std::unordered_map as the others get
  std::size_t operator()(std::uint64_t h) const noexcept {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
  }
};
using umap = std::unordered_map<std::uint64_t, std::uint64_t, mixed_hash>;

__attribute__((noinline)) std::uint64_t lookup_loop_grace(const gmap& m, const std::uint64_t* k,
                                                          std::uint64_t n) {
  std::uint64_t sum = 0;
  grace::rcu_domain& dom = m.domain();
  for (std::uint64_t i = 0; i < n; ++i) {
    dom.lock();
    if (const std::uint64_t* v = m.find(k[i])) sum += *v;
    dom.unlock();
  }
  return sum;
}

__attribute__((noinline)) std::uint64_t lookup_loop_umap(const umap& m, std::shared_mutex& mu,
                                                         const std::uint64_t* k, std::uint64_t n) {
  std::uint64_t sum = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    std::shared_lock l(mu);
    auto it = m.find(k[i]);
    if (it != m.end()) sum += it->second;
  }
  return sum;
}

__attribute__((noinline)) std::uint64_t lookup_loop_lfht(const std::uint64_t* k, std::uint64_t n) {
  return hm_lfht_lookups(k, n);
}

double since_ns(clock_type::time_point t0) {
  return std::chrono::duration<double, std::nano>(clock_type::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct keyset {
  std::vector<std::uint64_t> present, hits, misses;
};

keyset make_keys(std::uint64_t n, std::uint64_t lookups) {
  std::mt19937_64 rng(42);
  keyset ks;
  ks.present.resize(n);
  for (auto& k : ks.present) k = rng() | 1;  // odd: present
  ks.hits.resize(lookups);
  ks.misses.resize(lookups);
  for (std::uint64_t i = 0; i < lookups; ++i) {
    ks.hits[i] = ks.present[rng() % n];
    ks.misses[i] = rng() & ~std::uint64_t{1};  // even: absent
  }
  return ks;
}

volatile std::uint64_t g_sink;

template <class F>
double time_per_op(F&& f, std::uint64_t ops, int reps) {
  std::vector<double> v;
  for (int r = 0; r < reps; ++r) {
    auto t0 = clock_type::now();
    g_sink = f();
    v.push_back(since_ns(t0) / static_cast<double>(ops));
  }
  return median(v);
}

int run_timings(std::uint64_t n, std::uint64_t lookups, int reps) {
  const keyset ks = make_keys(n, lookups);
  std::printf("# hash_lookup: %llu keys, %llu lookups per rep, median of %d reps\n",
              static_cast<unsigned long long>(n), static_cast<unsigned long long>(lookups), reps);
  std::printf("%-28s %10s %10s\n", "impl", "hit ns", "miss ns");

  // Insert timings: empty (auto-resize) vs reserved up front.
  double g_ins_empty, g_ins_reserved, l_ins_empty, l_ins_reserved;
  {
    auto t0 = clock_type::now();
    auto m = std::make_unique<gmap>();
    for (auto k : ks.present) m->insert(k, k * 3);
    g_ins_empty = since_ns(t0) / static_cast<double>(n);
  }
  grace::rcu_barrier();
  {
    auto t0 = clock_type::now();
    auto m = std::make_unique<gmap>();
    m->reserve(n);
    for (auto k : ks.present) m->insert(k, k * 3);
    g_ins_reserved = since_ns(t0) / static_cast<double>(n);
  }
  grace::rcu_barrier();

  {
    gmap m;
    for (auto k : ks.present) m.insert(k, k * 3);
    const double hit = time_per_op([&] { return lookup_loop_grace(m, ks.hits.data(), lookups); },
                                   lookups, reps);
    const double miss = time_per_op(
        [&] { return lookup_loop_grace(m, ks.misses.data(), lookups); }, lookups, reps);
    std::printf("%-28s %10.1f %10.1f\n", "grace::hash_map", hit, miss);
  }
  grace::rcu_barrier();

  hm_lfht_thread_online();
  {
    auto t0 = clock_type::now();
    hm_lfht_create(n, 1);
    hm_lfht_insert(ks.present.data(), n);
    l_ins_empty = since_ns(t0) / static_cast<double>(n);
    hm_lfht_destroy();
    // Lookups on a presized table: an auto-resized one is grown lazily by
    // liburcu's worker and would be measured with long chains.
    t0 = clock_type::now();
    hm_lfht_create(n, 0);
    hm_lfht_insert(ks.present.data(), n);
    l_ins_reserved = since_ns(t0) / static_cast<double>(n);
    const double hit = time_per_op([&] { return lookup_loop_lfht(ks.hits.data(), lookups); },
                                   lookups, reps);
    const double miss = time_per_op([&] { return lookup_loop_lfht(ks.misses.data(), lookups); },
                                    lookups, reps);
    std::printf("%-28s %10.1f %10.1f\n", "liburcu cds_lfht (memb)", hit, miss);
    hm_lfht_destroy();
  }
  hm_lfht_thread_offline();

  {
    umap m;
    std::shared_mutex mu;
    for (auto k : ks.present) m.emplace(k, k * 3);
    const double hit = time_per_op(
        [&] { return lookup_loop_umap(m, mu, ks.hits.data(), lookups); }, lookups, reps);
    const double miss = time_per_op(
        [&] { return lookup_loop_umap(m, mu, ks.misses.data(), lookups); }, lookups, reps);
    std::printf("%-28s %10.1f %10.1f\n", "std::unordered_map+shared_mutex", hit, miss);
  }
  std::printf("# insert %llu keys, ns/insert: grace empty %.1f reserved %.1f (ratio %.2f); "
              "cds_lfht auto-resize %.1f presized %.1f (ratio %.2f)\n",
              static_cast<unsigned long long>(n), g_ins_empty, g_ins_reserved,
              g_ins_empty / g_ins_reserved, l_ins_empty, l_ins_reserved,
              l_ins_empty / l_ins_reserved);
  return 0;
}

int run_insn(const std::string& impl, std::uint64_t n, std::uint64_t lookups) {
  const keyset ks = make_keys(n, lookups);
  if (impl == "grace") {
    gmap m;
    for (auto k : ks.present) m.insert(k, k * 3);
    g_sink = lookup_loop_grace(m, ks.hits.data(), lookups);
  } else if (impl == "lfht") {
    hm_lfht_thread_online();
    hm_lfht_create(n, 0);  // presized, as in the timings
    hm_lfht_insert(ks.present.data(), n);
    g_sink = lookup_loop_lfht(ks.hits.data(), lookups);
    hm_lfht_destroy();
    hm_lfht_thread_offline();
  } else if (impl == "umap") {
    umap m;
    std::shared_mutex mu;
    for (auto k : ks.present) m.emplace(k, k * 3);
    g_sink = lookup_loop_umap(m, mu, ks.hits.data(), lookups);
  } else {
    std::fprintf(stderr, "hash_map_bench: unknown impl '%s' (grace, lfht, umap)\n", impl.c_str());
    return 2;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::uint64_t n = 1000000, lookups = 2000000;
  int reps = 5;
  std::string insn;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "hash_map_bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--keys") n = std::strtoull(next(), nullptr, 10);
    else if (a == "--lookups") lookups = std::strtoull(next(), nullptr, 10);
    else if (a == "--reps") reps = std::atoi(next());
    else if (a == "--insn") insn = next();
    else {
      std::fprintf(stderr, "usage: hash_map_bench [--keys N] [--lookups M] [--reps R] [--insn grace|lfht|umap]\n");
      return 2;
    }
  }
  if (!insn.empty()) return run_insn(insn, n, lookups);
  return run_timings(n, lookups, reps);
}
