// bench/impls.hpp — the implementations compiled into this grace-bench.
#pragma once

#include <string>
#include <vector>

#include "impl_ops.h"

namespace gb {

// grace first, then the peers that were found at build time.
const std::vector<const gb_impl*>& compiled_impls();
// "liburcu, liburcu_qsbr, ... compiled; skipped: ck_epoch (libck-dev not found)".
std::string peers_description();
// Names that exist in some build of grace-bench but not in this one.
std::vector<std::string> skipped_impls();

}  // namespace gb
