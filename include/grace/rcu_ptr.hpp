// grace/rcu_ptr.hpp — a typed pointer for publishing RCU-protected objects.
//
// rcu_ptr<T> is the one place user code needs for the ordering RCU relies on:
// an updater initializes an object and publishes it with store() or
// exchange() (release); a reader inside a read-side section obtains it with
// load() (acquire) and sees the object fully initialized.  No hand-written
// atomics.
//
//   grace::rcu_ptr<config> current;
//   // reader
//   { std::scoped_lock l(grace::rcu_default_domain());
//     use(current.load()->value); }
//   // updater
//   config* old = current.exchange(new config{...});
//   grace::rcu_retire(old);
//
// Memory ordering:
//   [PT1] store()/exchange() release: pairs with [PT2].  Everything the
//         updater wrote to the new object happens before a reader's use of it.
//   [PT2] load() acquire: pairs with [PT1].  (On x86 and Arm a plain load
//         with the address dependency would do, which is what
//         memory_order_consume promises; compilers implement consume as
//         acquire, so we spell acquire — free on x86, LDAR on Arm.)
//   exchange() is acq_rel: the updater that takes the old pointer also sees
//   the initialization of the object it will retire.
//
// Progress: every operation is wait-free (one atomic instruction).
// The pointer does not own what it points to: retire the old object yourself.
#pragma once

#include <atomic>

#include "grace/detail/atomic.hpp"

namespace grace {

template <class T>
class rcu_ptr {
 public:
  constexpr rcu_ptr() noexcept : p_(nullptr) {}
  constexpr explicit rcu_ptr(T* p) noexcept : p_(p) {}
  rcu_ptr(const rcu_ptr&) = delete;
  rcu_ptr& operator=(const rcu_ptr&) = delete;

  // Reader side: call inside a read-side section; the object stays valid
  // until the section ends.  Also correct for updaters.
  T* load() const noexcept { return p_.load(std::memory_order_acquire); }  // [PT2]

  // Updater side: publish p.
  void store(T* p) noexcept { p_.store(p, std::memory_order_release); }  // [PT1]

  // Updater side: publish p and return what it replaced (to retire).
  T* exchange(T* p) noexcept { return p_.exchange(p, std::memory_order_acq_rel); }  // [PT1]

  // Updater side: publish desired if the pointer still equals expected.
  bool compare_exchange(T*& expected, T* desired) noexcept {
    // [PT1] on success; acquire on failure, so the caller may dereference
    // the pointer it got back.
    return p_.compare_exchange_strong(expected, desired, std::memory_order_acq_rel,
                                      std::memory_order_acquire);
  }

 private:
  detail::atomic<T*> p_;
};

}  // namespace grace
