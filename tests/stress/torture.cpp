// tests/stress/torture.cpp — grace-torture: an rcutorture-style stress test
// with an oracle, and a deliberately broken flavor that must fail.
//
//   grace-torture --seconds S --readers R [--updaters U] [--broken]
//                 [--retire-mode sync|retire|mixed] [--fence] [--seed N]
//
// The oracle (after the Linux kernel's kernel/rcu/rcutorture.c).
//   One object is published at a time through grace::rcu_ptr.  Each object
//   carries an age (the kernel's rtort_pipe_count):
//     0   while it is published;
//     1   once an updater has replaced it (removed it from the reader's reach);
//     +1  for every grace period an updater (or a reclamation callback) has
//         seen complete after that removal.
//   A reader that obtained the object inside a read-side section can see age
//   0 or 1, never 2: reaching 2 takes a grace period that began after the
//   removal, and such a grace period waits for that reader's section to end.
//   The increment is a relaxed store made after the wait returned; the
//   reader's load is sequenced before its unlock, which happens before the
//   end of the grace period, so coherence forbids it to read the increment.
//   Counting a grace period twice (a cookie and a synchronize satisfied by the
//   same physical grace period) only makes ages above 2 appear sooner; the
//   first step past 1 always needs a real post-removal grace period.
//   So: any age >= 2 seen by a reader proves a violated grace period.
//
//   An object is freed once its age reaches kPipeLen: freeing means poisoning
//   every field (kPoison, the kernel's 0x6b slab poison) and then deleting
//   it.  A reader that sees poison read a freed object; a reader that sees a
//   checksum mismatch, or the object's sequence number change inside its
//   section, read memory reused for another object.  All three are errors.
//
// Updaters (updater::run) replace the object in a loop and retire the old one
// by one of (--retire-mode mixed picks each time; sync and retire restrict
// the choice to the first five and the last three):
//   sync        rcu_synchronize(), then age every removed object
//   expedited   rcu_synchronize_expedited(), the same
//   cond        rcu_get_state() after the removal, rcu_cond_synchronize()
//   poll        rcu_get_state(), polled later with rcu_poll_state()
//   start-poll  rcu_start_poll(), polled later
//   retire      obj->retire(): each callback ages the object by one and
//               retires it again until it reaches kPipeLen (the kernel's
//               deferred_free chain); default domain or a second rcu_domain
//   rcu_retire  grace::rcu_retire(obj, deleter), the same chain
//   call_rcu    grace::call_rcu(&obj->cb, func), the same chain
// Objects of the first five wait on the updater's FIFO of removed objects;
// each observed grace period ages the prefix of the FIFO removed before it
// began.
//
// Readers loop: lock (default or second domain: one read side), load the
// pointer, check the object (checksum, poison, age), spin for a random while
// (rarely long, rarely yielding the CPU inside the section), sometimes nest a
// second section that loads the pointer again, check the first object again,
// unlock.  They histogram the age seen at the end of each section.
//
// --broken replaces every grace-period call by one that does not wait and
// every retire by an immediate run of the callback chain (torture_ops, as the
// kernel's rcu_torture_ops): no grace period ever separates a removal from
// the free.  It must fail, and it does so through the oracle: the broken
// flavor poisons objects (what a premature free exposes) but returns their
// memory to malloc only after a real grace period, so the run stays
// memory-safe and reports ages and poison instead of crashing or tripping
// ASAN (a crash would not count as a clean "test failed" under ctest's
// WILL_FAIL).  Under TSAN the same run is also a reported data race.
//
// --fence sets GRACE_FLAVOR=fence before grace's first use: the fence flavor.
//
// Output: always the age histogram ("Reader Pipe", as rcutorture), the number
// of grace periods observed, reads and updates.  Exit status 0 when no error
// was seen, 1 on any error, 2 on a usage error or a stall (no update
// completed for kStallSeconds).
#include <grace/rcu.hpp>

#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

// ---- Tunables ----------------------------------------------------------------

