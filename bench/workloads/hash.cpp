// bench/workloads/hash.cpp — hash_lookup, hash_mixed, hash_update and hash_resize:
// grace::hash_map beside liburcu's cds_lfht, std::unordered_map under
// std::shared_mutex and TBB's concurrent_hash_map (issue 6; the adapters are
// hash_ops.h, hash_impls.cpp, hash_lfht_*.c, hash_tbb.cpp).
//
// Keys are uint64_t, values key * 3 (every lookup checks the value; hash_lookup
// also checks that every hit key is found and no miss key is).  Each table
// runs on threads bracketed by its thread_online/offline; deferred frees are
// waited for (quiesce) outside the timed parts.
//
// cds_lfht is presized (one bucket per key) where lookups are measured: with
// CDS_LFHT_AUTO_RESIZE it grows in liburcu's call_rcu worker, lazily, and
// would be measured with long chains.  Its auto-resize is measured in
// hash_resize.  The other tables grow on their own.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "../hash_impls.hpp"
#include "../util.hpp"
#include "../workload.hpp"

namespace gb {
namespace {

std::vector<const gb_hash_impl*> selected(const context& ctx) {
  std::vector<const gb_hash_impl*> out;
  for (const gb_hash_impl* i : hash_impls()) {
    const std::string name = i->name;
    if (ctx.opt.only_impls.empty() || name == "grace" ||
        std::find(ctx.opt.only_impls.begin(), ctx.opt.only_impls.end(), name) !=
            ctx.opt.only_impls.end()) {
      out.push_back(i);
    }
  }
  return out;
}

bool is_lfht(const gb_hash_impl& impl) { return std::string(impl.name) == "cds_lfht"; }

// "1K", "64K", "1M", "10M" (powers of 1000, except 64K = 65536).
std::string count_label(std::size_t n) {
  if (n >= 1'000'000 && n % 1'000'000 == 0) return std::to_string(n / 1'000'000) + "M";
  if (n % 1024 == 0 && n >= 1024) return std::to_string(n / 1024) + "K";
  if (n % 1000 == 0 && n >= 1000) return std::to_string(n / 1000) + "K";
  return std::to_string(n);
}

// n distinct-enough random odd keys (present); even keys are never present.
std::vector<std::uint64_t> random_keys(std::size_t n, std::uint64_t seed) {
  std::vector<std::uint64_t> v(n);
  std::uint64_t s = seed | 1;
  for (auto& k : v) k = gb_hash_rand(&s) | 1;
  return v;
}

// Builds a table of keys on a thread of impl's, and waits for the deferred
// frees of its build (retired tables) so that they do not run during the
// measurement that follows.
void* build(const gb_hash_impl& impl, const std::vector<std::uint64_t>& keys, std::uint64_t presize,
            int auto_resize) {
  void* t = nullptr;
  on_hash_thread(impl, [&] {
    t = impl.create(presize, auto_resize, 0, 0);
    impl.insert_keys(t, keys.data(), keys.size(), GB_ADD_UNIQUE);
    if (impl.settle != nullptr && !keys.empty()) impl.settle(t, keys[0]);
    impl.quiesce();
  });
  return t;
}

// Destroys t, then has glibc consolidate and trim the freed memory, so that
// the cost of the table's frees does not land in the next measurement: after
// a million small frees, the next allocation of a block beyond the small
// sizes first consolidates them all (malloc_consolidate, about 170 ms here),
// whichever table and whichever timed step makes it.
void destroy(const gb_hash_impl& impl, void* t) {
  on_hash_thread(impl, [&] { impl.destroy(t); });
  trim_heap();
}

double seconds_since(std::int64_t t0) { return static_cast<double>(now_ns() - t0) / 1e9; }

// Keeps at most cap samples spread evenly over the whole run: when full,
// every other sample is dropped and the stride doubles.
class decimator {
 public:
  explicit decimator(std::size_t cap) : cap_(cap) { buf_.reserve(cap); }
  void add(const float* v, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      if (seen_++ % stride_ != 0) continue;
      buf_.push_back(v[i]);
      if (buf_.size() == cap_) {
        for (std::size_t j = 0; j < cap_ / 2; ++j) buf_[j] = buf_[2 * j];
        buf_.resize(cap_ / 2);
        stride_ *= 2;
      }
    }
  }
  std::vector<double> values() const { return {buf_.begin(), buf_.end()}; }

