// grace/detail/atomic.hpp — the one place that names std::atomic and fences.
//
// Every atomic access and fence in grace goes through this seam so that a
// build with GRACE_DEBUG_YIELD=1 can inject random yields and short delays at
// each of them (widening race windows on a 2-core machine).
//
// In ordinary builds every function here is an inline pass-through: the
// generated code is exactly that of std::atomic.  There are deliberately no
// default memory orders: every call site spells its order (STYLE.md).
#pragma once

#include <atomic>
#include <cstdint>

namespace grace::detail {

#if defined(GRACE_DEBUG_YIELD) && GRACE_DEBUG_YIELD
// Defined in src/debug_yield.cpp: yields or spins for a random short while.
void debug_yield() noexcept;
#define GRACE_YIELD_POINT() ::grace::detail::debug_yield()
#else
#define GRACE_YIELD_POINT() ((void)0)
#endif

// The operations of an atomic T, each a yield point in the GRACE_DEBUG_YIELD
// build.  Self provides ref(): the std::atomic<T>& or std::atomic_ref<T>
// the operation applies to.
template <class T, class Self>
class atomic_ops {
 public:
  T load(std::memory_order o) const noexcept {
    GRACE_YIELD_POINT();
    return self().ref().load(o);
  }
  void store(T v, std::memory_order o) noexcept {
    GRACE_YIELD_POINT();
    self().ref().store(v, o);
  }
  T exchange(T v, std::memory_order o) noexcept {
    GRACE_YIELD_POINT();
    return self().ref().exchange(v, o);
  }
  bool compare_exchange_strong(T& expected, T desired, std::memory_order success,
                               std::memory_order failure) noexcept {
    GRACE_YIELD_POINT();
    return self().ref().compare_exchange_strong(expected, desired, success, failure);
  }
  bool compare_exchange_weak(T& expected, T desired, std::memory_order success,
                             std::memory_order failure) noexcept {
    GRACE_YIELD_POINT();
    return self().ref().compare_exchange_weak(expected, desired, success, failure);
  }
  T fetch_add(T d, std::memory_order o) noexcept {
    GRACE_YIELD_POINT();
    return self().ref().fetch_add(d, o);
  }
  T fetch_sub(T d, std::memory_order o) noexcept {
    GRACE_YIELD_POINT();
    return self().ref().fetch_sub(d, o);
  }
  T fetch_or(T d, std::memory_order o) noexcept {
    GRACE_YIELD_POINT();
    return self().ref().fetch_or(d, o);
  }
  T fetch_and(T d, std::memory_order o) noexcept {
    GRACE_YIELD_POINT();
    return self().ref().fetch_and(d, o);
  }

 private:
  const Self& self() const noexcept { return static_cast<const Self&>(*this); }
  Self& self() noexcept { return static_cast<Self&>(*this); }
};

// An atomic T, value-initialized (zero) by default.
template <class T>
class atomic : public atomic_ops<T, atomic<T>> {
 public:
  constexpr atomic() noexcept : v_() {}
  constexpr explicit atomic(T v) noexcept : v_(v) {}
  atomic(const atomic&) = delete;
  atomic& operator=(const atomic&) = delete;

  // The underlying object, for futex(2) addresses and the read side's
  // one-instruction decrement (grace/detail/reader.hpp) only.
  std::atomic<T>& raw() noexcept { return v_; }
  const std::atomic<T>& raw() const noexcept { return v_; }

 private:
  friend class atomic_ops<T, atomic<T>>;
  std::atomic<T>& ref() noexcept { return v_; }
  const std::atomic<T>& ref() const noexcept { return v_; }
  std::atomic<T> v_;
};

// An atomic T with a TRIVIAL default constructor (so not initialized by
// it): for arrays in memory handed out zeroed (calloc, a fresh anonymous
// mapping), where zero is the intended initial value and writing it would
// cost a pass over the memory and its page faults.  Trivially constructible
// and destructible, it is an implicit-lifetime type: such memory holds it
// without a constructor call.  Accessed through std::atomic_ref.
template <class T>
class atomic_word : public atomic_ops<T, atomic_word<T>> {
 public:
  atomic_word() noexcept = default;
  atomic_word(const atomic_word&) = delete;
  atomic_word& operator=(const atomic_word&) = delete;

 private:
  friend class atomic_ops<T, atomic_word<T>>;
  std::atomic_ref<T> ref() const noexcept { return std::atomic_ref<T>(const_cast<T&>(v_)); }
  alignas(std::atomic_ref<T>::required_alignment) T v_;
};

// A hardware fence.  Callers label it and name its partner.
inline void thread_fence(std::memory_order o) noexcept {
  GRACE_YIELD_POINT();
#if defined(GRACE_TSAN) && defined(__GNUC__) && !defined(__clang__)
  // g++ warns that TSAN does not model standalone fences.  We know (see
  // "TSAN and grace" below); the fences stay for the real ordering.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wtsan"
  std::atomic_thread_fence(o);
#pragma GCC diagnostic pop
#else
  std::atomic_thread_fence(o);
#endif
}

// A compiler-only barrier: no instruction, forbids the compiler to move
// memory accesses across it.  The hardware half is provided by membarrier(2)
// on the writer side (see docs/design/memory-ordering.md, [RD2]).
inline void compiler_fence() noexcept { std::atomic_signal_fence(std::memory_order_seq_cst); }

// TSAN and grace.  The happens-before edges of a grace period are carried by
// release/acquire atomics that TSAN sees: a reader's unlock is a release
// store of its word ([RD3]), the scan's load of it an acquire ([GP3]), and
// the end of the grace period a release/acquire pair on `completed` ([GP4]).
// What TSAN cannot see — membarrier(2) and the fences of the fence flavor —
// only orders a reader's *store* before its later loads (store buffering),
// which TSAN's sequentially consistent model never reorders anyway.  So no
// annotations are needed; tests/tsan keeps an early free that TSAN must
// still report.

// Spin-wait hint.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

}  // namespace grace::detail
