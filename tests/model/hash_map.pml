/*
 * tests/model/hash_map.pml — a Promela model of ONE bucket of grace's
 * lock-free hash map: the claim walk, tombstones, and the freeze/copy/mark
 * migration into the next table that any update helps with
 * (docs/design/verification.md, "The hash-map model", says what it covers
 * and what not; docs/design/hash_map.md names the invariants I1..I6).
 *
 * Modeled code (include/grace/hash_map.hpp):
 *   locate()                  the claim walk [HM1][HM2][HM3]
 *   upsert(), erase()         insert / insert_or_assign / erase, re-walk on
 *                             a failed CAS, help_bucket() on `frozen`
 *   hm_detail::freeze_chain() [HM11][HM12], as of eaf316c: slots are frozen
 *                             up to and including the first empty one
 *                             (-DFREEZE_ALL: every slot, as in a539626)
 *   migrate_bucket(), copy_entry()   copy live entries, then M [HM9];
 *                             the marker publishes next (finish_resize [HM7])
 *   lookup(), lookup_rest(), match_line(), match_frozen()
 *
 * Abstractions.  Hashing is gone: every key lives in this bucket (and in
 * the one bucket of the next table it maps to).  Elements are abstracted to
 * their key: a slot value is key << 2 | OPEN | LIVE, EMPTY = OPEN (2) and a
 * frozen empty slot is 0.  (The code encodes empty as 0 and frozen empty as
 * 4, so that zeroed memory is an empty table, and freezes an empty slot with
 * a CAS, an entry with fetch_and, retrying on the entry when a claim beats
 * the CAS: together one atomic "freeze whatever is there", which is the one
 * fetch_and step here.)  A replace (insert_or_assign of
 * a live key) writes the same abstract value, so element identity (the ABA
 * a real CAS would notice) is not modeled: such a CAS succeeds here where
 * the code's fails and re-walks to the same result.  Memory reclamation is
 * not modeled (I5 is the grace period's business, checked by grace.pml and
 * the unit tests).  A link word is F (1) | M (2) | LINE (4, "an overflow
 * line is appended"); at most one overflow line per chain (LS slots), and
 * the line's own link holds only F.  The next table is never frozen (no
 * second resize).
 *
 * Memory model: sequentially consistent.  Each atomic memory operation of
 * the code (a load, a CAS, a fetch_or, a fetch_and) is one atomic step; the
 * code's ordering is acquire/release with every writer using an RMW on one
 * word, which x86 executes as SC; weaker (ARM/POWER) orderings are not
 * explored.
 *
 * Encoding: each process is a loop over `pc`; every transition is ONE
 * d_step that does one atomic memory operation of the code plus the local
 * computation up to the next one (so the state space holds no purely local
 * intermediate states), and dead locals are reset to 0.  locate() is a
 * sub-machine (pc == P_WALK, `ws` its position) used by updates and by the
 * migration's copies alike.
 *
 * Processes: NUPD (2) updaters, each doing NOPS operations chosen
 * nondeterministically (insert, erase, insert_or_assign of key 1..NKEYS);
 * one migrator (a resize's helper: migrate_bucket() once); one lookup
 * process that looks up key LK again and again until everyone else is done.
 * The initial bucket is chosen nondeterministically: empty, k1 live, k1 a
 * tombstone, or k2 and k1 both live (k1 on the overflow line when HS == 1).
 *
 * Properties (assertions; a safety run also reports invalid end states):
 *   abstraction  after every write: for each key, the ghost map (updated by
 *                the linearizing CAS of each successful update) equals the
 *                key's liveness in the authoritative table (the old bucket
 *                until M is set, then next) — no lost update, no resurrection;
 *   I1           after every write: at most one slot per key in each table;
 *   E.1 / return values  each update's outcome is the sequential map's: a
 *                claim or revive finds the key absent, a replace or a
 *                tombstone CAS finds it present, and the loads that decide
 *                `false` (insert meets the live key; erase meets an empty
 *                slot, the chain's end, or the key's tombstone) see the
 *                ghost agree — so two concurrent insert(k) never both win;
 *   final        when all are done: M set, next published, and next holds
 *                exactly the ghost map's keys;
 *   A.1 / A.2    a lookup finds a key present throughout it (present at its
 *                start, never erased meanwhile; replaces keep it present),
 *                and finds none that was absent throughout.
 *
 * Mutants (-D flags; each must yield a counterexample):
 *   MUTANT_NO_FREEZE_EMPTY   freeze_chain() leaves the first empty slot
 *                            open (the C++ GRACE_HASH_MAP_BROKEN_OPEN_EMPTY)
 *   MUTANT_EARLY_MARK        M is set right after the freeze, before the
 *                            copies (the C++ negative control's bug)
 *   MUTANT_SKIP_EMPTY        a failed claim CAS goes on to the next slot
 *                            (`continue`) instead of re-examining the slot
 *                            it lost, so the walk passes a slot that may now
 *                            hold its key and claims a later empty one
 *   MUTANT_NO_FROZEN_RESCAN  lookup_rest() returns a miss on F without M
 * -DOBSERVABLE_ONLY drops the two invariant assertions (abstraction, I1),
 * leaving the return values, the final contents and A.1/A.2: every mutant
 * is still caught (docs/design/verification.md).
 */

