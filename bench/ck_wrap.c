/* bench/ck_wrap.c — the ConcurrencyKit ck_epoch adapter, in C because
 * ck's headers do not compile as C++.
 *
 * Mapping: one ck_epoch_t for the process; each thread takes a record
 * (ck_epoch_recycle, else ck_epoch_register) in thread_online and gives it
 * back in thread_offline.  lock/unlock = ck_epoch_begin/end (inline);
 * synchronize = ck_epoch_synchronize; retire = ck_epoch_call plus a
 * ck_epoch_poll every GB_CK_POLL_EVERY calls (ck runs deferred callbacks only
 * when their record's owner polls: it has no worker thread); barrier =
 * ck_epoch_barrier on the calling thread's record.
 */
#include <ck_epoch.h>
#include <pthread.h>
#include <stdlib.h>

#include "impl_ops.h"

#define GB_CK_POLL_EVERY 1024u

struct gb_ck_node {
  struct gb_payload payload; /* first: node pointer == payload pointer */
  ck_epoch_entry_t entry;
};

static ck_epoch_t gb_ck_epoch;
static pthread_once_t gb_ck_once = PTHREAD_ONCE_INIT;
static __thread ck_epoch_record_t *gb_ck_record;
static __thread unsigned gb_ck_calls;

static void gb_ck_init(void) { ck_epoch_init(&gb_ck_epoch); }

static void gb_ck_online(void) {
  pthread_once(&gb_ck_once, gb_ck_init);
  if (gb_ck_record != NULL) return;
  ck_epoch_record_t *r = ck_epoch_recycle(&gb_ck_epoch, NULL);
  if (r == NULL) {
    r = malloc(sizeof *r);
    if (r == NULL) abort();
    ck_epoch_register(&gb_ck_epoch, r, NULL);
  }
  gb_ck_record = r;
}

static void gb_ck_offline(void) {
  if (gb_ck_record == NULL) return;
  ck_epoch_barrier(gb_ck_record); /* run what this record still holds */
  ck_epoch_unregister(gb_ck_record);
  gb_ck_record = NULL;
}

static void gb_ck_read_pairs(uint64_t n) {
  ck_epoch_record_t *r = gb_ck_record;
  for (uint64_t i = 0; i < n; ++i) {
    ck_epoch_begin(r, NULL);
    ck_epoch_end(r, NULL);
  }
}

static void gb_ck_read_pairs_nested(uint64_t n) {
  ck_epoch_record_t *r = gb_ck_record;
  ck_epoch_begin(r, NULL);
  for (uint64_t i = 0; i < n; ++i) {
    ck_epoch_begin(r, NULL);
    ck_epoch_end(r, NULL);
  }
  ck_epoch_end(r, NULL);
}

static uint64_t gb_ck_read_until_stop(struct gb_shared *s, uint64_t rdur) {
  ck_epoch_record_t *r = gb_ck_record;
  uint64_t reads = 0;
  for (;;) {
    ck_epoch_begin(r, NULL);
    struct gb_payload *p = __atomic_load_n(&s->ptr, __ATOMIC_CONSUME);
    if (p != NULL && p->value != GB_LIVE) abort(); /* a reader saw freed memory */
    if (rdur != 0) gb_loop_sleep(rdur);
    ck_epoch_end(r, NULL);
    ++reads;
    if (__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) break;
  }
  return reads;
}

static void gb_ck_park(const int *release) {
  ck_epoch_begin(gb_ck_record, NULL);
  while (!__atomic_load_n(release, __ATOMIC_ACQUIRE)) gb_loop_sleep(64);
  ck_epoch_end(gb_ck_record, NULL);
}

static void gb_ck_synchronize(void) { ck_epoch_synchronize(gb_ck_record); }

static struct gb_payload *gb_ck_alloc(void) {
  struct gb_ck_node *n = malloc(sizeof *n);
  if (n == NULL) abort();
  n->payload.value = GB_LIVE;
  n->payload.retire_ns = 0;
  gb_on_alloc(&n->payload);
  return &n->payload;
}

static void gb_ck_free_cb(ck_epoch_entry_t *e) {
  struct gb_ck_node *n =
      (struct gb_ck_node *)(void *)((char *)e - offsetof(struct gb_ck_node, entry));
  gb_on_reclaim(&n->payload);
  free(n);
}

static void gb_ck_retire(struct gb_payload *const *objs, size_t n) {
  ck_epoch_record_t *r = gb_ck_record;
  for (size_t i = 0; i < n; ++i) {
    struct gb_ck_node *node = (struct gb_ck_node *)(void *)objs[i];
    ck_epoch_call(r, &node->entry, gb_ck_free_cb);
    if ((++gb_ck_calls & (GB_CK_POLL_EVERY - 1)) == 0) ck_epoch_poll(r);
  }
}

static void gb_ck_barrier(void) { ck_epoch_barrier(gb_ck_record); }

const struct gb_impl gb_impl_ck_epoch = {
    .name = "ck_epoch",
    .caps = GB_CAP_READ | GB_CAP_NESTED | GB_CAP_SYNC | GB_CAP_RETIRE,
    .thread_online = gb_ck_online,
    .thread_offline = gb_ck_offline,
    .read_pairs = gb_ck_read_pairs,
    .read_pairs_nested = gb_ck_read_pairs_nested,
    .read_until_stop = gb_ck_read_until_stop,
    .park_in_section = gb_ck_park,
    .synchronize = gb_ck_synchronize,
    .write_lock = NULL,
    .write_unlock = NULL,
    .alloc_obj = gb_ck_alloc,
    .retire_objs = gb_ck_retire,
    .barrier = gb_ck_barrier,
};
