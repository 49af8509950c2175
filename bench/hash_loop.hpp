// bench/hash_loop.hpp — the measured loops of hash_ops.h for the C++
// adapters, written once over a policy Ops:
//   static bool lookup(Table&, uint64_t key, uint64_t* value, uint64_t rdur);
//       // in its own read-side section (shared lock, accessor), spinning
//       // gb_loop_sleep(rdur) inside it when rdur != 0
//   static int insert(Table&, uint64_t key, uint64_t value, int add_mode);
//       // 1 added, 0 present (not added, or replaced under GB_ADD_REPLACE)
//   static bool erase(Table&, uint64_t key);
//   static bool rewrite(Table&, uint64_t key);
//       // GB_UPDATE_REWRITE: the value rewritten from the value read (key * 3
//       // stays key * 3); false if key is absent
// Everything here is force-inlined into the adapter's own functions, so each
// table's fast path is inlined into its loop.  bench/hash_lfht.inc is the
// same loops in C for cds_lfht: keep the two in step.
#pragma once

#include <cstdint>
#include <cstdlib>

#include "hash_ops.h"
#include "impl_ops.h"

namespace gb::hash_loop {

#define GB_HASH_INLINE [[gnu::always_inline]] inline

template <class Ops, class Table>
GB_HASH_INLINE std::uint64_t lookups(Table& t, const std::uint64_t* keys, std::size_t n) {
  std::uint64_t hits = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t v = 0;
    if (Ops::lookup(t, keys[i], &v, 0)) {
      if (v != keys[i] * 3) std::abort();  // a wrong value: the table is broken
      ++hits;
    }
  }
  return hits;
}

template <class Ops, class Table>
GB_HASH_INLINE void lookups_timed(Table& t, const std::uint64_t* keys, std::size_t n, float* ns) {
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t v = 0;
    const std::int64_t t0 = gb_now_ns();
    const bool hit = Ops::lookup(t, keys[i], &v, 0);
    ns[i] = static_cast<float>(gb_now_ns() - t0);
    if (hit && v != keys[i] * 3) std::abort();
  }
}

template <class Ops, class Table>
GB_HASH_INLINE std::uint64_t insert_keys(Table& t, const std::uint64_t* keys, std::size_t n,
                                         int mode) {
  std::uint64_t added = 0;
  for (std::size_t i = 0; i < n; ++i) added += static_cast<std::uint64_t>(Ops::insert(t, keys[i], keys[i] * 3, mode));
  return added;
}

template <class Ops, class Table>
GB_HASH_INLINE std::uint64_t erase_keys(Table& t, const std::uint64_t* keys, std::size_t n) {
  std::uint64_t removed = 0;
  for (std::size_t i = 0; i < n; ++i) removed += Ops::erase(t, keys[i]) ? 1 : 0;
  return removed;
}

// hash_ops.h's gb_hash_loop.  The stop flag is read every 64 operations.
template <class Ops, class Table>
GB_HASH_INLINE void loop(Table& t, gb_hash_loop* l) {
  std::uint64_t rng = l->seed | 1;
  const int mode = l->add_mode == GB_ADD_DUP ? GB_ADD_UNIQUE : l->add_mode;
  const std::uint64_t threshold = std::uint64_t{l->update_permille} * 1024 / 1000;  // of 1024
  for (;;) {
    for (int k = 0; k < 64; ++k) {
      const std::uint64_t r = gb_hash_rand(&rng);
      const std::uint64_t key = l->key_base + (r >> 11) % l->key_range;
      if ((r & 1023) >= threshold) {
        std::uint64_t v = 0;
        const bool hit = Ops::lookup(t, key, &v, l->rdur);
        if (hit && v != key * 3) std::abort();
        l->hits += hit ? 1 : 0;
        ++l->lookups;
        continue;
      }
      ++l->updates;
      if (l->update_kind == GB_UPDATE_REWRITE) {
        l->rewrites += Ops::rewrite(t, key) ? 1 : 0;
      } else if ((r >> 10) & 1) {
        if (Ops::insert(t, key, key * 3, mode) != 0) {
          ++l->adds;
        } else {
          ++l->add_exist;
        }
      } else if (Ops::erase(t, key)) {
        ++l->removes;
      }
      if (l->wdelay != 0) gb_loop_sleep(l->wdelay);
    }
    if (__atomic_load_n(l->stop, __ATOMIC_ACQUIRE) != 0) return;
  }
}

}  // namespace gb::hash_loop
