// grace/hash_map.hpp — an RCU-protected, resizable hash map with wait-free
// lookups and lock-free updates (docs/design/hash_map.md is the design
// document).
//
// Overview
//   grace::hash_map<Key, T> maps keys to values for read-mostly workloads
//   (routing tables, caches, connection tables).  Lookups take no lock and
//   write no shared memory: they run inside a read-side section of the map's
//   rcu_domain.  Updates take no lock either: each is one compare-and-swap on
//   one slot (plus, while a resize runs, a share of the migration).
//   Replaced and erased elements are handed to grace's deferred reclamation
//   (call_rcu) and freed only after every reader that could see them has
//   left its section.
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
//     | link: overflow* | M | F       | slot[0..6]: element* (48) | tag (16)|
//     +-------------------------------+-----------------------------------+
//       F (bit 0)  frozen: a migration has begun; no line is appended
//       M (bit 1)  migrated: the bucket's contents live in table->next now
//       overflow*  next overflow line (same layout; its link is next* | F)
//   slot:  the element's address shifted left by 16 (x86-64/AArch64 user
//          addresses fit in 48 bits; checked builds assert it), and in the
//          low 16 bits a tag: bits 2..15 of the hash, then
//            bit 1  OPEN: not frozen by a migration
//            bit 0  LIVE: the element is in the map (clear: a tombstone)
//          An empty slot is 0 (so an all-zero bucket is empty, and tables
//          come from zeroed memory without an initialising pass); a frozen
//          empty slot is 4 (no element, neither OPEN nor LIVE).  A lookup
//          compares the slot's low 16 bits with the key's tag
//          with OPEN and LIVE set (one 16-bit compare on x86-64), so empty
//          slots, tombstones and frozen slots never match on the hit path.
//   hash:  Fibonacci hashing: the user's hash times 2^64/phi (one 64x64->128
//          multiply); the bucket is the low bits of the high half, the tag
//          the low 16 bits of the low half (see mix_parts()).
//   element: Key, T, the 64-bit mixed hash, rcu_head — allocated separately
//          and never modified after it is published (replace = new element).
//
// Updates: claims.  Within one table a slot, once it holds a key's element,
// belongs to that key for good: erase leaves a tombstone (LIVE cleared, the
// element kept so that its key can still be compared), and a later insert of
// the same key revives that slot.  Every update walks the key's bucket and
// its overflow lines in order and stops at the first slot that is empty or
// holds the key; it claims an empty one with one CAS.  So all updates of a
// key meet at the same slot and serialize on its CAS: concurrent insert(k)
// calls cannot both succeed.  A full chain gets a new line by one CAS on the
// last line's link.  Tombstones are dropped by the next resize, which frees
// their elements (through call_rcu); erases start one (a same-size rehash if
// need be) when there are more tombstones than buckets.
//
// Resizing: freeze, copy, mark.  Migrating bucket b of table t into t->next
// (any thread may do it, and several may do it at once):
//   1. set F on b's link [HM11], then clear OPEN in every slot up to the
//      first empty one [HM12] (the slots after it are empty and no walk can
//      reach them), setting F on each overflow link before its slots: from
//      then on every CAS of an update on b fails, and b's contents are
//      immutable;
//   2. copy every live entry into next (a claim there: copies of one key by
//      several helpers meet at one slot; a slot already holding the key means
//      done);
//   3. set M on b's link [HM9]; the thread whose fetch_or set it counts the
//      bucket, and the one that counts the last publishes next as the
//      current table [HM7] and retires t.
// An update that meets a frozen slot or link migrates that bucket itself,
// then goes on in next: no update waits for another thread.
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
//       one slot with one CAS.
//   D.2 replace(k, expected, v) and erase(k, expected) act only if k's
//       element is still the one whose value `expected` points to (found in
//       the caller's current read-side section): not replaced or erased
//       since, whatever resizes ran (a migration moves the pointer, not the
//       element).  No ABA: a replaced or erased element never becomes k's
//       element again (a revive publishes a new one), and the caller's
//       section keeps its address from being reused.  update(k, f) built on
//       replace() loses no update: each f result it publishes was computed
//       from the value it replaces.
//   E.1 Updates of one key are linearizable: they serialize on the CAS of
//       the key's slot.  Concurrent insert(k) calls: exactly one returns true.
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
// Why A.1 holds with the M check off the hit path
//   A lookup scans the head bucket's slots and returns on a match without
//   reading the link; frozen entries do not match (OPEN clear), so a slot
//   that matched was not yet frozen when read, and the entry was in the map
//   then.  Only when nothing matched does it load the link (acquire [HM3]):
//   * no flag: no slot it read was frozen (a frozen value is released after
//     F is set, [HM11] then [HM12], and the slot load is an acquire [HM2]):
//     the scan saw the bucket as it was, a key present throughout included.
//   * M: the copies in next are visible ([HM9] release after them); it looks
//     there ([HM5]).
//   * F without M: the bucket is authoritative still (no update of its keys
//     happens in next before M), so it scans the chain again accepting frozen
//     live entries.  Memory safety: an element can be erased in next only
//     after M; this lookup read the link before M, so its section began
//     before any such erase's grace period.
//   Iteration copies a bucket's live entries (frozen or not) out, then
//   re-loads the link: M still clear means the copy is the bucket's contents
//   (F.1); M set means it discards the copy and follows next.
//
// Progress
//   Lookups and iteration: wait-free.  A lookup reads one table header, one
//   bucket line (plus its overflow chain, rare) and the matching elements; a
//   lookup that meets a migrated bucket follows to the next table (at most
//   once for the resize in progress, plus once per resize completed during
//   the lookup); one that meets a
//   bucket being frozen scans its chain once more.  No lock, no RMW, no
//   store to shared memory; never blocked by a writer or a resize.  A hit in
//   the head bucket does not look at the link word at all.  x86-64, g++ 12,
//   a hit in slot 0: mul, table load, shl, and, or, lea, then per slot a
//   load, a 16-bit compare and a branch, then shr and the key compare.
//   Updates: lock-free.  A CAS fails only because another update of the
//   same slot succeeded or a migration froze it; a frozen bucket is migrated
//   by whichever update meets it (bounded work: the bucket's chain), so no
//   update waits for a preempted thread.  insert/erase/insert_or_assign/
//   replace make one CAS in the common case; update() retries only after
//   another update of its key succeeded; an update also migrates one chunk of buckets
//   (Traits::kMigrateChunk) while a resize runs.
//   Resize: incremental, no thread of its own.  A writer that pushes the load
//   past a threshold allocates the new table (one of kBuildAheadBytes or
//   more, 1 MiB by default, is ordered from the domain's reclamation worker
//   instead, and updates go on in the current table until it is built; past
//   twice the threshold an update stops waiting for it and finishes the
//   table itself, populating the pages the worker has not touched yet: see
//   grow_from_order()); updates migrate chunks of
//   buckets (claimed with a cursor, swept again until every bucket is marked,
//   so a helper preempted mid-chunk delays nothing).  The update that marks
//   the last bucket publishes the new table and retires the old one through
//   call_rcu.  Grows at > 2 elements per bucket on average (to a table sized
//   for 1 per bucket: 4x), shrinks below 1/2 (never below reserve()), and
//   rehashes at the same size when tombstones outnumber buckets.
//
// Memory overhead per element (beyond sizeof(Key) + sizeof(T)): the element
//   header (16-byte rcu_head + 8-byte hash) and malloc's (8 bytes, and
//   rounding to 16: a uint64_t -> uint64_t element takes 48 bytes), and
//   64 / load bytes of bucket, with a load between 1/2 and 2 after a resize:
//   32-128 bytes (lookup speed bought with memory: a lower load means fewer
//   slots compared per hit).  ~64-160 bytes in all, plus overflow lines
//   (rare at these loads).  Erased elements stay allocated as tombstones
//   until the next resize: at most one per bucket on average, so erase-heavy
//   maps hold up to that many extra elements (and T's destructor runs that
//   much later; it runs at the latest when the map is destroyed).  During a
//   resize, both tables exist; so do they while a table ordered from the
//   worker is built (its pages count as the worker touches them) and until
//   an update takes it.
//
// Allocation failure: insert(), insert_or_assign(), replace() and update()
//   allocate the element first, and insert()/insert_or_assign() an overflow
//   line when the key's chain is full; if either throws, std::bad_alloc
//   propagates and the map is unchanged.  A resize
//   whose table allocation fails is skipped (retried by the next update that
//   crosses the threshold; a table ordered from the worker whose memory
//   could not be mapped is ordered again).  A migration step that needs an overflow line in
//   the new table and cannot get one leaves the bucket frozen (lookups still
//   find its keys; later updates finish it); an update that must finish it
//   first (any insert, replace or erase of a key in that bucket) throws
//   std::bad_alloc with the map unchanged.  reserve() throws std::bad_alloc.
//
// Hash and KeyEqual must not throw (they run inside noexcept migration
// steps and lookups: a throw there calls std::terminate).  insert(),
// insert_or_assign(), replace() and update() build the new element (moving
// T in, moving or copying Key) inside their read-side section (so that the
// bucket's cache miss overlaps the allocation), and update() calls its f
// there too: those constructors and f may throw, but must not wait for a
// grace period (rcu_synchronize(), rcu_barrier() there abort with a message:
// they would deadlock; see docs/misuse.md), nor take a lock that a thread
// waiting for a grace period may hold (a deadlock nothing reports).
//
// Threads and domains: all operations take a read-side section of the map's
// domain (writers too: it protects the tables and elements they traverse).
// They may be called inside the caller's own read-side section (sections
// nest), but never while holding a lock that a grace period could wait for.
//
// Destruction: the destructor frees everything immediately.  Precondition: no
// operation runs concurrently, and no reader still uses a pointer from find()
// (call rcu_synchronize() first if one might).  Elements already erased or
// replaced are freed by the domain's worker as usual, and so is a table the
// worker was still building for the map (or the memory of a table the map
// adopted from it, if the worker's build step still runs).
#pragma once

#include <cerrno>
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

