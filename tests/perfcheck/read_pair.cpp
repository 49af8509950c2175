// tests/perfcheck/read_pair.cpp — the operations whose machine code and
// instruction counts the perfcheck tests and scripts/insn-count.sh measure.
//
// Every measured operation is an extern "C" noinline function, so that
//   * objdump can disassemble exactly its body (read_pair_no_fences), and
//   * callgrind can count only the instructions executed inside it
//     (--toggle-collect=NAME; read_pair_instructions, insn-count.sh).
// The call and the loop around it are outside the count; the `ret` is inside,
// which is why every measurement also measures empty_op() (a bare `ret`) and
// reports the difference.
//
// This file is compiled -O2 -DNDEBUG whatever the build type (CMakeLists.txt):
// the checks are about the code users get in release builds.  It links the
// built shared libgrace, so TLS and globals are reached as a consumer reaches
// them (initial-exec TLS through the GOT, globals through the GOT).
//
// The liburcu memb flavor (with its inlined fast path, _LGPL_SOURCE) is the
// peer measured in the same run, when the build found it (PERFCHECK_HAVE_URCU).
//
// Usage:
//   read_pair list                     the operations this build has
//   read_pair flavor                   prints grace's flavor (membarrier|fence)
//   read_pair measure N1 N2 OP...      for each OP: warm up, then run it N1
//                                      times and N2 times, each batch followed
//                                      by a callgrind dump named "OP N"
//                                      (no-ops outside valgrind)
//   read_pair loop OP N                runs OP N times (for perf, gdb...)
//
// The bad_* operations exist only for the negative control of
// read_pair_no_fences: each contains one thing the reader fast path must not
// contain, and the check must reject each of them.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "grace/rcu.hpp"

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define PERFCHECK_HAVE_CALLGRIND 1
#else
#define CALLGRIND_ZERO_STATS ((void)0)
#define CALLGRIND_DUMP_STATS_AT(what) ((void)(what))
#define PERFCHECK_HAVE_CALLGRIND 0
#endif

#define PERFCHECK_OP extern "C" __attribute__((noinline))

// Sinks the optimizer cannot remove.  External linkage on purpose: clang
// deletes atomic stores to an internal global that nothing reads.
volatile bool g_sink_bool = false;
std::atomic<unsigned long> g_bad_counter{0};
std::atomic<int> g_bad_flag{0};

// ---- The baseline --------------------------------------------------------

// A bare `ret`.  The asm keeps the compiler from deleting calls to it.
PERFCHECK_OP void empty_op() { asm volatile("" ::: "memory"); }

// ---- grace ---------------------------------------------------------------

// The checked function: an outermost lock()+unlock() pair.
PERFCHECK_OP void grace_read_pair() {
  grace::rcu_default_domain().lock();
  grace::rcu_default_domain().unlock();
}

// A nested pair: measured while the caller holds a section.
PERFCHECK_OP void grace_nested_read_pair() {
  grace::rcu_default_domain().lock();
  grace::rcu_default_domain().unlock();
}

// Eight pairs in a row: (cost(x8) - cost(x1)) / 7 is the marginal cost of one
// pair inlined into code that already has the TLS offset and registers set up
// (what a hot loop pays), free of the function's own prologue and epilogue.
#define PERFCHECK_X8(stmt) \
  stmt;                    \
  stmt;                    \
  stmt;                    \
  stmt;                    \
  stmt;                    \
  stmt;                    \
  stmt;                    \
  stmt

PERFCHECK_OP void grace_read_pair_x8() {
  PERFCHECK_X8(grace::rcu_default_domain().lock(); grace::rcu_default_domain().unlock());
}

PERFCHECK_OP void grace_nested_read_pair_x8() {
  PERFCHECK_X8(grace::rcu_default_domain().lock(); grace::rcu_default_domain().unlock());
}

PERFCHECK_OP void grace_synchronize() { grace::rcu_synchronize(); }

namespace {
void noop_callback_grace(grace::rcu_head*) {}
}  // namespace

PERFCHECK_OP void grace_call_rcu(grace::rcu_head* head) {
  grace::call_rcu(head, noop_callback_grace);
}

