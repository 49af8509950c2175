// grace/detail/reader.hpp — the read side: what rcu_domain::lock()/unlock()
// compile to in the caller.
//
// Algorithm (docs/design/grace-period.md): each thread owns one 64-bit reader
// word in initial-exec TLS.  The outermost lock() copies the global grace-period
// word into it (a plain load and a plain store on x86); unlock() decrements it.
// A writer starts a grace period by advancing the sequence in the global word,
// forces a full barrier on every running thread with one
// membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), and then waits until every
// registered reader word is either outside a section (nest == 0) or was
// entered after the new sequence was published.  A 47-bit sequence (instead of
// liburcu's one parity bit) is what lets one membarrier and one scan suffice.
//
// Reader word layout:
//
//   63                                 17   16   15   14             0
//  +-------------------------------------+----+----+-----------------+
//  |  S: grace-period sequence (47 bits) | F  | L  |   N: nesting    |
//  +-------------------------------------+----+----+-----------------+
//
//   N  nesting depth; 0 = outside any read-side section.
//   L  "limit" bit: never set in a well-formed word.  A nested lock that would
//      set it (overflow) or an unlock from N == 0 (underflow, which borrows
//      through N) leaves it set, and both lock() and the grace-period scan
//      report the misuse.
//   F  fence mode: set when membarrier(2) is unavailable.  A word with F set
//      never takes the inline outermost path, so each outermost lock() goes
//      through read_lock_slow(), which adds a full fence (the "mb" flavor).
//   S  the grace-period sequence the section was entered under.
//
// The global word (read_side_globals::gp_word) has the same layout with N == 1,
// so the outermost lock() is a single copy.  The unregistered sentinel is a
// word with F set and S == 0: its first lock() falls to the slow path, which
// registers the thread.
//
// Cost of an outermost lock()+unlock() pair in membarrier mode on x86-64:
// 9 instructions with g++ (lock: load, test, branch, load of the global
// word, store; unlock: one `subq` on the TLS word, flag load, test, branch),
// about 10 with clang; no fence, no lock prefix, no call
// (tests/perfcheck checks the built code).
#pragma once

#include <cstdint>

#include "grace/detail/atomic.hpp"

#if !defined(GRACE_CHECKED)
#if defined(NDEBUG)
#define GRACE_CHECKED 0
#else
#define GRACE_CHECKED 1
#endif
#endif

#if !defined(GRACE_X86_TLS_DECREMENT)
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(GRACE_TSAN) && \
    !(defined(GRACE_DEBUG_YIELD) && GRACE_DEBUG_YIELD)
#define GRACE_X86_TLS_DECREMENT 1
#else
#define GRACE_X86_TLS_DECREMENT 0
#endif
#endif

