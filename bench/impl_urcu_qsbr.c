/* bench/impl_urcu_qsbr.c — liburcu, the qsbr flavor (free readers, explicit quiescent states). */
#define _LGPL_SOURCE
#define GB_URCU_QSBR 1
#include <urcu/urcu-qsbr.h>

#define GB_URCU_FLAVOR qsbr
#define GB_URCU_IMPL gb_impl_urcu_qsbr
#define GB_URCU_NAME "liburcu_qsbr"
/* No GB_CAP_NESTED: qsbr's lock/unlock are empty, a nested pair costs nothing. */
#define GB_URCU_CAPS (GB_CAP_READ | GB_CAP_SYNC)
#include "urcu_adapter.inc"