 private:
  std::size_t cap_;
  std::vector<float> buf_;
  std::uint64_t seen_ = 0, stride_ = 1;
};

}  // namespace

// ---- hash_lookup

void run_hash_lookup(context& ctx) {
  collector col("hash_lookup");
  const auto impls = selected(ctx);
  std::vector<std::size_t> sizes = {1000, 65536, 1'000'000};
  if (!ctx.opt.quick) sizes.push_back(10'000'000);
  const std::size_t lookups = ctx.pick<std::size_t>(200'000, 1'000'000);
  // Up to this many keys every table is built once and the rounds
  // interleave them; above it (10M keys: a GB or so per table) the tables are
  // built one at a time and their rounds run back to back.
  constexpr std::size_t kInterleaveMax = 2'000'000;

  auto measure = [&](const gb_hash_impl& impl, void* t, const std::string& label,
                     const std::vector<std::uint64_t>& hits,
                     const std::vector<std::uint64_t>& misses) {
    on_hash_thread(impl, [&] {
      impl.lookups(t, hits.data(), std::min<std::size_t>(hits.size(), 10'000));  // warm up
      std::int64_t t0 = now_ns();
      const std::uint64_t found = impl.lookups(t, hits.data(), hits.size());
      const double hit_ns = static_cast<double>(now_ns() - t0) / static_cast<double>(hits.size());
      t0 = now_ns();
      const std::uint64_t wrong = impl.lookups(t, misses.data(), misses.size());
      const double miss_ns =
          static_cast<double>(now_ns() - t0) / static_cast<double>(misses.size());
      if (found != hits.size() || wrong != 0) {
        std::fprintf(stderr, "grace-bench: hash_lookup: %s found %llu of %zu present keys and %llu "
                     "absent ones\n", impl.name, static_cast<unsigned long long>(found),
                     hits.size(), static_cast<unsigned long long>(wrong));
        std::abort();
      }
      col.value(impl.name, 1, "hit_ns_" + label, "ns", hit_ns);
      col.value(impl.name, 1, "miss_ns_" + label, "ns", miss_ns);
    });
  };

  for (std::size_t n : sizes) {
    const std::string label = count_label(n);
    const auto present = random_keys(n, 42 + n);
    std::vector<std::uint64_t> hits(lookups), misses(lookups);
    std::uint64_t s = 7;
    for (std::size_t i = 0; i < lookups; ++i) {
      hits[i] = present[gb_hash_rand(&s) % n];
      misses[i] = gb_hash_rand(&s) & ~std::uint64_t{1};
    }
    auto presize = [&](const gb_hash_impl& impl) -> std::uint64_t { return is_lfht(impl) ? n : 0; };
    if (n <= kInterleaveMax) {
      std::vector<void*> tables;
      for (const gb_hash_impl* impl : impls) tables.push_back(build(*impl, present, presize(*impl), 0));
      for (int round = 0; round < ctx.opt.rounds; ++round) {
        for (std::size_t i = 0; i < impls.size(); ++i) measure(*impls[i], tables[i], label, hits, misses);
      }
      for (std::size_t i = 0; i < impls.size(); ++i) destroy(*impls[i], tables[i]);
    } else {
      for (const gb_hash_impl* impl : impls) {
        void* t = build(*impl, present, presize(*impl), 0);
        for (int round = 0; round < ctx.opt.rounds; ++round) measure(*impl, t, label, hits, misses);
        destroy(*impl, t);
      }
    }
  }
  col.flush(ctx.rep);

  chart c;
  c.file = "hash_lookup";
  c.title = "hash_lookup: ns per lookup (hit), by key count (lower is better)";
  c.xlabel = "keys in the map";
  c.ylabel = "ns per lookup";
  c.logx = true;
  for (const gb_hash_impl* impl : impls) {
    c.data.push_back(series_of(ctx.rep, "hash_lookup", impl->name, sizes,
                               [](std::size_t n) { return "hit_ns_" + count_label(n); }));
  }
  ctx.charts.push_back(std::move(c));
}

// ---- hash_mixed

namespace {

// One grid of mixed loops: for each update share and thread count, every
// table runs gb_hash_loop for `seconds`; the metric is ops/s of all threads.
struct mixed_grid {
  const char* workload;
  int update_kind;           // GB_UPDATE_*
  std::uint64_t key_stride;  // keys kBase + stride * i are present, i < n
  std::uint64_t key_range;   // as a multiple of n
  std::vector<unsigned> percents;
  const char* xlabel;
};

void run_mixed_grid(context& ctx, const mixed_grid& g) {
  collector col(g.workload);
  const auto impls = selected(ctx);
  const std::size_t n = ctx.pick<std::size_t>(65536, 1 << 20);
  const double seconds = ctx.pick(0.1, 0.3);
  const std::vector<int> thread_counts = {1, 2};
  constexpr std::uint64_t kBase = 1;

  std::vector<std::uint64_t> prefill(n);
  for (std::size_t i = 0; i < n; ++i) prefill[i] = kBase + g.key_stride * i;
  std::vector<void*> tables;
  for (const gb_hash_impl* impl : impls) {
    tables.push_back(build(*impl, prefill, is_lfht(*impl) ? n : 0, 1));
  }
  for (int round = 0; round < ctx.opt.rounds; ++round) {
    for (unsigned pct : g.percents) {
      for (int nthreads : thread_counts) {
        for (std::size_t i = 0; i < impls.size(); ++i) {
          const gb_hash_impl& impl = *impls[i];
          int stop = 0;
          std::vector<double> rate(static_cast<std::size_t>(nthreads));
          std::vector<std::thread> threads;
          for (int k = 0; k < nthreads; ++k) {
            threads.push_back(hash_thread(impl, [&, k] {
              gb_hash_loop l{};
              l.stop = &stop;
              l.seed = 0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(round * 16 + k + 1);
              l.key_base = kBase;
              l.key_range = g.key_range * n;
              l.update_permille = pct * 10;
              l.add_mode = GB_ADD_UNIQUE;
              l.update_kind = g.update_kind;
              const std::int64_t t0 = now_ns();
              impl.loop(tables[i], &l);
              if (g.update_kind == GB_UPDATE_REWRITE && l.rewrites != l.updates) {
                // Every key is present: a rewrite that failed is a broken adapter.
                std::fprintf(stderr, "%s: %s rewrote %llu of %llu present keys\n", g.workload,
                             impl.name, static_cast<unsigned long long>(l.rewrites),
                             static_cast<unsigned long long>(l.updates));
                std::abort();
              }
              rate[static_cast<std::size_t>(k)] =
                  static_cast<double>(l.lookups + l.updates) / seconds_since(t0);
            }));
          }
          std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
          __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
          for (auto& t : threads) t.join();
          on_hash_thread(impl, [&] { impl.quiesce(); });  // untimed: frees before the next run
          double total = 0;
          for (double r : rate) total += r;
          col.value(impl.name, nthreads, "ops_per_s_" + std::to_string(pct) + "pct_updates",
                    "ops/s", total);
        }
      }
    }
  }
  for (std::size_t i = 0; i < impls.size(); ++i) destroy(*impls[i], tables[i]);
  col.flush(ctx.rep);

  for (int nthreads : thread_counts) {
    chart c;
    c.file = std::string(g.workload) + "_" + std::to_string(nthreads) + "t";
    c.title = std::string(g.workload) + ": ops/s by update share, " + std::to_string(nthreads) +
              (nthreads == 1 ? " thread" : " threads") + " (higher is better)";
    c.xlabel = g.xlabel;
    c.ylabel = "operations/s (all threads)";
    c.logy = true;
    for (const gb_hash_impl* impl : impls) {
      c.data.push_back(series_of(
          ctx.rep, g.workload, impl->name, g.percents,
          [](unsigned pct) { return "ops_per_s_" + std::to_string(pct) + "pct_updates"; }, nthreads));
    }
    ctx.charts.push_back(std::move(c));
  }
}

}  // namespace

// N keys present out of a range of 2N; updates insert or erase a random key
// of the range with equal odds, so the size stays about N.
void run_hash_mixed(context& ctx) {
  run_mixed_grid(ctx, {"hash_mixed", GB_UPDATE_INSERT_ERASE, 2, 2, {0, 10, 50, 100},
                       "updates (% of operations; half insert, half erase)"});
}

// N keys, all present and looked up or updated at random: each update
// rewrites a key's value from the value it read (read-copy-update for grace
// and cds_lfht, an exclusive lock for the others).
void run_hash_update(context& ctx) {
  run_mixed_grid(ctx, {"hash_update", GB_UPDATE_REWRITE, 1, 1, {10, 50, 100},
                       "updates (% of operations; each rewrites a present key's value)"});
}

// ---- hash_resize

void run_hash_resize(context& ctx) {
  collector col("hash_resize");
  const auto impls = selected(ctx);
  const std::size_t n = ctx.pick<std::size_t>(200'000, 1'000'000);
  const std::size_t sample_cap = ctx.pick<std::size_t>(100'000, 200'000);
  constexpr std::size_t kChunk = 256;
  const auto keys = random_keys(n, 4242);
#ifdef GRACE_BENCH_HAVE_LFHT
  const std::uint64_t forced_start = __atomic_load_n(&gb_lfht_forced_resizes, __ATOMIC_RELAXED);
#endif
  int unsettled_rounds = 0;

  for (int round = 0; round < ctx.opt.rounds; ++round) {
    for (const gb_hash_impl* ip : impls) {
      const gb_hash_impl& impl = *ip;
#ifdef GRACE_BENCH_HAVE_LFHT
      const std::uint64_t forced0 = __atomic_load_n(&gb_lfht_forced_resizes, __ATOMIC_RELAXED);
#endif
      // Inserting n keys into an empty table vs one sized for them, alone
      // (the order alternates between rounds: the first run of a pair also
      // grows the heap).  reserve_ns is the sizing itself (create with a
      // presize: allocating and touching the table), per key, untimed in
      // insert_ns_reserved.
      double empty_ns = 0, reserved_ns = 0, reserve_ns = 0;
      std::uint64_t settle_updates = 0;
      for (int pass = 0; pass < 2; ++pass) {
        const bool reserved = (pass == 1) != (round % 2 == 1);
        void* t = nullptr;
        on_hash_thread(impl, [&] {
          const std::int64_t c0 = now_ns();
          t = impl.create(reserved ? n : 0, 1, 0, 0);
          const std::int64_t t0 = now_ns();
          impl.insert_keys(t, keys.data(), n, GB_ADD_UNIQUE);
          (reserved ? reserved_ns : empty_ns) =
              static_cast<double>(now_ns() - t0) / static_cast<double>(n);
          if (reserved) reserve_ns = static_cast<double>(t0 - c0) / static_cast<double>(n);
          // Untimed: whether the fill ended before the growth it ordered
          // (the worker lagged), which would leave out the last migration.
          if (!reserved && impl.settle != nullptr) settle_updates = impl.settle(t, keys[0]);
        });
        destroy(impl, t);
      }
      col.value(impl.name, 1, "insert_ns_empty", "ns", empty_ns);
      col.value(impl.name, 1, "insert_ns_reserved", "ns", reserved_ns);
      col.value(impl.name, 1, "reserve_ns", "ns", reserve_ns);
      col.value(impl.name, 1, "empty_vs_reserved", "x", empty_ns / reserved_ns);
      col.value(impl.name, 1, "empty_vs_reserve_and_insert", "x",
                empty_ns / (reserve_ns + reserved_ns));
      if (impl.settle != nullptr) {
        // Updates needed after the empty fill to finish its growth: 0 when
        // the fill's time includes all of it; otherwise that round's
        // empty_ns leaves some out (see grace_settle, bench/hash_impls.cpp).
        col.value(impl.name, 1, "empty_fill_settle_updates", "count",
                  static_cast<double>(settle_updates));
        unsettled_rounds += settle_updates != 0 ? 1 : 0;
      }

      // Grow from empty to n keys, then erase them all, while a second
      // thread times single lookups of random keys of the set.
      void* t = nullptr;
      on_hash_thread(impl, [&] { t = impl.create(0, 1, 0, 0); });
      int stop = 0;
      decimator samples(sample_cap);
      std::thread reader = hash_thread(impl, [&] {
        std::uint64_t s = 99 + static_cast<std::uint64_t>(round);
        float ns[kChunk];
        while (__atomic_load_n(&stop, __ATOMIC_ACQUIRE) == 0) {
          const std::size_t start = gb_hash_rand(&s) % (n - kChunk);
          impl.lookups_timed(t, keys.data() + start, kChunk, ns);
          samples.add(ns, kChunk);
        }
      });
      double grow_ns = 0, shrink_ns = 0;
      on_hash_thread(impl, [&] {
        std::int64_t t0 = now_ns();
        impl.insert_keys(t, keys.data(), n, GB_ADD_UNIQUE);
        grow_ns = static_cast<double>(now_ns() - t0) / static_cast<double>(n);
        t0 = now_ns();
        const std::uint64_t removed = impl.erase_keys(t, keys.data(), n);
        shrink_ns = static_cast<double>(now_ns() - t0) / static_cast<double>(n);
        if (removed != n || impl.size(t) != 0) {
          std::fprintf(stderr, "grace-bench: hash_resize: %s erased %llu of %zu keys, %llu left\n",
                       impl.name, static_cast<unsigned long long>(removed), n,
                       static_cast<unsigned long long>(impl.size(t)));
          std::abort();
        }
      });
      __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
      reader.join();
      destroy(impl, t);
      col.value(impl.name, 2, "grow_ns_per_insert", "ns", grow_ns);
      col.value(impl.name, 2, "shrink_ns_per_erase", "ns", shrink_ns);
      col.samples(impl.name, 2, "lookup_during_resize", "ns", samples.values());
#ifdef GRACE_BENCH_HAVE_LFHT
      if (is_lfht(impl)) {  // liburcu's lost-resize race, worked around (hash_lfht.inc)
        col.value(impl.name, 1, "forced_resizes", "count",
                  static_cast<double>(__atomic_load_n(&gb_lfht_forced_resizes, __ATOMIC_RELAXED) -
                                      forced0));
      }
#endif
    }
  }
  col.flush(ctx.rep);
  if (unsettled_rounds != 0) {
    std::fprintf(stderr, "\ngrace-bench: hash_resize: in %d round(s) grace's fill into an empty map "
                 "ended before its last growth (the worker lagged): insert_ns_empty leaves that "
                 "migration out there\n", unsettled_rounds);
  }
#ifdef GRACE_BENCH_HAVE_LFHT
  const std::uint64_t forced =
      __atomic_load_n(&gb_lfht_forced_resizes, __ATOMIC_RELAXED) - forced_start;
  if (forced != 0) {
    std::fprintf(stderr, "\ngrace-bench: hash_resize: cds_lfht's auto-resize stalled %llu times "
                 "(liburcu's lost-resize race, bench/hash_lfht.inc); the bench resized it\n",
                 static_cast<unsigned long long>(forced));
  }
#endif
}

}  // namespace gb