namespace grace::detail {

inline constexpr std::uint64_t kNestMask = 0x7fff;      // N
inline constexpr std::uint64_t kNestLimitBit = 0x8000;  // L
inline constexpr std::uint64_t kFenceBit = 0x10000;     // F
inline constexpr int kSeqShift = 17;                    // S
inline constexpr std::uint64_t kSeqMask = ~std::uint64_t{0} << kSeqShift;
inline constexpr std::uint64_t kMaxNesting = kNestMask;
// A thread that has never locked: F set (no inline path), S == 0.
inline constexpr std::uint64_t kUnregisteredWord = kFenceBit;
// The global word before the first grace period: S == 1, N == 1.
inline constexpr std::uint64_t kInitialGpWord = (std::uint64_t{1} << kSeqShift) | 1;

// Bits of read_side_globals::unlock_flags.  Any bit sends unlock() to
// read_unlock_slow().
inline constexpr std::uint32_t kWriterSleeping = 1;  // a grace period sleeps on the futex
inline constexpr std::uint32_t kFenceMode = 2;       // no membarrier: unlock fences

// What every reader reads; written only by grace-period leaders.  One cache
// line, read-mostly: it changes once per grace period.
struct alignas(64) read_side_globals {
  // The word an outermost lock() copies: S of the latest grace period to
  // start, F, and N == 1.
  //   writers: the grace-period leader (under the leader lock), [GP1].
  //   readers: every outermost lock(), [RD1].
  atomic<std::uint64_t> gp_word{kInitialGpWord};
  // kWriterSleeping | kFenceMode.
  //   writers: the grace-period leader around its futex sleep; start-up
  //            (fence mode, before any reader exists).
  //   readers: every unlock() (relaxed: see [RD4]).
  atomic<std::uint32_t> unlock_flags{0};
};

extern read_side_globals g_read_side;

// This thread's reader word.  Constant-initialized and trivially destructible,
// so accessing it needs no TLS wrapper call; initial-exec, so no
// __tls_get_addr even from the shared library.
//   writer: the owning thread only (plain loads suffice for its own reads).
//   readers: grace-period scans, with acquire ([GP3]).
extern constinit thread_local atomic<std::uint64_t> tls_reader_word
    __attribute__((tls_model("initial-exec")));

// Out-of-line paths (src/reader.cpp).
void read_lock_slow(std::uint64_t word) noexcept;  // register, fence mode, misuse
void read_unlock_slow() noexcept;                  // wake a sleeping writer, fence mode
[[noreturn]] void report_unbalanced_unlock() noexcept;

inline void read_lock() noexcept {
  // Relaxed: only this thread writes its own word.
  const std::uint64_t word = tls_reader_word.load(std::memory_order_relaxed);
  if ((word & (kNestMask | kFenceBit | kNestLimitBit)) == 0) [[likely]] {
    // Outermost lock, membarrier mode.
    // [RD1] acquire pairs with [GP1]'s release in start_grace_period(): a
    // section entered under the new sequence sees everything the updater
    // did before starting the grace period (e.g. the unpublished pointer),
    // so the scan may treat it as already quiescent.
    // [RD1'] the release store pairs with [GP3]'s acquire load: a scan that
    // reads this word also sees the end of this thread's previous section.
    tls_reader_word.store(g_read_side.gp_word.load(std::memory_order_acquire),
                          std::memory_order_release);
    // [RD2] compiler barrier: the section's loads stay after the store above.
    // The hardware store->load order it needs is supplied by [GP2]
    // (membarrier) on the writer side.
    compiler_fence();
    return;
  }
  const std::uint64_t next = word + 1;
  if ((word & kNestMask) != 0 && ((word | next) & kNestLimitBit) == 0) [[likely]] {
    // Nested lock: relaxed, because the scan's verdict does not change while
    // N stays non-zero with the same S.
    tls_reader_word.store(next, std::memory_order_relaxed);
    return;
  }
  read_lock_slow(word);
}

// The release store [RD3] of unlock(): word - 1.
inline void release_reader_word() noexcept {
#if GRACE_X86_TLS_DECREMENT
  // One instruction, `subq $1, %fs:word`: an unlocked read-modify-write is
  // fine for a word only this thread writes, and an x86 store is a release
  // store; the memory clobber is the compiler half of the release.  (g++ 12
  // does not fuse the atomic load/sub/store below into one instruction;
  // clang does.  TSAN and yield-injection builds keep the atomic store.)
  asm volatile("subq $1, %0" : "+m"(tls_reader_word.raw()) : : "memory", "cc");
#else
  // [RD3] (see read_unlock()).  Relaxed load: only this thread writes it.
  tls_reader_word.store(tls_reader_word.load(std::memory_order_relaxed) - 1,
                        std::memory_order_release);
#endif
}

inline void read_unlock() noexcept {
#if GRACE_CHECKED
  const std::uint64_t word = tls_reader_word.load(std::memory_order_relaxed);
  if ((word & kNestMask) == 0 || (word & kNestLimitBit) != 0) report_unbalanced_unlock();
#endif
  // [RD3] release pairs with [GP3]'s acquire load in the scan: every access
  // of the section happens before the updater's reclamation.  (Unchecked
  // builds: an unlock from N == 0 borrows into L, which the scan and the
  // next lock() report.)
  release_reader_word();
  // [RD4] compiler barrier, then a relaxed load of the flags: the hardware
  // store->load order between [RD3] and this load is supplied by the
  // membarrier in [GP5] (the sleeping writer's handshake); in fence mode the
  // flags are never zero and read_unlock_slow() fences.
  compiler_fence();
  if (g_read_side.unlock_flags.load(std::memory_order_relaxed) != 0) [[unlikely]] {
    read_unlock_slow();
  }
}

// Depth of this thread's read-side nesting (0 = not in a section).
inline std::uint32_t read_nesting() noexcept {
  const std::uint64_t word = tls_reader_word.load(std::memory_order_relaxed);
  return word == kUnregisteredWord ? 0 : static_cast<std::uint32_t>(word & kNestMask);
}

}  // namespace grace::detail