#include <sys/mman.h>

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
// The second negative control defines this to 1: a migration sets M BEFORE it
// copies the bucket's entries (and pauses in between), the order [HM9]
// forbids, so a lookup can follow M into the next table before the copies
// are there and miss a key present throughout (A.1).
#if !defined(GRACE_HASH_MAP_BROKEN_EARLY_MARK)
#define GRACE_HASH_MAP_BROKEN_EARLY_MARK 0
#endif
// The third negative control (tests/unit/hash_map_negative_freeze_test.cpp)
// defines this to 1: a migration freezes only the slots that hold an element
// and leaves the first empty slot OPEN, so an update can still claim it in a
// bucket whose entries were already copied into the next table; the insert
// returns true and is lost when the old table is retired.
#if !defined(GRACE_HASH_MAP_BROKEN_OPEN_EMPTY)
#define GRACE_HASH_MAP_BROKEN_OPEN_EMPTY 0
#endif
// The fourth negative control (tests/unit/hash_map_negative_replace_test.cpp)
// defines this to 1: replace() swaps in its element whatever the key's
// current element is (a blind store, as insert_or_assign), so concurrent
// update() calls overwrite each other's results.
#if !defined(GRACE_HASH_MAP_BROKEN_BLIND_REPLACE)
#define GRACE_HASH_MAP_BROKEN_BLIND_REPLACE 0
#endif
// The fifth negative control (tests/unit/hash_map_negative_adopt_test.cpp)
// defines this to 1: the worker's build touches a page by storing 0 into a
// bucket's link word instead of writing back the value it read, which is
// harmless while nobody uses the memory, but wipes a link (an overflow
// line) when an update adopted the order during the worker's step.
#if !defined(GRACE_HASH_MAP_BROKEN_TOUCH_STORE)
#define GRACE_HASH_MAP_BROKEN_TOUCH_STORE 0
#endif
// The sixth negative control (tests/unit/hash_map_negative_claim_test.cpp)
// defines this to 1: the worker constructs the table without first claiming
// the construction (order_finishing()), so an overdue update can adopt the
// memory meanwhile; the worker then constructs over the adopted table's
// header and, finding the order adopted, frees the table in use.
#if !defined(GRACE_HASH_MAP_BROKEN_NO_CLAIM)
#define GRACE_HASH_MAP_BROKEN_NO_CLAIM 0
#endif
#if GRACE_HASH_MAP_BROKEN_RECLAIM
#define GRACE_HASH_MAP_ABI hm_broken_reclaim
#elif GRACE_HASH_MAP_BROKEN_EARLY_MARK
#define GRACE_HASH_MAP_ABI hm_broken_early_mark
#elif GRACE_HASH_MAP_BROKEN_OPEN_EMPTY
#define GRACE_HASH_MAP_ABI hm_broken_open_empty
#elif GRACE_HASH_MAP_BROKEN_BLIND_REPLACE
#define GRACE_HASH_MAP_ABI hm_broken_blind_replace
#elif GRACE_HASH_MAP_BROKEN_TOUCH_STORE
#define GRACE_HASH_MAP_ABI hm_broken_touch_store
#elif GRACE_HASH_MAP_BROKEN_NO_CLAIM
#define GRACE_HASH_MAP_ABI hm_broken_no_claim
#else
#define GRACE_HASH_MAP_ABI hm_v5
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
  // Tables of 4 MiB or more ask for transparent huge pages (see
  // table::create()).  Off by default.  Measured on a 2-vCPU VM with THP in
  // madvise mode (1M keys; both kinds interleaved in one process, medians
  // of 15): a 64 MiB table is populated in about 7 ms instead of 36 ms
  // (unmapped in 0.3 ms instead of 7), so reserve() is about 4x cheaper
  // (5.6 vs 24.4 ns per key); inserts, into a growing map or a reserved
  // one, and lookups did not change beyond the noise.
  // The cost: the kernel must find free 2 MiB pages, and where memory is
  // fragmented it compacts first, inside the call (once 288 ms for a 64 MiB
  // table here); after fork() a write copies 2 MiB, not 4 KiB.  Traits
  // without this member get false.
  static constexpr bool kHugePages = false;
  // A grow to a table of this many bytes or more has the table built on the
  // domain's reclamation worker, while updates go on in the current table
  // (see hash_map::grow_from_order()): the kernel's work of mapping and
  // zeroing the table (about 2 us per 4 KiB page on a 2-vCPU VM; 33 ms for
  // the 64 MiB table of 1M keys) leaves the updating thread.  The worker
  // builds 512 KiB per step, a grace period apart, so the callbacks queued
  // meanwhile wait for a step (about 1 ms), not the table.  Smaller tables, and every
  // table when this is 0, are built by the update that needs them.  Traits
  // without this member get 1 MiB.
  static constexpr std::size_t kBuildAheadBytes = std::size_t{1} << 20;
  // Optional (tests): `static bool inject_alloc_failure()` — when present and
  // it returns true, the map's next overflow-line or table allocation fails
  // as if operator new had thrown std::bad_alloc (for a table ordered from
  // the worker: its build fails).
  // Optional (tests): `static void observe_build_step()` — called on the
  // worker at the start of each step of an ordered table's build that
  // touches pages, and once the build has claimed the table's construction
  // (a test may hold the worker there).
  // Optional (tests): `static void observe_order(bool taken)` — called when
  // an update takes an ordered table to start a resize (true), or drops an
  // order (false: stale, failed, or abandoned past twice the grow load).
};

