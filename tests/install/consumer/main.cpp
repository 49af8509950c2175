// Smallest program that proves an installed grace is usable: the header is
// found, a read-side section links (the default domain is a BasicLockable, as
// in C++26 <rcu>), and a grace period completes.
#include <grace/rcu.hpp>

#include <mutex>

int main() {
  {
    std::scoped_lock l(grace::rcu_default_domain());
  }
  grace::rcu_synchronize();
  return 0;
}
