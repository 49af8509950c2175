// bench/hash_impls.cpp — the hash-table adapters written in C++ (grace::hash_map,
// std::unordered_map under std::shared_mutex) and the registry of all of them
// (hash_impls.hpp).  cds_lfht is in hash_lfht_*.c, TBB in hash_tbb.cpp.
//
// grace::hash_map is used through its public API only (insert,
// insert_or_assign, erase, update, find inside a read-side section of the
// map's domain, size, reserve, and for settle() bucket_count, resizing and
// the default traits' kGrowLoad), so the bench keeps compiling while the
// map's internals change.
#include "hash_impls.hpp"

#include <grace/hash_map.hpp>
#include <grace/rcu.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "hash_loop.hpp"

namespace {

using gb::hash_loop::erase_keys;
using gb::hash_loop::insert_keys;
using gb::hash_loop::lookups_timed;

// ---- grace::hash_map, default domain, default hash (the map mixes it).

struct grace_table {
  grace::rcu_domain& dom = grace::rcu_default_domain();
  grace::hash_map<std::uint64_t, std::uint64_t> map{dom};
};

struct grace_ops {
  static bool lookup(grace_table& t, std::uint64_t key, std::uint64_t* value, std::uint64_t rdur) {
    t.dom.lock();
    const std::uint64_t* v = t.map.find(key);
    if (v != nullptr) *value = *v;
    if (rdur != 0) gb_loop_sleep(rdur);
    t.dom.unlock();
    return v != nullptr;
  }
  static int insert(grace_table& t, std::uint64_t key, std::uint64_t value, int mode) {
    return (mode == GB_ADD_REPLACE ? t.map.insert_or_assign(key, value) : t.map.insert(key, value))
               ? 1
               : 0;
  }
  static bool erase(grace_table& t, std::uint64_t key) { return t.map.erase(key); }
  static bool rewrite(grace_table& t, std::uint64_t key) {
    return t.map.update(key, [](std::uint64_t v) { return v; });
  }
};

grace_table& gt(void* t) { return *static_cast<grace_table*>(t); }

void grace_online() {}   // grace registers a thread on its first lock()
void grace_offline() {}  // ... and unregisters it at thread exit
void* grace_create(std::uint64_t presize, int, std::uint64_t, std::uint64_t) {
  auto* t = new grace_table;
  if (presize != 0) t->map.reserve(presize);
  return t;
}
void grace_destroy(void* t) {
  delete &gt(t);
  grace::rcu_barrier();
}
std::uint64_t grace_insert_keys(void* t, const std::uint64_t* k, std::size_t n, int mode) {
  return insert_keys<grace_ops>(gt(t), k, n, mode);
}
std::uint64_t grace_erase_keys(void* t, const std::uint64_t* k, std::size_t n) {
  return erase_keys<grace_ops>(gt(t), k, n);
}
void grace_lookups_timed(void* t, const std::uint64_t* k, std::size_t n, float* ns) {
  lookups_timed<grace_ops>(gt(t), k, n, ns);
}
void grace_loop(void* t, gb_hash_loop* l) { gb::hash_loop::loop<grace_ops>(gt(t), l); }
std::uint64_t grace_size(void* t) { return gt(t).map.size(); }
void grace_quiesce() { grace::rcu_barrier(); }
// A fill orders its next table past the grow load; the domain's worker
// builds it, and the map takes it at its next update.  On a quiet machine
// the worker keeps up with a 1M-key fill (it ends at 1,048,576 buckets,
// load 0.95).  On a loaded one, or under valgrind (bench/hash_map_bench.sh),
// which runs the threads one at a time, the fill can end first, at 262,144
// buckets and a load near 4: a map no quiet native run measures.  So:
// re-insert one key until the growth is done (a barrier lets the build
// advance a step; an update takes the built table and helps its migration).
std::uint64_t grace_settle(void* t, std::uint64_t key) {
  auto& m = gt(t).map;
  constexpr std::size_t kGrowLoad = grace::hash_map_default_traits::kGrowLoad;
  constexpr std::uint64_t kMost = 1'000'000;
  std::uint64_t updates = 0;
  for (; m.resizing() || m.size() > kGrowLoad * m.bucket_count(); updates += 2) {
    if (updates >= kMost) {
      std::fprintf(stderr, "grace-bench: grace's map did not finish growing in %llu updates\n",
                   static_cast<unsigned long long>(updates));
      std::abort();
    }
    if (!m.resizing()) grace::rcu_barrier(gt(t).dom);
    m.erase(key);
    m.insert(key, key * 3);
  }
  return updates;
}

// ---- std::unordered_map under std::shared_mutex: lookups take it shared,
// updates exclusive.

struct mix_hash {
  std::size_t operator()(std::uint64_t k) const noexcept { return gb_hash_mix(k); }
};

struct umap_table {
  std::shared_mutex mu;
  std::unordered_map<std::uint64_t, std::uint64_t, mix_hash> map;
};

struct umap_ops {
  static bool lookup(umap_table& t, std::uint64_t key, std::uint64_t* value, std::uint64_t rdur) {
    std::shared_lock lock(t.mu);
    const auto it = t.map.find(key);
    const bool hit = it != t.map.end();
    if (hit) *value = it->second;
    if (rdur != 0) gb_loop_sleep(rdur);
    return hit;
  }
  static int insert(umap_table& t, std::uint64_t key, std::uint64_t value, int mode) {
    std::unique_lock lock(t.mu);
    if (mode == GB_ADD_REPLACE) return t.map.insert_or_assign(key, value).second ? 1 : 0;
    return t.map.try_emplace(key, value).second ? 1 : 0;
  }
  static bool erase(umap_table& t, std::uint64_t key) {
    std::unique_lock lock(t.mu);
    return t.map.erase(key) != 0;
  }
  static bool rewrite(umap_table& t, std::uint64_t key) {
    std::unique_lock lock(t.mu);
    const auto it = t.map.find(key);
    if (it == t.map.end()) return false;
    it->second = key * 3;
    return true;
  }
};

umap_table& ut(void* t) { return *static_cast<umap_table*>(t); }

void umap_online() {}
void umap_offline() {}
void* umap_create(std::uint64_t presize, int, std::uint64_t, std::uint64_t) {
  auto* t = new umap_table;
  if (presize != 0) t->map.reserve(presize);
  return t;
}
void umap_destroy(void* t) { delete &ut(t); }
std::uint64_t umap_insert_keys(void* t, const std::uint64_t* k, std::size_t n, int mode) {
  return insert_keys<umap_ops>(ut(t), k, n, mode);
}
std::uint64_t umap_erase_keys(void* t, const std::uint64_t* k, std::size_t n) {
  return erase_keys<umap_ops>(ut(t), k, n);
}
void umap_lookups_timed(void* t, const std::uint64_t* k, std::size_t n, float* ns) {
  lookups_timed<umap_ops>(ut(t), k, n, ns);
}
void umap_loop(void* t, gb_hash_loop* l) { gb::hash_loop::loop<umap_ops>(ut(t), l); }
std::uint64_t umap_size(void* t) {
  std::shared_lock lock(ut(t).mu);
  return ut(t).map.size();
}
void umap_quiesce() {}  // erase frees at once, under the exclusive lock

}  // namespace

