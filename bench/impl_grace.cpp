// bench/impl_grace.cpp — the grace adapter: the default domain, call_rcu
// with an intrusive grace::rcu_head (allocation-free retire).
#include <atomic>
#include <cstdlib>

#include "grace/rcu.hpp"
#include "impl_ops.h"

namespace {

struct node {
  gb_payload payload;  // first: node pointer == payload pointer
  grace::rcu_head head;
};

void online() {}   // grace registers a thread on its first lock()
void offline() {}  // ... and unregisters it at thread exit

void read_pairs(std::uint64_t n) {
  grace::rcu_domain& d = grace::rcu_default_domain();
  for (std::uint64_t i = 0; i < n; ++i) {
    d.lock();
    d.unlock();
  }
}

void read_pairs_nested(std::uint64_t n) {
  grace::rcu_domain& d = grace::rcu_default_domain();
  d.lock();
  for (std::uint64_t i = 0; i < n; ++i) {
    d.lock();
    d.unlock();
  }
  d.unlock();
}

std::uint64_t read_until_stop(gb_shared* s, std::uint64_t rdur) {
  grace::rcu_domain& d = grace::rcu_default_domain();
  std::uint64_t reads = 0;
  for (;;) {
    d.lock();
    gb_payload* p = std::atomic_ref(s->ptr).load(std::memory_order_acquire);
    if (p != nullptr && p->value != GB_LIVE) std::abort();  // saw freed memory
    if (rdur != 0) gb_loop_sleep(rdur);
    d.unlock();
    ++reads;
    if (std::atomic_ref(s->stop).load(std::memory_order_relaxed) != 0) break;
  }
  return reads;
}

void park(const int* release) {
  grace::rcu_domain& d = grace::rcu_default_domain();
  d.lock();
  while (std::atomic_ref(*const_cast<int*>(release)).load(std::memory_order_acquire) == 0) {
    gb_loop_sleep(64);
  }
  d.unlock();
}

void synchronize() { grace::rcu_synchronize(); }

gb_payload* alloc_obj() {
  auto* n = new node{};
  n->payload.value = GB_LIVE;
  gb_on_alloc(&n->payload);
  return &n->payload;
}

void free_cb(grace::rcu_head* h) {
  // node is standard-layout with payload first; head is at a fixed offset.
  auto* n = reinterpret_cast<node*>(reinterpret_cast<char*>(h) - offsetof(node, head));
  gb_on_reclaim(&n->payload);
  delete n;
}

void retire_objs(gb_payload* const* objs, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    grace::call_rcu(&reinterpret_cast<node*>(objs[i])->head, free_cb);
  }
}

void barrier() { grace::rcu_barrier(); }

}  // namespace

extern "C" const gb_impl gb_impl_grace = {
    "grace",
    GB_CAP_READ | GB_CAP_NESTED | GB_CAP_SYNC | GB_CAP_RETIRE,
    online,
    offline,
    read_pairs,
    read_pairs_nested,
    read_until_stop,
    park,
    synchronize,
    nullptr,
    nullptr,
    alloc_obj,
    retire_objs,
    barrier,
};
