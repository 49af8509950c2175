// bench/syscall_count.cpp — counts membarrier(2) calls by interposing
// syscall(3).
//
// grace and liburcu both issue membarrier through glibc's syscall(); a
// definition in the executable takes precedence over libc's for every
// caller in the process (ELF symbol interposition), so both are counted the
// same way, with no strace.  Every call is forwarded unchanged to the real
// syscall().  Six argument registers are forwarded whatever the call: the
// Linux syscall ABI has at most six, and reading unused variadic slots is
// harmless on the ABIs this runs on.
#include <dlfcn.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <cstdint>

#include "util.hpp"

namespace {

using syscall_fn = long (*)(long, ...);
std::atomic<std::uint64_t> g_membarriers{0};

// Looked up on first use.  Not a function-local static: its guard may
// itself wait with syscall(SYS_futex), which would recurse into us.
std::atomic<syscall_fn> g_real{nullptr};

syscall_fn real_syscall() {
  syscall_fn fn = g_real.load(std::memory_order_acquire);
  if (fn == nullptr) {
    fn = reinterpret_cast<syscall_fn>(dlsym(RTLD_NEXT, "syscall"));
    g_real.store(fn, std::memory_order_release);  // idempotent: same value
  }
  return fn;
}

}  // namespace

extern "C" long syscall(long number, ...) __THROW {
  va_list ap;
  va_start(ap, number);
  long a[6];
  for (long& x : a) x = va_arg(ap, long);
  va_end(ap);
#ifdef SYS_membarrier
  if (number == SYS_membarrier) g_membarriers.fetch_add(1, std::memory_order_relaxed);
#endif
  return real_syscall()(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

namespace gb {
std::uint64_t membarrier_syscalls() { return g_membarriers.load(std::memory_order_relaxed); }
}  // namespace gb
