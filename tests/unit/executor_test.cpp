// Where callbacks run (grace/reclaim.hpp, set_callback_executor): on the
// worker by default, on the user's executor when one is set, in order, and
// rcu_barrier() still waits for them.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "grace/rcu.hpp"
#include "grace/reclaim.hpp"
#include "test_util.hpp"

namespace {

// A one-thread executor: runs tasks in the order they arrive.
class pool_thread {
 public:
  pool_thread() : thread_([this] { loop(); }) {}
  ~pool_thread() {
    {
      std::scoped_lock l(m_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  void post(std::function<void()> task) {
    {
      std::scoped_lock l(m_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
  }
  std::thread::id id() const { return thread_.get_id(); }

 private:
  void loop() {
    std::unique_lock l(m_);
    for (;;) {
      cv_.wait(l, [this] { return stop_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      l.unlock();
      task();
      l.lock();
    }
  }
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stop_ = false;
  std::thread thread_;
};

std::atomic<int> g_order_errors{0};

struct tracked;
struct tracked_delete {
  void operator()(tracked* t) const;
};

struct tracked : grace::rcu_obj_base<tracked, tracked_delete> {
  std::thread::id* ran_on;
  int seq;
  std::atomic<int>* last;
};

// Retires one tracked object (sequence `seq`) into dom.
void retire_tracked(grace::rcu_domain& dom, std::thread::id* ran_on, std::atomic<int>* last,
                    int seq) {
  auto* t = new tracked;
  t->ran_on = ran_on;
  t->seq = seq;
  t->last = last;
  t->retire(tracked_delete(), dom);
}

void tracked_delete::operator()(tracked* t) const {
  *t->ran_on = std::this_thread::get_id();
  if (t->last->exchange(t->seq) != t->seq - 1) ++g_order_errors;
  delete t;
}

TEST(Executor, CallbacksRunOnTheExecutorInOrderAndBarrierWaits) {
  grace::rcu_domain dom;
  pool_thread pool;
  grace::set_callback_executor(dom, [&pool](std::function<void()> task) { pool.post(std::move(task)); });
  std::thread::id ran_on;
  std::atomic<int> last{-1};
  // Fewer than a thread's backlog: no retire spills to the overflow list,
  // which would legitimately reorder (docs/design/requirements.md, R7).
  constexpr int kRetires = static_cast<int>(grace::detail::kThreadBacklog) - 96;
  for (int i = 0; i < kRetires; ++i) retire_tracked(dom, &ran_on, &last, i);
  grace::rcu_barrier(dom);
  EXPECT_EQ(last.load(), kRetires - 1);  // barrier waited for the executor
  EXPECT_EQ(ran_on, pool.id());
  EXPECT_EQ(g_order_errors.load(), 0);
}

TEST(Executor, DefaultRunsOnTheWorkerNotTheCaller) {
  grace::rcu_domain dom;
  std::thread::id ran_on;
  std::atomic<int> last{-1};
  retire_tracked(dom, &ran_on, &last, 0);
  grace::rcu_barrier(dom);
  EXPECT_NE(ran_on, std::thread::id());
  EXPECT_NE(ran_on, std::this_thread::get_id());
}

TEST(Executor, ThrowingExecutorFallsBackToTheWorker) {
  grace::rcu_domain dom;
  grace::set_callback_executor(dom, [](std::function<void()>) { throw 42; });
  std::thread::id ran_on;
  std::atomic<int> last{-1};
  retire_tracked(dom, &ran_on, &last, 0);
  grace::rcu_barrier(dom);
  EXPECT_EQ(last.load(), 0);
}

// A callback that retires into its own domain, run by an executor while
// the domain is at its hard limit: the executor thread's retire list fills
// (the worker takes nothing while it waits for the executor's task), and a
// retire that then waited for the worker's progress would never return.
// Retires made while running callbacks spill into the overflow list
// instead, as the worker's own do.
std::atomic<long> g_children_freed{0};
void free_child(grace::rcu_head* h) {
  delete h;
  g_children_freed.fetch_add(1, std::memory_order_relaxed);
}
struct parent_node {
  grace::rcu_head head;
  grace::rcu_domain* dom;
};
constexpr int kChildren = 60;
void free_parent(grace::rcu_head* h) {
  auto* p = reinterpret_cast<parent_node*>(h);
  for (int i = 0; i < kChildren; ++i) grace::call_rcu(new grace::rcu_head, &free_child, *p->dom);
  delete p;
}

TEST(Executor, CallbacksThatRetireAtTheHardLimitDoNotDeadlock) {
  grace_test::watchdog dog("CallbacksThatRetireAtTheHardLimitDoNotDeadlock", 30);
  grace::rcu_domain dom;
  grace::reclaim_limits limits;
  limits.soft_objects = 16;
  limits.hard_objects = 64;
  grace::set_reclaim_limits(dom, limits);
  pool_thread pool;
  grace::set_callback_executor(dom, [&pool](std::function<void()> task) { pool.post(std::move(task)); });
  // 200 parents in a batch (at least 64 pending: the hard limit) retire
  // 12,000 children from the pool thread: more than its list holds.
  constexpr int kParents = 200;
  g_children_freed.store(0);
  for (int i = 0; i < kParents; ++i) {
    auto* p = new parent_node{{}, &dom};
    grace::call_rcu(&p->head, &free_parent, dom);
  }
  grace::rcu_barrier(dom);  // the parents (their children queued meanwhile)
  grace::rcu_barrier(dom);  // the children
  EXPECT_EQ(g_children_freed.load(), long{kParents} * kChildren);
}

}  // namespace
