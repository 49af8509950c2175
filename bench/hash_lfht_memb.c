/* bench/hash_lfht_memb.c — cds_lfht with liburcu's memb flavor: the peer of
 * grace::hash_map in the hash_* workloads (impl "cds_lfht"). */
#define _LGPL_SOURCE 1
#include <stddef.h>
#include <urcu/urcu-memb.h>

#define GB_LFHT_FLAVOR memb
#define GB_LFHT_IMPL gb_hash_impl_cds_lfht
#define GB_LFHT_NAME "cds_lfht"
#define GB_LFHT_WHAT "liburcu's rculfhash, memb flavor, read side inline"
#define GB_LFHT_LOOKUPS gb_hash_lookups_cds_lfht
#include "hash_lfht.inc"

uint64_t gb_lfht_forced_resizes;
