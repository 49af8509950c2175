// tests/unit/reclaim_test.cpp — deferred reclamation: rcu_obj_base::retire,
// rcu_retire, call_rcu, rcu_barrier, the worker thread, the per-thread retire list
// (back-pressure and overflow), user domains' destructors.
//
// Oracles: exact counts of callbacks run; a callback that checks, when it
// runs, whether the reader that began before its retire is still inside
// (with a negative control that runs the callback too early).
#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

#include "grace/rcu.hpp"
#include "grace/reclaim.hpp"
#include "test_util.hpp"

namespace {

using grace_test::one_shot;
using grace_test::scaled;
using grace_test::watchdog;

struct counted : grace::rcu_obj_base<counted> {
  std::atomic<long>* count;
  explicit counted(std::atomic<long>* c) : count(c) {}
  ~counted() { count->fetch_add(1, std::memory_order_relaxed); }
};

TEST(Retire, DefaultDeleter) {
  std::atomic<long> freed{0};
  (new counted(&freed))->retire();
  grace::rcu_barrier();
  EXPECT_EQ(freed.load(), 1);
}

// A stateful deleter: its state travels with the object.
struct tagged;
struct tagging_deleter {
  std::atomic<long>* sum = nullptr;
  long tag = 0;
  void operator()(tagged* p) const;
};
struct tagged : grace::rcu_obj_base<tagged, tagging_deleter> {
  int payload = 42;
};
void tagging_deleter::operator()(tagged* p) const {
  EXPECT_EQ(p->payload, 42);
  sum->fetch_add(tag);
  delete p;
}

TEST(Retire, StatefulCustomDeleter) {
  std::atomic<long> sum{0};
  for (long i = 1; i <= 10; ++i) (new tagged)->retire(tagging_deleter{&sum, i});
  grace::rcu_barrier();
  EXPECT_EQ(sum.load(), 55);
}

TEST(Retire, IntoAUserDomain) {
  grace::rcu_domain dom;
  std::atomic<long> sum{0};
  (new tagged)->retire(tagging_deleter{&sum, 7}, dom);
  grace::rcu_barrier(dom);
  EXPECT_EQ(sum.load(), 7);
}

TEST(RcuRetire, DefaultAndCustomDeleters) {
  static std::atomic<long> dtor_count{0};
  struct plain {  // not derived from rcu_obj_base
    ~plain() { dtor_count.fetch_add(1); }
  };
  dtor_count.store(0);
  grace::rcu_retire(new plain);
  grace::rcu_retire(new int(5));
  std::atomic<long> seen{0};
  auto deleter = [&seen](int* p) {
    seen.fetch_add(*p);
    delete p;
  };
  grace::rcu_retire(new int(30), deleter);
  grace::rcu_domain dom;
  grace::rcu_retire(new int(12), deleter, dom);
  grace::rcu_barrier();
  grace::rcu_barrier(dom);
  EXPECT_EQ(dtor_count.load(), 1);
  EXPECT_EQ(seen.load(), 42);
}

struct with_head {
  int value = 0;
  grace::rcu_head head;
  std::atomic<long>* count = nullptr;
};
void free_with_head(grace::rcu_head* h) {
  auto* self = reinterpret_cast<with_head*>(reinterpret_cast<char*>(h) -
                                            offsetof(with_head, head));
  self->count->fetch_add(self->value);
  delete self;
}

TEST(CallRcu, IntrusiveHead) {
  std::atomic<long> sum{0};
  for (int i = 1; i <= 100; ++i) {
    auto* p = new with_head;
    p->value = i;
    p->count = &sum;
    grace::call_rcu(&p->head, free_with_head);
  }
  grace::rcu_barrier();
  EXPECT_EQ(sum.load(), 5050);
}

TEST(CallRcu, RunsOnAWorkerThreadNotTheCaller) {
  static std::atomic<std::thread::id> ran_on{};
  static std::atomic<bool> ran{false};
  ran.store(false);
  static grace::rcu_head head;
  grace::call_rcu(&head, [](grace::rcu_head*) {
    ran_on.store(std::this_thread::get_id());
    ran.store(true);
  });
  grace::rcu_barrier();
  ASSERT_TRUE(ran.load());
  EXPECT_NE(ran_on.load(), std::this_thread::get_id());
}

TEST(CallRcu, FifoOrderFromOneThread) {
  // The worker runs one thread's callbacks in the order they were queued
  // (less than a backlog's worth: a full list may spill, and spilled nodes
  // have no order guarantee).
  struct seq_node {
    grace::rcu_head head;
    long seq = 0;
  };
  static std::vector<long> order;
  order.clear();
  const long n = static_cast<long>(grace::detail::kThreadBacklog) - 96;
  for (long i = 0; i < n; ++i) {
    auto* p = new seq_node;
    p->seq = i;
    grace::call_rcu(&p->head, [](grace::rcu_head* h) {
      auto* self = reinterpret_cast<seq_node*>(h);  // head is the first member
      order.push_back(self->seq);                   // worker thread only
      delete self;
    });
  }
  grace::rcu_barrier();
  ASSERT_EQ(order.size(), static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) ASSERT_EQ(order[static_cast<std::size_t>(i)], i);
}

// ---- rcu_barrier -------------------------------------------------------------

TEST(Barrier, WaitsForCallbacksQueuedByThreadsThatExited) {
  watchdog dog("WaitsForCallbacksQueuedByThreadsThatExited");
  std::atomic<long> freed{0};
  const long per_thread = scaled(2000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (long i = 0; i < per_thread; ++i) (new counted(&freed))->retire();
    });
  }
  for (std::thread& t : threads) t.join();
  grace::rcu_barrier();
  EXPECT_EQ(freed.load(), 4 * per_thread);
}

