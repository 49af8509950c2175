/* bench/hash_ops.h — the interface every hash-table adapter provides, for the
 * hash_* workloads and the `grace-bench urcu_hash` command line.
 *
 * C and C++ both include this: liburcu's cds_lfht is driven from C (its
 * inline read side is written for C, as in impl_ops.h), grace::hash_map,
 * std::unordered_map + std::shared_mutex and TBB's concurrent_hash_map from
 * C++.
 *
 * As in impl_ops.h, every loop whose cost is measured lives inside the
 * adapter (lookups, the timed lookups, the mixed loop), so each table's
 * inline fast path is inlined into its own loop; the workloads make one
 * indirect call per batch.
 *
 * Tables map uint64_t keys to uint64_t values (value = key * 3, checked by
 * the lookups).  Every table hashes with its own hash: grace::hash_map mixes
 * std::hash<uint64_t> itself; the others get gb_hash_mix() below (the same
 * 64-bit finalizer), so no table is handed a better hash than another.
 */
#ifndef GRACE_BENCH_HASH_OPS_H
#define GRACE_BENCH_HASH_OPS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How an insert treats a key that is present (test_urcu_hash's modes). */
enum {
  GB_ADD_UNIQUE = 0,  /* -u: insert if absent (grace insert, cds_lfht_add_unique) */
  GB_ADD_REPLACE = 1, /* -s: insert or replace (insert_or_assign, cds_lfht_add_replace) */
  GB_ADD_DUP = 2      /* neither: cds_lfht_add (duplicates allowed); tables without
                         duplicate keys run GB_ADD_UNIQUE */
};

/* What the mixed loop's updates are. */
enum {
  GB_UPDATE_INSERT_ERASE = 0, /* half inserts (value = key * 3), half erases */
  GB_UPDATE_REWRITE = 1       /* rewrite a present key's value from the value read:
                                 grace update(), cds_lfht lookup + cds_lfht_replace
                                 (the old node through call_rcu), unordered_map and
                                 TBB in place under their exclusive lock */
};

/* A mixed loop, run by one thread until *stop becomes non-zero.  Each
 * operation draws i uniformly from [0, key_range) and uses key
 * key_base + i (raw: tables hash it); with probability update_permille/1000
 * it is an update (update_kind), else a lookup.  test_urcu_hash's reader is
 * update_permille = 0, its writer 1000. */
struct gb_hash_loop {
  const int *stop;           /* read with __atomic_load_n (acquire) */
  uint64_t seed;             /* per thread, non-zero */
  uint64_t key_base;
  uint64_t key_range;        /* > 0 */
  uint32_t update_permille;  /* 0..1000 */
  int add_mode;              /* GB_ADD_* */
  int update_kind;           /* GB_UPDATE_* */
  uint64_t rdur;             /* gb_loop_sleep() loops inside each lookup's section */
  uint64_t wdelay;           /* gb_loop_sleep() loops after each update */
  /* Out: counts, as test_urcu_hash names them. */
  uint64_t lookups, hits;
  uint64_t updates;          /* inserts + erases attempted */
  uint64_t adds;             /* keys added */
  uint64_t add_exist;        /* insert found the key (-u: failed; -s: replaced) */
  uint64_t removes;          /* keys erased */
  uint64_t rewrites;         /* values rewritten (GB_UPDATE_REWRITE; key present) */
};

struct gb_hash_impl {
  const char *name; /* as in the CSV: grace, cds_lfht, unordered_map, tbb */
  const char *what; /* one line for the README and --list */
  /* Every thread that uses a table brackets its use with these. */
  void (*thread_online)(void);
  void (*thread_offline)(void);
  /* A new empty table.  presize != 0: sized for that many keys up front (grace
   * reserve(), cds_lfht's initial bucket count, unordered_map::reserve, TBB's
   * bucket count); 0: the smallest table, grown on demand.  auto_resize: for
   * cds_lfht, CDS_LFHT_AUTO_RESIZE (the others always resize).
   * min_buckets/max_buckets: cds_lfht's min_nr_alloc_buckets and
   * max_nr_buckets (0: defaults); ignored by the others. */
  void *(*create)(uint64_t presize, int auto_resize, uint64_t min_buckets, uint64_t max_buckets);
  /* No concurrent use; deferred frees are waited for. */
  void (*destroy)(void *t);
  /* Inserts keys[0..n) (value = key * 3); returns how many were added. */
  uint64_t (*insert_keys)(void *t, const uint64_t *keys, size_t n, int add_mode);
  /* Erases keys[0..n); returns how many were present. */
  uint64_t (*erase_keys)(void *t, const uint64_t *keys, size_t n);
  /* n lookups, each in its own read-side section (or shared lock / accessor),
   * reading the value as a caller of get() would; returns the hits.  Each
   * adapter's is an extern "C" noinline function named
   * gb_hash_lookups_<name>, so callgrind can count just it. */
  uint64_t (*lookups)(void *t, const uint64_t *keys, size_t n);
  /* The same, each lookup timed alone (clock read before and after): ns[i]. */
  void (*lookups_timed)(void *t, const uint64_t *keys, size_t n, float *ns);
  /* The mixed loop above. */
  void (*loop)(void *t, struct gb_hash_loop *l);
  /* Elements (exact when quiescent). */
  uint64_t (*size)(void *t);
  /* Waits until every element this thread erased or replaced is freed. */
  void (*quiesce)(void);
  /* Optional (null: nothing to do): finishes a growth that a fill left
   * pending, so that lookups measure the table a fill ends with.  key: one
   * present key, which it may erase and insert again (value key * 3).
   * Returns how many updates that took (0: the growth was done). */
  uint64_t (*settle)(void *t, uint64_t key);
};

/* The 64-bit finalizer of MurmurHash3 (fmix64). */
static inline uint64_t gb_hash_mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

/* xorshift64*: the loops' random numbers (state must be non-zero). */
static inline uint64_t gb_hash_rand(uint64_t *state) {
  uint64_t x = *state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return x * 0x2545f4914f6cdd1dULL;
}

/* cds_lfht: resizes the adapter forced because liburcu's auto-resize had
 * stopped (bench/hash_lfht.inc explains); both flavors count here. */
extern uint64_t gb_lfht_forced_resizes;

/* Adapters compiled in (bench/hash_impls.cpp lists them). */
extern const struct gb_hash_impl gb_hash_impl_grace;
extern const struct gb_hash_impl gb_hash_impl_unordered_map;
#ifdef GRACE_BENCH_HAVE_LFHT
extern const struct gb_hash_impl gb_hash_impl_cds_lfht;
extern const struct gb_hash_impl gb_hash_impl_cds_lfht_qsbr;
#endif
#ifdef GRACE_BENCH_HAVE_TBB
extern const struct gb_hash_impl gb_hash_impl_tbb;
#endif

#ifdef __cplusplus
}
#endif

#endif /* GRACE_BENCH_HASH_OPS_H */
