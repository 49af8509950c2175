// tests/model/lint-negative/bad_ordering.cpp — NOT compiled.  The negative
// control of scripts/lint-ordering.py: the lint must reject this file
// (scripts/ci-extra.d/10-lint-ordering.sh checks that it does).
#include <atomic>

std::atomic<int> flag{0};
std::atomic<int> data{0};

void producer() {
  data.store(42, std::memory_order_relaxed);
  // [NX1] release pairs with [NX9]: a label whose partner does not exist.
  flag.store(1, std::memory_order_release);
}

int consumer() {
  // An acquire load without a label.
  while (flag.load(std::memory_order_acquire) == 0) {
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);  // no label either
  return data.load(std::memory_order_relaxed);
}

void lonely() {
  // [NX2] a label that nothing pairs with.
  data.fetch_add(1, std::memory_order_acq_rel);
}
