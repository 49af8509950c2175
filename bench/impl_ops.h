/* bench/impl_ops.h — the interface every implementation adapter provides.
 *
 * C and C++ both include this: liburcu and ConcurrencyKit are measured from C
 * translation units (their fast paths are written for C; ck's headers do not
 * compile as C++, and liburcu 0.13's TLS goes through a C++ thread_local
 * wrapper check when compiled as C++), grace and std::shared_mutex from C++.
 *
 * Every loop whose cost is being measured (read_pairs, read_pairs_nested,
 * read_until_stop, retire_objs) lives inside the adapter, so the
 * implementation's inline fast path is inlined into it; the workloads call
 * the adapter once per batch, never once per operation.
 */
#ifndef GRACE_BENCH_IMPL_OPS_H
#define GRACE_BENCH_IMPL_OPS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The body of every object the retire workloads allocate and retire.  Each
 * adapter embeds it as the FIRST member of its own node (next to its
 * rcu_head / ck_epoch_entry), so a node pointer is a payload pointer. */
struct gb_payload {
  uint64_t value;    /* GB_LIVE while reachable; poisoned (0) before free */
  int64_t retire_ns; /* CLOCK_MONOTONIC when retired; 0 = not timed */
};
#define GB_LIVE 8u

/* test_urcu's shared state: one published pointer and a stop flag, both
 * accessed with __atomic builtins (the same code in C and C++). */
struct gb_shared {
  struct gb_payload *ptr;
  int stop;
};

enum {
  GB_CAP_READ = 1,   /* read_pairs, read_until_stop, park_in_section */
  GB_CAP_NESTED = 2, /* read_pairs_nested */
  GB_CAP_SYNC = 4,   /* synchronize */
  GB_CAP_RETIRE = 8  /* alloc_obj, retire_objs, barrier */
};

struct gb_impl {
  const char *name; /* as in the CSV: grace, liburcu, liburcu_qsbr, ... */
  unsigned caps;
  /* Every thread that uses the implementation brackets its use with these
   * (liburcu and ck need registration; grace registers by itself). */
  void (*thread_online)(void);
  void (*thread_offline)(void);
  /* n outermost lock+unlock pairs. */
  void (*read_pairs)(uint64_t n);
  /* n lock+unlock pairs nested inside one outer section. */
  void (*read_pairs_nested)(uint64_t n);
  /* test_urcu's reader until s->stop: lock, load s->ptr, check its value,
   * spin rdur_loops, unlock.  Returns the number of reads. */
  uint64_t (*read_until_stop)(struct gb_shared *s, uint64_t rdur_loops);
  /* Enter a section, stay until *release becomes non-zero, leave. */
  void (*park_in_section)(const int *release);
  void (*synchronize)(void);
  /* Lock baselines only (null for RCU): updaters take this lock instead of
   * waiting for a grace period. */
  void (*write_lock)(void);
  void (*write_unlock)(void);
  /* Allocates a node; calls gb_on_alloc() on its payload. */
  struct gb_payload *(*alloc_obj)(void);
  /* Retires n nodes; each one's deleter calls gb_on_reclaim(), then frees. */
  void (*retire_objs)(struct gb_payload *const *objs, size_t n);
  /* Waits until every callback the calling thread queued has run (for ck:
   * those of the calling thread's record). */
  void (*barrier)(void);
};

/* bench/probe.cpp: allocation/reclaim accounting shared by all adapters. */
void gb_on_alloc(struct gb_payload *p);
void gb_on_reclaim(struct gb_payload *p);
int64_t gb_now_ns(void);

#if defined(__x86_64__) || defined(__i386__)
#define GB_CPU_RELAX() __builtin_ia32_pause()
#else
#define GB_CPU_RELAX() __asm__ __volatile__("" ::: "memory")
#endif

/* test_urcu's loop_sleep(): a busy wait of `loops` cpu_relax()es. */
static inline void gb_loop_sleep(uint64_t loops) {
  while (loops-- != 0) GB_CPU_RELAX();
}

/* How often qsbr readers announce a quiescent state (reads). */
#define GB_QSBR_PERIOD 1024u

/* The adapters that were compiled in (bench/impls.cpp lists them). */
extern const struct gb_impl gb_impl_grace;
extern const struct gb_impl gb_impl_shared_mutex;
#ifdef GRACE_BENCH_HAVE_URCU_MEMB
extern const struct gb_impl gb_impl_urcu_memb;
#endif
#ifdef GRACE_BENCH_HAVE_URCU_QSBR
extern const struct gb_impl gb_impl_urcu_qsbr;
#endif
#ifdef GRACE_BENCH_HAVE_URCU_MB
extern const struct gb_impl gb_impl_urcu_mb;
#endif
#ifdef GRACE_BENCH_HAVE_CK
extern const struct gb_impl gb_impl_ck_epoch;
#endif

#ifdef __cplusplus
}
#endif

#endif /* GRACE_BENCH_IMPL_OPS_H */