// The measured lookup loops: extern "C", not inlined, one name per table, so
// that callgrind can count exactly them (bench/hash_map_bench.sh).
extern "C" __attribute__((noinline)) std::uint64_t gb_hash_lookups_grace(void* t,
                                                                         const std::uint64_t* k,
                                                                         std::size_t n) {
  return gb::hash_loop::lookups<grace_ops>(gt(t), k, n);
}
extern "C" __attribute__((noinline)) std::uint64_t gb_hash_lookups_unordered_map(
    void* t, const std::uint64_t* k, std::size_t n) {
  return gb::hash_loop::lookups<umap_ops>(ut(t), k, n);
}

extern "C" {
const gb_hash_impl gb_hash_impl_grace = {
    "grace",           "grace::hash_map<uint64_t, uint64_t>, default domain",
    grace_online,      grace_offline,
    grace_create,      grace_destroy,
    grace_insert_keys, grace_erase_keys,
    gb_hash_lookups_grace, grace_lookups_timed,
    grace_loop,        grace_size,
    grace_quiesce,     grace_settle,
};
const gb_hash_impl gb_hash_impl_unordered_map = {
    "unordered_map",  "std::unordered_map under std::shared_mutex (lookups shared, updates exclusive)",
    umap_online,      umap_offline,
    umap_create,      umap_destroy,
    umap_insert_keys, umap_erase_keys,
    gb_hash_lookups_unordered_map, umap_lookups_timed,
    umap_loop,        umap_size,
    umap_quiesce,     nullptr,  // settle: it grows synchronously
};
}

namespace gb {

const std::vector<const gb_hash_impl*>& hash_impls() {
  static const std::vector<const gb_hash_impl*> impls = {
      &gb_hash_impl_grace,
#ifdef GRACE_BENCH_HAVE_LFHT
      &gb_hash_impl_cds_lfht,
#endif
      &gb_hash_impl_unordered_map,
#ifdef GRACE_BENCH_HAVE_TBB
      &gb_hash_impl_tbb,
#endif
  };
  return impls;
}

const gb_hash_impl* find_hash_impl(const std::string& name) {
  for (const gb_hash_impl* i : hash_impls()) {
    if (name == i->name) return i;
  }
#ifdef GRACE_BENCH_HAVE_LFHT
  if (name == gb_hash_impl_cds_lfht_qsbr.name) return &gb_hash_impl_cds_lfht_qsbr;
#endif
  return nullptr;
}

std::vector<std::string> skipped_hash_impls() {
  std::vector<std::string> out;
#ifndef GRACE_BENCH_HAVE_LFHT
  out.emplace_back("cds_lfht (liburcu-cds not found: install liburcu-dev)");
#endif
#ifndef GRACE_BENCH_HAVE_TBB
  out.emplace_back("tbb (TBB not found: install libtbb-dev)");
#endif
  return out;
}

}  // namespace gb
