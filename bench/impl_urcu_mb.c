/* bench/impl_urcu_mb.c — liburcu, the mb flavor (fences in readers; what grace's fence flavor compares with). */
#define _LGPL_SOURCE
#include <urcu/urcu-mb.h>

#define GB_URCU_FLAVOR mb
#define GB_URCU_IMPL gb_impl_urcu_mb
#define GB_URCU_NAME "liburcu_mb"
#define GB_URCU_CAPS (GB_CAP_READ | GB_CAP_NESTED | GB_CAP_SYNC)
#include "urcu_adapter.inc"