#ifndef HS
#define HS 2            /* slots in the head bucket line */
#endif
#ifndef LS
#define LS 0            /* slots of the (at most one) overflow line; 0: none */
#endif
#define NS (HS + LS)
#ifndef NKEYS
#define NKEYS 2         /* keys the updaters use (1 or 2) */
#endif
#ifndef NUPD
#define NUPD 2
#endif
#ifndef NOPS
#define NOPS 1          /* operations per updater */
#endif
#define LK 1            /* the key the lookup process looks for */

/* slot values */
#define LIVE 1
#define OPEN 2
#define EMPTY 2
#define KEYOF(v) ((v) >> 2)
#define MKLIVE(k) (((k) << 2) | OPEN | LIVE)
/* link words */
#define LF 1            /* F: frozen */
#define LM 2            /* M: migrated */
#define LL 4            /* an overflow line is linked */

/* operations */
#define INS 1
#define ERA 2
#define ASG 3           /* insert_or_assign */
/* locate() results */
#define R_NONE 0
#define R_FOUND 1
#define R_CLAIMED 2
#define R_ABSENT 3
#define R_FROZEN 4

/* ---- Shared state ------------------------------------------------------ */

/* table 0 = the current table's bucket, table 1 = its bucket in next:
 * slot[t*NS + i], i < HS head slots, HS <= i < NS the overflow line's. */
byte slot[2 * NS];
byte link[2];           /* head links: F | M | LL */
byte llink[2];          /* the overflow lines' links: F only */
bit cur;                /* cur_: 0 = the old table, 1 = next published [HM7] */
byte ndone;             /* updaters and migrator that finished */

/* ghosts */
bit present[NKEYS + 1]; /* the abstract map: key k present */
bit lk_active;          /* a lookup is running */
bit lk_ok;              /* ... and LK was present at its start and ever since */
bit lk_seen;            /* ... and LK was present at some moment of it */

/* scratch, live only inside one d_step (not part of the state) */
hidden byte r, v, lv, ik, ii, c0, c1, h0, h1;

/* ---- Ghost updates and the invariant ------------------------------------ */

inline ghost_set(kk, val) {
  present[kk] = val;
  if
  :: lk_active && kk == LK ->
     if :: val -> lk_seen = 1 :: else -> lk_ok = 0 fi
  :: else -> skip
  fi
}

/* I1 and the abstraction function: checked after every write.  A key is
 * present iff it is live (open or frozen) in the authoritative table: the
 * old bucket until M is set, then next (I3). */
inline check_inv() {
  ik = 1;
  do
  :: ik <= NKEYS ->
     c0 = 0; c1 = 0; h0 = 0; h1 = 0; ii = 0;
     do
     :: ii < NS ->
        if
        :: KEYOF(slot[ii]) == ik ->
           h0++;
           if :: slot[ii] & LIVE -> c0++ :: else -> skip fi
        :: else -> skip
        fi;
        if
        :: KEYOF(slot[NS + ii]) == ik ->
           h1++;
           if :: slot[NS + ii] & LIVE -> c1++ :: else -> skip fi
        :: else -> skip
        fi;
        ii++
     :: else -> break
     od;
#ifndef OBSERVABLE_ONLY
     assert(h0 <= 1 && h1 <= 1);                              /* I1 */
     assert(present[ik] == ((link[0] & LM) -> c1 : c0));      /* no lost update */
#endif
     ik++
  :: else -> break
  od;
  ik = 0; ii = 0; c0 = 0; c1 = 0; h0 = 0; h1 = 0
}

