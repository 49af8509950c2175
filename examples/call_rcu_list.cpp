// examples/call_rcu_list.cpp — an RCU-protected singly linked list whose nodes
// embed a grace::rcu_head (liburcu style: no allocation on removal).  A reader
// thread walks the list; the main thread pops nodes and frees them with
// call_rcu(); rcu_barrier() then waits until every callback has run.
// Exit 0 when readers saw only intact nodes and every node was freed.
#include <grace/rcu.hpp>

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <mutex>
#include <thread>
#include <type_traits>

struct node {
  long key;
  grace::rcu_ptr<node> next;
  grace::rcu_head rh;  // handed to call_rcu(); recovered with offsetof below
};
static_assert(std::is_standard_layout_v<node>);

std::atomic<long> g_freed{0};
grace::rcu_ptr<node> g_head;

void free_node(grace::rcu_head* h) {  // runs on the domain's worker thread
  node* n = reinterpret_cast<node*>(reinterpret_cast<char*>(h) - offsetof(node, rh));
  n->key = -1;  // poison: a reader that sees -1 read a freed node
  delete n;
  g_freed.fetch_add(1, std::memory_order_relaxed);
}

int main() {
  constexpr long kNodes = 10000;
  for (long k = 0; k < kNodes; ++k) {
    node* n = new node{k, {}, {}};
    n->next.store(g_head.load());
    g_head.store(n);  // publish: release, so readers see key and next
  }
  std::atomic<bool> stop{false};
  std::atomic<long> bad{0};
  std::thread reader([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      std::scoped_lock guard(grace::rcu_default_domain());
      for (node* n = g_head.load(); n != nullptr; n = n->next.load()) {
        if (n->key < 0 || n->key >= kNodes) bad.fetch_add(1);
      }
    }
  });
  // The only updater, so no lock: unpublish the first node, then defer its free.
  for (node* n = g_head.load(); n != nullptr; n = g_head.load()) {
    g_head.store(n->next.load());
    grace::call_rcu(&n->rh, free_node);
  }
  stop.store(true);
  reader.join();
  grace::rcu_barrier();  // every callback queued above has run
  std::printf("call_rcu_list: %ld freed, %ld bad reads\n", g_freed.load(), bad.load());
  return g_freed.load() == kNodes && bad.load() == 0 ? 0 : 1;
}
