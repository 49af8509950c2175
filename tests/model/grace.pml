/*
 * tests/model/grace.pml — a Promela model of grace's own grace-period
 * algorithm (docs/design/verification.md says what it covers and what not).
 *
 * Modeled code (membarrier flavor):
 *   include/grace/detail/reader.hpp   read_lock() / read_unlock()      [RD1..RD4]
 *   src/registry.cpp                  read_unlock_slow(), readers_quiescent() [GP3]
 *   src/grace_period.cpp              run_grace_period() [GP1,GP2,GP4],
 *                                     wait_for_readers() and its futex sleep
 *                                     [GP5,GP6,RD6], gp_wait() leadership,
 *                                     followers, step_down() [LD1,LD2,FW1,FW2],
 *                                     gp_get_state() / gp_poll() cookies [GP0]
 *   src/flavor.cpp                    heavy_barrier() = membarrier [GP2,GP5]
 *
 * Memory model: TSO-like.  Every thread that stores to shared memory on a
 * path that matters has a one-entry store buffer:
 *   - readers buffer the stores to their own reader word (lock, nested lock,
 *     unlock); their later loads (the object pointer, unlock_flags) bypass the
 *     buffer (store->load reordering, what x86 does and what the readers'
 *     compiler_fence() does not prevent);
 *   - updaters buffer the store that unpublishes the old object (ptr[me]);
 *     their later loads (seq in gp_get_state(), completed, done_gen) bypass it.
 * A buffer drains nondeterministically (MAYFLUSH before every load of its
 * owner), and is drained before its owner's next store or RMW (FIFO order;
 * RMWs are locked instructions), and by every heavy_barrier() (membarrier:
 * each running thread executes a full barrier).  Loads execute in program
 * order; the acquire/release pairs [RD1]/[GP1], [GP3]/[RD3], [GP4]/[GP4'] are
 * modeled by that program order; mutant RD1 breaks [RD1] explicitly.
 *
 * Sequence numbers are bounded by the number of grace periods the updaters
 * can run (at most 1 + NUPD * ROUNDS), which the byte counters hold without
 * wrapping: the model's S, like the code's 47-bit S, never wraps, which is
 * what MUTANT_PARITY (liburcu's single parity bit, one flip) removes.
 *
 * Properties:
 *   safety    assert in the reader: an object loaded inside a section is not
 *             freed before the section ends;
 * *   no lost wake-up   invalid end states (run without LIVENESS: the readers
 *             stop after NSECT sections; a leader asleep on reader_wake or a
 *             follower asleep on done_gen when everything else has ended is
 *             an invalid end state);
 *   progress  (-DLIVENESS: readers loop forever) ltl: <> all updaters
 *             returned, under weak fairness (pan -a -f).
 *
 * Mutants (-D flags; each must yield a counterexample):
 *   MUTANT_NO_GP2        no membarrier after publishing the new sequence
 *   MUTANT_NO_GP5        no heavy barrier between setting kWriterSleeping and
 *                        the rescan before futex_wait
 *   MUTANT_NO_WAKE       unlock() never checks unlock_flags (no wake-up)
 *   MUTANT_WAKE_IF_CURRENT  only a section entered under the current S wakes
 *                        the leader (the test inverted: the sections it
 *                        waits for never wake it)
 *   MUTANT_NO_FLAG_RECHECK  the leader sleeps without re-checking that
 *                        kWriterSleeping is still set (a reader that cleared
 *                        it before the leader's snapshot woke nobody)
 *   MUTANT_SCAN_OFF_BY_ONE  the scan treats S >= seq-1 as quiescent
 *   MUTANT_PARITY        one parity bit instead of the sequence, one flip
 *   MUTANT_COOKIE_OFF_BY_ONE  expired(c) is completed >= c - 1
 *   MUTANT_NO_RD1_ACQ    the reader's pointer load may pass its gp_word load
 *   MUTANT_NO_FOLLOWER_RECHECK  a follower sleeps on done_gen without
 *                        re-checking that a leader still exists
 *   MUTANT_COOKIE_UNORDERED  gp_get_state() loads seq without the [SY1]
 *                        fence after the caller's unpublishing store (what
 *                        the membarrier flavor did before [SY1] was made
 *                        unconditional; see docs/design/verification.md)
 */