/* ---- Process states ------------------------------------------------------ */

/* updaters and the migrator */
#define U_START   1     /* choose an operation and key, load cur_ [HM5] */
#define P_WALK    2     /* locate(): one step of the walk (ws says which) */
#define U_CAS     3     /* the update's deciding CAS on the found slot [HM1] */
#define M_FREEZE  4     /* freeze_chain(): fetch_or(F) on the head link [HM11] */
#define M_FSLOT   5     /* fetch_and(~OPEN) on slot j [HM12] */
#define M_FLLINK  6     /* fetch_or(F) on the overflow line's link [HM11] */
#define M_COPY    7     /* load slot j; copy it if live (a walk in next) */
#define M_MARK    8     /* fetch_or(M) [HM9] */
#define M_PUBLISH 9     /* the marker: finish_resize() stores cur_ [HM7] */
#define P_EXIT    10

/* locate()'s positions */
#define WS_SLOT   0     /* load slot i of line b [HM2] */
#define WS_CAS    1     /* claim CAS kEmpty -> cl on slot i [HM1] */
#define WS_LINK   2     /* load line b's link [HM3] */
#define WS_APPEND 3     /* CAS the head link null -> a line holding cl [HM1] */

/* ---- locate(): the claim walk ---------------------------------------------
 * Inputs (locals): wt (table), wk (key), cl (the open live entry to claim
 * with; 0: do not claim), mode (1: an update, 0: a migration's copy).
 * State: ws, i (slot index in the table), b (0 head line, 1 overflow line).
 * Output: r (R_NONE while walking), pi and pv (found: the slot, its value). */

inline next_slot() {
  i++;
  if
  :: (b == 0 && i == HS) || (b == 1 && i == NS) -> ws = WS_LINK
  :: else -> ws = WS_SLOT
  fi
}

/* v: a value just loaded from slot i (never EMPTY after a failed claim) */
inline classify_slot() {
  if
  :: v == EMPTY && cl == 0 -> r = R_ABSENT
  :: v == EMPTY && cl != 0 -> ws = WS_CAS
  :: v != EMPTY && !(v & OPEN) -> r = R_FROZEN
  :: v != EMPTY && (v & OPEN) && KEYOF(v) == wk -> r = R_FOUND; pi = i; pv = v
  :: else -> next_slot()
  fi
}

/* lv: line b's link just loaded */
inline classify_link() {
  if
  :: lv & LF -> r = R_FROZEN
  :: !(lv & LF) && (lv & LL) && b == 0 -> b = 1; ws = WS_SLOT   /* i == HS */
  :: !(lv & LF) && !((lv & LL) && b == 0) && cl == 0 -> r = R_ABSENT
  :: !(lv & LF) && !((lv & LL) && b == 0) && cl != 0 ->
     assert(b == 0 && LS > 0);  /* NKEYS <= NS: never a second line */
     ws = WS_APPEND
  fi
}

inline walk_step() {
  r = R_NONE;
  if
  :: ws == WS_SLOT ->
     v = slot[wt * NS + i];
     classify_slot()
  :: ws == WS_CAS ->
     if
     :: slot[wt * NS + i] == EMPTY ->
        slot[wt * NS + i] = cl;
        r = R_CLAIMED; pi = i;
        if
        :: mode -> assert(!present[wk]); ghost_set(wk, 1)   /* claimed: inserted */
        :: else -> skip
        fi;
        check_inv()
     :: else ->
        v = slot[wt * NS + i];   /* the value that beat us */
#ifdef MUTANT_SKIP_EMPTY
        next_slot()              /* `continue`: skips the slot it lost */
#else
        classify_slot()          /* re-examines the same slot */
#endif
     fi
  :: ws == WS_LINK ->
     if :: b == 0 -> lv = link[wt] :: else -> lv = llink[wt] fi;
     classify_link()
  :: ws == WS_APPEND ->
     /* the link the walk loaded had neither F nor a line, so it was 0 */
     if
     :: link[wt] == 0 ->
        link[wt] = LL; slot[wt * NS + HS] = cl;
        r = R_CLAIMED; pi = HS;
        if
        :: mode -> assert(!present[wk]); ghost_set(wk, 1)
        :: else -> skip
        fi;
        check_inv()
     :: else ->
        lv = link[wt];
        classify_link()
     fi
  fi;
  v = 0; lv = 0
}

