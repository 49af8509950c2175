/* bench/impl_urcu_memb.c — liburcu, the memb flavor (membarrier; the peer grace is compared with first). */
#define _LGPL_SOURCE
#include <urcu/urcu-memb.h>

#define GB_URCU_FLAVOR memb
#define GB_URCU_IMPL gb_impl_urcu_memb
#define GB_URCU_NAME "liburcu"
#define GB_URCU_CAPS (GB_CAP_READ | GB_CAP_NESTED | GB_CAP_SYNC | GB_CAP_RETIRE)
#include "urcu_adapter.inc"
