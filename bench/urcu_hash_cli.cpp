// bench/urcu_hash_cli.cpp — two subcommands for hash tables:
//
// `grace-bench urcu_hash NR_READERS NR_WRITERS DURATION [options] [--impl NAME[,NAME...]]`:
// liburcu's tests/benchmark/test_urcu_hash (its rw test) for grace::hash_map
// and the other hash adapters, one after the other in one process, each
// printing test_urcu_hash's SUMMARY line (name field "grace-bench:<impl>").
// Readers look up random keys of the lookup pool, each in its own read-side
// section; writers insert or erase (equal odds) random keys of the write pool;
// `-k N` first inserts N keys drawn from the init pool.  Options as in
// test_urcu_hash (defaults too: 32 initial buckets, pools of 1000000 keys at
// offset 0, at most 2^20 buckets):
//   -A        auto-resize (cds_lfht: CDS_LFHT_AUTO_RESIZE; grace::hash_map,
//             unordered_map and tbb always resize)
//   -h INIT   initial buckets (power of two); grace: reserve(INIT) up front
//   -m MIN    cds_lfht's minimum allocated buckets;  -n MAX  its maximum
//   -u        add unique (grace: insert);  -s  add or replace (insert_or_assign)
//             neither: cds_lfht_add, duplicates allowed; tables without
//             duplicate keys (all but cds_lfht) run -u then
//   -M/-N/-O  lookup / write / init pool sizes;  -R/-S/-T their offsets
//   -k N      prefill N keys;  -c LOOPS  busy loops inside each read-side
//             section;  -d LOOPS  busy loops after each update
//   -r -w -v -a CPU -B BACKEND -V -U -C N -i: accepted, ignored
// Keys are the integers themselves (test_urcu_hash hashes them with
// lookup3; here each table uses its own hash: see hash_ops.h).  The
// difference from test_urcu_hash's qsbr cds_lfht is the flavor: --impl
// cds_lfht_qsbr is that one.
//
// `grace-bench hash_insn IMPL KEYS LOOKUPS hit|miss`: builds IMPL's table
// (as hash_lookup does) and runs LOOKUPS lookups once, through
// gb_hash_lookups_IMPL, for callgrind (bench/hash_map_bench.sh).
#include "urcu_hash_cli.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "cli_args.hpp"
#include "hash_impls.hpp"
#include "util.hpp"