inline walk_start(tab, key, claim, md) {
  wt = tab; wk = key; cl = claim; mode = md;
  ws = WS_SLOT; i = 0; b = 0; pi = 0; pv = 0;
  pc = P_WALK
}

inline walk_clear() {
  wt = 0; wk = 0; cl = 0; mode = 0; ws = 0; i = 0; b = 0
}

/* ---- Updates: upsert() and erase() ----------------------------------------- */

inline op_start() {
  walk_start(t, k, (op == ERA -> 0 : MKLIVE(k)), 1)
}

inline op_done() {
  walk_clear(); pi = 0; pv = 0; op = 0; k = 0; t = 0;
  n++;
  if
  :: n < NOPS -> pc = U_START
  :: else -> ndone++; pc = P_EXIT
  fi
}

/* An update's walk ended: the outcomes that decide without a write are
 * checked against the ghost at this instant (the linearization point of a
 * `false` result). */
inline upd_decide() {
  if
  :: r == R_CLAIMED -> op_done()                                   /* inserted */
  :: r == R_ABSENT -> assert(!present[k]); op_done()               /* erase: false */
  :: r == R_FROZEN -> assert(t == 0); walk_clear(); pc = M_FREEZE   /* help_bucket() */
  :: r == R_FOUND && (pv & LIVE) && op == INS ->
     assert(present[k]); op_done()                                 /* insert: false */
  :: r == R_FOUND && !(pv & LIVE) && op == ERA ->
     assert(!present[k]); op_done()                                /* erase: false */
  :: r == R_FOUND && !((pv & LIVE) && op == INS) && !(!(pv & LIVE) && op == ERA) ->
     pc = U_CAS                                                    /* replace, revive, erase */
  fi
}

/* ---- migrate_bucket(): freeze, copy, mark --------------------------------- */

#ifdef MUTANT_EARLY_MARK
#define AFTER_FREEZE M_MARK
#else
#define AFTER_FREEZE M_COPY
#endif

inline migrate_done() {
  j = 0; bll = 0; mres = 0;
  if
  :: me < NUPD -> t = 1; op_start()      /* help_bucket() returns next: go on there */
  :: else -> ndone++; pc = P_EXIT        /* the migrator */
  fi
}

/* after slot j's copy (or its skip): the next slot, or the mark */
inline copy_next() {
  j++;
  if
  :: (j == HS && !bll) || j == NS ->
     j = 0;
#ifdef MUTANT_EARLY_MARK
     if :: mres -> pc = M_PUBLISH :: else -> migrate_done() fi
#else
     pc = M_MARK
#endif
  :: else -> pc = M_COPY
  fi
}

inline after_walk() {
  if
  :: r == R_NONE -> skip
  :: r != R_NONE && !mode ->
     /* copy_entry(): claimed, or the key's slot exists already: done */
     assert(r == R_CLAIMED || r == R_FOUND);
     walk_clear(); pi = 0; pv = 0;
     copy_next()
  :: r != R_NONE && mode -> upd_decide()
  fi
}