// A cookie just taken has not expired: this is the cost of asking.
PERFCHECK_OP void grace_get_poll() {
  g_sink_bool = grace::rcu_poll_state(grace::rcu_get_state());
}

// ---- Negative controls for the machine-code check ------------------------

// A full fence inside the section.
PERFCHECK_OP void bad_fence_pair() {
  grace::rcu_default_domain().lock();
  std::atomic_thread_fence(std::memory_order_seq_cst);
  grace::rcu_default_domain().unlock();
}

// A locked read-modify-write inside the section.
PERFCHECK_OP void bad_rmw_pair() {
  grace::rcu_default_domain().lock();
  g_bad_counter.fetch_add(1, std::memory_order_relaxed);
  grace::rcu_default_domain().unlock();
}

// A seq_cst store (xchg, or mov+mfence).
PERFCHECK_OP void bad_seq_cst_store_pair() {
  grace::rcu_default_domain().lock();
  g_bad_flag.store(1, std::memory_order_seq_cst);
  grace::rcu_default_domain().unlock();
}

// A call out of line (a read side that is a library call).
PERFCHECK_OP void bad_call_pair() {
  grace::rcu_default_domain().lock();
  empty_op();
  grace::rcu_default_domain().unlock();
}

// ---- liburcu memb, the peer (urcu_ops.c) -----------------------------------

#if defined(PERFCHECK_HAVE_URCU)
// Compiled as C, liburcu's own language: in C++ liburcu 0.13 declares its TLS
// with thread_local, whose wrapper adds a test and a call on every access,
// which would make the peer look worse than it is for its C users.
struct rcu_head;
extern "C" {
void urcu_read_pair();
void urcu_read_pair_x8();
void urcu_nested_read_pair();
void urcu_nested_read_pair_x8();
void urcu_synchronize();
void urcu_call_rcu(struct rcu_head* head);
// Not measured: set-up around the batches.
void urcu_register();
void urcu_lock();
void urcu_unlock();
void urcu_barrier();
struct rcu_head* urcu_head(long i);  // the i-th of kMaxBatch heads
}
#endif

// ---- Driver ----------------------------------------------------------------

