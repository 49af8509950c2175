// tests/tsan/early_free.cpp — does ThreadSanitizer still see an early free?
//
//   tsan_early_free --early-free   the updater deletes the old object right
//                                  after the exchange: TSAN must report it
//   tsan_early_free --correct      it waits for a grace period first
//                                  (rcu_synchronize, or rcu_retire with a
//                                  deleter that writes): TSAN must be silent
//   [--iterations N]               default 400
//
// grace annotates its grace periods for TSAN (detail::tsan_release/acquire
// and release/acquire on the reader words).  Annotations that were too
// generous (say, a release in every unlock paired with an acquire in every
// exchange) would make TSAN silent about real bugs too; this program keeps
// the proof that they are not.  tests/tsan/CMakeLists.txt runs both modes.
//
// Each iteration is a handshake that puts the free inside the reader's
// section: the reader locks, loads the pointer, reads the object, says
// "inside", and keeps reading it until the updater says "exchanged"; then it
// reads once more and unlocks.  The updater waits for "inside", publishes a
// new object, says "exchanged", frees the old one (at once, or after a grace
// period) and says "freed"; the reader waits for that, outside any section,
// before its next one (waiting inside would deadlock the grace period).  The
// handshake flags are relaxed atomics on purpose: TSAN derives no
// happens-before from them, so the only ordering between the reader's
// accesses and the free is what grace provides.  In --correct mode the
// reader's last read happens before its unlock and the free after the grace
// period; in --early-free mode they are unordered, and TSAN reports the pair
// (a data race with the free, or a heap-use-after-free) in the first
// iteration.
#include <grace/rcu.hpp>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

namespace {

constexpr int kWords = 8;

struct object {
  std::uint64_t v[kWords];
};

grace::rcu_ptr<object> g_ptr;
// Handshake (relaxed: see the banner).
std::atomic<int> g_inside{-1};     // written by the reader: iteration it is in
std::atomic<int> g_exchanged{-1};  // written by the updater: iteration it replaced
std::atomic<int> g_freed{-1};      // written by the updater: iteration it finished

object* make(std::uint64_t x) {
  auto* o = new object;
  for (std::uint64_t& w : o->v) w = x;
  return o;
}

// Writes before the free, as a poisoning free would.
void poison_and_delete(object* o) {
  std::memset(o->v, 0x6b, sizeof o->v);
  delete o;
}

std::uint64_t read_all(const object* o) {
  std::uint64_t s = 0;
  for (const std::uint64_t& w : o->v) s += *static_cast<const volatile std::uint64_t*>(&w);
  return s;
}

void cpu_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace

int main(int argc, char** argv) {
  bool early = false;
  bool correct = false;
  int iterations = 400;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--early-free") == 0) {
      early = true;
    } else if (std::strcmp(argv[i], "--correct") == 0) {
      correct = true;
    } else if (std::strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) {
      iterations = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: tsan_early_free --early-free|--correct [--iterations N]\n");
      return 2;
    }
  }
  if (early == correct) {
    std::fprintf(stderr, "tsan_early_free: give exactly one of --early-free, --correct\n");
    return 2;
  }

  g_ptr.store(make(0));
  std::uint64_t sink = 0;

  std::thread reader([&] {
    for (int i = 0; i < iterations; ++i) {
      // Outside any section: the updater may be waiting for a grace period.
      while (g_freed.load(std::memory_order_relaxed) != i - 1) cpu_pause();
      std::scoped_lock section(grace::rcu_default_domain());
      const object* p = g_ptr.load();
      sink += read_all(p);
      g_inside.store(i, std::memory_order_relaxed);
      while (g_exchanged.load(std::memory_order_relaxed) != i) {
        sink += read_all(p);  // the updater may be freeing p right now
        cpu_pause();
      }
      sink += read_all(p);
    }
  });

  for (int i = 0; i < iterations; ++i) {
    while (g_inside.load(std::memory_order_relaxed) != i) cpu_pause();
    object* old = g_ptr.exchange(make(static_cast<std::uint64_t>(i) + 1));
    g_exchanged.store(i, std::memory_order_relaxed);
    if (early) {
      delete old;  // BUG on purpose: no grace period
    } else if (i % 2 == 0) {
      grace::rcu_synchronize();
      poison_and_delete(old);
    } else {
      grace::rcu_retire(old, [](object* o) { poison_and_delete(o); });
    }
    g_freed.store(i, std::memory_order_relaxed);
  }
  reader.join();
  grace::rcu_barrier();
  delete g_ptr.exchange(nullptr);
  std::printf("tsan_early_free: %s, %d iterations done (checksum %llu)\n",
              early ? "early free" : "correct", iterations, static_cast<unsigned long long>(sink));
  return 0;
}