/* me < NUPD: an updater doing NOPS operations; me == NUPD: the migrator */
proctype worker(byte me)
{
  byte pc, n, op, k, t;
  byte wt, wk, cl, ws, i, pi, pv;
  bit b, mode;
  byte j;
  bit bll, mres;

  if
  :: me < NUPD -> pc = U_START
  :: else -> pc = M_FREEZE
  fi;
  do
  :: atomic {
       pc == U_START ->
       if :: op = INS :: op = ERA :: op = ASG fi;
#if NKEYS > 1
       if :: k = 1 :: k = 2 fi;
#else
       k = 1;
#endif
       t = cur;                                                    /* [HM5] */
       op_start()
     }
  :: d_step { pc == P_WALK -> walk_step(); after_walk() }
  :: d_step {
       pc == U_CAS ->
       if
       :: slot[t * NS + pi] == pv ->                               /* [HM1] */
          if
          :: op == ERA -> slot[t * NS + pi] = pv & ~LIVE;
             assert(present[k]); ghost_set(k, 0)                   /* erased */
          :: op != ERA && (pv & LIVE) -> slot[t * NS + pi] = MKLIVE(k);
             assert(present[k])                                    /* replaced */
          :: op != ERA && !(pv & LIVE) -> slot[t * NS + pi] = MKLIVE(k);
             assert(!present[k]); ghost_set(k, 1)                  /* revived */
          fi;
          check_inv();
          op_done()
       :: else -> op_start()                 /* lost the CAS: walk again */
       fi
     }
  :: d_step {
       pc == M_FREEZE ->                                           /* [HM11] */
       bll = (link[0] & LL) != 0;
       mres = (link[0] & LM) != 0;           /* scratch: M was set before */
       link[0] = link[0] | LF;
       check_inv();
       if
       :: mres -> migrate_done()             /* done already */
       :: else -> j = 0; pc = M_FSLOT
       fi
     }
  :: d_step {
       pc == M_FSLOT ->                                            /* [HM12] */
       v = slot[j];
#ifdef MUTANT_NO_FREEZE_EMPTY
       if
       :: v == EMPTY -> j = 0; pc = AFTER_FREEZE                   /* left open */
       :: else ->
#endif
       slot[j] = v & ~OPEN;
       check_inv();
       if
#ifndef FREEZE_ALL
       :: KEYOF(v) == 0 -> j = 0; pc = AFTER_FREEZE    /* the first empty slot: stop */
       :: KEYOF(v) != 0 ->
#else
       :: true ->
#endif
          j++;
          if
          :: j == HS && bll -> pc = M_FLLINK
          :: (j == HS && !bll) || j == NS -> j = 0; pc = AFTER_FREEZE
          :: else -> skip
          fi
       fi
#ifdef MUTANT_NO_FREEZE_EMPTY
       fi
#endif
       ;
       v = 0
     }
  :: d_step {
       pc == M_FLLINK ->                                           /* [HM11] */
       llink[0] = llink[0] | LF;
       check_inv();
       pc = M_FSLOT
     }
  :: d_step {
       pc == M_COPY ->                                             /* [HM2] */
       v = slot[j];
       if
       :: KEYOF(v) != 0 && (v & LIVE) -> walk_start(1, KEYOF(v), v | OPEN, 0)
       :: else -> copy_next()
       fi;
       v = 0
     }
  :: d_step {
       pc == M_MARK ->                                             /* [HM9] */
       mres = !(link[0] & LM);
       link[0] = link[0] | LM;
       check_inv();
#ifdef MUTANT_EARLY_MARK
       pc = M_COPY                           /* j == 0: now the copies */
#else
       if :: mres -> pc = M_PUBLISH :: else -> migrate_done() fi
#endif
     }
  :: d_step {
       pc == M_PUBLISH ->                                          /* [HM7] */
       cur = 1;
       migrate_done()
     }
  :: pc == P_EXIT -> break
  od
}

/* ---- The lookup: lookup() + lookup_rest() --------------------------------- */

#define L_START  1      /* load cur_ [HM5]; the lookup begins */
#define L_FAST   2      /* lookup(): slot i of the head line [HM2] */
#define L_LINK1  3      /* lookup(): the link; 0 ends a miss [HM3] */
#define L_REST   4      /* lookup_rest(): the link at the top of its loop [HM3] */
#define L_LINE   5      /* the overflow line's slot i [HM2] */
#define L_LINK2  6      /* the link again: F? [HM3] */
#define L_FROZEN 7      /* match_frozen(): slot i, frozen live entries too */
#define L_NEXT   8      /* match_line() on next's head: slot i */

/* the lookup returns: found (1) or not (0); A.1 and A.2 at this instant */
inline l_return(f) {
  if
  :: f -> assert(lk_seen)                  /* A.2 */
  :: else -> assert(!lk_ok)                /* A.1 */
  fi;
  lk_active = 0; lk_ok = 0; lk_seen = 0;
  t = 0; i = 0; ll = 0;
  pc = L_START
}

