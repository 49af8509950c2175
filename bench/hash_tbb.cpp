// bench/hash_tbb.cpp — TBB's concurrent_hash_map as a hash_ops.h adapter
// (impl "tbb"; compiled when CMake finds TBB, Debian's libtbb-dev).  Lookups
// hold a const_accessor (a per-element reader lock) while reading the value;
// erase frees at once (TBB's own locking, no deferred reclamation).
#include <oneapi/tbb/concurrent_hash_map.h>

#include <cstdint>
#include <utility>

#include "hash_loop.hpp"
#include "hash_ops.h"

namespace {

struct mix_compare {
  std::size_t hash(std::uint64_t k) const { return gb_hash_mix(k); }
  bool equal(std::uint64_t a, std::uint64_t b) const { return a == b; }
};
using chm = tbb::concurrent_hash_map<std::uint64_t, std::uint64_t, mix_compare>;

struct tbb_ops {
  static bool lookup(chm& m, std::uint64_t key, std::uint64_t* value, std::uint64_t rdur) {
    chm::const_accessor a;
    if (!m.find(a, key)) return false;
    *value = a->second;
    if (rdur != 0) gb_loop_sleep(rdur);
    return true;
  }
  static int insert(chm& m, std::uint64_t key, std::uint64_t value, int mode) {
    if (mode == GB_ADD_REPLACE) {
      chm::accessor a;
      const bool added = m.insert(a, key);
      a->second = value;
      return added ? 1 : 0;
    }
    return m.insert(std::make_pair(key, value)) ? 1 : 0;
  }
  static bool erase(chm& m, std::uint64_t key) { return m.erase(key); }
  static bool rewrite(chm& m, std::uint64_t key) {
    chm::accessor a;  // the element's write lock
    if (!m.find(a, key)) return false;
    a->second = key * 3;
    return true;
  }
};

chm& mt(void* t) { return *static_cast<chm*>(t); }

void online() {}
void offline() {}
void* create(std::uint64_t presize, int, std::uint64_t, std::uint64_t) {
  return presize != 0 ? new chm(static_cast<chm::size_type>(presize)) : new chm;
}
void destroy(void* t) { delete &mt(t); }
std::uint64_t insert_keys(void* t, const std::uint64_t* k, std::size_t n, int mode) {
  return gb::hash_loop::insert_keys<tbb_ops>(mt(t), k, n, mode);
}
std::uint64_t erase_keys(void* t, const std::uint64_t* k, std::size_t n) {
  return gb::hash_loop::erase_keys<tbb_ops>(mt(t), k, n);
}
void lookups_timed(void* t, const std::uint64_t* k, std::size_t n, float* ns) {
  gb::hash_loop::lookups_timed<tbb_ops>(mt(t), k, n, ns);
}
void loop(void* t, gb_hash_loop* l) { gb::hash_loop::loop<tbb_ops>(mt(t), l); }
std::uint64_t size(void* t) { return mt(t).size(); }
void quiesce() {}

}  // namespace

extern "C" __attribute__((noinline)) std::uint64_t gb_hash_lookups_tbb(void* t,
                                                                       const std::uint64_t* k,
                                                                       std::size_t n) {
  return gb::hash_loop::lookups<tbb_ops>(mt(t), k, n);
}

extern "C" const gb_hash_impl gb_hash_impl_tbb = {
    "tbb",        "TBB's concurrent_hash_map (oneTBB), const_accessor lookups",
    online,       offline,
    create,       destroy,
    insert_keys,  erase_keys,
    gb_hash_lookups_tbb, lookups_timed,
    loop,         size,
    quiesce,      nullptr,  // settle: it grows synchronously
};