inline namespace GRACE_HASH_MAP_ABI {

namespace hm_detail {

inline constexpr int kSlots = 7;
// Link flags.
inline constexpr std::uint64_t kFrozen = 1;    // F
inline constexpr std::uint64_t kMigrated = 2;  // M (head buckets only)
inline constexpr std::uint64_t kLinkFlags = 63;
// Slot bits (see the file comment).
inline constexpr std::uint64_t kLive = 1;
inline constexpr std::uint64_t kOpen = 2;
inline constexpr std::uint64_t kEmpty = 0;        // no element, claimable
inline constexpr std::uint64_t kFrozenEmpty = 4;  // no element, frozen
inline constexpr int kTagBits = 16;
inline constexpr std::uint64_t kAddrLimit = std::uint64_t{1} << 48;

inline bool is_open(std::uint64_t v) noexcept { return (v & kOpen) != 0; }
inline bool is_live(std::uint64_t v) noexcept { return (v & kLive) != 0; }
inline bool has_element(std::uint64_t v) noexcept { return (v >> kTagBits) != 0; }

// One cache line: a bucket or an overflow line.  All zero is an empty
// bucket (no line, no flag, kEmpty slots), and the words are atomic_words
// (trivially constructible): a table's buckets are its zeroed memory, never
// written before first use.  Overflow lines are value-initialized (zero).
struct alignas(64) bucket {
  // Head bucket: next line* | M | F.  Overflow line: next line* | F.
  //   writers: updates append a line (CAS from a null pointer, [HM1]);
  //            migrations set F [HM11] and M [HM9] with fetch_or.
  //   readers: lookups, iteration and updates, acquire [HM3].
  detail::atomic_word<std::uint64_t> link;
  // (element* << 16) | tag | OPEN | LIVE, a tombstone, kEmpty or kFrozenEmpty.
  //   writers: updates, CAS [HM1]; migrations clear OPEN, fetch_and [HM12].
  //   readers: lookups and updates, acquire [HM2].
  detail::atomic_word<std::uint64_t> slot[kSlots];
};
static_assert(std::is_trivially_default_constructible_v<bucket> &&
                  std::is_trivially_destructible_v<bucket>,
              "a table's zeroed memory holds its buckets without a constructor call");
static_assert(sizeof(bucket) == 64, "a bucket is one cache line");
static_assert(sizeof(void*) == 8, "grace::hash_map packs pointers into 48 bits");

inline bucket* line_of(std::uint64_t link) noexcept {
  return reinterpret_cast<bucket*>(link & ~kLinkFlags);
}
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

// The tag of a mixed hash h (or of the low half lo: same low 16 bits), as an
// open live slot holds it.
inline std::uint16_t tag_of(std::uint64_t h) noexcept {
  return static_cast<std::uint16_t>(h | kOpen | kLive);
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

struct table_order;
// Lets go of the map's share of an order whose memory a table adopted (the
// table is being freed); defined with table_order below.
void release_adopted(table_order* o) noexcept;

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
  // The resize target.  Written once (CAS from null, acq_rel [HM8]) by the
  // writer that starts the resize, and only while this table is current;
  // read by writers (help) and by lookups that meet a migrated bucket
  // (acquire [HM5]).
  detail::atomic<table*> next{nullptr};
  // Migration state, on separate lines (written by helpers, never by readers).
  // cursor: next bucket to claim, modulo the bucket count (relaxed
  //         fetch_add: a claim only spreads the work; F and M on each
  //         bucket's link order the migration itself).
  alignas(64) detail::atomic<std::uint64_t> cursor{0};
  // done: buckets marked M so far (acq_rel fetch_add [HM6]).
  alignas(64) detail::atomic<std::uint64_t> done{0};

  // n buckets (a power of two).  Throws std::bad_alloc.
  // The memory comes zeroed and zero is an empty bucket, so no constructor
  // writes the buckets.  A table of kMapBytes or more is its own anonymous
  // mapping, populated at once (populate(): the kernel zeroes and maps every
  // page up front).  Left to fault in on
  // first touch instead, a table cost more than it saved: the first read of
  // a page maps the zero page and the first write faults again, in random
  // order (measured: inserts into a reserved map about 90 ns slower each,
  // into a growing one about 50 ns).  A smaller table comes from calloc().
  // With `huge_pages`, a table of 4 MiB or more is mapped 2 MiB-aligned and
  // asks for transparent huge pages (madvise(MADV_HUGEPAGE)) before it is
  // populated: one 2 MiB page at a time where THP is available, 4 KiB pages
  // where it is off or refused.
  static table* create(std::size_t n, bool huge_pages) {
    const memory m = allocate(n, huge_pages);
    populate(m);
    return construct(m);
  }

  // A table's memory before the table exists: create() in steps (the
  // domain's worker builds a table a step at a time, see
  // hm_detail::build_ordered_table()).
  struct memory {
    void* raw = nullptr;     // what mmap() or calloc() returned; null: none
    std::size_t mapped = 0;  // the mapping's length (0: from calloc())
    char* p = nullptr;       // where the table goes (aligned)
    std::size_t bytes = 0;   // header and buckets
    std::size_t n = 0;       // buckets
    bool huge = false;       // transparent huge pages asked for
  };
  // Maps (kMapBytes or more) or callocs the memory of a table of n buckets;
  // with `huge_pages`, asks for transparent huge pages before any touch.
  // Throws std::bad_alloc.
  static memory allocate(std::size_t n, bool huge_pages) {
    constexpr std::size_t kMapBytes = std::size_t{1} << 20;
    memory m;
    m.n = n;
    m.bytes = sizeof(table) + n * sizeof(bucket);
    m.huge = huge_pages && m.bytes >= 2 * kHugePage;
    std::uintptr_t align = alignof(bucket);
    if (m.bytes >= kMapBytes) {
      if (m.huge) align = kHugePage;
      m.mapped = m.bytes + (m.huge ? kHugePage : 0);
      m.raw = ::mmap(nullptr, m.mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (m.raw == MAP_FAILED) throw std::bad_alloc();
    } else {
      m.raw = std::calloc(1, m.bytes + align);
      if (m.raw == nullptr) throw std::bad_alloc();
    }
    m.p = reinterpret_cast<char*>((reinterpret_cast<std::uintptr_t>(m.raw) + align - 1) & ~(align - 1));
    if (m.huge) ::madvise(m.p, m.bytes & ~(kHugePage - 1), MADV_HUGEPAGE);  // before the first touch
    return m;
  }
  // Touches the pages of m's table `most` bytes at a time, from `from` on
  // (page faults: see populate()); returns where it stopped (m.bytes: all
  // done).  A touch is a write that changes nothing: a compare-and-swap of
  // a bucket's link word with its own value, at the page's start (for the
  // first page, past the header: the header's size is a multiple of 64, so
  // every page starts at a bucket's link word).  An update may adopt the
  // memory while the worker's build touches it (hash_map::take_order()),
  // and use the table before the touches end: a read-modify-write that
  // writes back what it read leaves the map's link intact, where a plain
  // store would wipe it.  Not fetch_or(0): clang 14 compiles a relaxed
  // fetch_or of 0 whose result is unused into a plain load, which maps the
  // kernel's zero page and leaves the write fault to the map's first write.
  // `from` is 0 or a multiple of 4096 (every step is).
  static std::size_t touch(const memory& m, std::size_t from, std::size_t most) noexcept {
    const std::size_t to = m.bytes - from < most ? m.bytes : from + most;
    constexpr std::size_t kPage = 4096;  // the smallest page size: touches every page
    for (; from < to; from += kPage) {
      bucket* b = reinterpret_cast<bucket*>(m.p + (from == 0 ? sizeof(table) : from));
      // Relaxed: a touch orders nothing; it only has to leave the value be.
#if GRACE_HASH_MAP_BROKEN_TOUCH_STORE
      b->link.store(0, std::memory_order_relaxed);
#else
      // Expecting 0 (a fresh page), not the value loaded first: a load of
      // a page not yet mapped maps the kernel's zero page, and the CAS's
      // write then takes a second, copy-on-write fault, which flushes the
      // TLB of every CPU the process runs on (an IPI per page).
      std::uint64_t v = 0;
      while (!b->link.compare_exchange_weak(v, v, std::memory_order_relaxed,
                                            std::memory_order_relaxed)) {
      }
#endif
    }
    return to;
  }
  // `adopted_from`: m is that order's, and destroy() gives it back there.
  static table* construct(const memory& m, table_order* adopted_from = nullptr) noexcept {
    // The buckets: implicit-lifetime, zero.
    return ::new (m.p) table(m.n, m.raw, m.mapped, adopted_from);
  }
  // The table of an order an update adopts (hash_map::take_order()): what
  // the worker has not touched yet is populated here.
  static table* adopt(const memory& m, table_order* from) noexcept {
    populate(m);
    return construct(m, from);
  }
  static void free_memory(void* raw, std::size_t mapped) noexcept {
    if (mapped != 0) {
      ::munmap(raw, mapped);
    } else {
      std::free(raw);
    }
  }

  // Frees the table and its overflow lines, in one pass: each line's
  // element-holding slot values are passed to on_element(value, head_link)
  // (head_link: the value of the line's bucket's link, flags included)
  // before the line is freed.  Only once no other thread can reach t.
  // `prefetch_elements`: on_element frees most elements; their cache misses
  // are started a few buckets ahead (a 1M-element map is destroyed about
  // 2.3x faster).
  template <class F>
  static void destroy(table* t, F&& on_element, bool prefetch_elements) noexcept {
    if (t == nullptr) return;
    // Loads relaxed: t is unreachable; its last users' writes happen before
    // this call (a grace period, or the map's destruction).
    constexpr std::uint64_t kAhead = 8;  // buckets
    for (std::uint64_t i = 0; i <= t->mask; ++i) {
      if (prefetch_elements && i + kAhead <= t->mask) {
        for (const auto& s : t->buckets()[i + kAhead].slot) {
          const std::uint64_t v = s.load(std::memory_order_relaxed);
          if (!has_element(v)) break;  // taken slots are a prefix
          __builtin_prefetch(reinterpret_cast<const void*>(v >> kTagBits));
        }
      }
      bucket* head = &t->buckets()[i];
      const std::uint64_t head_link = head->link.load(std::memory_order_relaxed);
      for (bucket* b = head; b != nullptr;) {
        for (const auto& s : b->slot) {
          const std::uint64_t v = s.load(std::memory_order_relaxed);
          if (has_element(v)) on_element(v, head_link);
        }
        bucket* next = line_of(b->link.load(std::memory_order_relaxed));
        if (b != head) delete b;
        b = next;
      }
    }
    void* raw = t->raw_;
    const std::size_t mapped = t->mapped_;
    table_order* adopted_from = t->adopted_from_;
    t->~table();
    if (adopted_from != nullptr) {
      release_adopted(adopted_from);  // the worker may still be touching it: see table_order
    } else {
      free_memory(raw, mapped);
    }
  }
  // Frees the table and its overflow lines, not the elements.
  static void destroy(table* t) noexcept {
    destroy(t, [](std::uint64_t, std::uint64_t) {}, false);
  }

  table(const table&) = delete;
  table& operator=(const table&) = delete;
  ~table() = default;
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

 private:
  table(std::size_t n, void* raw, std::size_t mapped, table_order* adopted_from)
      : off_mask((n - 1) << 6), mask(n - 1), raw_(raw), mapped_(mapped), adopted_from_(adopted_from) {}
  static constexpr std::uintptr_t kHugePage = std::uintptr_t{2} << 20;
  static constexpr std::size_t kPopulateStep = std::size_t{256} << 10;  // whole pages: touch()

  // Has the kernel map and zero the pages of m's fresh mapping now (for a
  // caller who waits for the table): one madvise(MADV_POPULATE_WRITE) call
  // per kPopulateStep (per 2 MiB page with huge pages) (Linux 5.14; its
  // number is spelled out for C libraries whose headers predate it).  Where
  // the call is refused (EINVAL: a kernel older than 5.14, where that is
  // slower than MAP_POPULATE was: 37 ms against 26-33 ms for 64 MiB here;
  // EPERM or ENOSYS: a seccomp filter) the pages are touched instead, and
  // out of memory (ENOMEM) leaves them to fault in on first use.
  // Each populating call holds the process's mmap lock for reading, and a
  // thread that needs it for writing meanwhile (malloc growing the heap with
  // brk) waits; a page fault (touch()) takes only its mapping's lock (Linux
  // 6.4 and later) or the mmap lock for one page.  Measured on a 2-vCPU VM,
  // the longest of 1M inserts while the worker built the 64 MiB table:
  // 25-35 ms with one MAP_POPULATE, 6-7 ms (at each heap growth) with
  // 256 KiB madvise steps, at most 2.4 ms touching pages.  So the worker
  // touches; a caller who waits populates (touching costs more in all).
  static void populate(const memory& m) noexcept {
    if (m.mapped == 0) return;  // calloc()'s memory
    constexpr int kPopulateWrite = 23;  // MADV_POPULATE_WRITE (Linux ABI)
#if defined(MADV_POPULATE_WRITE)
    static_assert(MADV_POPULATE_WRITE == kPopulateWrite);
#endif
    const std::size_t step = m.huge ? kHugePage : kPopulateStep;
    std::size_t off = 0;
    for (; off < m.bytes; off += step) {
      if (::madvise(m.p + off, m.bytes - off < step ? m.bytes - off : step, kPopulateWrite) != 0) {
        break;
      }
    }
    if (off < m.bytes && errno != ENOMEM) touch(m, off, m.bytes);
  }

  // What mmap() or calloc() returned (the table starts at the next aligned
  // address), and the mapping's length (0: from calloc()).
  void* raw_;
  std::size_t mapped_;
  // The order whose memory this table adopted (hash_map::take_order()), or
  // null: the table's memory is its own.
  table_order* adopted_from_;
};
static_assert(sizeof(table) % 64 == 0, "buckets follow the header at a 64-byte boundary");
static_assert(sizeof(table) < 4096, "touch(): a page past the first starts at a bucket");
static_assert(std::is_standard_layout_v<rcu_head>);

// A table built ahead on the domain's reclamation worker for the next grow
// (see hash_map::grow_from_order()).  The update that places the order maps
// the memory (no page touched); the worker's build touches it a step at a
// time and then constructs the table in it.  Two owners, the map and the
// worker's build; the last to let go frees the order.  The map lets go
// through call_rcu (updates inside their sections may still read the
// order), the worker directly.
//
// An update that finds the order overdue and still building adopts it
// (result: order_adopted()): it populates what the worker has not touched
// yet, constructs the table itself, and the table keeps the map's share of
// the order until the table is freed (release_adopted()).  The worker may
// be inside a step at that moment, still touching pages of a table in use
// (harmless: see table::touch()); it lets go at its next look at `result`.
// The memory is unmapped by whichever of the two lets go last, so never
// under a touch.
struct table_order {
  rcu_head build_head;    // build_ordered_table(), on the worker
  rcu_head release_head;  // the map's release, after a grace period
  rcu_domain* dom;  // the map's: the build queues its next step there
  // The table's memory: mapped by the update that placed the order (raw is
  // null if that failed), immutable afterwards; read by the worker's build
  // and by an adopting update ([HM16] made it visible).
  table::memory memory;
  std::size_t touched = 0;  // the build's own: bytes touched so far
  // Tests (Traits::observe_build_step): called by the worker at the start
  // of each step that touches pages, and after it claimed the construction.
  void (*observe_step)() = nullptr;
  // null while the worker builds; then the table or order_failed() (the
  // worker's CAS [HM14], after it claimed the construction with
  // order_finishing()), order_abandoned() (the map's exchange [HM17]: the
  // worker frees the memory) or order_adopted() (an update's CAS: the
  // memory is the adopted table's).
  detail::atomic<table*> result{nullptr};
  // owners: [HM15], decremented by each owner once.
  detail::atomic<int> owners{2};

  table_order(rcu_domain& d, const table::memory& m) noexcept : dom(&d), memory(m) {}
  static table_order* of_build(rcu_head* h) noexcept {
    return reinterpret_cast<table_order*>(reinterpret_cast<char*>(h) - offsetof(table_order, build_head));
  }
  static table_order* of_release(rcu_head* h) noexcept {
    return reinterpret_cast<table_order*>(reinterpret_cast<char*>(h) - offsetof(table_order, release_head));
  }
  void release() noexcept;
};
static_assert(std::is_standard_layout_v<table_order>, "of_build() and of_release() use offsetof");
inline table* order_failed() noexcept { return reinterpret_cast<table*>(std::uintptr_t{64}); }
inline table* order_abandoned() noexcept { return reinterpret_cast<table*>(std::uintptr_t{128}); }
inline table* order_adopted() noexcept { return reinterpret_cast<table*>(std::uintptr_t{192}); }
inline table* order_finishing() noexcept { return reinterpret_cast<table*>(std::uintptr_t{256}); }
inline bool is_table(const table* r) noexcept {
  return reinterpret_cast<std::uintptr_t>(r) > std::uintptr_t{256};
}

inline void table_order::release() noexcept {
  // [HM15] acq_rel: the owners' decrements form one release sequence, so
  // the last owner's frees happen after the other's last access (the
  // worker's touches and [HM14] CAS, or the map's [HM17] loads, or the
  // adopted table's whole life).
  if (owners.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  // Relaxed: result no longer changes once both owners are done with it,
  // and the [HM15] chain above makes its last value visible here (the
  // adopter's CAS happens before the adopted table's release).
  if (result.load(std::memory_order_relaxed) == order_adopted()) {
    table::free_memory(memory.raw, memory.mapped);
  }
  delete this;
}
inline void release_adopted(table_order* o) noexcept { o->release(); }

// Bytes of a table the worker touches per step: about 1 ms of page faults
// on a 2-vCPU VM while a map grows (a 2 MiB step took 3-3.5 ms there, its
// faults slowed by the updating thread's).
inline constexpr std::size_t kBuildStep = std::size_t{512} << 10;
static_assert(kBuildStep % 4096 == 0, "touch() steps by whole pages");

// The worker's claim of o's construction (result: null -> order_finishing()),
// so that no update adopts the memory while the header is constructed.
// Relaxed: the claim only has to be atomic against an adopter's CAS; [HM14]
// publishes the table.
inline bool claim_construction(table_order* o) noexcept {
#if GRACE_HASH_MAP_BROKEN_NO_CLAIM
  // Deliberately wrong (negative control): no claim, only a look.
  return o->result.load(std::memory_order_relaxed) == nullptr;
#else
  table* expected = nullptr;
  return o->result.compare_exchange_strong(expected, order_finishing(), std::memory_order_relaxed,
                                           std::memory_order_relaxed);
#endif
}

// call_rcu callback (on the worker): builds the ordered table kBuildStep
// bytes at a time, queueing itself again after each step, so that the
// callbacks queued meanwhile wait for one step, not for the whole table (a
// grace period passes between steps).  The re-queue never waits: retires
// made while running callbacks spill rather than wait (reclaim.hpp).
inline void build_ordered_table(rcu_head* h) noexcept {
  table_order* o = table_order::of_build(h);
  const table::memory& m = o->memory;
  table* expected = nullptr;
  if (m.raw == nullptr) {
    // No memory (the mapping failed): report it, unless the map let go.
    // Relaxed: the mark publishes nothing (nothing was built).
    o->result.compare_exchange_strong(expected, order_failed(), std::memory_order_relaxed,
                                      std::memory_order_relaxed);
    o->release();
    return;
  }
  // Relaxed loads of result: they only skip work nobody wants; the CASes
  // below decide.
  if (o->result.load(std::memory_order_relaxed) == nullptr) {
    if (o->observe_step != nullptr) o->observe_step();
    o->touched = table::touch(m, o->touched, kBuildStep);
    if (o->touched < m.bytes) {
      // Again, relaxed: a map destroyed during this step should not have
      // its order queued past the domain's last barrier.
      if (o->result.load(std::memory_order_relaxed) == nullptr) {
        call_rcu(&o->build_head, &build_ordered_table, *o->dom);
        return;
      }
    } else if (claim_construction(o)) {
      if (o->observe_step != nullptr) o->observe_step();
      table* r = table::construct(m);
      // What the claim left in result (the negative control claims nothing).
      expected = GRACE_HASH_MAP_BROKEN_NO_CLAIM ? nullptr : order_finishing();
      // [HM14] release pairs with the [HM17] acquire in take_order(): an
      // update that takes r sees it constructed.  Failure: the map abandoned
      // the order meanwhile, and r is ours to free (it was never published).
      if (!o->result.compare_exchange_strong(expected, r, std::memory_order_release,
                                             std::memory_order_relaxed)) {
        table::destroy(r);
      }
      o->release();
      return;
    }
  }
  // Not built here: abandoned (the memory is ours to free) or adopted (the
  // table's).  Relaxed: the mark was read above or by the failed CAS, and it
  // no longer changes.
  if (o->result.load(std::memory_order_relaxed) == order_abandoned()) {
    table::free_memory(m.raw, m.mapped);
  }
  o->release();
}
inline void release_table_order(rcu_head* h) noexcept { table_order::of_release(h)->release(); }

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
  return nothrow ? new (std::nothrow) bucket() : new bucket();  // value-initialized: zero
}

// Calls f(slot) for every slot of head's chain, in chain order, until f
// returns false.  Reads the links with acquire loads [HM3]: a line reached
// through one is initialized.
template <class Bucket, class F>
bool for_each_slot(Bucket& head, F&& f) {
  for (Bucket* b = &head; b != nullptr;
       b = line_of(b->link.load(std::memory_order_acquire))) {  // [HM3] pairs with [HM1]
    for (auto& s : b->slot) {
      if (!f(s)) return false;
    }
  }
  return true;
}

// Step 1 of a migration: freezes head's chain (see the file comment).
// Idempotent; any number of threads may run it at once.  Returns the head's
// link as it was before (M set: the bucket is done already).
//
// Claims go in chain order (a walk never passes an empty slot, and a slot
// never becomes empty again), so the taken slots are a prefix of the chain
// and every slot after the first empty one is empty: freezing that first
// empty slot stops every later claim (a walk stops there), and the slots
// after it need no RMW.  At the load of a table in use (about 2 elements per
// bucket) that is 1 + 3 RMWs per bucket instead of 1 + 7.
inline std::uint64_t freeze_chain(bucket& head) noexcept {
  // [HM11] acq_rel: the release half pairs with [HM3] in lookups (a lookup
  // that reads a frozen slot, [HM12], then sees F); the acquire half makes a
  // line appended before it ([HM1]) visible, and pairs with [HM9] (a helper
  // that finds M sees the copies).
  const std::uint64_t before = head.link.fetch_or(kFrozen, std::memory_order_acq_rel);
  if ((before & kMigrated) != 0) return before;
  std::uint64_t link = before;
  for (bucket* b = &head;;) {
    for (auto& s : b->slot) {
#if GRACE_HASH_MAP_BROKEN_OPEN_EMPTY
      // Deliberately wrong (negative control): the first empty slot stays
      // claimable.
      if (s.load(std::memory_order_relaxed) == kEmpty) return before;
#endif
      // Relaxed: only picks the RMW below; the RMW carries the ordering.
      std::uint64_t v = s.load(std::memory_order_relaxed);
      // The first empty slot: freeze it as kFrozenEmpty, unless a claim
      // beats us (then v is that entry: freeze it and go on).
      while (v == kEmpty) {
        // [HM12] acq_rel, as for the entries below.  Failure relaxed: the
        // value that beat us is frozen by the fetch_and below, which acquires.
        if (s.compare_exchange_strong(v, kFrozenEmpty, std::memory_order_acq_rel,
                                      std::memory_order_relaxed)) {
          return before;
        }
      }
      // [HM12] acq_rel: the release pairs with [HM2] in lookups (after
      // [HM11] in this thread, so a lookup that reads this value sees F);
      // the acquire half joins the release sequence of the CAS that put the
      // element there ([HM1]), so its contents are visible to the copy.
      // (v is not kEmpty, and a slot never becomes empty again: the AND
      // cannot meet an open empty slot.)
      if (!has_element(s.fetch_and(~kOpen, std::memory_order_acq_rel))) return before;
    }
    bucket* next = line_of(link);
    if (next == nullptr) return before;
    // [HM11] on the next line's link before its slots: no line is appended
    // after the last one frozen, and `link` is that line's final value.
    link = next->link.fetch_or(kFrozen, std::memory_order_acq_rel);
    b = next;
  }
}

}  // namespace hm_detail

template <class Key, class T, class Hash = std::hash<Key>, class KeyEqual = std::equal_to<Key>,
          class Traits = hash_map_default_traits>
class hash_map {
  using bucket = hm_detail::bucket;
  using table = hm_detail::table;
  using slot_t = detail::atomic_word<std::uint64_t>;
  // A lookup key K that is looked up as itself (see get()), not converted
  // to Key.
  template <class K>
  static constexpr bool transparent_key =
      requires {
        typename Hash::is_transparent;
        typename KeyEqual::is_transparent;
      } && !std::is_same_v<K, Key>;

  // How lookup() hands the key to its out-of-line rest: by value when that is
  // a register copy, so that the caller's key never has to live in memory
  // (an array, e.g. a string literal looked up as itself, by reference).
  template <class K>
  using key_arg = std::conditional_t<std::is_trivially_copyable_v<K> && !std::is_array_v<K> &&
                                         sizeof(K) <= 16,
                                     K, const K&>;

  // An element.  The key and value first, then the hash, then the rcu_head
  // (used only once the element is retired): a lookup of a uint64_t map
  // reads the element's first 16 bytes, one cache line, and the element is
  // 40 bytes, 48 with malloc's header.  (With a large Key or T the hash,
  // which updates and migrations read, may sit on a further line.)
  struct node_fields {
    Key key;
    T value;
    std::uint64_t hash;
    // Direct-initialised (not an aggregate's copy-initialisation), so that a
    // Key or T whose move constructor is explicit still works.
    node_fields(Key&& k, T&& v, std::uint64_t h) : key(std::move(k)), value(std::move(v)), hash(h) {}
  };
  struct node : node_fields, rcu_head {
    node(std::uint64_t h, Key&& k, T&& v) : node_fields(std::move(k), std::move(v), h), rcu_head() {}
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
      : dom_(&dom), cur_(table::create(Traits::kMinBuckets, huge_pages())) {}
  hash_map(const hash_map&) = delete;
  hash_map& operator=(const hash_map&) = delete;

  // See the file comment: no concurrent operation, no reader still using a
  // find() pointer.
  ~hash_map() {
    // Ownership: a tombstone belongs to the table whose slot holds it; a live
    // element to the current table t unless t's bucket was marked M (then to
    // the resize target nt).  A frozen, unmarked bucket of t may have been
    // copied in part: its live elements that nt already holds are nt's.
    table* t = cur_.load(std::memory_order_acquire);  // [HM5] pairs with [HM7]
    table* nt = t->next.load(std::memory_order_acquire);  // [HM5] pairs with [HM8]
    // t first: holds() reads nt.
    table::destroy(t, [nt](std::uint64_t v, std::uint64_t link) {
      const bool belongs_to_nt = hm_detail::is_live(v) &&
                                 ((link & hm_detail::kMigrated) != 0 ||
                                  ((link & hm_detail::kFrozen) != 0 && holds(nt, node_of(v))));
      if (!belongs_to_nt) delete node_of(v);
    }, /*prefetch_elements=*/true);
    table::destroy(nt, [](std::uint64_t v, std::uint64_t) { delete node_of(v); },
                   /*prefetch_elements=*/true);
    // An order still out: abandon it (the worker frees what it builds), or
    // free the table it built.
    hm_detail::table_order* o = order_.load(std::memory_order_relaxed);  // quiescent
    // (Busy only in a child forked while an update held the order: that
    // order is the parent's to free.)
    if (o != nullptr && o != order_busy()) {
      // [HM17] acquire pairs with the worker's [HM14]: a table found here is
      // built.
      table* r = o->result.exchange(hm_detail::order_abandoned(), std::memory_order_acquire);
      if (hm_detail::is_table(r)) table::destroy(r);
      o->release();
    }
  }

  // ---- Updates: lock-free; take their own read-side section; never inside a
  // lock a grace period waits for.

  // Inserts (key, value) if key is absent.  Returns false (and destroys its
  // arguments' moved-from copies) if key was present.  Throws std::bad_alloc
  // with the map unchanged.
  bool insert(Key key, T value) {
    return upsert(std::move(key), std::move(value), put_mode::insert) == put_result::inserted;
  }

  // Inserts, or replaces the element of an existing key with a new one (old
  // element retired: readers holding it keep a valid pointer until they
  // leave their sections).  Returns true if inserted, false if replaced.
  bool insert_or_assign(Key key, T value) {
    return upsert(std::move(key), std::move(value), put_mode::assign) == put_result::inserted;
  }

  // Removes key; returns whether it was present.  The element stays as a
  // tombstone until the next resize, which retires it.  Throws std::bad_alloc
  // only when it must finish a migration step that cannot allocate (see the
  // file comment); the map is then unchanged.
  bool erase(const Key& key) { return erase_element(key, nullptr); }

  // Read-copy-update, the conditional forms.  `expected` is a value pointer
  // that find() returned in the caller's current read-side section (checked
  // builds abort outside any section; one from an earlier section is not
  // detected: see docs/misuse.md).  They act only if key's element is still
  // that one: not replaced, not erased since (D.2); a null `expected` (key
  // was absent) matches nothing.  One CAS on the key's slot decides, as for
  // every update of the key (E.1).

  // Replaces key's element with a new one holding `desired` if it is still
  // the element of *expected; the old one is retired.  Returns false, and
  // changes nothing, if key's element is another one or key is absent (no
  // insert).  Copies key into the new element.  Throws std::bad_alloc with
  // the map unchanged.
  bool replace(const Key& key, const T* expected, T desired) {
    check_in_section("replace");
    return upsert(Key(key), std::move(desired), put_mode::replace, expected) ==
           put_result::replaced;
  }

  // Erases key if its element is still the one of *expected.  Returns
  // whether it did.  Throws as erase(key).
  bool erase(const Key& key, const T* expected) {
    check_in_section("erase(key, expected)");
    return expected != nullptr && erase_element(key, expected);
  }

  // Replaces key's value with f(value): reads it, builds the new element
  // from f's result and replaces the one it read, again from the newer value
  // whenever another update of key came first (lock-free: a retry means one
  // did).  Returns false if key is absent (f not called then, or its result
  // dropped if key was erased meanwhile).  f(const T&) returns something
  // convertible to T; it may run more than once, and runs inside a
  // read-side section (see "Hash and KeyEqual" in the file comment for what
  // it must not do there).  Throws std::bad_alloc with key's value
  // unchanged, and whatever f throws.
  template <class F>
  bool update(const Key& key, F&& f) {
    for (;;) {
      std::scoped_lock rs(*dom_);
      const node* n = lookup(key);
      if (n == nullptr) return false;
      T desired(std::invoke(f, std::as_const(n->value)));
      // Refused: key's element changed since the lookup (if it was erased,
      // the next lookup says so).  A replace never inserts.
      if (upsert(Key(key), std::move(desired), put_mode::replace, &n->value) ==
          put_result::replaced) {
        return true;
      }
    }
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
  // that large (shrinking stops there).  Finishes any resize in progress,
  // then migrates the whole table.  Throws std::bad_alloc (contents
  // unchanged; the shrink floor stays raised).
  // Not inside a read-side section it would hold for long.
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
        table* fresh = table::create(want, huge_pages());  // may throw: map unchanged
        if (!start_resize(t, fresh)) table::destroy(fresh);
        continue;
      }
      if (!migrate_some(t, nt)) throw std::bad_alloc();
    }
  }

  // ---- Lookups: wait-free.

  // Each lookup also takes, when Hash and KeyEqual both declare
  // is_transparent, any other key type K they accept (heterogeneous lookup,
  // as std::unordered_map's): e.g. std::string_view for std::string keys,
  // with no Key built.  Hash must then give K the hash of the equal Key.

  // A copy of key's value, or nullopt.  Takes its own read-side section.
  std::optional<T> get(const Key& key) const { return get_as(key); }
  template <class K>
    requires transparent_key<K>
  std::optional<T> get(const K& key) const {
    return get_as(key);
  }

  bool contains(const Key& key) const { return contains_as(key); }
  template <class K>
    requires transparent_key<K>
  bool contains(const K& key) const {
    return contains_as(key);
  }

  // key's value, or null.  Precondition: the caller is inside a read-side
  // section (checked builds abort with a message otherwise); the pointer is
  // valid until that section ends.  No copy, no lock.
  [[gnu::always_inline]] const T* find(const Key& key) const noexcept { return find_as(key); }
  template <class K>
    requires transparent_key<K>
  [[gnu::always_inline]] const T* find(const K& key) const noexcept {
    return find_as(key);
  }

  // Calls f(key, value) for each element.  Precondition: inside a read-side
  // section (checked builds abort otherwise).  Weakly consistent (F.1).  f
  // may call this map's updates; it must not leave the section.
  template <class F>
  void for_each(F&& f) const {
    check_in_section("for_each");
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
  template <class K>
  std::optional<T> get_as(const K& key) const {
    std::scoped_lock rs(*dom_);
    if (const node* n = lookup(key)) return n->value;
    return std::nullopt;
  }
  template <class K>
  bool contains_as(const K& key) const {
    std::scoped_lock rs(*dom_);
    return lookup(key) != nullptr;
  }
  template <class K>
  [[gnu::always_inline]] const T* find_as(const K& key) const noexcept {
    check_in_section("find", " (the result could be freed under you); lock the map's "
                             "rcu_domain first, or use get()");
    const node* n = lookup(key);
    return n != nullptr ? &n->value : nullptr;
  }

  // Checked builds: aborts with a message if the caller is not inside a
  // read-side section (a pointer it holds or gets could be freed under it).
  [[gnu::always_inline]] static void check_in_section(
      [[maybe_unused]] const char* what, [[maybe_unused]] const char* why = "") noexcept {
#if GRACE_CHECKED
    if (detail::read_nesting() == 0) {
      std::fprintf(stderr, "grace: hash_map::%s: called outside a read-side section%s\n", what,
                   why);
      std::abort();
    }
#endif
  }
  static node* node_of(std::uint64_t v) noexcept {
    return reinterpret_cast<node*>(v >> hm_detail::kTagBits);
  }
  // The open, live slot value of n.
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
  // Whether slot value v (any state with an element) holds key with hash h.
  bool holds_key(std::uint64_t v, std::uint64_t h, const Key& key) const {
    if (!tag_matches(v | hm_detail::kOpen | hm_detail::kLive, h | hm_detail::kOpen | hm_detail::kLive)) {
      return false;
    }
    const node* n = node_of(v);
    return n->hash == h && equal_(n->key, key);
  }

  static constexpr bool huge_pages() noexcept {
    if constexpr (requires { Traits::kHugePages; }) {
      return Traits::kHugePages;
    } else {
      return false;
    }
  }

  static constexpr std::size_t build_ahead_bytes() noexcept {
    if constexpr (requires { Traits::kBuildAheadBytes; }) {
      return Traits::kBuildAheadBytes;
    } else {
      return std::size_t{1} << 20;
    }
  }

  static std::size_t buckets_for(std::size_t n) noexcept {
    const std::size_t b = hm_detail::round_pow2(n / Traits::kTargetLoad + 1);
    return b < Traits::kMinBuckets ? Traits::kMinBuckets : b;
  }

  // ---- Lookup.

  // The lookup: wait-free, no store.  Caller is inside a read-side section.
  // Hot path (a hit in the head bucket): hash, table, bucket, a 16-bit tag
  // compare per slot, the key compare; the link word is not on it (see
  // "Why A.1 holds" in the file comment).
  template <class K>
  [[gnu::always_inline]] const node* lookup(const K& key) const {
    // mix(), in parts: the index from the high half, the tag from the low.
    const hm_detail::hash_parts h = hm_detail::mix_parts(hasher_(key));
    // [HM5] acquire pairs with the release in finish_resize(): a reader
    // that sees a new table sees its buckets as migrated.
    const table* t = cur_.load(std::memory_order_acquire);
    const bucket* const head = t->bucket_of_hi(h.hi);
    if (const node* n = match_line(*head, h.lo | hm_detail::kOpen | hm_detail::kLive, key))
        [[likely]] {
      return n;
    }
    // [HM3] as in lookup_rest(): the common miss (no overflow line, no flag)
    // ends here without the call.
    if (head->link.load(std::memory_order_acquire) == 0) return nullptr;
    return lookup_rest<K>(t, head, key);
  }

  // The rest of a lookup whose head bucket had no match: overflow lines,
  // frozen and migrated buckets.  Out of line so that the inlined hit path
  // stays small and keeps nothing for it (it recomputes the hash).
  template <class K>
  [[gnu::noinline]] const node* lookup_rest(const table* t, const bucket* head,
                                            key_arg<K> key) const {
    const hm_detail::hash_parts h = hm_detail::mix_parts(hasher_(key));
    const std::uint64_t tag = h.lo | hm_detail::kOpen | hm_detail::kLive;  // in the low 16 bits
    for (;;) {
      // [HM3] acquire pairs with [HM11]/[HM9] and [HM1] on the link: F set
      // if a slot already read was frozen; M set means the migration's
      // copies in the next table are visible; a line pointer means the line
      // is initialized.
      std::uint64_t link = head->link.load(std::memory_order_acquire);
      if ((link & hm_detail::kMigrated) == 0) [[likely]] {
        for (const bucket* b = hm_detail::line_of(link); b != nullptr;
             b = hm_detail::line_of(b->link.load(std::memory_order_acquire))) {  // [HM3]
          if (const node* n = match_line(*b, tag, key)) return n;
        }
        // [HM3] again: F is visible now if an overflow slot read was frozen.
        link = head->link.load(std::memory_order_acquire);
        if ((link & hm_detail::kFrozen) == 0) return nullptr;
        // Being frozen, not marked: the bucket is authoritative still (see
        // the file comment); scan it again, frozen live entries included.
        if ((link & hm_detail::kMigrated) == 0) return match_frozen(*head, tag, key);
      }
      // [HM5] acquire: M was set after next was published.
      t = t->next.load(std::memory_order_acquire);
      head = t->bucket_of_hi(h.hi);
      if (const node* n = match_line(*head, tag, key)) return n;
    }
  }

  // The 7 slots of one line, unrolled: on x86-64 a load, a 16-bit compare
  // and a branch per slot, then the key compare on a tag match.
  template <class K>
  [[gnu::always_inline]] const node* match_line(const bucket& b, std::uint64_t tag,
                                                const K& key) const {
#pragma GCC unroll 8
    for (int i = 0; i < hm_detail::kSlots; ++i) {
      // [HM2] acquire pairs with [HM1]: the element is fully constructed;
      // and with [HM12]: a frozen value read here makes F visible at [HM3].
      const std::uint64_t v = b.slot[i].load(std::memory_order_acquire);
      if (tag_matches(v, tag)) [[unlikely]] {
        const node* n = node_of(v);
        if (equal_(n->key, key)) [[likely]] return n;
      }
    }
    return nullptr;
  }

  // A frozen bucket's chain, live entries frozen or not.
  template <class K>
  const node* match_frozen(const bucket& head, std::uint64_t tag, const K& key) const {
    const node* found = nullptr;
    hm_detail::for_each_slot(head, [&](const slot_t& s) {
      const std::uint64_t v = s.load(std::memory_order_acquire);  // [HM2]
      if (hm_detail::is_live(v) && tag_matches(v | hm_detail::kOpen, tag) &&
          equal_(node_of(v)->key, key)) {
        found = node_of(v);
        return false;
      }
      return true;
    });
    return found;
  }

  // Visits the elements e of table t, bucket j, with
  // (index_hash(e.hash) & m) == v, following the bucket to the next table if
  // it was migrated.  Requires m >= t->mask and (v & t->mask) == j.  Each
  // element is visited once: the sets (t, j, m, v) explored partition the
  // hash space, and a bucket is read either as migrated (then only its
  // successors are read) or not (then only its own lines are).  The bucket's
  // live entries are copied out first and then validated: if M is still
  // clear after the copy, the bucket was authoritative throughout it.
  template <class F>
  void visit_bucket(const table* t, std::uint64_t j, std::uint64_t m, std::uint64_t v,
                    F&& f) const {
    const bucket* head = &t->buckets()[j];
    std::uint64_t link = head->link.load(std::memory_order_acquire);  // [HM3]
    if ((link & hm_detail::kMigrated) == 0) {
      std::uint64_t local[hm_detail::kSlots];
      int n_local = 0;
      std::vector<std::uint64_t> more;  // overflow lines' entries (rare)
      hm_detail::for_each_slot(*head, [&](const slot_t& s) {
        const std::uint64_t e = s.load(std::memory_order_acquire);  // [HM2]
        if (!hm_detail::is_live(e)) return true;
        if (n_local < hm_detail::kSlots) {
          local[n_local++] = e;
        } else {
          more.push_back(e);
        }
        return true;
      });
      // [HM3] the validation load (see above).
      link = head->link.load(std::memory_order_acquire);
      if ((link & hm_detail::kMigrated) == 0) {
        auto visit = [&](std::uint64_t e) {
          node* n = node_of(e);
          if ((hm_detail::index_hash(n->hash) & m) == v) f(n);
        };
        for (int i = 0; i < n_local; ++i) visit(local[i]);
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

  // ---- Updates.

  // erase(key) when `expected` is null, else erase(key, expected): only the
  // element whose value is *expected (no ABA: see D.2).
  bool erase_element(const Key& key, const T* expected) {
    const std::uint64_t h = hm_detail::mix(hasher_(key));
    {
      std::scoped_lock rs(*dom_);
      help_resize();
      table* t = cur_.load(std::memory_order_acquire);  // [HM5] pairs with [HM7]
      for (;;) {
        const place p = locate(*t->bucket_of(h), h, key, 0);
        if (p.what == place::absent) return false;
        if (p.what == place::frozen) {
          t = help_bucket(t, h);
          continue;
        }
        if (!hm_detail::is_live(p.v)) return false;
        if (expected != nullptr && &node_of(p.v)->value != expected) return false;
        std::uint64_t v = p.v;
        // [HM1] acq_rel: the one CAS that decides this erase (E.1); a
        // tombstone publishes nothing new, but keeps every slot write a
        // release so that readers' [HM2] ordering holds for every value.
        if (p.s->compare_exchange_strong(v, v & ~hm_detail::kLive, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
          break;
        }
      }
    }
    count_.fetch_sub(1, std::memory_order_relaxed);       // a statistic: see G.1
    tombstones_.fetch_add(1, std::memory_order_relaxed);  // steers rehashing only
    maybe_shrink();
    return true;
  }

  // Where a key stands in one bucket chain.
  struct place {
    enum kind { found, claimed, absent, frozen } what;
    slot_t* s = nullptr;  // found: the key's slot; claimed: the slot taken
    std::uint64_t v = 0;  // found: its value (open: live or a tombstone)
  };

  // Walks head's chain in order to the first slot that is empty or holds
  // key (h is its mixed hash).  With claim != 0 (an open live entry for
  // key), takes an empty slot with it, appending a line when the chain is
  // full (allocation: throws std::bad_alloc, or with `nothrow` reports
  // `absent`).  Reports `frozen` at the first frozen slot or link on the way.
  // Caller is inside a read-side section.  Lock-free: a failed CAS means
  // another thread's claim or freeze succeeded; the walk then looks at the
  // slot's new value.
  place locate(bucket& head, std::uint64_t h, const Key& key, std::uint64_t claim,
               bool nothrow = false) {
    for (bucket* b = &head;;) {
      for (auto& s : b->slot) {
        std::uint64_t v = s.load(std::memory_order_acquire);  // [HM2] pairs with [HM1]
        while (v == hm_detail::kEmpty) {
          if (claim == 0) return {place::absent};
          // [HM1] acq_rel: the release publishes the element (pairs with
          // [HM2] in lookups and walks); on failure, v is the value that
          // beat us (acquire: its element is visible).
          if (s.compare_exchange_strong(v, claim, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
            return {place::claimed, &s, claim};
          }
        }
        if (!hm_detail::is_open(v)) return {place::frozen};
        if (holds_key(v, h, key)) return {place::found, &s, v};
      }
      std::uint64_t link = b->link.load(std::memory_order_acquire);  // [HM3] pairs with [HM1]
      for (;;) {
        if ((link & hm_detail::kFrozen) != 0) return {place::frozen};
        if (bucket* next = hm_detail::line_of(link)) {
          b = next;
          break;
        }
        if (claim == 0) return {place::absent};
        bucket* line = hm_detail::new_line<Traits>(nothrow);  // may throw: nothing published
        if (line == nullptr) return {place::absent};
        line->slot[0].store(claim, std::memory_order_relaxed);  // unpublished yet
        // [HM1] acq_rel: the release publishes the line and its entry
        // (pairs with [HM3]); on failure, link is the line that beat us.
        if (b->link.compare_exchange_strong(link, reinterpret_cast<std::uint64_t>(line),
                                            std::memory_order_acq_rel,
                                            std::memory_order_acquire)) {
          return {place::claimed, &line->slot[0], claim};
        }
        delete line;
      }
    }
  }

  // What upsert() does with a key it finds: insert() refuses it,
  // insert_or_assign() replaces it, replace() replaces only the element whose
  // value is *expected (none if expected is null), and never inserts.
  enum class put_mode { insert, assign, replace };
  // What upsert() did.
  enum class put_result { inserted, replaced, refused };

  put_result upsert(Key&& key, T&& value, put_mode mode, const T* expected = nullptr) {
    const std::uint64_t h = hm_detail::mix(hasher_(key));
    std::unique_ptr<node> fresh;
    std::uint64_t displaced = 0;  // the slot's old value, if we replaced one
    {
      std::scoped_lock rs(*dom_);
      // Start the bucket's cache miss first, so that it overlaps the
      // allocation (a hint: the table may be replaced before locate()).
      // [HM5] acquire pairs with [HM7], as below: bucket_of() reads the
      // table's header (off_mask), which must be initialized.
      __builtin_prefetch(cur_.load(std::memory_order_acquire)->bucket_of(h));
      // Allocate before any write: a throw leaves the map unchanged, and so
      // does a bad_alloc from locate() or help_bucket() below (fresh is
      // still ours).
      fresh = std::make_unique<node>(h, std::move(key), std::move(value));
      const std::uint64_t e = entry_of(fresh.get());
      help_resize();
      table* t = cur_.load(std::memory_order_acquire);  // [HM5] pairs with [HM7]
      for (;;) {
        // A replace claims nothing: an absent key stays absent.
        const place p =
            locate(*t->bucket_of(h), h, fresh->key, mode == put_mode::replace ? 0 : e);
        if (p.what == place::claimed) break;
        if (p.what == place::absent) return put_result::refused;  // replace: nothing published
        if (p.what == place::frozen) {
          t = help_bucket(t, h);
          continue;
        }
        // found: a live element (replace, or refuse) or a tombstone (revive).
        if (hm_detail::is_live(p.v) && mode == put_mode::insert) {
          return put_result::refused;  // fresh never published
        }
        // A replace's element, once replaced or erased, never comes back
        // (a revive publishes a new element), and the caller's section keeps
        // its address from being reused: no ABA.
        if (mode == put_mode::replace &&
            (!hm_detail::is_live(p.v) ||
             (!GRACE_HASH_MAP_BROKEN_BLIND_REPLACE && &node_of(p.v)->value != expected))) {
          return put_result::refused;
        }
        std::uint64_t v = p.v;
        // [HM1] acq_rel: publishes the new element (D.1: one CAS swaps it
        // in); failure: another update or a freeze won, walk again.
        if (p.s->compare_exchange_strong(v, e, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
          displaced = v;
          break;
        }
      }
    }
    fresh.release();  // published
    const bool inserted = displaced == 0 || !hm_detail::is_live(displaced);
    if (displaced != 0) retire(node_of(displaced));
    if (!inserted) return put_result::replaced;
    if (displaced != 0) tombstones_.fetch_sub(1, std::memory_order_relaxed);  // revived
    count_.fetch_add(1, std::memory_order_relaxed);  // a statistic: see G.1
    maybe_grow();
    return put_result::inserted;
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

  // Whether table t (may be null) holds element n (live or not) in n's bucket.
  static bool holds(const table* t, const node* n) noexcept {
    if (t == nullptr) return false;
    return !hm_detail::for_each_slot(*t->bucket_of(n->hash), [n](const slot_t& s) {
      const std::uint64_t v = s.load(std::memory_order_relaxed);  // quiescent: destructor only
      return !(hm_detail::has_element(v) && node_of(v) == n);
    });
  }

  // call_rcu callback of a migrated table: frees it with its tombstones (its
  // live elements belong to the next table).
  static void reclaim_table(rcu_head* h) noexcept {
    table::destroy(reinterpret_cast<table*>(h), [](std::uint64_t v, std::uint64_t) {
      if (!hm_detail::is_live(v)) delete node_of(v);
    }, /*prefetch_elements=*/false);  // tombstones only: few
  }

  // ---- Resizing.

  void maybe_grow() noexcept {
    const std::int64_t c = count_.load(std::memory_order_relaxed);
    std::scoped_lock rs(*dom_);
    table* t = cur_.load(std::memory_order_acquire);  // [HM5] pairs with [HM7]
    const auto limit = static_cast<std::int64_t>(t->size() * Traits::kGrowLoad);
    if (c <= limit) return;
    const std::size_t want = buckets_for(static_cast<std::size_t>(c));
    if (build_ahead_bytes() != 0 && want * sizeof(bucket) >= build_ahead_bytes()) {
      grow_from_order(t, want, /*overdue=*/c > 2 * limit);
    } else {
      try_resize(t, want);
    }
  }

  // A grow to a large table (kBuildAheadBytes or more).  The first update
  // past the threshold orders the table from the domain's worker (call_rcu:
  // built after a grace period) and goes on; updates keep using t, whose
  // load climbs past kGrowLoad meanwhile (chains get longer, lookups stay
  // correct).  The first update that finds the order ready starts the resize
  // with it.  Nobody waits for the worker: an update that finds the load
  // past 2 * kGrowLoad (`overdue`: the worker is late or stalled, or gone in
  // a forked child) adopts the order's memory and finishes the table itself
  // (take_order()), or builds one if the order has none.  Caller is inside a
  // read-side section (the order may be retired under it).
  void grow_from_order(table* t, std::size_t want, bool overdue) noexcept {
    if (t->next.load(std::memory_order_relaxed) != nullptr) return;  // a hint: resizing already
    // [HM16] acquire pairs with [HM13] (the order's fields are initialized)
    // and with [HM18] (an update whose take ended sees its resize started).
    hm_detail::table_order* o = order_.load(std::memory_order_acquire);
    if (o == nullptr) {
      place_order(t, want);
      return;
    }
    if (o == order_busy()) {
      if (overdue) try_resize(t, want);
      return;
    }
    // [HM17] acquire pairs with the worker's [HM14]: the table is built.
    const table* state = o->result.load(std::memory_order_acquire);
    const bool building = state == nullptr || state == hm_detail::order_finishing();
    if (building && !overdue) return;
    table* r = nullptr;
    if (!take_order(o, &r, /*adopt=*/overdue)) return;  // another update took it
    const bool fits = r != nullptr && r->size() > t->size();
    if (fits) {
      if (!start_resize(t, r)) retire_unused(r);  // another resize began meanwhile
    } else {
      if (r != nullptr) retire_unused(r);
      if (overdue) try_resize(t, want);  // past twice the grow load, nothing to adopt: build here
    }
    if constexpr (requires { Traits::observe_order(true); }) Traits::observe_order(fits);
    end_take();
  }

  // Places an order for a table of `want` buckets to grow t, and queues its
  // build on the worker.
  void place_order(table* t, std::size_t want) noexcept {
    // The mapping only (no page is touched here).  If it fails, the order
    // still goes out and its build reports the failure, so the mapping is
    // retried once a later update drops that order, not by every update.
    table::memory m;
    try {
      bool fail = false;
      if constexpr (requires { Traits::inject_alloc_failure(); }) {
        fail = Traits::inject_alloc_failure();  // tests: the order's build fails
      }
      if (!fail) m = table::allocate(want, huge_pages());
    } catch (const std::bad_alloc&) {
    }
    auto* o = new (std::nothrow) hm_detail::table_order(*dom_, m);
    if (o == nullptr) {
      if (m.raw != nullptr) table::free_memory(m.raw, m.mapped);
      return;  // retried by the next update
    }
    if constexpr (requires { Traits::observe_build_step(); }) {
      o->observe_step = &Traits::observe_build_step;
    }
    hm_detail::table_order* expected = nullptr;
    // [HM13] release pairs with the [HM16] acquire in grow_from_order():
    // an update that reads o sees it constructed.
    if (!order_.compare_exchange_strong(expected, o, std::memory_order_release,
                                        std::memory_order_relaxed)) {
      if (m.raw != nullptr) table::free_memory(m.raw, m.mapped);
      delete o;  // another update ordered first
      return;
    }
    call_rcu(&o->build_head, &hm_detail::build_ordered_table, *dom_);
    // A take that ended just before our CAS may have started a resize of t
    // (our hint saw none): o is then sized for a table on its way out, and
    // no later update would look at it before the next threshold.
    // [HM5] acquire pairs with [HM8]; the [HM16] load that saw no order made
    // that take's start_resize visible ([HM18]).
    if (t->next.load(std::memory_order_acquire) != nullptr) drop_order();
  }

  // Takes o out of order_, which stays busy until end_take(): false if
  // another update took it first.  *built: o's table, or null (the worker
  // still builds it, and will free it, or the build failed).  With `adopt`,
  // a table the worker is still building is finished here instead: the
  // pages it has not touched yet are populated (a step's worth of page
  // faults per step it had left, not a whole table), and *built is that
  // table.  Caller is inside a read-side section.
  bool take_order(hm_detail::table_order* o, table** built, bool adopt = false) noexcept {
    // Relaxed: o's fields were acquired by the caller's [HM16]; the busy
    // marker publishes nothing.
    if (!order_.compare_exchange_strong(o, order_busy(), std::memory_order_relaxed,
                                        std::memory_order_relaxed)) {
      return false;
    }
    table* building = nullptr;
    // Relaxed: the memory's fields were acquired by the caller's [HM16], and
    // the worker's touches publish nothing (see table::touch()); the CAS
    // only has to be atomic against the worker's claim (order_finishing()).
    if (adopt && o->memory.raw != nullptr &&
        o->result.compare_exchange_strong(building, hm_detail::order_adopted(),
                                          std::memory_order_relaxed, std::memory_order_relaxed)) {
      // The table holds the map's share of o until it is freed: no
      // release_table_order() here.
      *built = table::adopt(o->memory, o);
      return true;
    }
    // [HM17] acquire pairs with the worker's [HM14]: a table found here is
    // built; if none is, the mark tells the worker to free what it builds.
    // (Nothing to release: the worker never reads what the map wrote.)
    table* r = o->result.exchange(hm_detail::order_abandoned(), std::memory_order_acquire);
    *built = hm_detail::is_table(r) ? r : nullptr;
    // Other updates may still read o: the map lets go after a grace period.
    call_rcu(&o->release_head, &hm_detail::release_table_order, *dom_);
    return true;
  }
  void end_take() noexcept {
    // [HM18] release pairs with [HM16]: an update that then finds no order
    // sees the resize this take started (t->next) and orders for the new
    // table only.
    order_.store(nullptr, std::memory_order_release);
  }

  // Drops the order out, if any (a resize finished or began without it:
  // the order was sized for the table before), freeing what was built.
  // Caller is inside a read-side section.
  void drop_order() noexcept {
    hm_detail::table_order* o = order_.load(std::memory_order_acquire);  // [HM16] pairs with [HM13]
    table* r = nullptr;
    if (o == nullptr || o == order_busy() || !take_order(o, &r)) return;
    if (r != nullptr) retire_unused(r);
    if constexpr (requires { Traits::observe_order(true); }) Traits::observe_order(false);
    end_take();
  }

  // A table that was built but never published: freed by the worker (the
  // unmapping stays off the updating thread).
  void retire_unused(table* r) noexcept { call_rcu(&r->head, &reclaim_table, *dom_); }

  static hm_detail::table_order* order_busy() noexcept {
    return reinterpret_cast<hm_detail::table_order*>(std::uintptr_t{64});
  }

  // After an erase: shrinks a sparse table, and rehashes one whose
  // tombstones outnumber its buckets (at the size the count calls for).
  void maybe_shrink() noexcept {
    const std::int64_t c = count_.load(std::memory_order_relaxed);
    const std::int64_t dead = tombstones_.load(std::memory_order_relaxed);
    std::scoped_lock rs(*dom_);
    table* t = cur_.load(std::memory_order_acquire);  // [HM5] pairs with [HM7]
    const auto buckets = static_cast<std::int64_t>(t->size());
    const bool sparse = t->size() > Traits::kMinBuckets && 2 * c < buckets;
    const bool stale = dead > buckets;
    if (!sparse && !stale) return;
    std::size_t want = buckets_for(c > 0 ? static_cast<std::size_t>(c) : 0);
    const std::size_t floor = reserved_buckets_.load(std::memory_order_relaxed);
    if (want < floor) want = floor;
    if (!stale && want >= t->size()) return;
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
      fresh = table::create(n, huge_pages());
    } catch (const std::bad_alloc&) {
      return;
    }
    if (!start_resize(t, fresh)) table::destroy(fresh);
  }

  bool start_resize(table* t, table* fresh) noexcept {
    table* expected = nullptr;
    // [HM8] release pairs with the [HM5] acquire loads of next: helpers and
    // lookups that read next see it constructed (empty buckets).
    return t->next.compare_exchange_strong(expected, fresh, std::memory_order_acq_rel,
                                           std::memory_order_acquire);
  }

  // Called by every update, inside its section, before its own work.
  void help_resize() noexcept {
    table* t = cur_.load(std::memory_order_acquire);  // [HM5] pairs with [HM7]
    table* nt = t->next.load(std::memory_order_acquire);  // [HM5]
    if (nt != nullptr) [[unlikely]] migrate_some(t, nt);
  }

  // An update met a frozen slot or link in t's bucket of h: finishes that
  // bucket's migration and returns the table to go on in.  Throws
  // std::bad_alloc if the migration cannot allocate (nothing of the
  // caller's was published).
  table* help_bucket(table* t, std::uint64_t h) {
    // [HM5] acquire: a bucket is frozen only after next was published
    // ([HM8] before [HM11]), and the caller's [HM2]/[HM3] load that saw the
    // freeze is an acquire.
    table* nt = t->next.load(std::memory_order_acquire);
    const int r = migrate_bucket(t, nt, index_hash_of(t, h));
    if (r < 0) throw std::bad_alloc();
    if (r > 0) count_marked(t, nt, 1);
    return nt;
  }
  static std::uint64_t index_hash_of(const table* t, std::uint64_t h) noexcept {
    return hm_detail::index_hash(h) & t->mask;
  }

  // Migrates one chunk of t's buckets into nt: the next kMigrateChunk bucket
  // indices of the cursor (modulo the bucket count, so buckets a preempted
  // or failed helper left behind are swept again).  False if a step could
  // not allocate.
  bool migrate_some(table* t, table* nt) noexcept {
    const std::uint64_t n = t->size();
    const std::uint64_t start = t->cursor.fetch_add(Traits::kMigrateChunk, std::memory_order_relaxed);
    const std::uint64_t chunk = Traits::kMigrateChunk < n ? Traits::kMigrateChunk : n;
    // Each copy reads its element's hash, a cache miss: start the misses of
    // the whole chunk at once so that they overlap, and those of the next
    // chunk too, which the next update (usually this thread's, at its next
    // insert) claims: its misses then have that whole insert to complete,
    // instead of stalling the first copies of its chunk (a 1M fill into an
    // empty map, standalone: about 150 -> 137 ns per insert).  (Relaxed
    // loads: a hint only; a prefetch of a stale address is harmless.  Taken
    // slots are a prefix of the line: see freeze_chain().)
    const std::uint64_t ahead = 2 * chunk < n ? 2 * chunk : n;
    for (std::uint64_t i = 0; i < ahead; ++i) {
      for (const auto& s : t->buckets()[(start + i) & t->mask].slot) {
        const std::uint64_t e = s.load(std::memory_order_relaxed);
        if (!hm_detail::has_element(e)) break;
        if (hm_detail::is_live(e)) __builtin_prefetch(&node_of(e)->hash);
      }
    }
    // ... and the copies' target lines in nt (each gets a CAS, which would
    // otherwise take its miss alone): bucket j splits into j + k * n (grow)
    // or folds into j & nt->mask (shrink).  Not for a jump of more than 8x
    // (reserve() on a small map): most targets then stay empty.
    for (std::uint64_t i = 0; i < chunk && nt->size() <= 8 * n; ++i) {
      const std::uint64_t j = (start + i) & t->mask;
      if (nt->mask >= t->mask) {
        for (std::uint64_t k = j; k <= nt->mask; k += n) __builtin_prefetch(&nt->buckets()[k], 1);
      } else {
        __builtin_prefetch(&nt->buckets()[j & nt->mask], 1);
      }
    }
    std::uint64_t marked = 0;
    bool ok = true;
    for (std::uint64_t i = 0; i < chunk; ++i) {
      const std::uint64_t j = (start + i) & t->mask;
      // Relaxed: a hint that skips marked buckets; migrate_bucket() decides.
      if ((t->buckets()[j].link.load(std::memory_order_relaxed) & hm_detail::kMigrated) != 0) {
        continue;
      }
      const int r = migrate_bucket(t, nt, j);
      if (r > 0) ++marked;
      if (r < 0) {
        ok = false;
        break;
      }
    }
    if (marked != 0) count_marked(t, nt, marked);
    return ok;
  }

  // Records `marked` buckets of t marked M by this thread; the thread that
  // records the last one publishes nt.
  void count_marked(table* t, table* nt, std::uint64_t marked) noexcept {
    // [HM6] acq_rel, between the markers' fetch_adds: the one that completes
    // the count happens after every bucket's marking (release sequence of
    // the RMWs), so its [HM7] publishes all of them.
    if (t->done.fetch_add(marked, std::memory_order_acq_rel) + marked == t->size()) {
      finish_resize(t, nt);
    }
  }

  // Migrates bucket j of t into nt (freeze, copy, mark; see the file
  // comment).  Returns 1 if this call marked it M, 0 if another thread did
  // (or does: the copies are then redundant), -1 if a copy could not
  // allocate an overflow line (the bucket stays frozen and unmarked).
  int migrate_bucket(table* t, table* nt, std::uint64_t j) noexcept {
    bucket& head = t->buckets()[j];
    if ((hm_detail::freeze_chain(head) & hm_detail::kMigrated) != 0) return 0;
#if GRACE_HASH_MAP_BROKEN_EARLY_MARK
    // Deliberately wrong (negative control): mark first, pause, then copy.
    const bool marked_early =
        (head.link.fetch_or(hm_detail::kMigrated, std::memory_order_relaxed) & hm_detail::kMigrated) == 0;
    for (int spin = 0; spin < 2000; ++spin) detail::cpu_relax();
#endif
    int copy = 1;  // 1 copied, 0 redundant (nt is frozen: t was finished), -1 no memory
    std::int64_t dead = 0;
    hm_detail::for_each_slot(head, [&](slot_t& s) {
      // [HM2] acquire: the values are frozen (immutable); see [HM12].
      const std::uint64_t v = s.load(std::memory_order_acquire);
      if (!hm_detail::has_element(v)) return true;
      if (!hm_detail::is_live(v)) {
        ++dead;
        return true;
      }
      copy = copy_entry(nt, v | hm_detail::kOpen);
      return copy > 0;
    });
#if GRACE_HASH_MAP_BROKEN_EARLY_MARK
    if (copy < 0) return -1;
    if (!marked_early) return 0;
#else
    if (copy <= 0) return copy;
    // [HM9] acq_rel, after every copy: pairs with [HM3] in lookups, with
    // [HM11] in helpers and with walks that see M: all find the copies in nt.
    if ((head.link.fetch_or(hm_detail::kMigrated, std::memory_order_acq_rel) &
         hm_detail::kMigrated) != 0) {
      return 0;
    }
#endif
    tombstones_.fetch_sub(dead, std::memory_order_relaxed);  // dropped with t
    return 1;
  }

  // Puts the open live entry e into nt unless nt's chain already has a slot
  // for its key (another helper's copy, or an update made after the bucket
  // was marked).  1: done; 0: nt is frozen (so t's migration is complete and
  // this copy redundant); -1: no memory for an overflow line.
  int copy_entry(table* nt, std::uint64_t e) noexcept {
    const node* n = node_of(e);
    const place p = locate(*nt->bucket_of(n->hash), n->hash, n->key, e, /*nothrow=*/true);
    if (p.what == place::frozen) return 0;
    if (p.what == place::absent) return -1;  // with a claim: the line allocation failed
    return 1;
  }

  void finish_resize(table* t, table* nt) noexcept {
    // [HM7] release pairs with the [HM5] acquire loads of cur_: a reader
    // that sees nt sees every migrated entry (which [HM6] ordered before us).
    cur_.store(nt, std::memory_order_release);
    // An order still out was placed to grow t (the resize that took one has
    // removed it): unmapped now rather than held until nt's threshold.
    drop_order();
    // Readers and writers may still be inside t: free it after a grace
    // period, with its overflow lines and tombstones; its live elements now
    // belong to nt.
    call_rcu(&t->head, &reclaim_table, *dom_);
  }

  rcu_domain* dom_;
  [[no_unique_address]] Hash hasher_{};
  [[no_unique_address]] KeyEqual equal_{};
  // The current table.  Written by finish_resize() (release [HM7]); read by
  // every operation (acquire [HM5]).  Read-mostly: its own line.
  alignas(64) detail::atomic<table*> cur_;
  // Element count (G.1) and tombstone count.  Relaxed: statistics that only
  // steer resizing.
  alignas(64) detail::atomic<std::int64_t> count_{0};
  detail::atomic<std::int64_t> tombstones_{0};
  // The bucket count reserve() asked for: shrinking stops there.
  detail::atomic<std::size_t> reserved_buckets_{0};
  // The table ordered for the next grow (grow_from_order()), order_busy()
  // while an update takes it, or null.  Written by updates past the grow
  // threshold: CAS from null (release [HM13]), CAS to busy (relaxed), store
  // of null (release [HM18]); read by them (acquire [HM16]).  On count_'s line: updates
  // past the threshold have it in cache already.
  detail::atomic<hm_detail::table_order*> order_{nullptr};
};

}  // inline namespace GRACE_HASH_MAP_ABI
}  // namespace grace
