// examples/shrinker_cache.cpp — a cache that gives memory back under memory
// pressure.  It registers a shrinker (count: how much could you free; scan:
// free up to n) with the domain; on a PSI memory-pressure event, or an
// explicit reclaim_now() as here, grace runs the pending callbacks and then
// asks the shrinkers.  Exit 0 when the shrinker freed the cache.
#include <grace/rcu.hpp>
#include <grace/reclaim.hpp>

#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>

class cache {
 public:
  void put(int key, std::string value) {
    std::scoped_lock l(mu_);
    entries_[key] = std::make_unique<std::string>(std::move(value));
  }
  std::size_t size() {
    std::scoped_lock l(mu_);
    return entries_.size();
  }
  // Called inside a read-side section: may take its own lock, must not wait
  // for a grace period (no rcu_synchronize/rcu_barrier here).
  std::size_t shrink(std::size_t n) {
    std::scoped_lock l(mu_);
    std::size_t freed = 0;
    while (freed < n && !entries_.empty()) {
      entries_.erase(entries_.begin());
      ++freed;
    }
    return freed;
  }

 private:
  std::mutex mu_;
  std::map<int, std::unique_ptr<std::string>> entries_;
};

int main() {
  cache c;
  for (int i = 0; i < 1000; ++i) c.put(i, "value " + std::to_string(i));
  grace::shrinker_registration reg = grace::register_shrinker(
      grace::rcu_default_domain(), [&] { return c.size(); },
      [&](std::size_t n) { return c.shrink(n); });

  const std::size_t freed = grace::reclaim_now();  // what a PSI event would do
  const grace::rcu_domain_stats st = grace::rcu_stats();
  reg.reset();  // unregister (waits for a grace period; not inside a section)
  // (st.psi_status says why PSI is or is not available; not printed here: the
  // monitor thread may still be rewriting it, a race TSAN reports.)
  std::printf("shrinker_cache: freed %zu, cache now %zu, shrinker_freed %llu, psi armed %d\n",
              freed, c.size(), static_cast<unsigned long long>(st.shrinker_freed),
              st.psi_available);
  return freed >= 1000 && c.size() == 0 && st.shrinker_freed >= 1000 ? 0 : 1;
}
