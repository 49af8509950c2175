// examples/route_table.cpp — a grace::hash_map as a route table: reader
// threads look routes up without locks while two writer threads change
// them.  Each route's value is immutable once published; a writer changes
// one with update(), which builds the new value from the current one and
// publishes it only if nobody changed the route in between (read-copy-update
// of one element).  Exit 0 when every route was always found, every value a
// reader saw was consistent, and no update was lost.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <grace/hash_map.hpp>
#include <mutex>
#include <thread>
#include <vector>

struct route {
  std::uint32_t next_hop;
  std::uint32_t check;    // next_hop ^ kCheck: a torn or freed value would break it
  std::uint64_t changes;  // how many updates made this value
};
constexpr std::uint32_t kCheck = 0x5a5a5a5a;

int main() {
  constexpr std::uint32_t kRoutes = 1024;
  constexpr int kUpdatesPerWriter = 20000;
  grace::hash_map<std::uint32_t, route> routes;
  for (std::uint32_t prefix = 0; prefix < kRoutes; ++prefix) {
    routes.insert(prefix, route{prefix, prefix ^ kCheck, 0});
  }

  std::atomic<bool> stop{false};
  std::atomic<long> missing{0}, torn{0};
  auto reader = [&] {
    for (std::uint32_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
      std::scoped_lock section(routes.domain());  // find()'s pointer lives until here
      const route* r = routes.find(i % kRoutes);
      if (r == nullptr) {
        missing.fetch_add(1);
      } else if ((r->next_hop ^ kCheck) != r->check) {
        torn.fetch_add(1);
      }
    }
  };
  auto writer = [&](std::uint32_t seed) {
    for (int i = 0; i < kUpdatesPerWriter; ++i) {
      const std::uint32_t prefix =
          (seed + static_cast<std::uint32_t>(i) * 7) % 16;  // a few hot routes
      routes.update(prefix, [&](const route& old) {
        const std::uint32_t hop = old.next_hop + seed;
        return route{hop, hop ^ kCheck, old.changes + 1};
      });
    }
  };

  std::vector<std::thread> threads;
  threads.emplace_back(reader);
  threads.emplace_back(reader);
  std::thread w1(writer, 1), w2(writer, 2);
  w1.join();
  w2.join();
  stop.store(true);
  for (auto& t : threads) t.join();

  std::uint64_t changes = 0;
  for (std::uint32_t prefix = 0; prefix < kRoutes; ++prefix) changes += routes.get(prefix)->changes;
  std::printf("route_table: %llu of %d updates counted, %ld missing, %ld torn\n",
              static_cast<unsigned long long>(changes), 2 * kUpdatesPerWriter, missing.load(),
              torn.load());
  return changes == 2 * kUpdatesPerWriter && missing.load() == 0 && torn.load() == 0 ? 0 : 1;
}