proctype lookup()
{
  byte pc, t, i;
  bit ll;

  pc = L_START;
  do
  :: d_step {
       pc == L_START && ndone < NUPD + 1 ->
       t = cur;
       lk_active = 1; lk_ok = present[LK]; lk_seen = present[LK];
       i = 0; pc = L_FAST
     }
  :: pc == L_START && ndone == NUPD + 1 -> break
  :: d_step {
       pc == L_FAST ->
       if
       :: slot[t * NS + i] == MKLIVE(LK) -> l_return(1)
       :: else ->
          i++;
          if :: i == HS -> i = 0; pc = L_LINK1 :: else -> skip fi
       fi
     }
  :: d_step {
       pc == L_LINK1 ->
       if
       :: link[t] == 0 -> l_return(0)
       :: else -> pc = L_REST
       fi
     }
  :: d_step {
       pc == L_REST ->
       lv = link[t];
       if
       :: !(lv & LM) && (lv & LL) -> i = HS; pc = L_LINE
       :: !(lv & LM) && !(lv & LL) -> pc = L_LINK2
       :: lv & LM -> assert(t == 0); t = 1; i = 0; pc = L_NEXT
       fi;
       lv = 0
     }
  :: d_step {
       pc == L_LINE ->
       if
       :: slot[t * NS + i] == MKLIVE(LK) -> l_return(1)
       :: else ->
          i++;
          if :: i == NS -> i = 0; pc = L_LINK2 :: else -> skip fi
       fi
     }
  :: d_step {
       pc == L_LINK2 ->
       lv = link[t];
       if
       :: !(lv & LF) -> l_return(0)                 /* a true miss */
       :: (lv & LF) && !(lv & LM) ->
#ifdef MUTANT_NO_FROZEN_RESCAN
          l_return(0)
#else
          ll = (lv & LL) != 0; i = 0; pc = L_FROZEN
#endif
       :: (lv & LF) && (lv & LM) -> assert(t == 0); t = 1; i = 0; pc = L_NEXT
       fi;
       lv = 0
     }
  :: d_step {
       pc == L_FROZEN ->
       v = slot[t * NS + i];
       if
       :: KEYOF(v) == LK && (v & LIVE) -> l_return(1)
       :: else ->
          i++;
          if
          :: (i == HS && !ll) || i == NS -> l_return(0)
          :: else -> skip
          fi
       fi;
       v = 0
     }
  :: d_step {
       pc == L_NEXT ->
       if
       :: slot[t * NS + i] == MKLIVE(LK) -> l_return(1)
       :: else ->
          i++;
          if :: i == HS -> i = 0; pc = L_REST :: else -> skip fi
       fi
     }
  od
}

/* ---- Setup and the final check ------------------------------------------ */

init {
  byte q;
  d_step {
    q = 0;
    do :: q < 2 * NS -> slot[q] = EMPTY; q++ :: else -> break od;
    q = 0
  };
  /* the bucket's contents when the resize starts */
  if
  :: skip                                               /* empty */
  :: slot[0] = MKLIVE(1); present[1] = 1                /* k1 live */
  :: slot[0] = (1 << 2) | OPEN                          /* k1 a tombstone */
#if NKEYS > 1 && NS > 1
  :: d_step {                                           /* k2, k1 live */
       slot[0] = MKLIVE(2); slot[1] = MKLIVE(1);
       present[1] = 1; present[2] = 1;
       if :: HS == 1 -> link[0] = LL :: else -> skip fi
     }
#endif
  fi;
  atomic {
    q = 0;
    do :: q <= NUPD -> run worker(q); q++ :: else -> break od;
    q = 0;
    run lookup()
  };
  ndone == NUPD + 1;
  /* every update and the migration are done: next is the map */
  d_step {
    assert(link[0] & LM);
    assert(cur == 1);
    check_inv();
    q = 1;
    do
    :: q <= NKEYS ->
       ii = 0; c1 = 0;
       do
       :: ii < NS ->
          if :: KEYOF(slot[NS + ii]) == q && (slot[NS + ii] & LIVE) -> c1++ :: else -> skip fi;
          ii++
       :: else -> break
       od;
       assert(present[q] == c1);
       q++
    :: else -> break
    od;
    ii = 0; c1 = 0
  }
}
