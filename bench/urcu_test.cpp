// bench/urcu_test.cpp — see urcu_test.hpp.
#include "urcu_test.hpp"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "util.hpp"

namespace gb {
namespace {

// In retire mode an implementation with an unbounded callback queue could
// take all memory; past this many pending objects the writer waits in
// barrier (counted in its update rate).
constexpr std::int64_t kMaxPending = 1'000'000;

gb_payload* exchange(gb_shared& s, gb_payload* n) {
  return std::atomic_ref(s.ptr).exchange(n, std::memory_order_acq_rel);
}

void poison_free(gb_payload* p) {
  if (p == nullptr) return;
  p->value = 0;
  delete p;
}

std::uint64_t writer_loop(const gb_impl& impl, gb_shared& s, const urcu_params& p,
                          const std::atomic<bool>& stop) {
  std::uint64_t writes = 0;
  std::vector<gb_payload*> queue;
  const std::int64_t live0 = live_objects();
  while (!stop.load(std::memory_order_relaxed)) {
    if (p.retire) {
      gb_payload* old = exchange(s, impl.alloc_obj());
      if (p.wdur != 0) gb_loop_sleep(p.wdur);
      impl.retire_objs(&old, 1);
      if (live_objects() - live0 > kMaxPending) impl.barrier();
    } else if (impl.write_lock != nullptr) {
      auto* n = new gb_payload{GB_LIVE, 0};
      impl.write_lock();
      gb_payload* old = exchange(s, n);
      if (p.wdur != 0) gb_loop_sleep(p.wdur);
      impl.write_unlock();
      poison_free(old);
    } else {
      gb_payload* old = exchange(s, new gb_payload{GB_LIVE, 0});
      if (p.wdur != 0) gb_loop_sleep(p.wdur);
      if (p.batch == 0) {
        impl.synchronize();
        poison_free(old);
      } else {
        queue.push_back(old);
        if (queue.size() >= p.batch) {
          impl.synchronize();
          for (gb_payload* q : queue) poison_free(q);
          queue.clear();
        }
      }
    }
    ++writes;
    if (p.wdelay != 0) gb_loop_sleep(p.wdelay);
  }
  if (!queue.empty()) {
    impl.synchronize();
    for (gb_payload* q : queue) poison_free(q);
  }
  return writes;
}

}  // namespace

urcu_counts run_urcu_test(const gb_impl& impl, const urcu_params& p) {
  gb_shared s{nullptr, 0};
  s.ptr = p.retire ? impl.alloc_obj() : new gb_payload{GB_LIVE, 0};
  std::atomic<bool> go{false}, stop{false};
  std::atomic<unsigned> ready{0};
  std::vector<std::uint64_t> reads(p.readers), writes(p.writers);
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < p.readers; ++i) {
    threads.push_back(impl_thread(impl, [&, i] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      reads[i] = impl.read_until_stop(&s, p.rdur);
    }));
  }
  for (unsigned i = 0; i < p.writers; ++i) {
    threads.push_back(impl_thread(impl, [&, i] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      writes[i] = writer_loop(impl, s, p, stop);
      if (p.retire) impl.barrier();  // ck: this thread's record
    }));
  }
  while (ready.load() != p.readers + p.writers) std::this_thread::yield();
  const std::int64_t t0 = now_ns();
  go.store(true, std::memory_order_release);
  std::this_thread::sleep_for(std::chrono::duration<double>(p.seconds));
  std::atomic_ref(s.stop).store(1, std::memory_order_relaxed);
  stop.store(true, std::memory_order_relaxed);
  for (auto& t : threads) t.join();
  urcu_counts c;
  c.seconds = static_cast<double>(now_ns() - t0) / 1e9;
  for (auto r : reads) c.reads += r;
  for (auto w : writes) c.writes += w;
  // No reader is left: the last object can go directly.
  if (p.retire) {
    std::thread t = impl_thread(impl, [&] {
      impl.retire_objs(&s.ptr, 1);
      impl.barrier();
    });
    t.join();
  } else {
    poison_free(s.ptr);
  }
  return c;
}

}  // namespace gb
