// examples/stall_hook.cpp — RCU stall warnings.  A reader stays inside its
// read-side section while the main thread waits for a grace period; after the
// stall timeout (50 ms here, 10 s by default) the grace period reports the
// reader once through the hook, which here also tells the reader to leave.
// Exit 0 when the hook fired once, for that reader, after at least 50 ms.
#include <grace/rcu.hpp>
#include <grace/reclaim.hpp>

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

struct report {
  std::atomic<int> calls{0};
  std::atomic<int> tid{0};
  std::atomic<long long> ms{0};
};

// Runs on the thread running the grace period: must not wait for one.
void on_stall(const grace::rcu_stall_info& info, void* ctx) {
  auto* r = static_cast<report*>(ctx);
  r->tid.store(info.tid);
  r->ms.store(std::chrono::duration_cast<std::chrono::milliseconds>(info.duration).count());
  r->calls.fetch_add(1);
}

int main() {
  report r;
  grace::rcu_set_stall_timeout(std::chrono::milliseconds(50));
  grace::rcu_set_stall_hook(on_stall, &r);
  std::atomic<int> reader_tid{0};
  std::thread reader([&] {
    std::scoped_lock guard(grace::rcu_default_domain());
    reader_tid.store(static_cast<int>(syscall(SYS_gettid)));
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (r.calls.load() == 0 && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  while (reader_tid.load() == 0) std::this_thread::yield();
  grace::rcu_synchronize();  // blocked by the reader until the hook fires
  reader.join();
  grace::rcu_set_stall_hook(nullptr, nullptr);  // back to the stderr default
  std::printf("stall_hook: %d report(s), thread %d (reader %d), %lld ms\n", r.calls.load(),
              r.tid.load(), reader_tid.load(), r.ms.load());
  return r.calls.load() == 1 && r.tid.load() == reader_tid.load() && r.ms.load() >= 50 ? 0 : 1;
}
