// src/misuse.cpp — misuse reports (docs/misuse.md).
#include "misuse.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace grace::detail {

void print_message(const char* message) noexcept {
  char buf[512];
  const int n = std::snprintf(buf, sizeof buf, "grace: %s\n", message);
  if (n > 0) {
    const ssize_t written = ::write(STDERR_FILENO, buf, static_cast<size_t>(n) < sizeof buf
                                                            ? static_cast<size_t>(n)
                                                            : sizeof buf - 1);
    (void)written;
  }
}

void report_misuse(const char* call, const char* what, misuse_action action) noexcept {
  char buf[400];
  std::snprintf(buf, sizeof buf, "%s: %s", call, what);
  print_message(buf);
#if defined(NDEBUG) && !(defined(GRACE_CHECKED) && GRACE_CHECKED)
  if (action == misuse_action::abort_if_checked) return;
#else
  (void)action;
#endif
  std::abort();
}

}  // namespace grace::detail
