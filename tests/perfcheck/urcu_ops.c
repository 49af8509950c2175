/* tests/perfcheck/urcu_ops.c — the liburcu memb operations measured beside
 * grace's (read_pair.cpp has the driver and the grace side).  C, as liburcu's
 * users write it, with the inlined read-side fast path (_LGPL_SOURCE). */
#define _LGPL_SOURCE
#include <urcu/urcu-memb.h>

#define PERFCHECK_OP __attribute__((noinline))
#define PERFCHECK_X8(stmt) \
  stmt;                    \
  stmt;                    \
  stmt;                    \
  stmt;                    \
  stmt;                    \
  stmt;                    \
  stmt;                    \
  stmt

enum { kMaxBatch = 4000 }; /* as in read_pair.cpp */
static struct rcu_head g_heads[kMaxBatch];

static void noop_callback(struct rcu_head* head) { (void)head; }

PERFCHECK_OP void urcu_read_pair(void) {
  urcu_memb_read_lock();
  urcu_memb_read_unlock();
}

PERFCHECK_OP void urcu_read_pair_x8(void) {
  PERFCHECK_X8(urcu_memb_read_lock(); urcu_memb_read_unlock());
}

PERFCHECK_OP void urcu_nested_read_pair(void) {
  urcu_memb_read_lock();
  urcu_memb_read_unlock();
}

PERFCHECK_OP void urcu_nested_read_pair_x8(void) {
  PERFCHECK_X8(urcu_memb_read_lock(); urcu_memb_read_unlock());
}

PERFCHECK_OP void urcu_synchronize(void) { urcu_memb_synchronize_rcu(); }

PERFCHECK_OP void urcu_call_rcu(struct rcu_head* head) { urcu_memb_call_rcu(head, noop_callback); }

void urcu_register(void) { urcu_memb_register_thread(); }
void urcu_lock(void) { urcu_memb_read_lock(); }
void urcu_unlock(void) { urcu_memb_read_unlock(); }
void urcu_barrier(void) { urcu_memb_barrier(); }
struct rcu_head* urcu_head(long i) { return &g_heads[i]; }
