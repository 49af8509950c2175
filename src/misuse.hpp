// src/misuse.hpp — how grace reports misuse (docs/misuse.md).
//
// Every message starts with "grace: " and names the call.  A misuse that
// would deadlock or corrupt the reader state aborts in every build; the
// others abort in checked builds (GRACE_CHECKED, default: !NDEBUG of the
// library build) and only print in release builds.
#pragma once

namespace grace::detail {

enum class misuse_action { abort_always, abort_if_checked };

// Prints "grace: <call>: <what>" and aborts according to `action`.
void report_misuse(const char* call, const char* what, misuse_action action) noexcept;

// Prints "grace: <message>" on stderr (one write(2), async-signal-safe).
void print_message(const char* message) noexcept;

}  // namespace grace::detail