namespace gb {
namespace {

void usage() {
  std::fprintf(stderr,
               "usage: grace-bench urcu_hash NR_READERS NR_WRITERS DURATION [-A] [-h INIT] [-m MIN]\n"
               "           [-n MAX] [-u|-s] [-M POOL] [-N POOL] [-O POOL] [-R OFF] [-S OFF]\n"
               "           [-T OFF] [-k PREFILL] [-c READ_LOOPS] [-d WRITE_DELAY]\n"
               "           [--impl NAME[,NAME...]]\n"
               "  liburcu's test_urcu_hash (rw test); DURATION in seconds.  NAME: grace (default),\n"
               "  cds_lfht, cds_lfht_qsbr, unordered_map, tbb (those compiled in); each runs in\n"
               "  turn and prints a SUMMARY line.\n");
}

struct params {
  unsigned readers = 0, writers = 0;
  std::uint64_t duration = 0;
  bool auto_resize = false;
  std::uint64_t init_buckets = 32, min_buckets = 1, max_buckets = 1u << 20;
  int add_mode = GB_ADD_DUP;
  std::uint64_t lookup_pool = 1'000'000, write_pool = 1'000'000, init_pool = 1'000'000;
  std::uint64_t lookup_offset = 0, write_offset = 0, init_offset = 0;
  std::uint64_t prefill = 0, rdur = 0, wdelay = 0;
};

bool is_pow2_or_zero(std::uint64_t v) { return (v & (v - 1)) == 0; }

int run_one(const gb_hash_impl& impl, const params& p) {
  // Tables without duplicate keys run -u where test_urcu_hash would add.
  const bool has_dups = std::string(impl.name).rfind("cds_lfht", 0) == 0;
  const int mode = p.add_mode == GB_ADD_DUP && !has_dups ? GB_ADD_UNIQUE : p.add_mode;
  if (mode != GB_ADD_DUP && p.prefill > p.init_pool) {
    std::fprintf(stderr, "grace-bench urcu_hash: %s: cannot prefill %llu distinct keys from a pool "
                 "of %llu (-O)\n", impl.name, static_cast<unsigned long long>(p.prefill),
                 static_cast<unsigned long long>(p.init_pool));
    return 1;
  }
  void* t = nullptr;
  std::uint64_t prefilled = 0;
  on_hash_thread(impl, [&] {
    t = impl.create(p.init_buckets, p.auto_resize ? 1 : 0, p.min_buckets, p.max_buckets);
    std::uint64_t s = 0x5eed;
    std::vector<std::uint64_t> batch;
    while (prefilled < p.prefill) {  // as test_urcu_hash: until PREFILL keys were added
      batch.clear();
      for (std::uint64_t i = 0; i < std::min<std::uint64_t>(p.prefill - prefilled, 4096); ++i) {
        batch.push_back(p.init_offset + (gb_hash_rand(&s) >> 11) % p.init_pool);
      }
      prefilled += impl.insert_keys(t, batch.data(), batch.size(), mode);
    }
  });

  int stop = 0;
  std::vector<gb_hash_loop> loops(p.readers + p.writers);
  std::vector<std::thread> threads;
  std::atomic<unsigned> ready{0};
  std::atomic<bool> go{false};
  for (unsigned k = 0; k < p.readers + p.writers; ++k) {
    gb_hash_loop& l = loops[k];
    const bool writer = k >= p.readers;
    l.stop = &stop;
    l.seed = 0x9e3779b97f4a7c15ULL * (k + 1) ^ static_cast<std::uint64_t>(now_ns());
    l.key_base = writer ? p.write_offset : p.lookup_offset;
    l.key_range = writer ? p.write_pool : p.lookup_pool;
    l.update_permille = writer ? 1000 : 0;
    l.add_mode = mode;
    l.rdur = p.rdur;
    l.wdelay = p.wdelay;
    threads.push_back(hash_thread(impl, [&, k] {
      ready.fetch_add(1, std::memory_order_release);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      impl.loop(t, &loops[k]);
    }));
  }
  while (ready.load(std::memory_order_acquire) != threads.size()) std::this_thread::yield();
  go.store(true, std::memory_order_release);
  std::this_thread::sleep_for(std::chrono::seconds(p.duration));
  __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
  for (auto& th : threads) th.join();

  unsigned long long reads = 0, writes = 0, adds = 0, add_exist = 0, removes = 0;
  for (unsigned k = 0; k < loops.size(); ++k) {
    if (k < p.readers) {
      reads += loops[k].lookups;
    } else {
      writes += loops[k].updates;
      adds += loops[k].adds;
      add_exist += loops[k].add_exist;
      removes += loops[k].removes;
    }
  }
  std::uint64_t count = 0;
  on_hash_thread(impl, [&] { count = impl.size(t); });
  const long long leaked = static_cast<long long>(adds + prefilled) -
                           static_cast<long long>(removes) - static_cast<long long>(count);
  on_hash_thread(impl, [&] { impl.destroy(t); });
  // test_urcu_hash's format; argv[0] there, "grace-bench:<impl>" here.
  const std::string name = std::string("grace-bench:") + impl.name;
  std::printf("SUMMARY %-25s testdur %4lu nr_readers %3u rdur %6lu nr_writers %3u wdelay %6lu "
              "nr_reads %12llu nr_writes %12llu nr_ops %12llu nr_add %12llu nr_add_fail %12llu "
              "nr_remove %12llu nr_leaked %12lld\n",
              name.c_str(), static_cast<unsigned long>(p.duration), p.readers,
              static_cast<unsigned long>(p.rdur), p.writers, static_cast<unsigned long>(p.wdelay),
              reads, writes, reads + writes, adds, add_exist, removes, leaked);
  std::fflush(stdout);
  if (leaked != 0) {
    std::printf("WARNING: %lld nodes were leaked!\n", leaked);
    return 1;
  }
  return 0;
}

}  // namespace

int urcu_hash_main(int argc, char** argv) {
  // argv[0] == "urcu_hash"
  params p;
  std::uint64_t readers = 0, writers = 0;
  if (argc < 4 || !parse_u64(argv[1], &readers) || !parse_u64(argv[2], &writers) ||
      !parse_u64(argv[3], &p.duration)) {
    usage();
    return 2;
  }
  p.readers = static_cast<unsigned>(readers);
  p.writers = static_cast<unsigned>(writers);
  std::vector<std::string> names;
  for (int i = 4; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](std::uint64_t* out) {
      if (i + 1 >= argc || !parse_u64(argv[i + 1], out)) {
        usage();
        std::exit(2);
      }
      ++i;
    };
    std::uint64_t ignored = 0;
    if (a == "-A") p.auto_resize = true;
    else if (a == "-h") value(&p.init_buckets);
    else if (a == "-m") value(&p.min_buckets);
    else if (a == "-n") value(&p.max_buckets);
    else if (a == "-u" || a == "-s") {
      const int m = a == "-u" ? GB_ADD_UNIQUE : GB_ADD_REPLACE;
      if (p.add_mode != GB_ADD_DUP && p.add_mode != m) {
        std::fprintf(stderr, "Please specify at most one of -s or -u.\n");
        return 2;
      }
      p.add_mode = m;
    } else if (a == "-M") value(&p.lookup_pool);
    else if (a == "-N") value(&p.write_pool);
    else if (a == "-O") value(&p.init_pool);
    else if (a == "-R") value(&p.lookup_offset);
    else if (a == "-S") value(&p.write_offset);
    else if (a == "-T") value(&p.init_offset);
    else if (a == "-k") value(&p.prefill);
    else if (a == "-c") value(&p.rdur);
    else if (a == "-d") value(&p.wdelay);
    else if (a == "-a" || a == "-C") value(&ignored);
    else if (a == "-B" && i + 1 < argc) ++i;
    else if (a == "-r" || a == "-w" || a == "-v" || a == "-V" || a == "-U" || a == "-i") continue;
    else if (a == "--impl" && i + 1 < argc) {
      for (auto& n : split(argv[++i])) names.push_back(n);
    } else {
      usage();
      return 2;
    }
  }
  if (!is_pow2_or_zero(p.init_buckets) || !is_pow2_or_zero(p.min_buckets) ||
      !is_pow2_or_zero(p.max_buckets)) {
    std::fprintf(stderr, "grace-bench urcu_hash: -h, -m and -n must be powers of two\n");
    return 2;
  }
  if (p.lookup_pool == 0 || p.write_pool == 0 || p.init_pool == 0) {
    std::fprintf(stderr, "grace-bench urcu_hash: pool sizes must be positive\n");
    return 2;
  }
  if (names.empty()) names.emplace_back("grace");
  std::vector<const gb_hash_impl*> impls;
  for (const auto& n : names) {
    const gb_hash_impl* impl = find_hash_impl(n);
    if (impl == nullptr) {
      std::fprintf(stderr, "grace-bench urcu_hash: implementation '%s' is not compiled in\n",
                   n.c_str());
      return 2;
    }
    impls.push_back(impl);
  }
  int status = 0;
  for (const gb_hash_impl* impl : impls) status |= run_one(*impl, p);
#ifdef GRACE_BENCH_HAVE_LFHT
  if (gb_lfht_forced_resizes != 0) {
    std::fprintf(stderr, "grace-bench urcu_hash: cds_lfht's auto-resize stalled %llu times "
                 "(liburcu's lost-resize race, bench/hash_lfht.inc); the bench resized it\n",
                 static_cast<unsigned long long>(gb_lfht_forced_resizes));
  }
#endif
  return status;
}

