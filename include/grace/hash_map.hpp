// grace/hash_map.hpp — an RCU-protected, resizable hash map with wait-free
// lookups (docs/design/hash_map.md is the design document).
//
// Overview
//   grace::hash_map<Key, T> maps keys to values for read-mostly workloads
//   (routing tables, caches, connection tables).  Lookups take no lock and
//   write no shared memory: they run inside a read-side section of the map's
//   rcu_domain.  Updates lock only the one bucket they change.  Replaced and
//   erased elements are handed to grace's deferred reclamation (call_rcu) and
//   freed only after every reader that could see them has left its section.
//
//     grace::hash_map<std::uint64_t, route> routes;
//     routes.insert(key, r);                     // any thread
//     std::optional<route> r = routes.get(key);  // copies inside its own section
//     {                                          // or, without a copy:
//       std::scoped_lock guard(grace::rcu_default_domain());
//       if (const route* p = routes.find(key)) use(*p);  // valid until unlock
//     }
//
// Layout (two dependent cache misses per lookup: the bucket, then the element)
//
//   table:  one allocation: a header (mask, next = the resize target,
//           migration cursors), then the buckets at a fixed offset, so a
//           lookup goes from the table pointer to a slot in one address.
//   bucket (64 bytes, one cache line):
//     +-------------------------------+-----------------------------------+
//     | link: overflow* | M | L       | slot[0..6]: element* (48) | tag (16)|
//     +-------------------------------+-----------------------------------+
//       L (bit 0)  writer lock of this bucket and its overflow chain
//       M (bit 1)  migrated: the bucket's contents live in table->next now
//                  (and its slots were cleared, see [HM9]/[HM10])
//       overflow*  first overflow node (same layout; its link is just "next")
//   slot:  0 = empty; else the element's address shifted left by 16
//          (x86-64/AArch64 user addresses fit in 48 bits; checked builds
//          assert it) and a 16-bit tag of its hash in the low bits (bit 0
//          forced to 1, so an empty slot never matches).  A lookup compares
//          the tag (one 16-bit compare) before touching the element.
//   hash:  Fibonacci hashing: the user's hash times 2^64/phi (one 64x64->128
//          multiply); the bucket is the low bits of the high half, the tag
//          the low 16 bits of the low half (see mix_parts()).
//   element: rcu_head, the 64-bit mixed hash, Key, T — allocated separately
//          and never modified after it is published (replace = new element).
//
// Ordering guarantees (in the style of liburcu's rculfhash, A..G).  "Lookup"
// is find(), get(), contains(); "present throughout" means inserted before
// the lookup began and not erased or replaced before it ended.
//   A.1 A lookup finds every key present throughout it, whatever inserts,
//       erases, replaces and resizes (of this or other keys) run concurrently.
//   A.2 A lookup never finds a key absent throughout it.
//   B.1 An element returned by a lookup is fully constructed: everything the
//       inserting thread wrote before insert() returned is visible.  [HM1]
//   B.2 The returned pointer stays valid until the caller's read-side section
//       ends (deferred reclamation), even if the element is erased or
//       replaced meanwhile.
//   C.1 A lookup concurrent with insert(k) returns either nothing or the new
//       element; a lookup that starts after insert(k) returned finds it.
//   C.2 A lookup concurrent with erase(k) returns either the old element or
//       nothing; one that starts after erase(k) returned does not find it
//       (unless k was inserted again).
//   D.1 A lookup concurrent with insert_or_assign(k) replacing a value
//       returns the old or the new element, never nothing: a replace swaps
//       one slot with one store.
//   E.1 Updates of one key are linearizable: they serialize on the key's
//       bucket lock.  Concurrent insert(k) calls: exactly one returns true.
//   F.1 Iteration (for_each) inside one read-side section visits every
//       element present throughout it exactly once, visits no element twice,
//       and may or may not visit elements inserted or erased meanwhile.  A key
//       erased and re-inserted during the iteration is a new element and may
//       be visited twice (old and new element).
//   G.1 size() is exact when no update runs; under concurrent updates it is
//       the sum of the updates that have completed their count update, which
//       may lag the table by the updates in flight.
//   No ordering is given between lookups of DIFFERENT keys (a reader may see
//   a later insert of k1 and miss an earlier insert of k2, as with rculfhash).
//
// Why A.1 and the reclamation hold with the M check off the hit path
//   Tag and pointer share one slot word, so a slot is read with one acquire
//   load [HM2] and published with one release store [HM1] (insert, replace,
//   erase's 0, migration's copy).  A migration of bucket b (under b's lock):
//   copies every entry into the next table ([HM1] under the target's lock),
//   then sets M with a release store of b's link [HM9], then clears b's
//   slots and its overflow lines' slots with release stores of 0 [HM10],
//   then unlocks [HM4].  A lookup scans b's slots and returns on a match
//   WITHOUT reading the link; only when nothing matched does it load the
//   link (acquire [HM3]), and after an overflow scan it loads it again.
//   * A key present throughout the lookup, in b: its slot holds its entry
//     until the migration clears it.  If the lookup's [HM2] load returned the
//     entry, it is found.  If it returned 0, that 0 is an [HM10] store,
//     released after [HM9]: the lookup's later [HM3] load sees M, follows
//     next (acquire [HM5]) and finds the copy made before [HM9].
//   * No stale match after an erase in the new table: an update of k after
//     b migrated locked b, saw M ([HM4] acquire) and so happens after [HM10].
//     A lookup that started after that update (or after the grace period of
//     its retire began, [RD1]) reads b's slots as 0 (coherence: nothing
//     writes b again, I2) and so cannot return the retired element.  A
//     lookup that read the slot before [HM10] is inside a section that began
//     before the retire's grace period: the element outlives it (B.2).
//   * Iteration copies a bucket's entries out, then re-loads the link
//     [HM3]: M still clear means none of the copied slots was an [HM10] 0,
//     so the copy is the bucket's contents (F.1); M set means it follows next
//     instead and visits nothing from b.
//
// Progress
//   Lookups and iteration: wait-free.  A lookup reads one table header, one
//   bucket line (plus its overflow chain, rare) and the matching elements; a
//   lookup that meets a migrated bucket follows to the next table (at most
//   once per resize that completes during the lookup).  No lock, no RMW, no
//   store to shared memory; never blocked by a writer or a resize.  A hit in
//   the head bucket does not look at the link word at all.  x86-64, g++ 12,
//   a hit in slot 0: mul, table load, shl, and, or, lea, then per slot a
//   load, a 16-bit compare and a branch, then shr and the key compare: 15
//   instructions; 29.4 per lookup on average among 1M keys with a read-side
//   section around each and the benchmark's loop (bench/hash_map_bench.sh).
//   Updates: BLOCKING, per bucket.  insert/erase/insert_or_assign take the
//   spin lock of the key's bucket for a few instructions (no allocation and no
//   call into user code under it, except Key's equality, and the allocation
//   of an overflow line when a bucket is full).  They are not lock-free: a
//   writer preempted inside its bucket stalls writers of that bucket (never
//   readers).  The issue asked for lock-free updates; this is the documented
//   departure (docs/design/hash_map.md explains why).
//   Resize: incremental, no thread of its own.  A writer that pushes the load
//   past a threshold allocates the new table; then every update first
//   migrates a chunk of buckets (Traits::kMigrateChunk) before doing its own
//   work.  The update that migrates the last bucket publishes the new table
//   and retires the old one through call_rcu.  Grows at > 2 elements per
//   bucket on average (to a table sized for 1 per bucket: 4x), shrinks below
//   1/2 (never below reserve()).
//
// Memory overhead per element (beyond sizeof(Key) + sizeof(T)): the element
//   header (16-byte rcu_head + 8-byte hash, plus malloc's rounding) and
//   64 / load bytes of bucket, with a load between 1/2 and 2 after a resize:
//   32-128 bytes (lookup speed bought with memory: a lower load means fewer
//   slots compared per hit).  ~56-152 bytes in all, plus overflow lines
//   (rare at these loads).  During a resize, both tables exist.
//
// Allocation failure: insert()/insert_or_assign() allocate the element
//   first, and an overflow line under the bucket lock; if either throws,
//   std::bad_alloc propagates and the map is unchanged.  A resize whose table
//   allocation fails is skipped (retried by the next update that crosses the
//   threshold); a migration step whose overflow allocation fails is rolled
//   back and retried later by a sweep.  reserve() throws std::bad_alloc.
//
// Threads and domains: all operations take a read-side section of the map's
// domain (writers too: it protects the tables they traverse).  They may be
// called inside the caller's own read-side section (sections nest), but never
// while holding a lock that a grace period could wait for.
//
// Destruction: the destructor frees everything immediately.  Precondition: no
// operation runs concurrently, and no reader still uses a pointer from find()
// (call rcu_synchronize() first if one might).  Elements already erased or
// replaced are freed by the domain's worker as usual.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "grace/detail/atomic.hpp"
#include "grace/detail/reader.hpp"
#include "grace/rcu.hpp"