#ifndef NREADERS
#define NREADERS 2
#endif
#ifndef NSECT
#define NSECT 2          /* sections per reader (safety run) */
#endif
#ifndef NUPD
#define NUPD 2           /* concurrent synchronize callers (1 or 2) */
#endif
#ifndef ROUNDS
#define ROUNDS 1         /* updates (each followed by a synchronize) per updater */
#endif

/* ---- Shared state ------------------------------------------------------ */

/* g_read_side.gp_word: S of the latest grace period to start (N == 1). */
byte gp_word = 1;
/* g_read_side.unlock_flags & kWriterSleeping */
bit flag_sleeping = 0;

/* engine */
byte seq = 1;            /* grace periods started */
byte completed = 1;      /* last completed */
bit leader = 0;
byte done_gen = 0;
byte done_waiters = 0;
/* reader_wake is modeled relative to the leader's snapshot: the leader's
 * load of reader_wake clears wake_bumped, a reader's fetch_add sets it, and
 * futex_wait(reader_wake, snapshot) sleeps iff it is still clear (the 32-bit
 * counter's 2^32 wrap is the only thing this leaves out). */
bit wake_bumped = 0;
bit wsleep = 0;          /* the leader is asleep in futex_wait(reader_wake) */
bit fsleep[2];           /* updater i asleep in futex_wait(done_gen) */

/* reader words as seen in memory, and the readers' store buffers */
byte rw_nest[NREADERS];
byte rw_seq[NREADERS];
bit rb_valid[NREADERS];
byte rb_nest[NREADERS];
byte rb_seq[NREADERS];

/* the protected objects: slot j (owned by updater j) points to version v;
 * an update publishes version v+1 and, after a grace period, frees version v.
 * freed[j] = number of versions of slot j freed (versions < freed[j]). */
byte ptr[2];
byte freed[2];
bit ub_valid[2];         /* updater j's buffered store ptr[j] := ptr[j] + 1 */

byte ndone = 0;          /* updaters that returned */

/* ---- Store buffers ----------------------------------------------------- */

#define RFLUSH(i) \
  if :: rb_valid[i] -> rw_nest[i] = rb_nest[i]; rw_seq[i] = rb_seq[i]; rb_valid[i] = 0 \
     :: else -> skip fi

#define RMAYFLUSH(i) \
  if :: atomic { rb_valid[i] -> RFLUSH(i) } :: skip fi

/* A store to the reader word: FIFO, so an older buffered store drains first. */
#define RSTORE(i, n, s) \
  atomic { RFLUSH(i); rb_nest[i] = n; rb_seq[i] = s; rb_valid[i] = 1 }

#define UFLUSH(j) \
  if :: ub_valid[j] -> ptr[j]++; ub_valid[j] = 0 :: else -> skip fi

#define UMAYFLUSH(j) \
  if :: atomic { ub_valid[j] -> UFLUSH(j) } :: skip fi

/* heavy_barrier(): membarrier(PRIVATE_EXPEDITED) — every running thread
 * executes a full barrier, i.e. drains its store buffer. */
#define HEAVY_BARRIER \
  atomic { \
    ii = 0; \
    do :: ii < NREADERS -> RFLUSH(ii); ii++ :: else -> break od; \
    ii = 0; UFLUSH(0); UFLUSH(1) \
  }

/* ---- Sequence comparisons ---------------------------------------------- */

#ifdef MUTANT_PARITY
#define SEQREP(s) ((s) % 2)
#else
#define SEQREP(s) (s)
#endif

#ifdef MUTANT_SCAN_OFF_BY_ONE
#define SEQ_OK(S, s) ((S) + 1 >= SEQREP(s))
#else
#define SEQ_OK(S, s) ((S) == SEQREP(s))
#endif

#ifdef MUTANT_COOKIE_OFF_BY_ONE
#define EXPIRED(c) (completed + 1 >= (c))
#else
#define EXPIRED(c) (completed >= (c))      /* [GP4'] */
#endif

/* ---- Readers ----------------------------------------------------------- */

/* read_unlock()'s tail after the store [RD3]: [RD4] relaxed load of the
 * flags, then read_unlock_slow(): reload, nesting check, and a wake only
 * from a section the leader waits for (entered under an older S than
 * gp_word's). */