int hash_insn_main(int argc, char** argv) {
  // argv[0] == "hash_insn"
  std::uint64_t keys = 0, lookups = 0;
  if (argc != 5 || !parse_u64(argv[2], &keys) || !parse_u64(argv[3], &lookups) || keys == 0 ||
      (std::string(argv[4]) != "hit" && std::string(argv[4]) != "miss")) {
    std::fprintf(stderr, "usage: grace-bench hash_insn IMPL KEYS LOOKUPS hit|miss\n");
    return 2;
  }
  const gb_hash_impl* impl = find_hash_impl(argv[1]);
  if (impl == nullptr) {
    std::fprintf(stderr, "grace-bench hash_insn: implementation '%s' is not compiled in\n", argv[1]);
    return 2;
  }
  const bool hit = std::string(argv[4]) == "hit";
  // The keys of hash_lookup: random odd keys present, even keys absent.
  std::vector<std::uint64_t> present(keys), probe(lookups);
  std::uint64_t s = 42 + keys;
  for (auto& k : present) k = gb_hash_rand(&s) | 1;
  s = 7;
  for (auto& k : probe) k = hit ? present[gb_hash_rand(&s) % keys] : gb_hash_rand(&s) & ~1ULL;
  const bool lfht = std::string(impl->name).rfind("cds_lfht", 0) == 0;
  std::uint64_t found = 0;
  on_hash_thread(*impl, [&] {
    void* t = impl->create(lfht ? keys : 0, 0, 0, 0);
    impl->insert_keys(t, present.data(), present.size(), GB_ADD_UNIQUE);
    if (impl->settle != nullptr) impl->settle(t, present[0]);  // as hash_lookup's build()
    found = impl->lookups(t, probe.data(), probe.size());
    impl->destroy(t);
  });
  std::printf("%s: %llu lookups, %llu found\n", impl->name,
              static_cast<unsigned long long>(lookups), static_cast<unsigned long long>(found));
  return 0;
}

}  // namespace gb
