// examples/polled_grace_period.cpp — polled grace periods: take a cookie when
// an object is unpublished, keep working, free the object once
// rcu_poll_state() says a grace period has elapsed; rcu_cond_synchronize()
// waits only if it has not.  A reader holds a section across the cookie to
// show the guarantee: the cookie cannot expire while that reader is inside.
#include <grace/rcu.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

struct blob { int value; };

int main() {
  grace::rcu_ptr<blob> ptr{new blob{1}};
  std::atomic<int> phase{0};
  std::thread reader([&] {
    grace::rcu_default_domain().lock();
    const blob* b = ptr.load();  // may be the old blob: safe until unlock()
    phase.store(1);
    while (phase.load() != 2) std::this_thread::yield();
    const bool ok = b->value == 1;
    grace::rcu_default_domain().unlock();
    phase.store(ok ? 3 : 4);
  });
  while (phase.load() != 1) std::this_thread::yield();

  blob* old = ptr.exchange(new blob{2});
  const grace::rcu_cookie cookie = grace::rcu_start_poll();  // also starts a grace period
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // "other work"
  const bool expired_early = grace::rcu_poll_state(cookie);   // reader still inside: false
  phase.store(2);

  int polls = 0;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!grace::rcu_poll_state(cookie) && std::chrono::steady_clock::now() < give_up) {
    ++polls;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  const bool expired = grace::rcu_poll_state(cookie);
  if (expired) delete old;  // no reader can still hold it
  reader.join();

  // rcu_cond_synchronize(): returns at once for an expired cookie, else waits.
  grace::rcu_cond_synchronize(cookie);
  const grace::rcu_cookie fresh = grace::rcu_get_state();  // starts nothing
  grace::rcu_cond_synchronize(fresh);                       // runs one grace period
  const bool fresh_expired = grace::rcu_poll_state(fresh);
  delete ptr.exchange(nullptr);

  std::printf("polled_grace_period: early %d, expired %d after %d polls, reader %s, fresh %d\n",
              expired_early, expired, polls, phase.load() == 3 ? "ok" : "BAD", fresh_expired);
  return !expired_early && expired && phase.load() == 3 && fresh_expired ? 0 : 1;
}