// An object is freed once its age reaches this (the kernel's
// RCU_TORTURE_PIPE_LEN): the longer it stays, the longer a reader that kept it
// too long sees a telling age rather than poison.
constexpr std::uint32_t kPipeLen = 10;
// Histogram buckets: ages 0..kPipeLen, then "more".
constexpr std::size_t kBuckets = kPipeLen + 2;
constexpr std::uint32_t kPoisonAge = 0x6b6b6b6bU;
constexpr std::uint64_t kPoison = 0x6b6b6b6b6b6b6b6bULL;
constexpr int kPayloadWords = 6;
// Bounds on an updater's backlog: past them it waits for a grace period.
constexpr std::size_t kMaxRemoved = 64;
constexpr std::size_t kMaxCookies = 16;
// Broken flavor: poisoned objects are really deleted in batches of this many,
// each after a real grace period.
constexpr std::size_t kGraveyardBatch = 4096;
// Reader delays inside a section, in pause instructions.
constexpr unsigned kShortSpin = 64;    // every read: 0..kShortSpin-1
constexpr unsigned kLongSpin = 4096;   // one read in kLongEvery: 0..kLongSpin-1
constexpr unsigned kLongEvery = 64;
constexpr unsigned kYieldEvery = 1024;  // one read in this yields inside its section
constexpr unsigned kNestEvery = 4;      // one read in this nests a second section
constexpr unsigned kBarrierEvery = 4096;  // updates between rcu_barrier() calls
constexpr int kStallSeconds = 30;

// ---- Small helpers -----------------------------------------------------------

void cpu_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