TEST(Barrier, WithNothingQueuedDoesNotWaitForReaders) {
  // rcu_barrier() is not a grace period: with nothing queued it returns even
  // while a reader sits in a section.
  watchdog dog("WithNothingQueuedDoesNotWaitForReaders");
  grace::rcu_domain fresh;
  grace::rcu_domain used;
  std::atomic<long> freed{0};
  (new counted(&freed))->retire({}, used);
  grace::rcu_barrier(used);
  grace_test::held_reader reader;
  grace::rcu_barrier(fresh);
  grace::rcu_barrier(used);
  reader.release();
  EXPECT_EQ(freed.load(), 1);
}

struct hold_outcome {
  bool ran_during_window = false;
  bool barrier_returned_during_window = false;
  bool ran_while_inside = false;
  bool ran = false;
};

struct probe {
  grace::rcu_head head;
  std::atomic<bool>* reader_inside = nullptr;
  std::atomic<bool>* ran_while_inside = nullptr;
  std::atomic<bool>* ran = nullptr;
};
void probe_callback(grace::rcu_head* h) {
  auto* p = reinterpret_cast<probe*>(h);
  if (p->reader_inside->load()) p->ran_while_inside->store(true);
  p->ran->store(true);
}

// A reader enters a section; then `retire` hands a probe to reclamation and
// another thread calls rcu_barrier().  The probe's callback records whether
// the reader was still inside when it ran.
hold_outcome hold_reader_while_reclaiming(const std::function<void(probe*)>& retire) {
  hold_outcome outcome;
  std::atomic<bool> reader_inside{false};
  std::atomic<bool> ran_while_inside{false};
  std::atomic<bool> ran{false};
  std::atomic<bool> barrier_returned{false};
  probe pr;
  pr.reader_inside = &reader_inside;
  pr.ran_while_inside = &ran_while_inside;
  pr.ran = &ran;
  one_shot in;
  one_shot release;
  std::thread reader([&] {
    grace::rcu_default_domain().lock();
    reader_inside.store(true);
    in.set();
    release.wait();
    reader_inside.store(false);
    grace::rcu_default_domain().unlock();
  });
  in.wait();
  retire(&pr);
  std::thread barrier([&] {
    grace::rcu_barrier();
    barrier_returned.store(true);
  });
  std::this_thread::sleep_for(grace_test::safety_window());
  outcome.ran_during_window = ran.load();
  outcome.barrier_returned_during_window = barrier_returned.load();
  release.set();
  reader.join();
  barrier.join();
  outcome.ran_while_inside = ran_while_inside.load();
  outcome.ran = ran.load();
  return outcome;
}

TEST(Reclaim, CallbackNeverRunsWhileAnEarlierReaderIsInside) {
  watchdog dog("CallbackNeverRunsWhileAnEarlierReaderIsInside");
  const hold_outcome o =
      hold_reader_while_reclaiming([](probe* p) { grace::call_rcu(&p->head, probe_callback); });
  EXPECT_FALSE(o.ran_during_window);
  EXPECT_FALSE(o.barrier_returned_during_window);
  EXPECT_FALSE(o.ran_while_inside);
  EXPECT_TRUE(o.ran) << "rcu_barrier() returned before the callback ran";
}

