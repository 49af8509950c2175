/* bench/hash_map_bench_lfht.c — liburcu's cds_lfht for hash_map_bench.cpp,
 * compiled as C (liburcu 0.13's inline read side is written for C).
 * memb flavor, _LGPL_SOURCE: rcu_read_lock/unlock inline, as a liburcu user
 * who cares about speed builds it. */
#define _LGPL_SOURCE 1
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <urcu/urcu-memb.h>
#include <urcu/rculfhash.h>

struct hm_lfht_node {
  struct cds_lfht_node node;
  uint64_t key;
  uint64_t value;
  struct rcu_head rh;
};

static struct cds_lfht *g_ht;

static int match(struct cds_lfht_node *n, const void *key) {
  return ((struct hm_lfht_node *)n)->key == *(const uint64_t *)key;
}

void hm_lfht_thread_online(void) { urcu_memb_register_thread(); }
void hm_lfht_thread_offline(void) { urcu_memb_unregister_thread(); }

/* auto_resize: start at 1 bucket and let the table grow; else size for n. */
void hm_lfht_create(uint64_t n, int auto_resize) {
  uint64_t size = 1;
  while (!auto_resize && size < n) size <<= 1; /* must be a power of two */
  g_ht = cds_lfht_new_flavor(size, 1, 0,
                             auto_resize ? CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING : 0,
                             &urcu_memb_flavor, NULL);
  if (!g_ht) abort();
}

/* The same mixed hash grace uses, so both tables see equally good hashes. */
static inline uint64_t mixh(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

void hm_lfht_insert(const uint64_t *keys, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) {
    struct hm_lfht_node *x = malloc(sizeof *x);
    cds_lfht_node_init(&x->node);
    x->key = keys[i];
    x->value = keys[i] * 3;
    urcu_memb_read_lock();
    cds_lfht_add_unique(g_ht, mixh(keys[i]), match, &x->key, &x->node);
    urcu_memb_read_unlock();
  }
}

/* n lookups, each in its own read-side section; returns the sum of values
 * found (so nothing is optimized away). */
uint64_t hm_lfht_lookups(const uint64_t *keys, uint64_t n) {
  uint64_t sum = 0;
  for (uint64_t i = 0; i < n; ++i) {
    struct cds_lfht_iter it;
    urcu_memb_read_lock();
    cds_lfht_lookup(g_ht, mixh(keys[i]), match, &keys[i], &it);
    struct cds_lfht_node *nd = cds_lfht_iter_get_node(&it);
    if (nd) sum += ((struct hm_lfht_node *)nd)->value;
    urcu_memb_read_unlock();
  }
  return sum;
}

static void free_node(struct rcu_head *h) {
  free((char *)h - offsetof(struct hm_lfht_node, rh));
}

void hm_lfht_destroy(void) {
  struct cds_lfht_iter it;
  struct cds_lfht_node *nd;
  urcu_memb_read_lock();
  cds_lfht_for_each(g_ht, &it, nd) {
    cds_lfht_del(g_ht, nd);
    urcu_memb_call_rcu(&((struct hm_lfht_node *)nd)->rh, free_node);
  }
  urcu_memb_read_unlock();
  urcu_memb_barrier();
  cds_lfht_destroy(g_ht, NULL);
}