#ifdef MUTANT_NO_WAKE
#define UNLOCK_TAIL(n) skip
#else
#ifdef MUTANT_WAKE_IF_CURRENT
#define BLOCKS_LEADER (sq == SEQREP(gp_word))
#else
#define BLOCKS_LEADER (sq != SEQREP(gp_word))   /* entered before the leader's [GP1] */
#endif
#define UNLOCK_TAIL(n) \
  RMAYFLUSH(me); \
  if :: flag_sleeping -> \
          if :: (flag_sleeping && (n) == 0 && BLOCKS_LEADER) -> \
                  /* fetch_and(~kWriterSleeping): only the reader that */ \
                  /* clears the flag wakes (a locked RMW: drains) */ \
                  atomic { RFLUSH(me); cleared = flag_sleeping; flag_sleeping = 0 }; \
                  if :: cleared -> \
                          wake_bumped = 1;                 /* [RD6] */ \
                          wsleep = 0                       /* futex_wake */ \
                     :: else -> skip \
                  fi \
             :: else -> skip \
          fi \
     :: else -> skip \
  fi
#endif

proctype reader(byte me)
{
  byte sq;       /* S of this thread's word (its own loads see its buffer) */
  bit slot;      /* which object slot this section reads */
  byte p;        /* the version loaded inside the section */
  byte k = 0;    /* sections done */
  bit cleared;   /* this unlock cleared kWriterSleeping (so it wakes) */

sect:
  /* ---- outermost read_lock() ---- */
#ifdef MUTANT_NO_RD1_ACQ
  /* the section's pointer load is performed before the gp_word load */
  RMAYFLUSH(me);
  atomic { if :: slot = 0 :: slot = 1 fi; p = ptr[slot] };
#endif
  sq = SEQREP(gp_word);                 /* [RD1] acquire */
  RSTORE(me, 1, sq);                    /* [RD1'] release, buffered */
  /* [RD2] compiler fence only */
#ifndef MUTANT_NO_RD1_ACQ
  RMAYFLUSH(me);
  atomic { if :: slot = 0 :: slot = 1 fi; p = ptr[slot] };  /* rcu_dereference */
#endif
  /* ---- optionally a nested section ----
   * The nested unlock's tail ([RD4], read_unlock_slow()) only loads: with
   * N != 0 it never wakes anyone, so it is left out. */
  if
  :: RSTORE(me, 2, sq);                 /* nested lock: relaxed */
     RSTORE(me, 1, sq)                  /* nested unlock [RD3] */
  :: skip
  fi;
  /* ---- use the object (freed[] is a ghost: no memory access) ---- */
  assert(p >= freed[slot]);
  /* ---- outermost read_unlock() ---- */
  atomic { RSTORE(me, 0, sq); p = 0; slot = 0 }  /* [RD3] release, buffered */
  UNLOCK_TAIL(0);
  k++;
#ifdef LIVENESS
  k = 0;
  goto sect;
#else
  if :: k < NSECT -> goto sect :: else -> skip fi;
  atomic { RFLUSH(me) }                 /* buffers drain eventually */
#endif
}

/* ---- Updaters ---------------------------------------------------------- */

/* readers_quiescent(s): one pass; one load [GP3] per reader word. */
#define SCAN(s, q) \
  q = 1; i = 0; \
  do \
  :: i < NREADERS -> \
       if :: (rw_nest[i] != 0 && !SEQ_OK(rw_seq[i], s)) -> q = 0; break \
          :: else -> i++ \
       fi \
  :: else -> break \
  od; \
  i = 0

