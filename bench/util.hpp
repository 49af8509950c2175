// bench/util.hpp — clocks, statistics, memory and syscall probes, and the
// allocation/reclaim accounting every adapter reports into (probe.cpp).
#pragma once

#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "impl_ops.h"

namespace gb {

inline std::int64_t now_ns() { return gb_now_ns(); }

// Median of v (v is copied); NaN when empty.
double median(std::vector<double> v);
// q in [0, 1], nearest-rank on a copy; NaN when empty.
double percentile(std::vector<double> v, double q);

// Resident set size from /proc/self/statm, in bytes.
std::uint64_t rss_bytes();
// Gives freed heap back to the kernel (malloc_trim), so that one
// implementation's flood does not inflate the next one's RSS.
void trim_heap();

// Objects allocated by alloc_obj() and not yet reclaimed (all adapters).
std::int64_t live_objects();
// Objects reclaimed so far (all adapters).
std::uint64_t reclaimed_objects();

// Retire-to-free latency: while recording, each reclaim of an object with a
// non-zero retire_ns appends (now - retire_ns) to a preallocated buffer.
void start_latency_recording(std::size_t capacity);
std::vector<double> stop_latency_recording();  // nanoseconds

// membarrier(2) calls made through syscall(3) by anyone in the process
// (grace and liburcu both issue it that way): syscall_count.cpp.
std::uint64_t membarrier_syscalls();

// Runs fn on a new thread bracketed by impl's thread_online/offline.
std::thread impl_thread(const gb_impl& impl, std::function<void()> fn);

// Busy-waits (pausing) until now_ns() >= deadline.
void spin_until(std::int64_t deadline_ns);

}  // namespace gb
