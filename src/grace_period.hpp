// src/grace_period.hpp — the grace-period engine shared by every domain.
//
// Sequence numbers.  seq_ counts grace periods started; completed_ is the
// sequence of the last one completed.  A grace period with sequence s starts
// by publishing s in the global reader word ([GP1]), issues one heavy barrier
// ([GP2]), waits until every reader is outside a section or entered under s
// ([GP3]), and ends by publishing completed_ = s ([GP4]).
//
// Cookies.  A cookie is the sequence of the first grace period that starts
// after it was taken: seq_ + 1 (if grace period seq_ is still running it began
// before the cookie, so it does not count).  A cookie has expired when
// completed_ >= cookie.
//
// Sharing.  Whoever wants a grace period tries to become the leader (a
// try-lock).  The leader runs grace periods until its cookie has expired;
// everyone else waits (spins briefly, then sleeps on done_gen_) and re-checks
// its own cookie each time a leader finishes.  k concurrent callers therefore
// return after one or two grace periods, not k.
//
// Progress: blocking (it waits for readers).  Readers never wait for it.
#pragma once

#include <cstdint>

#include "grace/rcu.hpp"

namespace grace::detail {

rcu_cookie gp_get_state() noexcept;
bool gp_poll(rcu_cookie cookie) noexcept;
// Waits until `cookie` expires.  Precondition: the caller is not in a
// read-side section (checked by the public entry points).
void gp_wait(rcu_cookie cookie, bool expedited) noexcept;
// Makes sure a grace period covering `cookie` will run without the caller
// waiting (on the grace-period thread).
void gp_request(rcu_cookie cookie) noexcept;
// Called by read_unlock_slow() when a grace period sleeps for readers.
void wake_grace_period_waiter() noexcept;

struct gp_counters {
  std::uint64_t completed;  // grace periods completed
  std::uint64_t expedited;  // of which expedited
  std::uint64_t sleeps;     // times a leader slept on readers
  std::uint64_t unwoken;    // of those, sleeps no reader woke (bound reached)
};
gp_counters gp_stats() noexcept;

}  // namespace grace::detail