proctype updater(byte me)
{
  byte c;        /* cookie */
  byte s;        /* sequence of the grace period being run */
  byte gen;      /* done_gen snapshot */
  byte i, ii;
  bit q, lead;

  byte round = 0;

next_round:
  /* ---- the update: unpublish the current version of slot `me` ---- */
  ub_valid[me] = 1;                     /* buffered store */

  /* ---- c = gp_get_state() = seq + 1  [GP0] ---- */
#ifdef MUTANT_COOKIE_UNORDERED
  UMAYFLUSH(me);
  c = seq + 1;
#else
  /* [SY1] seq_cst fence before the load of seq [GP0] */
  atomic { UFLUSH(me); c = seq + 1 }
#endif

  /* ---- gp_wait(c) ----
   * The updater's buffer can only be non-empty here in MUTANT_COOKIE_UNORDERED;
   * it drains at the latest at the try-lock below (a locked RMW). */
  UMAYFLUSH(me);
  if :: EXPIRED(c) -> goto waited :: else -> skip fi;
loop:
  if :: EXPIRED(c) -> goto waited :: else -> skip fi;
  /* [LD1] try-lock leadership: a locked RMW */
  atomic {
    UFLUSH(me);
    if :: leader == 0 -> leader = 1; lead = 1 :: else -> lead = 0 fi
  }
  if
  :: lead ->
     lead = 0;
     do
     :: EXPIRED(c) -> break
     :: else ->
        /* ---- run_grace_period() ---- */
        /* s = seq + 1; seq = s; gp_word = s: one step (leader-owned; a
         * gp_get_state() between the two stores only gets a later cookie) */
        atomic { s = seq + 1; seq = s; gp_word = s }   /* [GP1] */
#ifndef MUTANT_NO_GP2
        HEAVY_BARRIER;                  /* [GP2] */
#endif
        /* ---- wait_for_readers(s) ---- */
wfr:
        SCAN(s, q);
        if
        :: q -> goto wfr_done
        :: else -> skip
        fi;
        if
        :: goto wfr                     /* spin (kLeaderSpins) */
        :: skip                         /* sleep */
        fi;
        flag_sleeping = 1;              /* fetch_or, relaxed (locked RMW) */
        wake_bumped = 0;                /* [GP6] snapshot of reader_wake */
#ifndef MUTANT_NO_GP5
        HEAVY_BARRIER;                  /* [GP5] */
#endif
        SCAN(s, q);
        if
#ifdef MUTANT_NO_FLAG_RECHECK
        :: !q ->
#else
        :: !q && flag_sleeping ->       /* a reader that cleared it has woken us */
#endif
           atomic { if :: !wake_bumped -> wsleep = 1 :: else -> skip fi };
           (wsleep == 0)                /* futex_wait(reader_wake, snapshot) */
        :: else -> skip
        fi;
        flag_sleeping = 0;              /* fetch_and */
        goto wfr;
wfr_done:
        completed = s;                  /* [GP4] release */
        q = 0
     od;
     /* ---- step_down() ---- */
     atomic { s = 0; leader = 0 };      /* [LD2] */
     done_gen++;                        /* [FW2] seq_cst RMW */
     if
     :: done_waiters != 0 -> atomic { fsleep[0] = 0; fsleep[1] = 0 }  /* futex_wake */
     :: else -> skip
     fi;
     goto waited
  :: else -> skip
  fi;
  /* ---- follower ---- */
  gen = done_gen;                       /* seq_cst load */
  if :: EXPIRED(c) -> goto waited :: else -> skip fi;
  if
  :: gen = 0; goto loop                 /* spin (kFollowerSpins) */
  :: skip
  fi;
  atomic { UFLUSH(me); done_waiters++ } /* [FW1] seq_cst RMW */
#ifdef MUTANT_NO_FOLLOWER_RECHECK
  if
  :: !EXPIRED(c) ->
#else
  if
  :: (leader != 0 && !EXPIRED(c)) ->
#endif
     /* futex_wait(done_gen, gen): the kernel compares atomically */
     atomic { if :: done_gen == gen -> fsleep[me] = 1 :: else -> skip fi };
     (fsleep[me] == 0)
  :: else -> skip
  fi;
  atomic { done_waiters--; gen = 0 };
  goto loop;

waited:
  /* ---- free the unpublished version (the readers' assert is the oracle) ---- */
  atomic { UFLUSH(me); freed[me]++; c = 0 };
  round++;
  if :: round < ROUNDS -> goto next_round :: else -> skip fi;
  ndone++
}

init {
  byte r;
  atomic {
    r = 0;
    do
    :: r < NREADERS -> rw_seq[r] = 1; run reader(r); r++
    :: else -> break
    od;
    run updater(0);
#if NUPD > 1
    run updater(1);
#endif
  }
}

#ifdef LIVENESS
ltl progress { <> (ndone == NUPD) }
#endif