struct xorshift {
  std::uint64_t s;
  explicit xorshift(std::uint64_t seed) noexcept : s(seed | 1) {}
  std::uint64_t next() noexcept {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  unsigned below(unsigned n) noexcept { return static_cast<unsigned>(next() % n); }
};

std::uint64_t mix(std::uint64_t x) noexcept {  // splitmix64's finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// ---- The torture object --------------------------------------------------------

enum class retire_kind : std::uint8_t { obj_retire, rcu_retire, call_rcu };

struct torture_obj;
// The retire()/rcu_retire() deleter: one step of the callback chain.
struct chain_deleter {
  void operator()(torture_obj* p) const noexcept;
};

struct torture_obj : grace::rcu_obj_base<torture_obj, chain_deleter> {
  // Read by readers.  age: written by updaters and callbacks (relaxed: the
  // oracle relies on coherence only, see the banner).  The rest is written
  // before publication ([PT1] in rcu_ptr) and then only by the free (poison):
  // plain fields, so that under TSAN a free not ordered after a reader's
  // section by a grace period is a reported race.
  std::atomic<std::uint32_t> age{0};
  std::uint64_t seq = 0;
  std::uint64_t payload[kPayloadWords] = {};
  std::uint64_t check = 0;
  // Updater and callbacks only.
  struct cb_node : grace::rcu_head {
    torture_obj* owner = nullptr;
  } cb;
  retire_kind kind = retire_kind::obj_retire;
  grace::rcu_domain* dom = nullptr;
};

std::uint64_t payload_word(std::uint64_t seq, int i) noexcept {
  return mix(seq * kPayloadWords + static_cast<std::uint64_t>(i) + 1);
}

std::uint64_t checksum(std::uint64_t seq) noexcept { return mix(~seq); }

// ---- Global state ----------------------------------------------------------------

grace::rcu_ptr<torture_obj> g_current;
std::atomic<bool> g_stop{false};
std::atomic<std::uint64_t> g_next_seq{1};
std::atomic<std::int64_t> g_live{0};          // objects allocated and not deleted
std::atomic<std::uint64_t> g_updates{0};      // for the stall watchdog and the report
std::atomic<std::uint64_t> g_gps{0};          // grace periods observed by updaters
std::atomic<std::uint64_t> g_cb_steps{0};     // callback-chain steps (each after a GP)
grace::rcu_domain* g_aux = nullptr;           // a second domain, for the retire paths
bool g_broken = false;

torture_obj* make_obj() {
  auto* p = new torture_obj;
  g_live.fetch_add(1, std::memory_order_relaxed);
  const std::uint64_t seq = g_next_seq.fetch_add(1, std::memory_order_relaxed);
  p->seq = seq;
  for (int i = 0; i < kPayloadWords; ++i) p->payload[i] = payload_word(seq, i);
  p->check = checksum(seq);
  return p;
}

void poison(torture_obj* p) noexcept {
  p->seq = kPoison;
  for (std::uint64_t& w : p->payload) w = kPoison;
  p->check = kPoison;
  p->age.store(kPoisonAge, std::memory_order_relaxed);
}

void delete_obj(torture_obj* p) noexcept {
  delete p;
  g_live.fetch_sub(1, std::memory_order_relaxed);
}

// Broken flavor only: poisoned objects whose memory waits for a real grace
// period (see the banner).
std::mutex g_graveyard_lock;
std::vector<torture_obj*> g_graveyard;  // guarded by g_graveyard_lock

void flush_graveyard(bool readers_gone) {
  std::vector<torture_obj*> batch;
  {
    std::lock_guard<std::mutex> guard(g_graveyard_lock);
    batch.swap(g_graveyard);
  }
  if (batch.empty()) return;
  if (!readers_gone) grace::rcu_synchronize();  // the real one
  for (torture_obj* p : batch) delete_obj(p);
}

// Frees an object whose age reached kPipeLen.
void free_obj(torture_obj* p) {
  poison(p);
  if (!g_broken) {
    delete_obj(p);
    return;
  }
  bool flush = false;
  {
    std::lock_guard<std::mutex> guard(g_graveyard_lock);
    g_graveyard.push_back(p);
    flush = g_graveyard.size() >= kGraveyardBatch;
  }
  // Only updaters free in the broken flavor, and they are not readers.
  if (flush) flush_graveyard(false);
}

// ---- Flavors (the kernel's rcu_torture_ops) --------------------------------------

struct torture_ops {
  const char* name;
  void (*sync)();
  void (*sync_expedited)();
  grace::rcu_cookie (*get_state)();
  grace::rcu_cookie (*start_poll)();
  bool (*poll)(grace::rcu_cookie);
  void (*cond_sync)(grace::rcu_cookie);
  void (*retire)(torture_obj*);  // queue one step of the callback chain
  void (*barrier)();
};

void chain_step(torture_obj* p) noexcept;

void cb_func(grace::rcu_head* head) noexcept {
  chain_step(static_cast<torture_obj::cb_node*>(head)->owner);
}

void real_retire(torture_obj* p) {
  switch (p->kind) {
    case retire_kind::obj_retire:
      p->retire(chain_deleter{}, *p->dom);
      break;
    case retire_kind::rcu_retire:
      grace::rcu_retire(p, chain_deleter{}, *p->dom);
      break;
    case retire_kind::call_rcu:
      p->cb.owner = p;
      grace::call_rcu(&p->cb, &cb_func, *p->dom);
      break;
  }
}

const torture_ops kRealOps = {
    "grace",
    [] { grace::rcu_synchronize(); },
    [] { grace::rcu_synchronize_expedited(); },
    [] { return grace::rcu_get_state(); },
    [] { return grace::rcu_start_poll(); },
    [](grace::rcu_cookie c) { return grace::rcu_poll_state(c); },
    [](grace::rcu_cookie c) { grace::rcu_cond_synchronize(c); },
    &real_retire,
    [] {
      grace::rcu_barrier();
      grace::rcu_barrier(*g_aux);
    },
};

// The negative control: nothing waits for anything.
const torture_ops kBrokenOps = {
    "broken",
    [] {},
    [] {},
    [] { return grace::rcu_cookie{}; },
    [] { return grace::rcu_cookie{}; },
    [](grace::rcu_cookie) { return true; },
    [](grace::rcu_cookie) {},
    [](torture_obj* p) { chain_step(p); },  // the "callback" runs at once
    [] {},
};

const torture_ops* g_ops = &kRealOps;

// One grace period has elapsed since p was (re)queued: age it; retire it again
// or free it.
void chain_step(torture_obj* p) noexcept {
  g_cb_steps.fetch_add(1, std::memory_order_relaxed);
  const std::uint32_t age = p->age.fetch_add(1, std::memory_order_relaxed) + 1;
  if (age < kPipeLen) {
    g_ops->retire(p);
  } else {
    free_obj(p);
  }
}

void chain_deleter::operator()(torture_obj* p) const noexcept { chain_step(p); }

// ---- Updaters ----------------------------------------------------------------------

enum action : unsigned {
  kSync,
  kSyncExpedited,
  kCondSync,
  kPoll,
  kStartPoll,
  kObjRetire,
  kRcuRetire,
  kCallRcu,
  kActions
};
constexpr const char* kActionNames[kActions] = {"sync",  "expedited", "cond",       "poll",
                                                "start-poll", "retire", "rcu_retire", "call_rcu"};

enum class retire_mode { sync, retire, mixed };

struct updater_stats {
  std::uint64_t updates = 0;
  std::uint64_t by_action[kActions] = {};
  std::uint64_t barriers = 0;
};

class updater {
 public:
  updater(retire_mode mode, std::uint64_t seed) : mode_(mode), rng_(seed) {}

  void run() {
    while (!g_stop.load(std::memory_order_relaxed)) {
      update_once();
      poll_cookies();
      if (removed_.size() > kMaxRemoved || cookies_.size() > kMaxCookies) wait_oldest();
      if (!g_broken && stats_.updates % kBarrierEvery == 0) {
        g_ops->barrier();
        ++stats_.barriers;
      }
    }
    // Drain: every removed object still waits for its grace periods.
    while (!removed_.empty()) {
      g_ops->sync();
      grace_period_elapsed(next_idx_);
    }
    cookies_.clear();
  }

  const updater_stats& stats() const noexcept { return stats_; }

 private:
  struct removed_obj {
    torture_obj* obj;
    std::uint64_t idx;  // removal order
  };
  struct pending_cookie {
    grace::rcu_cookie cookie;
    std::uint64_t limit;  // ages objects with idx < limit once expired
  };

  action pick() noexcept {
    switch (mode_) {
      case retire_mode::sync:
        return static_cast<action>(rng_.below(kObjRetire));
      case retire_mode::retire:
        return static_cast<action>(kObjRetire + rng_.below(kActions - kObjRetire));
      case retire_mode::mixed:
        break;
    }
    // Weights: synchronous paths are slow (one grace period each), so they
    // get a larger share to keep the grace-period paths busy.
    static constexpr unsigned kWeights[kActions] = {20, 5, 10, 15, 10, 15, 10, 15};
    unsigned r = rng_.below(100);
    for (unsigned a = 0; a < kActions; ++a) {
      if (r < kWeights[a]) return static_cast<action>(a);
      r -= kWeights[a];
    }
    return kSync;
  }

  void update_once() {
    torture_obj* fresh = make_obj();
    torture_obj* old = g_current.exchange(fresh);
    // Removed: no new reader can find it.  Age 1.
    old->age.fetch_add(1, std::memory_order_relaxed);
    const action a = pick();
    ++stats_.by_action[a];
    ++stats_.updates;
    g_updates.fetch_add(1, std::memory_order_relaxed);
    if (a >= kObjRetire) {
      old->kind = a == kObjRetire   ? retire_kind::obj_retire
                  : a == kRcuRetire ? retire_kind::rcu_retire
                                    : retire_kind::call_rcu;
      old->dom = rng_.below(2) == 0 ? &grace::rcu_default_domain() : g_aux;
      g_ops->retire(old);
      return;
    }
    removed_.push_back(removed_obj{old, next_idx_++});
    switch (a) {
      case kSync:
        g_ops->sync();
        grace_period_elapsed(next_idx_);
        break;
      case kSyncExpedited:
        g_ops->sync_expedited();
        grace_period_elapsed(next_idx_);
        break;
      case kCondSync: {
        const grace::rcu_cookie c = g_ops->get_state();  // after the removal
        g_ops->cond_sync(c);
        grace_period_elapsed(next_idx_);
        break;
      }
      case kPoll:
        cookies_.push_back(pending_cookie{g_ops->get_state(), next_idx_});
        break;
      case kStartPoll:
        cookies_.push_back(pending_cookie{g_ops->start_poll(), next_idx_});
        break;
      default:
        break;
    }
  }

  void poll_cookies() {
    while (!cookies_.empty() && g_ops->poll(cookies_.front().cookie)) {
      grace_period_elapsed(cookies_.front().limit);
      cookies_.pop_front();
    }
  }

  void wait_oldest() {
    if (!cookies_.empty()) {
      g_ops->cond_sync(cookies_.front().cookie);
      grace_period_elapsed(cookies_.front().limit);
      cookies_.pop_front();
    } else {
      g_ops->sync();
      grace_period_elapsed(next_idx_);
    }
  }

  // A grace period that began after the removal of every object with
  // idx < limit has completed: age those objects (a prefix of the FIFO, so
  // ages never increase along it), free those that reached kPipeLen.
  void grace_period_elapsed(std::uint64_t limit) {
    g_gps.fetch_add(1, std::memory_order_relaxed);
    for (removed_obj& r : removed_) {
      if (r.idx >= limit) break;
      r.obj->age.fetch_add(1, std::memory_order_relaxed);
    }
    while (!removed_.empty() &&
           removed_.front().obj->age.load(std::memory_order_relaxed) >= kPipeLen) {
      free_obj(removed_.front().obj);
      removed_.pop_front();
    }
  }

  retire_mode mode_;
  xorshift rng_;
  std::deque<removed_obj> removed_;
  std::deque<pending_cookie> cookies_;
  std::uint64_t next_idx_ = 0;
  updater_stats stats_;
};

// ---- Readers -----------------------------------------------------------------------

struct reader_stats {
  std::uint64_t reads = 0;
  std::uint64_t nested = 0;
  std::uint64_t yields = 0;
  std::uint64_t pipe[kBuckets] = {};         // ages seen at the end of outer sections
  std::uint64_t nested_pipe[kBuckets] = {};  // the same for nested sections
  std::uint64_t bad_age = 0;                 // age >= 2
  std::uint64_t poisoned = 0;                // saw the poison pattern
  std::uint64_t corrupt = 0;                 // checksum mismatch
  std::uint64_t changed = 0;                 // seq changed inside the section

  void merge(const reader_stats& o) noexcept {
    reads += o.reads;
    nested += o.nested;
    yields += o.yields;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      pipe[i] += o.pipe[i];
      nested_pipe[i] += o.nested_pipe[i];
    }
    bad_age += o.bad_age;
    poisoned += o.poisoned;
    corrupt += o.corrupt;
    changed += o.changed;
  }
  std::uint64_t errors() const noexcept { return bad_age + poisoned + corrupt + changed; }
};

struct view {
  std::uint64_t seq;
  std::uint32_t age;
  bool poisoned;
  bool corrupt;
};

// Reads every field of p.  Plain loads of the immutable fields (see
// torture_obj); the age last, so that it is the latest thing read.
view inspect(const torture_obj* p) noexcept {
  view v{};
  v.seq = p->seq;
  v.poisoned = v.seq == kPoison;
  for (int i = 0; i < kPayloadWords; ++i) {
    const std::uint64_t w = p->payload[i];
    if (w == kPoison) v.poisoned = true;
    else if (w != payload_word(v.seq, i)) v.corrupt = true;
  }
  const std::uint64_t c = p->check;
  if (c == kPoison) v.poisoned = true;
  else if (c != checksum(v.seq)) v.corrupt = true;
  v.age = p->age.load(std::memory_order_relaxed);
  if (v.age == kPoisonAge) v.poisoned = true;
  return v;
}

void record(reader_stats& st, std::uint64_t* pipe, const view& first, const view& last) noexcept {
  if (first.poisoned || last.poisoned) {
    ++st.poisoned;
    return;
  }
  if (first.corrupt || last.corrupt) {
    ++st.corrupt;
    return;
  }
  if (first.seq != last.seq) {
    ++st.changed;
    return;
  }
  ++pipe[last.age < kBuckets - 1 ? last.age : kBuckets - 1];
  if (last.age >= 2) ++st.bad_age;
}

void spin(unsigned n) noexcept {
  for (unsigned i = 0; i < n; ++i) cpu_pause();
}

void reader_main(reader_stats& st, std::uint64_t seed) {
  xorshift rng(seed);
  while (!g_stop.load(std::memory_order_relaxed)) {
    grace::rcu_domain& dom = rng.below(2) == 0 ? grace::rcu_default_domain() : *g_aux;
    dom.lock();
    const torture_obj* p = g_current.load();
    const view first = inspect(p);
    // Stay inside a while: the window in which a broken grace period frees
    // what we hold.
    if (rng.below(kYieldEvery) == 0) {
      sched_yield();
      ++st.yields;
    } else if (rng.below(kLongEvery) == 0) {
      spin(rng.below(kLongSpin));
    } else {
      spin(rng.below(kShortSpin));
    }
    if (rng.below(kNestEvery) == 0) {
      grace::rcu_domain& inner = rng.below(2) == 0 ? grace::rcu_default_domain() : *g_aux;
      std::scoped_lock nested(inner);
      const torture_obj* q = g_current.load();
      const view qa = inspect(q);
      spin(rng.below(kShortSpin));
      std::atomic_signal_fence(std::memory_order_seq_cst);  // reload below
      const view qb = inspect(q);
      record(st, st.nested_pipe, qa, qb);
      ++st.nested;
    }
    std::atomic_signal_fence(std::memory_order_seq_cst);  // reload below
    const view last = inspect(p);
    dom.unlock();
    record(st, st.pipe, first, last);
    ++st.reads;
  }
}

// ---- Main -------------------------------------------------------------------------

struct options {
  double seconds = 10;
  int readers = 2;
  int updaters = 1;
  bool broken = false;
  bool fence = false;
  retire_mode mode = retire_mode::mixed;
  std::uint64_t seed = 0;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "grace-torture: %s\n"
               "usage: grace-torture --seconds S --readers R [--updaters U] [--broken]\n"
               "                     [--retire-mode sync|retire|mixed] [--fence] [--seed N]\n",
               why);
  std::exit(2);
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) usage(("missing value for " + a).c_str());
      return argv[++i];
    };
    if (a == "--seconds") {
      o.seconds = std::atof(value());
    } else if (a == "--readers") {
      o.readers = std::atoi(value());
    } else if (a == "--updaters") {
      o.updaters = std::atoi(value());
    } else if (a == "--broken") {
      o.broken = true;
    } else if (a == "--fence") {
      o.fence = true;
    } else if (a == "--seed") {
      o.seed = std::strtoull(value(), nullptr, 0);
    } else if (a == "--retire-mode") {
      const std::string m = value();
      if (m == "sync") o.mode = retire_mode::sync;
      else if (m == "retire") o.mode = retire_mode::retire;
      else if (m == "mixed") o.mode = retire_mode::mixed;
      else usage(("unknown retire mode '" + m + "'").c_str());
    } else if (a == "-h" || a == "--help") {
      usage("an rcutorture-style stress test of grace");
    } else {
      usage(("unknown option '" + a + "'").c_str());
    }
  }
  if (!(o.seconds > 0) || o.readers < 1 || o.updaters < 1) {
    usage("--seconds must be > 0, --readers and --updaters >= 1");
  }
  return o;
}

