// examples/config_pointer.cpp — the README example: a configuration read on
// every request and replaced rarely.  A reader thread checks every config it
// sees; the main thread replaces it 20000 times and retires the old ones.
// Exit 0 when no reader saw a torn or destroyed config and every retired one
// was freed after rcu_barrier().
#include <grace/rcu.hpp>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>

std::atomic<long> g_live{0};  // configs constructed and not yet destroyed

struct config : grace::rcu_obj_base<config> {
  int timeout_ms;
  int check;  // -timeout_ms while alive; the destructor overwrites it
  explicit config(int ms) : timeout_ms(ms), check(-ms) { g_live.fetch_add(1); }
  ~config() { check = 0; g_live.fetch_sub(1); }
};

grace::rcu_ptr<config> current{new config(100)};

int timeout() {  // any thread, any time: no lock, no atomic RMW, no fence
  std::scoped_lock guard(grace::rcu_default_domain());
  const config* c = current.load();
  return c->check == -c->timeout_ms ? c->timeout_ms : -1;
}

void set_timeout(int ms) {  // one updater here; several would need a mutex
  config* old = current.exchange(new config(ms));
  old->retire();  // deleted after a grace period, on the domain's worker
}

int main() {
  std::atomic<bool> stop{false};
  std::atomic<long> reads{0}, bad{0};
  std::thread reader([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      if (timeout() < 0) bad.fetch_add(1);
      reads.fetch_add(1, std::memory_order_relaxed);
    }
  });
  while (reads.load() == 0) std::this_thread::yield();  // overlap the updates
  for (int ms = 101; ms <= 20100; ++ms) set_timeout(ms);
  stop.store(true);
  reader.join();
  const int last = timeout();
  grace::rcu_barrier();  // every retired config has been deleted
  const long live = g_live.load();
  delete current.exchange(nullptr);  // no reader is left
  std::printf("config_pointer: %ld reads, %ld bad, last %d, %ld live after barrier\n",
              reads.load(), bad.load(), last, live);
  return bad.load() == 0 && last == 20100 && live == 1 ? 0 : 1;
}