// The negative control (tests/unit/hash_map_negative_test.cpp) defines this to
// 1: erased and replaced elements are then freed at once, without waiting for
// a grace period.  The inline namespace gives that build's classes other
// mangled names, so both variants can live in one program without an ODR
// violation.
#if !defined(GRACE_HASH_MAP_BROKEN_RECLAIM)
#define GRACE_HASH_MAP_BROKEN_RECLAIM 0
#endif
// The second negative control defines this to 1: a migration clears the
// moved slots BEFORE it sets M (and pauses in between), the order [HM9] /
// [HM10] forbid, so a lookup can read a cleared slot, then a link without M,
// and miss a key present throughout (A.1).
#if !defined(GRACE_HASH_MAP_BROKEN_CLEAR_ORDER)
#define GRACE_HASH_MAP_BROKEN_CLEAR_ORDER 0
#endif
#if GRACE_HASH_MAP_BROKEN_RECLAIM
#define GRACE_HASH_MAP_ABI hm_broken_reclaim
#elif GRACE_HASH_MAP_BROKEN_CLEAR_ORDER
#define GRACE_HASH_MAP_ABI hm_broken_clear_order
#else
#define GRACE_HASH_MAP_ABI hm_v1
#endif

namespace grace {

// Tunables (STYLE.md: named, shrinkable by tests).
struct hash_map_default_traits {
  // Smallest bucket count (a power of two); the table never shrinks below it.
  static constexpr std::size_t kMinBuckets = 16;
  // Buckets migrated per claim; every update claims one chunk while a resize
  // is in progress.
  static constexpr std::size_t kMigrateChunk = 16;
  // Grow when size() > kGrowLoad * buckets; shrink when 2 * size() < buckets
  // (load below 1/2).  A new table is sized for kTargetLoad elements/bucket.
  static constexpr std::size_t kGrowLoad = 2;
  static constexpr std::size_t kTargetLoad = 1;
  // Optional (tests): `static bool inject_alloc_failure()` — when present and
  // it returns true, the map's next overflow-line or table allocation fails
  // as if operator new had thrown std::bad_alloc.
};

inline namespace GRACE_HASH_MAP_ABI {

namespace hm_detail {

inline constexpr int kSlots = 7;
inline constexpr std::uint64_t kLocked = 1;    // L
inline constexpr std::uint64_t kMigrated = 2;  // M
inline constexpr std::uint64_t kLinkFlags = 63;
// A slot holds (element address << 16) | tag, or 0 (empty).  The tag is 16
// bits of the mixed hash with bit 0 forced to 1, so an empty slot never
// matches; a lookup compares the slot's low 16 bits (one 16-bit compare on
// x86-64) and shifts the address out only on a match.
inline constexpr int kTagBits = 16;
inline constexpr std::uint64_t kAddrLimit = std::uint64_t{1} << 48;

// One cache line: a bucket or an overflow line.
struct alignas(64) bucket {
  // Head bucket: overflow* | M | L.  Overflow line: next overflow* (no flags).
  //   writers: the holder of the head bucket's L bit (CAS to take L; release
  //            stores to publish a new overflow line, set M [HM9], drop L).
  //   readers: lookups and iteration, acquire [HM3].
  detail::atomic<std::uint64_t> link{0};
  // (element* << 16) | tag, or 0.
  //   writers: the holder of the head bucket's L bit, release [HM1]; a
  //            migration clears them after setting M, release [HM10].
  //   readers: lookups, acquire [HM2].
  detail::atomic<std::uint64_t> slot[kSlots];
};
static_assert(sizeof(bucket) == 64, "a bucket is one cache line");
static_assert(sizeof(void*) == 8, "grace::hash_map packs pointers into 48 bits");

// The hash the map uses: one 64x64->128 multiply of the user's hash x by
// 2^64/phi (Fibonacci hashing), p = hi:lo.  The bucket index is the low bits
// of the high half (hi = floor(x * 0.618...): every bit of x reaches it, and
// consecutive keys land 0.618 buckets apart); the tag is the low 16 bits of
// the low half (lo = x * C mod 2^64, whose low 16 bits depend on the low 16
// bits of x only: keys that agree in their low 16 bits and share a bucket
// share the tag, which costs a key compare, never a wrong answer).  This
// split keeps the lookup at one multiply, one mask and no copies.  The
// element stores h = hi << 16 | (lo & 0xffff): index hi & mask for tables up
// to 2^48 buckets.
struct hash_parts {
  std::uint64_t lo, hi;
};
inline hash_parts mix_parts(std::uint64_t x) noexcept {
#if defined(__x86_64__) && !defined(GRACE_TSAN)
  // One `mul`, written out: g++ 12 moves an unsigned __int128 product
  // through spare registers (two extra instructions per lookup).
  std::uint64_t lo, hi;
  asm("mulq %3" : "=a"(lo), "=d"(hi) : "a"(x), "rm"(0x9e3779b97f4a7c15ULL) : "cc");
  return {lo, hi};
#else
  const unsigned __int128 p = static_cast<unsigned __int128>(x) * 0x9e3779b97f4a7c15ULL;
  return {static_cast<std::uint64_t>(p), static_cast<std::uint64_t>(p >> 64)};
#endif
}
inline std::uint64_t mix(std::uint64_t x) noexcept {
  const hash_parts p = mix_parts(x);
  return (p.hi << 16) | (p.lo & 0xffff);
}

// The tag of a mixed hash h (or of the low half lo: same low 16 bits).
inline std::uint16_t tag_of(std::uint64_t h) noexcept {
  return static_cast<std::uint16_t>(h | 1);
}
// The index-space hash: bucket j of a table with mask m holds the hashes h
// with (index_hash(h) & m) == j.  A grow splits bucket j into the buckets
// j + k * (m + 1) of the new table.
inline std::uint64_t index_hash(std::uint64_t h) noexcept { return h >> 16; }

inline std::size_t round_pow2(std::size_t n) noexcept {
  std::size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

// A table is one allocation: this header, then its buckets at a fixed offset
// (sizeof(table), a multiple of 64), so a lookup addresses a bucket's slots
// straight from the table pointer.
struct table {
  rcu_head head;  // for call_rcu() when the table is retired
  // Immutable after construction.  off_mask = mask << 6: the byte offset
  // of the bucket of hi (the high half of the product) is
  // (hi << 6) & off_mask.
  std::uint64_t off_mask = 0;
  std::uint64_t mask = 0;
  // The resize target.  Written once (CAS from null, acq_rel [HM5]) by the
  // writer that starts the resize, and only while this table is current;
  // read by writers (help) and by lookups that meet a migrated bucket
  // (acquire [HM5]).
  detail::atomic<table*> next{nullptr};
  // Migration state, on separate lines (written by helpers, never by readers).
  // cursor: next bucket index to claim (relaxed fetch_add: a claim only
  //         needs atomicity; the bucket locks order the migration itself).
  alignas(64) detail::atomic<std::uint64_t> cursor{0};
  // done: buckets migrated so far (acq_rel fetch_add [HM6]).
  alignas(64) detail::atomic<std::uint64_t> done{0};
  // A migration step failed (allocation): later helpers sweep for buckets
  // left behind.  Relaxed: a hint; the bucket's M bit is the truth.
  detail::atomic<bool> needs_sweep{false};

  // n buckets (a power of two).  Throws std::bad_alloc.
  static table* create(std::size_t n) {
    void* p = ::operator new(sizeof(table) + n * sizeof(bucket), std::align_val_t{64});
    auto* t = ::new (p) table(n);
    for (std::size_t i = 0; i < n; ++i) ::new (&t->buckets()[i]) bucket;
    return t;
  }
  static void destroy(table* t) noexcept {
    if (t == nullptr) return;
    t->~table();
    ::operator delete(static_cast<void*>(t), std::align_val_t{64});
  }

  table(const table&) = delete;
  table& operator=(const table&) = delete;
  ~table() {
    for (std::uint64_t i = 0; i <= mask; ++i) {
      auto* o = reinterpret_cast<bucket*>(buckets()[i].link.load(std::memory_order_relaxed) &
                                          ~kLinkFlags);
      while (o != nullptr) {
        auto* n = reinterpret_cast<bucket*>(o->link.load(std::memory_order_relaxed));
        delete o;
        o = n;
      }
    }
  }
  bucket* buckets() noexcept {
    return reinterpret_cast<bucket*>(reinterpret_cast<char*>(this) + sizeof(table));
  }
  const bucket* buckets() const noexcept {
    return reinterpret_cast<const bucket*>(reinterpret_cast<const char*>(this) + sizeof(table));
  }
  // The bucket of the mixed hash h.
  const bucket* bucket_of(std::uint64_t h) const noexcept {
    return bucket_of_hi(index_hash(h));
  }
  // The bucket of the high half of the product (the lookup's form).
  const bucket* bucket_of_hi(std::uint64_t hi) const noexcept {
    return reinterpret_cast<const bucket*>(reinterpret_cast<const char*>(this) + sizeof(table) +
                                           ((hi << 6) & off_mask));
  }
  bucket* bucket_of(std::uint64_t h) noexcept {
    return const_cast<bucket*>(static_cast<const table*>(this)->bucket_of(h));
  }
  std::uint64_t size() const noexcept { return mask + 1; }
  static void reclaim(rcu_head* h) noexcept { destroy(reinterpret_cast<table*>(h)); }

 private:
  explicit table(std::size_t n) : off_mask((n - 1) << 6), mask(n - 1) {}
};
static_assert(sizeof(table) % 64 == 0, "buckets follow the header at a 64-byte boundary");
static_assert(std::is_standard_layout_v<rcu_head>);

// Allocates an overflow line: throws std::bad_alloc, or returns null when
// `nothrow`.  Traits may inject failures (tests).
template <class Traits>
bucket* new_line(bool nothrow) {
  if constexpr (requires { Traits::inject_alloc_failure(); }) {
    if (Traits::inject_alloc_failure()) {
      if (nothrow) return nullptr;
      throw std::bad_alloc();
    }
  }
  return nothrow ? new (std::nothrow) bucket : new bucket;
}

// Takes b's writer lock; returns the link word as it is while locked (L set).
inline std::uint64_t lock_bucket(bucket& b) noexcept {
  std::uint64_t v = b.link.load(std::memory_order_relaxed);
  for (;;) {
    if ((v & kLocked) == 0) {
      // [HM4] acquire pairs with the release in unlock_bucket(): the new
      // holder sees everything the previous holder did to this bucket.
      if (b.link.compare_exchange_weak(v, v | kLocked, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return v | kLocked;
      }
    } else {
      detail::cpu_relax();
      v = b.link.load(std::memory_order_relaxed);
    }
  }
}

// Drops the lock, publishing `link` (with L cleared).  [HM4] release: pairs
// with the next holder's acquire and with lookups' [HM3].
inline void unlock_bucket(bucket& b, std::uint64_t link) noexcept {
  b.link.store(link & ~kLocked, std::memory_order_release);  // [HM4] pairs with [HM3]
}

// Scope guard: unlocks on every exit path (bad_alloc included).
struct bucket_guard {
  bucket* b;
  std::uint64_t link;  // current link word, kept up to date by the holder
  bucket_guard(bucket* bk, std::uint64_t l) noexcept : b(bk), link(l) {}
  bucket_guard(const bucket_guard&) = delete;
  bucket_guard& operator=(const bucket_guard&) = delete;
  ~bucket_guard() {
    if (b != nullptr) unlock_bucket(*b, link);
  }
  void release() noexcept {
    unlock_bucket(*b, link);
    b = nullptr;
  }
};

// First empty slot in the bucket or its overflow chain, or null.  Caller
// holds the lock; relaxed loads suffice (only the holder writes slots).
inline detail::atomic<std::uint64_t>* free_slot(bucket& head, std::uint64_t link) noexcept {
  bucket* b = &head;
  for (;;) {
    for (auto& s : b->slot) {
      if (s.load(std::memory_order_relaxed) == 0) return &s;
    }
    b = reinterpret_cast<bucket*>(link & ~kLinkFlags);
    if (b == nullptr) return nullptr;
    link = b->link.load(std::memory_order_relaxed);
  }
}

// Puts a fresh overflow line holding `entry` at the front of head's chain.
// Caller holds the lock and passes the guard so the new link is what the
// unlock publishes.
inline void push_overflow(bucket_guard& g, bucket* line, std::uint64_t entry) noexcept {
  line->slot[0].store(entry, std::memory_order_relaxed);  // unpublished yet
  line->link.store(g.link & ~kLinkFlags, std::memory_order_relaxed);
  g.link = reinterpret_cast<std::uint64_t>(line) | (g.link & kLinkFlags);
  // [HM1] release: a lookup that reaches the line through [HM3] sees its
  // slot and link initialized.
  g.b->link.store(g.link, std::memory_order_release);
}

}  // namespace hm_detail

template <class Key, class T, class Hash = std::hash<Key>, class KeyEqual = std::equal_to<Key>,
          class Traits = hash_map_default_traits>
class hash_map {
  using bucket = hm_detail::bucket;
  using table = hm_detail::table;
  using slot_t = detail::atomic<std::uint64_t>;
  // How lookup() hands the key to its out-of-line rest: by value when that is
  // a register copy, so that the caller's key never has to live in memory.
  using key_arg = std::conditional_t<std::is_trivially_copyable_v<Key> && sizeof(Key) <= 16, Key,
                                     const Key&>;

  struct node : rcu_head {
    std::uint64_t hash;
    Key key;
    T value;
    node(std::uint64_t h, Key&& k, T&& v) : rcu_head(), hash(h), key(std::move(k)), value(std::move(v)) {}
  };

  static_assert((Traits::kMinBuckets & (Traits::kMinBuckets - 1)) == 0 && Traits::kMinBuckets > 0,
                "kMinBuckets must be a power of two");
  static_assert(Traits::kMigrateChunk > 0 && Traits::kGrowLoad > Traits::kTargetLoad &&
                Traits::kTargetLoad > 0);

 public:
  using key_type = Key;
  using mapped_type = T;
  using size_type = std::size_t;

  // An empty map in `dom` (which must outlive the map and any element it
  // retired).  Allocates the minimal table: throws std::bad_alloc.
  explicit hash_map(rcu_domain& dom = rcu_default_domain())
      : dom_(&dom), cur_(table::create(Traits::kMinBuckets)) {}
  hash_map(const hash_map&) = delete;
  hash_map& operator=(const hash_map&) = delete;

  // See the file comment: no concurrent operation, no reader still using a
  // find() pointer.
  ~hash_map() {
    // Every element lives in exactly one of: an unmigrated bucket of the
    // current table, or the resize target (which holds the elements of every
    // migrated bucket).  Not visit_bucket(): its filter would read the hash
    // of elements it already deleted through another bucket.
    table* t = cur_.load(std::memory_order_acquire);  // [HM5] pairs with [HM7]
    table* nt = t->next.load(std::memory_order_acquire);  // [HM5] pairs with [HM8]
    auto delete_nodes = [](table* tb, bool skip_migrated) {
      for (std::uint64_t j = 0; j <= tb->mask; ++j) {
        bucket& b = tb->buckets()[j];
        const std::uint64_t link = b.link.load(std::memory_order_relaxed);
        if (skip_migrated && (link & hm_detail::kMigrated) != 0) continue;
        for_each_entry_locked(b, link, [](std::uint64_t e) {
          delete node_of(e);
          return true;
        });
      }
    };
    delete_nodes(t, true);
    if (nt != nullptr) delete_nodes(nt, false);
    table::destroy(nt);
    table::destroy(t);
  }

  // ---- Updates: blocking on the key's bucket only; take their own read-side
  // section; never inside a lock a grace period waits for.

  // Inserts (key, value) if key is absent.  Returns false (and destroys its
  // arguments' moved-from copies) if key was present.  Throws std::bad_alloc
  // with the map unchanged.
  bool insert(Key key, T value) { return upsert(std::move(key), std::move(value), false); }

  // Inserts, or replaces the element of an existing key with a new one (old
  // element retired: readers holding it keep a valid pointer until they
  // leave their sections).  Returns true if inserted, false if replaced.
  bool insert_or_assign(Key key, T value) {
    return upsert(std::move(key), std::move(value), true);
  }

  // Removes key; returns whether it was present.  The element is retired.
  bool erase(const Key& key) {
    const std::uint64_t h = hm_detail::mix(hasher_(key));
    node* victim = nullptr;
    {
      std::scoped_lock rs(*dom_);
      help_resize();
      hm_detail::bucket_guard g = lock_home(h);
      slot_t* s = find_slot_locked(*g.b, g.link, h, key);
      if (s == nullptr) return false;
      victim = node_of(s->load(std::memory_order_relaxed));
      // [HM1] release on a zero: nothing to publish, but keeps every slot
      // store of the holder a release, so a lookup reading 0 here is ordered
      // after the earlier stores of the same holder.
      s->store(0, std::memory_order_release);
    }
    count_.fetch_sub(1, std::memory_order_relaxed);  // a statistic: see G.1
    retire(victim);
    maybe_shrink();
    return true;
  }

  // Removes every element present throughout the call (concurrent inserts may
  // survive).  Not atomic: equivalent to erasing the elements one by one.
  void clear() {
    const table* prev = nullptr;
    for (std::uint64_t j = 0;; ++j) {
      std::scoped_lock rs(*dom_);
      table* t = cur_.load(std::memory_order_acquire);  // [HM5] pairs with [HM7]
      if (t != prev) {  // a resize finished: start over on the new table
        prev = t;
        j = 0;
      }
      if (j > t->mask) break;
      visit_bucket(t, j, t->mask, j, [this](node* n) { erase(n->key); });
    }
  }

  // Makes room for n elements without a resize, and keeps the table at least
  // that large (shrinking stops there).  Blocking: finishes any resize in
  // progress, then migrates the whole table.  Throws std::bad_alloc (map
  // unchanged).  Not inside a read-side section it would hold for long.
  void reserve(size_type n) {
    const std::size_t want = buckets_for(n);
    std::size_t floor = reserved_buckets_.load(std::memory_order_relaxed);
    while (floor < want && !reserved_buckets_.compare_exchange_weak(
                               floor, want, std::memory_order_relaxed, std::memory_order_relaxed)) {
    }
    for (;;) {
      std::scoped_lock rs(*dom_);
      table* t = cur_.load(std::memory_order_acquire);  // [HM5] pairs with [HM7]
      table* nt = t->next.load(std::memory_order_acquire);  // [HM5] pairs with [HM8]
      if (nt == nullptr) {
        if (t->size() >= want) return;
        table* fresh = table::create(want);  // may throw: map unchanged
        if (!start_resize(t, fresh)) table::destroy(fresh);
        continue;
      }
      migrate_some(t, nt);
    }
  }

  // ---- Lookups: wait-free.

  // A copy of key's value, or nullopt.  Takes its own read-side section.
  std::optional<T> get(const Key& key) const {
    std::scoped_lock rs(*dom_);
    if (const node* n = lookup(key)) return n->value;
    return std::nullopt;
  }

  bool contains(const Key& key) const {
    std::scoped_lock rs(*dom_);
    return lookup(key) != nullptr;
  }

  // key's value, or null.  Precondition: the caller is inside a read-side
  // section (checked builds abort with a message otherwise); the pointer is
  // valid until that section ends.  No copy, no lock.
  [[gnu::always_inline]] const T* find(const Key& key) const noexcept {
#if GRACE_CHECKED
    if (detail::read_nesting() == 0) {
      std::fputs(
          "grace: hash_map::find: called outside a read-side section (the result could be "
          "freed under you); lock the map's rcu_domain first, or use get()\n",
          stderr);
      std::abort();
    }
#endif
    const node* n = lookup(key);
    return n != nullptr ? &n->value : nullptr;
  }

  // Calls f(key, value) for each element.  Precondition: inside a read-side
  // section (checked builds abort otherwise).  Weakly consistent (F.1).  f
  // may call this map's updates; it must not leave the section.
  template <class F>
  void for_each(F&& f) const {
#if GRACE_CHECKED
    if (detail::read_nesting() == 0) {
      std::fputs("grace: hash_map::for_each: called outside a read-side section\n", stderr);
      std::abort();
    }
#endif
    const table* t = cur_.load(std::memory_order_acquire);  // [HM5]
    for (std::uint64_t j = 0; j <= t->mask; ++j) {
      visit_bucket(t, j, t->mask, j, [&f](const node* n) { f(n->key, n->value); });
    }
  }

  // The domain whose read-side sections protect this map.
  rcu_domain& domain() const noexcept { return *dom_; }

  // Elements present (G.1).  Wait-free.
  size_type size() const noexcept {
    const std::int64_t c = count_.load(std::memory_order_relaxed);
    return c > 0 ? static_cast<size_type>(c) : 0;
  }
  bool empty() const noexcept { return size() == 0; }

  // Buckets of the current table (tests and statistics); a resize target is
  // not counted.
  size_type bucket_count() const noexcept {
    std::scoped_lock rs(*dom_);
    return cur_.load(std::memory_order_acquire)->size();  // [HM5] pairs with [HM7]
  }
  // True while a resize is migrating buckets.
  bool resizing() const noexcept {
    std::scoped_lock rs(*dom_);
    return cur_.load(std::memory_order_acquire)->next.load(std::memory_order_acquire) != nullptr;  // [HM5] pairs with [HM7], [HM8]
  }

 private:
  static node* node_of(std::uint64_t v) noexcept {
    return reinterpret_cast<node*>(v >> hm_detail::kTagBits);
  }
  static std::uint64_t entry_of(node* n) noexcept {
    const auto p = reinterpret_cast<std::uint64_t>(n);
#if GRACE_CHECKED
    if (p >= hm_detail::kAddrLimit) {
      std::fputs("grace: hash_map: an element address does not fit in 48 bits\n", stderr);
      std::abort();
    }
#endif
    return (p << hm_detail::kTagBits) | hm_detail::tag_of(n->hash);
  }
  // `probe`'s low 16 bits are the tag (the rest is ignored): a 64-bit probe
  // lets the lookup use the product's register as is.
  static bool tag_matches(std::uint64_t v, std::uint64_t probe) noexcept {
    return static_cast<std::uint16_t>(v) == static_cast<std::uint16_t>(probe);
  }

  static std::size_t buckets_for(std::size_t n) noexcept {
    const std::size_t b = hm_detail::round_pow2(n / Traits::kTargetLoad + 1);
    return b < Traits::kMinBuckets ? Traits::kMinBuckets : b;
  }

  // The lookup: wait-free, no store.  Caller is inside a read-side section.
  // Hot path (a hit in the head bucket): hash, table, bucket, a 16-bit tag
  // compare per slot, the key compare; the M bit is not on it: a migration
  // clears the slots it moved after setting M ([HM9], [HM10]), so a stale
  // copy is never matched once it could have been erased from the new table,
  // and a lookup that read a cleared slot sees M when it loads the link.
  [[gnu::always_inline]] const node* lookup(const Key& key) const {
    // mix(), in parts: the index from the high half, the tag from the low.
    const hm_detail::hash_parts h = hm_detail::mix_parts(hasher_(key));
    // [HM5] acquire pairs with the release in finish_resize(): a reader
    // that sees a new table sees its buckets as migrated.
    const table* t = cur_.load(std::memory_order_acquire);
    const bucket* const head = t->bucket_of_hi(h.hi);
    if (const node* n = match_line(*head, h.lo | 1, key)) [[likely]] return n;
    // [HM3] as in lookup_rest(): the common miss (no overflow line, M clear;
    // L may be set by a writer) ends here without the call.
    if (head->link.load(std::memory_order_acquire) <= hm_detail::kLocked) return nullptr;
    return lookup_rest(t, head, key);
  }

  // The rest of a lookup whose head bucket had no match: overflow lines and
  // migrated buckets.  Out of line so that the inlined hit path stays small
  // and keeps nothing for it (it recomputes the hash).
  [[gnu::noinline]] const node* lookup_rest(const table* t, const bucket* head,
                                            key_arg key) const {
    const hm_detail::hash_parts h = hm_detail::mix_parts(hasher_(key));
    const std::uint64_t tag = h.lo | 1;  // tag_of(h.lo) in its low 16 bits
    for (;;) {
      // [HM3] acquire pairs with [HM4]/[HM9] and [HM1] on the link: M set
      // means the migration's copies in the next table are visible; an
      // overflow pointer means the line is initialized.  Loaded after the
      // head's slots: if a slot load returned a slot cleared by a migration
      // ([HM10], released after [HM9]), this load sees M.
      std::uint64_t link = head->link.load(std::memory_order_acquire);
      if ((link & hm_detail::kMigrated) == 0) [[likely]] {
        if (link <= hm_detail::kLinkFlags) return nullptr;  // no overflow line
        for (auto* b = reinterpret_cast<const bucket*>(link & ~hm_detail::kLinkFlags); b != nullptr;
             b = reinterpret_cast<const bucket*>(b->link.load(std::memory_order_acquire))) {  // [HM3]
          if (const node* n = match_line(*b, tag, key)) return n;
        }
        // [HM3] again: the overflow slots may have been cleared by a
        // migration that began after the first load; then M is visible now.
        link = head->link.load(std::memory_order_acquire);
        if ((link & hm_detail::kMigrated) == 0) return nullptr;
      }
      // [HM5] acquire: M was set after next was published.
      t = t->next.load(std::memory_order_acquire);
      head = t->bucket_of_hi(h.hi);
      if (const node* n = match_line(*head, tag, key)) return n;
    }
  }

  // The 7 slots of one line, unrolled: on x86-64 a load, a 16-bit compare
  // and a branch per slot, then the key compare on a tag match.
  [[gnu::always_inline]] const node* match_line(const bucket& b, std::uint64_t tag,
                                                const Key& key) const {
#pragma GCC unroll 8
    for (int i = 0; i < hm_detail::kSlots; ++i) {
      // [HM2] acquire pairs with [HM1]: the element is fully constructed.
      const std::uint64_t v = b.slot[i].load(std::memory_order_acquire);
      if (tag_matches(v, tag)) [[unlikely]] {
        const node* n = node_of(v);
        if (equal_(n->key, key)) [[likely]] return n;
      }
    }
    return nullptr;
  }

  // Visits the elements e of table t, bucket j, with
  // (index_hash(e.hash) & m) == v, following the bucket to the next table if
  // it was migrated.  Requires m >= t->mask and (v & t->mask) == j.  Each
  // element is visited once: the sets (t, j, m, v) explored partition the
  // hash space, and a bucket is read either as migrated (then only its
  // successors are read) or not (then only its own lines are).  Because a migration clears the slots
  // it moved, the bucket's entries are first copied out and then validated:
  // if M is still clear after the copy, no slot read returned a cleared slot
  // ([HM10] is released after [HM9]), so the copy is the bucket's contents.
  template <class F>
  void visit_bucket(const table* t, std::uint64_t j, std::uint64_t m, std::uint64_t v,
                    F&& f) const {
    const bucket* head = &t->buckets()[j];
    std::uint64_t link = head->link.load(std::memory_order_acquire);  // [HM3]
    if ((link & hm_detail::kMigrated) == 0) {
      std::uint64_t local[hm_detail::kSlots];
      std::vector<std::uint64_t> more;  // overflow lines' entries (rare)
      for (int i = 0; i < hm_detail::kSlots; ++i) {
        local[i] = head->slot[i].load(std::memory_order_acquire);  // [HM2]
      }
      for (auto* b = reinterpret_cast<const bucket*>(link & ~hm_detail::kLinkFlags); b != nullptr;
           b = reinterpret_cast<const bucket*>(b->link.load(std::memory_order_acquire))) {  // [HM3]
        for (const auto& s : b->slot) {
          const std::uint64_t e = s.load(std::memory_order_acquire);  // [HM2]
          if (e != 0) more.push_back(e);
        }
      }
      // [HM3] the validation load (see above).
      link = head->link.load(std::memory_order_acquire);
      if ((link & hm_detail::kMigrated) == 0) {
        auto visit = [&](std::uint64_t e) {
          if (e == 0) return;
          node* n = node_of(e);
          if ((hm_detail::index_hash(n->hash) & m) == v) f(n);
        };
        for (std::uint64_t e : local) visit(e);
        for (std::uint64_t e : more) visit(e);
        return;
      }
    }
    const table* nt = t->next.load(std::memory_order_acquire);  // [HM5]
    if (nt->mask >= m) {
      for (std::uint64_t k = v; k <= nt->mask; k += m + 1) visit_bucket(nt, k, nt->mask, k, f);
    } else {
      visit_bucket(nt, v & nt->mask, m, v, f);
    }
  }

  // Locks the bucket that holds h's elements now (following migrated
  // buckets).  Caller is inside a read-side section.
  hm_detail::bucket_guard lock_home(std::uint64_t h) noexcept {
    table* t = cur_.load(std::memory_order_acquire);  // [HM5]
    for (;;) {
      bucket* b = t->bucket_of(h);
      const std::uint64_t link = hm_detail::lock_bucket(*b);
      if ((link & hm_detail::kMigrated) == 0) return hm_detail::bucket_guard{b, link};
      hm_detail::unlock_bucket(*b, link);
      t = t->next.load(std::memory_order_acquire);  // [HM5]
    }
  }

  // Caller holds the lock: the slot holding key, or null.
  slot_t* find_slot_locked(bucket& head, std::uint64_t link, std::uint64_t h, const Key& key) {
    const std::uint16_t tag = hm_detail::tag_of(h);
    bucket* b = &head;
    for (;;) {
      for (auto& s : b->slot) {
        const std::uint64_t v = s.load(std::memory_order_relaxed);  // holder's own data
        if (tag_matches(v, tag)) {
          const node* n = node_of(v);
          if (n->hash == h && equal_(n->key, key)) return &s;
        }
      }
      b = reinterpret_cast<bucket*>(link & ~hm_detail::kLinkFlags);
      if (b == nullptr) return nullptr;
      link = b->link.load(std::memory_order_relaxed);
    }
  }

  bool upsert(Key&& key, T&& value, bool assign) {
    const std::uint64_t h = hm_detail::mix(hasher_(key));
    // Allocate first, outside any lock: a throw leaves the map unchanged.
    auto fresh = std::make_unique<node>(h, std::move(key), std::move(value));
    node* old = nullptr;
    {
      std::scoped_lock rs(*dom_);
      help_resize();
      hm_detail::bucket_guard g = lock_home(h);
      if (slot_t* s = find_slot_locked(*g.b, g.link, h, fresh->key)) {
        if (!assign) return false;
        old = node_of(s->load(std::memory_order_relaxed));
        // [HM1] release pairs with [HM2]: a lookup that reads the new
        // entry sees the new element constructed.  One store: readers see
        // the old or the new element, never neither (D.1).
        s->store(entry_of(fresh.release()), std::memory_order_release);
      } else {
        slot_t* s2 = hm_detail::free_slot(*g.b, g.link);
        if (s2 == nullptr) {
          // May throw: the guard unlocks; fresh is still owned: map unchanged.
          bucket* line = hm_detail::new_line<Traits>(false);
          hm_detail::push_overflow(g, line, entry_of(fresh.release()));
        } else {
          s2->store(entry_of(fresh.release()), std::memory_order_release);  // [HM1]
        }
      }
    }
    if (old != nullptr) {
      retire(old);
      return false;
    }
    count_.fetch_add(1, std::memory_order_relaxed);  // a statistic: see G.1
    maybe_grow();
    return true;
  }

  void retire(node* n) noexcept {
#if GRACE_HASH_MAP_BROKEN_RECLAIM
    // Deliberately wrong (negative control): no grace period.
    delete n;
#else
    call_rcu(n, &reclaim_node, *dom_);
#endif
  }
  static void reclaim_node(rcu_head* h) { delete static_cast<node*>(h); }

  // ---- Resizing.

  void maybe_grow() noexcept {
    const std::int64_t c = count_.load(std::memory_order_relaxed);
    std::scoped_lock rs(*dom_);
    table* t = cur_.load(std::memory_order_acquire);  // [HM5] pairs with [HM7]
    if (c <= static_cast<std::int64_t>(t->size() * Traits::kGrowLoad)) return;
    try_resize(t, buckets_for(static_cast<std::size_t>(c)));
  }

  void maybe_shrink() noexcept {
    const std::int64_t c = count_.load(std::memory_order_relaxed);
    std::scoped_lock rs(*dom_);
    table* t = cur_.load(std::memory_order_acquire);  // [HM5] pairs with [HM7]
    if (t->size() <= Traits::kMinBuckets || 2 * c >= static_cast<std::int64_t>(t->size())) return;
    std::size_t want = buckets_for(c > 0 ? static_cast<std::size_t>(c) : 0);
    const std::size_t floor = reserved_buckets_.load(std::memory_order_relaxed);
    if (want < floor) want = floor;
    if (want >= t->size()) return;
    try_resize(t, want);
  }

  // Starts a resize of t to n buckets unless one is running.  Allocation
  // failure skips the resize (the map keeps working, with longer chains).
  void try_resize(table* t, std::size_t n) noexcept {
    if (t->next.load(std::memory_order_relaxed) != nullptr) return;
    table* fresh = nullptr;
    try {
      if constexpr (requires { Traits::inject_alloc_failure(); }) {
        if (Traits::inject_alloc_failure()) return;
      }
      fresh = table::create(n);
    } catch (const std::bad_alloc&) {
      return;
    }
    if (!start_resize(t, fresh)) table::destroy(fresh);
  }

  bool start_resize(table* t, table* fresh) noexcept {
    table* expected = nullptr;
    // [HM8] release pairs with the [HM5] acquire loads of next: helpers and
    // lookups that read next see it constructed (zeroed buckets).
    return t->next.compare_exchange_strong(expected, fresh, std::memory_order_acq_rel,
                                           std::memory_order_acquire);
  }

  // Called by every update, inside its section, before its own work.
  void help_resize() noexcept {
    table* t = cur_.load(std::memory_order_acquire);  // [HM5] pairs with [HM7]
    table* nt = t->next.load(std::memory_order_acquire);  // [HM5]
    if (nt != nullptr) [[unlikely]] migrate_some(t, nt);
  }

  // Migrates one chunk of t's buckets into nt (or sweeps for buckets a
  // failed step left behind); the caller of the last one publishes nt.
  void migrate_some(table* t, table* nt) noexcept {
    const std::uint64_t n = t->size();
    std::uint64_t moved = 0;
    bool failed = false;
    const std::uint64_t start = t->cursor.fetch_add(Traits::kMigrateChunk, std::memory_order_relaxed);
    if (start < n) {
      const std::uint64_t end = start + Traits::kMigrateChunk < n ? start + Traits::kMigrateChunk : n;
      // Each copy reads its element's hash, a cache miss: start the misses
      // of the whole chunk at once so that they overlap.  (Unlocked relaxed
      // loads: a hint only; a prefetch of a stale address is harmless.)
      for (std::uint64_t i = start; i < end; ++i) {
        for (const auto& s : t->buckets()[i].slot) {
          const std::uint64_t e = s.load(std::memory_order_relaxed);
          if (e != 0) __builtin_prefetch(&node_of(e)->hash);
        }
      }
      for (std::uint64_t i = start; i < end; ++i) {
        const int r = migrate_bucket(t, nt, i);
        if (r > 0) ++moved;
        if (r < 0) failed = true;
      }
    } else if (t->needs_sweep.load(std::memory_order_relaxed)) {
      for (std::uint64_t i = 0; i < n; ++i) {
        if ((t->buckets()[i].link.load(std::memory_order_relaxed) & hm_detail::kMigrated) != 0) continue;
        const int r = migrate_bucket(t, nt, i);
        if (r > 0) ++moved;
        if (r < 0) break;  // still no memory: leave it for later
      }
    }
    if (failed) t->needs_sweep.store(true, std::memory_order_relaxed);
    if (moved == 0) return;
    // [HM6] acq_rel, between the helpers' fetch_adds: the helper that
    // completes the count happens after every bucket's migration (release
    // sequence of the RMWs), so its [HM7] publishes all of them.
    if (t->done.fetch_add(moved, std::memory_order_acq_rel) + moved == n) finish_resize(t, nt);
  }

  // 1: migrated; 0: already migrated; -1: overflow allocation failed (rolled
  // back, bucket untouched).
  int migrate_bucket(table* t, table* nt, std::uint64_t i) noexcept {
    hm_detail::bucket_guard g{&t->buckets()[i], hm_detail::lock_bucket(t->buckets()[i])};
    if ((g.link & hm_detail::kMigrated) != 0) return 0;
    // Copy every entry into nt.  No writer reaches nt's copies of these keys
    // before we set M (they come through this bucket, which we hold), and no
    // lookup does either; so a failed step can be undone invisibly.
    std::size_t copied = 0;
    bool ok = for_each_entry_locked(*g.b, g.link, [&](std::uint64_t e) {
      if (!copy_entry(nt, e)) return false;
      ++copied;
      return true;
    });
    if (!ok) {
      for_each_entry_locked(*g.b, g.link, [&](std::uint64_t e) {
        if (copied == 0) return false;
        --copied;
        remove_entry(nt, e);
        return true;
      });
      return -1;
    }
    // Set M, still holding L, then clear the moved slots (nobody writes this
    // bucket again, I2), so that no lookup matches a stale copy once an
    // update in nt could have erased and retired it.
    g.link |= hm_detail::kMigrated;
#if GRACE_HASH_MAP_BROKEN_CLEAR_ORDER
    // Deliberately wrong (negative control): clear first, pause, then M.
    for_each_slot_locked(*g.b, g.link, [](slot_t& s) {
      s.store(0, std::memory_order_relaxed);
      return true;
    });
    for (int spin = 0; spin < 2000; ++spin) detail::cpu_relax();
#endif
    // [HM9] release pairs with [HM3] in lookups and iteration and with
    // lock_home(): all that see M find every entry in nt.
    g.b->link.store(g.link, std::memory_order_release);
    for_each_slot_locked(*g.b, g.link, [](slot_t& s) {
      if (s.load(std::memory_order_relaxed) == 0) return true;
      // [HM10] release, after [HM9]: a reader whose [HM2] load returns this
      // 0 sees M at its next link load [HM3] and follows next.
      s.store(0, std::memory_order_release);
      return true;
    });
    return 1;  // the guard's unlock [HM4] stores the same link
  }

  template <class F>
  static bool for_each_entry_locked(bucket& head, std::uint64_t link, F&& f) {
    bucket* b = &head;
    for (;;) {
      for (auto& s : b->slot) {
        const std::uint64_t e = s.load(std::memory_order_relaxed);
        if (e != 0 && !f(e)) return false;
      }
      b = reinterpret_cast<bucket*>(link & ~hm_detail::kLinkFlags);
      if (b == nullptr) return true;
      link = b->link.load(std::memory_order_relaxed);
    }
  }

  static bool copy_entry(table* nt, std::uint64_t e) noexcept {
    bucket& tb = *nt->bucket_of(node_of(e)->hash);
    hm_detail::bucket_guard g{&tb, hm_detail::lock_bucket(tb)};
    if (slot_t* s = hm_detail::free_slot(tb, g.link)) {
      s->store(e, std::memory_order_release);  // [HM1]
      return true;
    }
    bucket* line = hm_detail::new_line<Traits>(true);
    if (line == nullptr) return false;
    hm_detail::push_overflow(g, line, e);
    return true;
  }

  static void remove_entry(table* nt, std::uint64_t e) noexcept {
    bucket& tb = *nt->bucket_of(node_of(e)->hash);
    hm_detail::bucket_guard g{&tb, hm_detail::lock_bucket(tb)};
    for_each_slot_locked(tb, g.link, [e](slot_t& s) {
      if (s.load(std::memory_order_relaxed) != e) return true;
      s.store(0, std::memory_order_relaxed);  // never published: see migrate_bucket()
      return false;
    });
  }

  template <class F>
  static void for_each_slot_locked(bucket& head, std::uint64_t link, F&& f) {
    bucket* b = &head;
    for (;;) {
      for (auto& s : b->slot) {
        if (!f(s)) return;
      }
      b = reinterpret_cast<bucket*>(link & ~hm_detail::kLinkFlags);
      if (b == nullptr) return;
      link = b->link.load(std::memory_order_relaxed);
    }
  }

  void finish_resize(table* t, table* nt) noexcept {
    // [HM7] release pairs with the [HM5] acquire loads of cur_: a reader
    // that sees nt sees every migrated entry (which [HM6] ordered before us).
    cur_.store(nt, std::memory_order_release);
    // Readers and writers may still be inside t: free it after a grace
    // period.  Its overflow lines go with it; its elements now belong to nt.
    call_rcu(&t->head, &table::reclaim, *dom_);
  }

  rcu_domain* dom_;
  [[no_unique_address]] Hash hasher_{};
  [[no_unique_address]] KeyEqual equal_{};
  // The current table.  Written by finish_resize() (release [HM5]); read by
  // every operation (acquire).  Read-mostly: its own line.
  alignas(64) detail::atomic<table*> cur_;
  // Element count (G.1).  Relaxed: a statistic that only steers resizing.
  alignas(64) detail::atomic<std::int64_t> count_{0};
  // The bucket count reserve() asked for: shrinking stops there.
  detail::atomic<std::size_t> reserved_buckets_{0};
};

}  // inline namespace GRACE_HASH_MAP_ABI
}  // namespace grace
