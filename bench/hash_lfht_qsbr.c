/* bench/hash_lfht_qsbr.c — cds_lfht with liburcu's qsbr flavor, the flavor
 * liburcu's own test_urcu_hash uses (impl "cds_lfht_qsbr"; `grace-bench
 * urcu_hash` only). */
#define _LGPL_SOURCE 1
#define GB_LFHT_QSBR 1
#include <stddef.h>
#include <urcu/urcu-qsbr.h>

#define GB_LFHT_FLAVOR qsbr
#define GB_LFHT_IMPL gb_hash_impl_cds_lfht_qsbr
#define GB_LFHT_NAME "cds_lfht_qsbr"
#define GB_LFHT_WHAT "liburcu's rculfhash, qsbr flavor (test_urcu_hash's), read side empty"
#define GB_LFHT_LOOKUPS gb_hash_lookups_cds_lfht_qsbr
#include "hash_lfht.inc"