// Negative control: reclaiming without a grace period is caught.
TEST(Reclaim, HarnessCatchesReclaimWithoutGracePeriod) {
  const hold_outcome o = hold_reader_while_reclaiming([](probe* p) { probe_callback(&p->head); });
  EXPECT_TRUE(o.ran_while_inside);
  EXPECT_TRUE(o.ran_during_window);
}

TEST(Reclaim, RetireInsideAReadSection) {
  watchdog dog("RetireInsideAReadSection");
  std::atomic<long> freed{0};
  {
    std::scoped_lock g(grace::rcu_default_domain());
    (new counted(&freed))->retire();
    grace::rcu_retire(new int(1));
  }
  grace::rcu_barrier();
  EXPECT_EQ(freed.load(), 1);
}

// More than a backlog's worth retired inside one section: the producer cannot
// wait for room (the worker waits for this very section), so the surplus
// spills into the overflow list.  Counts stay exact.
TEST(Reclaim, BacklogOverflowInsideASection) {
  watchdog dog("BacklogOverflowInsideASection");
  grace::rcu_domain dom;
  std::atomic<long> freed{0};
  const long n = static_cast<long>(grace::detail::kThreadBacklog) * 2 + 100;
  {
    std::scoped_lock g(dom);
    for (long i = 0; i < n; ++i) (new counted(&freed))->retire({}, dom);
  }
  grace::rcu_barrier(dom);
  EXPECT_EQ(freed.load(), n);
  const grace::rcu_domain_stats st = grace::rcu_stats(dom);
  EXPECT_GT(st.overflowed, 0u);
  EXPECT_EQ(st.callbacks_invoked, static_cast<std::uint64_t>(n));
  EXPECT_EQ(st.pending, 0u);
}

// Outside sections, a flood larger than the backlog: the producer waits for the
// worker or spills (grace/reclaim.hpp decides which); nothing is lost.
TEST(Reclaim, FloodLargerThanTheRing) {
  watchdog dog("FloodLargerThanTheRing");
  grace::rcu_domain dom;
  std::atomic<long> freed{0};
  const long n = static_cast<long>(grace::detail::kThreadBacklog) * 5;
  for (long i = 0; i < n; ++i) (new counted(&freed))->retire({}, dom);
  grace::rcu_barrier(dom);
  EXPECT_EQ(freed.load(), n);
  const grace::rcu_domain_stats st = grace::rcu_stats(dom);
  EXPECT_EQ(st.callbacks_queued, static_cast<std::uint64_t>(n));
  EXPECT_EQ(st.callbacks_invoked, static_cast<std::uint64_t>(n));
  EXPECT_EQ(st.pending, 0u);
}

TEST(Reclaim, ManyRetiresFromTwoThreadsExactCount) {
  watchdog dog("ManyRetiresFromTwoThreadsExactCount");
  std::atomic<long> freed{0};
  const long per_thread = scaled(100000);
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      std::scoped_lock g(grace::rcu_default_domain());
    }
  });
  std::vector<std::thread> producers;
  for (int t = 0; t < 2; ++t) {
    producers.emplace_back([&] {
      for (long i = 0; i < per_thread; ++i) (new counted(&freed))->retire();
    });
  }
  for (std::thread& t : producers) t.join();
  grace::rcu_barrier();
  EXPECT_EQ(freed.load(), 2 * per_thread);
  stop.store(true);
  reader.join();
}

TEST(Reclaim, UserDomainDestructorRunsPendingCallbacks) {
  watchdog dog("UserDomainDestructorRunsPendingCallbacks");
  std::atomic<long> freed{0};
  {
    grace::rcu_domain dom;
    for (int i = 0; i < 1000; ++i) (new counted(&freed))->retire({}, dom);
    // Also from a thread that exits before the domain dies.
    std::thread([&] {
      for (int i = 0; i < 1000; ++i) (new counted(&freed))->retire({}, dom);
    }).join();
  }
  EXPECT_EQ(freed.load(), 2000);
}

TEST(Reclaim, UserDomainBarrierIgnoresOtherDomains) {
  // A barrier on one domain is satisfied by that domain's callbacks alone.
  watchdog dog("UserDomainBarrierIgnoresOtherDomains");
  grace::rcu_domain a;
  grace::rcu_domain b;
  std::atomic<long> freed_a{0};
  std::atomic<long> freed_b{0};
  for (int i = 0; i < 100; ++i) {
    (new counted(&freed_a))->retire({}, a);
    (new counted(&freed_b))->retire({}, b);
  }
  grace::rcu_barrier(a);
  EXPECT_EQ(freed_a.load(), 100);
  grace::rcu_barrier(b);
  EXPECT_EQ(freed_b.load(), 100);
}

}  // namespace