namespace {

// Room for the largest batch: a head is reused only after a barrier.
constexpr long kMaxBatch = 4000;  // also in urcu_ops.c
grace::rcu_head g_grace_heads[kMaxBatch];

// Runs one operation `n` times (n <= kMaxBatch for the call_rcu ones), with
// whatever set-up it needs around the batch (outside the measured function).
struct op {
  const char* name;
  void (*run)(long n);
};

void run_plain(void (*f)(), long n) {
  for (long i = 0; i < n; ++i) f();
}

#if defined(PERFCHECK_HAVE_URCU)
void ensure_urcu_registered() {
  static bool registered = false;
  if (!registered) {
    urcu_register();
    registered = true;
  }
}
#endif

const op kOps[] = {
    {"empty_op", [](long n) { run_plain(empty_op, n); }},
    {"grace_read_pair", [](long n) { run_plain(grace_read_pair, n); }},
    {"grace_nested_read_pair",
     [](long n) {
       grace::rcu_default_domain().lock();
       run_plain(grace_nested_read_pair, n);
       grace::rcu_default_domain().unlock();
     }},
    {"grace_read_pair_x8", [](long n) { run_plain(grace_read_pair_x8, n); }},
    {"grace_nested_read_pair_x8",
     [](long n) {
       grace::rcu_default_domain().lock();
       run_plain(grace_nested_read_pair_x8, n);
       grace::rcu_default_domain().unlock();
     }},
    {"grace_synchronize", [](long n) { run_plain(grace_synchronize, n); }},
    {"grace_call_rcu",
     [](long n) {
       for (long i = 0; i < n; ++i) grace_call_rcu(&g_grace_heads[i]);
       grace::rcu_barrier();  // the heads are free again
     }},
    {"grace_get_poll", [](long n) { run_plain(grace_get_poll, n); }},
    {"bad_fence_pair", [](long n) { run_plain(bad_fence_pair, n); }},
    {"bad_rmw_pair", [](long n) { run_plain(bad_rmw_pair, n); }},
    {"bad_seq_cst_store_pair", [](long n) { run_plain(bad_seq_cst_store_pair, n); }},
    {"bad_call_pair", [](long n) { run_plain(bad_call_pair, n); }},
#if defined(PERFCHECK_HAVE_URCU)
    {"urcu_read_pair",
     [](long n) {
       ensure_urcu_registered();
       run_plain(urcu_read_pair, n);
     }},
    {"urcu_read_pair_x8",
     [](long n) {
       ensure_urcu_registered();
       run_plain(urcu_read_pair_x8, n);
     }},
    {"urcu_nested_read_pair",
     [](long n) {
       ensure_urcu_registered();
       urcu_lock();
       run_plain(urcu_nested_read_pair, n);
       urcu_unlock();
     }},
    {"urcu_nested_read_pair_x8",
     [](long n) {
       ensure_urcu_registered();
       urcu_lock();
       run_plain(urcu_nested_read_pair_x8, n);
       urcu_unlock();
     }},
    {"urcu_synchronize",
     [](long n) {
       ensure_urcu_registered();
       run_plain(urcu_synchronize, n);
     }},
    {"urcu_call_rcu",
     [](long n) {
       ensure_urcu_registered();
       for (long i = 0; i < n; ++i) urcu_call_rcu(urcu_head(i));
       urcu_barrier();  // the heads are free again
     }},
#endif
};

const op* find_op(std::string_view name) {
  for (const op& o : kOps) {
    if (name == o.name) return &o;
  }
  return nullptr;
}

long parse_count(const char* s) {
  char* end = nullptr;
  const long n = std::strtol(s, &end, 10);
  if (end == s || *end != '\0' || n < 1) {
    std::fprintf(stderr, "read_pair: bad count '%s'\n", s);
    std::exit(2);
  }
  return n;
}

int usage() {
  std::fprintf(stderr,
               "usage: read_pair list | flavor | measure N1 N2 OP... | loop OP N\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string_view mode = argv[1];
  if (mode == "list") {
    for (const op& o : kOps) std::printf("%s\n", o.name);
    return 0;
  }
  if (mode == "flavor") {
    // Registers this thread, which settles the flavor.
    grace_read_pair();
    std::printf("%s\n", grace::rcu_current_flavor() == grace::rcu_flavor::membarrier
                            ? "membarrier"
                            : "fence");
    if (grace::rcu_current_flavor() != grace::rcu_flavor::membarrier) {
      std::printf("reason: %s\n", grace::rcu_flavor_reason());
    }
    std::printf("callgrind client requests: %s\n", PERFCHECK_HAVE_CALLGRIND ? "yes" : "no");
    return 0;
  }
  if (mode == "loop") {
    if (argc != 4) return usage();
    const op* o = find_op(argv[2]);
    if (o == nullptr) {
      std::fprintf(stderr, "read_pair: unknown operation '%s'\n", argv[2]);
      return 2;
    }
    const long n = parse_count(argv[3]);
    for (long done = 0; done < n; done += kMaxBatch) o->run(std::min(kMaxBatch, n - done));
    return 0;
  }
  if (mode == "measure") {
    if (argc < 5) return usage();
    const long n1 = parse_count(argv[2]);
    const long n2 = parse_count(argv[3]);
    if (n1 > kMaxBatch || n2 > kMaxBatch) {
      std::fprintf(stderr, "read_pair: batches are limited to %ld\n", kMaxBatch);
      return 2;
    }
    std::vector<const op*> ops;
    for (int i = 4; i < argc; ++i) {
      const op* o = find_op(argv[i]);
      if (o == nullptr) {
        std::fprintf(stderr, "read_pair: unknown operation '%s'\n", argv[i]);
        return 2;
      }
      ops.push_back(o);
    }
    // Settle one-time costs first: registration, flavor choice, workers.
    for (const op* o : ops) o->run(16);
    for (const op* o : ops) {
      char label[128];
      CALLGRIND_ZERO_STATS;
      o->run(n1);
      std::snprintf(label, sizeof label, "%s %ld", o->name, n1);
      CALLGRIND_DUMP_STATS_AT(label);
      o->run(n2);
      std::snprintf(label, sizeof label, "%s %ld", o->name, n2);
      CALLGRIND_DUMP_STATS_AT(label);
    }
    return 0;
  }
  return usage();
}