const char* mode_name(retire_mode m) {
  switch (m) {
    case retire_mode::sync: return "sync";
    case retire_mode::retire: return "retire";
    case retire_mode::mixed: return "mixed";
  }
  return "?";
}

void print_pipe(const char* label, const std::uint64_t* pipe) {
  std::printf("%-22s", label);
  for (std::size_t i = 0; i < kBuckets; ++i) {
    std::printf(" %llu", static_cast<unsigned long long>(pipe[i]));
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  const options opt = parse(argc, argv);
  if (opt.fence) setenv("GRACE_FLAVOR", "fence", 1);  // before grace's first use
  g_broken = opt.broken;
  g_ops = opt.broken ? &kBrokenOps : &kRealOps;
  const std::uint64_t seed =
      opt.seed != 0 ? opt.seed
                    : static_cast<std::uint64_t>(
                          std::chrono::steady_clock::now().time_since_epoch().count());

  grace::rcu_domain aux;
  g_aux = &aux;
  g_current.store(make_obj());

  std::printf("grace-torture: ops=%s flavor=%s%s%s mode=%s readers=%d updaters=%d "
              "seconds=%g seed=%llu\n",
              g_ops->name,
              grace::rcu_current_flavor() == grace::rcu_flavor::fence ? "fence" : "membarrier",
              *grace::rcu_flavor_reason() != '\0' ? " reason: " : "",
              grace::rcu_flavor_reason(), mode_name(opt.mode), opt.readers, opt.updaters,
              opt.seconds, static_cast<unsigned long long>(seed));
  std::fflush(stdout);

  std::vector<reader_stats> rstats(static_cast<std::size_t>(opt.readers));
  std::vector<updater> upd;
  upd.reserve(static_cast<std::size_t>(opt.updaters));
  for (int i = 0; i < opt.updaters; ++i) {
    upd.emplace_back(opt.mode, mix(seed + 1000 + static_cast<std::uint64_t>(i)));
  }
  std::vector<std::thread> threads;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < opt.readers; ++i) {
    threads.emplace_back(reader_main, std::ref(rstats[static_cast<std::size_t>(i)]),
                         mix(seed + static_cast<std::uint64_t>(i)));
  }
  for (updater& u : upd) threads.emplace_back([&u] { u.run(); });

  // Run, watching for a stall: updates must keep completing.
  const auto deadline = start + std::chrono::duration<double>(opt.seconds);
  std::uint64_t last_updates = 0;
  auto last_progress = start;
  bool stalled = false;
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto now = std::chrono::steady_clock::now();
    const std::uint64_t u = g_updates.load(std::memory_order_relaxed);
    if (u != last_updates) {
      last_updates = u;
      last_progress = now;
    } else if (now - last_progress > std::chrono::seconds(kStallSeconds)) {
      stalled = true;
      break;
    }
  }
  g_stop.store(true, std::memory_order_relaxed);
  if (stalled) {
    std::printf("STALL: no update completed for %d s (a grace period never ends?)\n"
                "--- End of test: FAILURE (stall)\n",
                kStallSeconds);
    std::fflush(stdout);
    std::_Exit(2);  // the threads may be stuck: do not join them
  }
  for (std::thread& t : threads) t.join();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // Tear down: no reader is left, so the last object can go at once; then
  // run the callback chains to their end.
  torture_obj* last = g_current.exchange(nullptr);
  poison(last);
  delete_obj(last);
  flush_graveyard(true);
  int rounds = 0;
  while (g_live.load(std::memory_order_relaxed) != 0 && rounds < 100 * int{kPipeLen}) {
    grace::rcu_barrier();
    grace::rcu_barrier(aux);
    ++rounds;
  }
  const std::int64_t leaked = g_live.load(std::memory_order_relaxed);

  reader_stats total;
  for (const reader_stats& s : rstats) total.merge(s);
  updater_stats ut;
  for (const updater& u : upd) {
    ut.updates += u.stats().updates;
    ut.barriers += u.stats().barriers;
    for (unsigned a = 0; a < kActions; ++a) ut.by_action[a] += u.stats().by_action[a];
  }

  std::printf("ages:                  0 1 2 3 4 5 6 7 8 9 10 >10\n");
  print_pipe("Reader Pipe:", total.pipe);
  print_pipe("Reader Pipe (nested):", total.nested_pipe);
  std::printf("reads: %llu (%.1f M/s), nested %llu, yields inside %llu\n",
              static_cast<unsigned long long>(total.reads), total.reads / elapsed / 1e6,
              static_cast<unsigned long long>(total.nested),
              static_cast<unsigned long long>(total.yields));
  std::printf("updates: %llu (%.0f /s):", static_cast<unsigned long long>(ut.updates),
              ut.updates / elapsed);
  for (unsigned a = 0; a < kActions; ++a) {
    std::printf(" %s %llu", kActionNames[a], static_cast<unsigned long long>(ut.by_action[a]));
  }
  std::printf("; barriers %llu\n", static_cast<unsigned long long>(ut.barriers));
  std::printf("grace periods observed by updaters: %llu (%.0f /s); callback steps: %llu\n",
              static_cast<unsigned long long>(g_gps.load(std::memory_order_relaxed)),
              g_gps.load(std::memory_order_relaxed) / elapsed,
              static_cast<unsigned long long>(g_cb_steps.load(std::memory_order_relaxed)));
  std::printf("errors: bad ages (>= 2) %llu, poisoned reads %llu, corrupt %llu, "
              "changed under reader %llu, objects not freed %lld\n",
              static_cast<unsigned long long>(total.bad_age),
              static_cast<unsigned long long>(total.poisoned),
              static_cast<unsigned long long>(total.corrupt),
              static_cast<unsigned long long>(total.changed), static_cast<long long>(leaked));
  const bool ok = total.errors() == 0 && leaked == 0;
  std::printf("--- End of test: %s (%.1f s)\n", ok ? "SUCCESS" : "FAILURE", elapsed);
  std::fflush(stdout);
  return ok ? 0 : 1;
}
