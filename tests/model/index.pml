/*
 * index.pml: the writer/reader protocol of map/index.c: one writer doing OPS
 * operations, each chosen freely among put (insert or replace), delete and rebuild
 * (resize or rehash: a new table published, the old one retired), racing one reader
 * doing RLOOKUPS lookups (index_get) of a freely chosen key, each inside a reclaim
 * section; entries and tables are freed only after a grace period.
 *
 * What is modelled: two tables (the current one and the one a rebuild builds) of G
 * groups with one slot each (a group's ctrl word is its slot's tag and its overflow
 * count; tags are the key itself, so a tag match is a key match: false tag matches
 * only add key compares; RESERVED, tag without pointer, is a tag whose pointer load
 * gives 0). Both keys have home group 0 (COLLIDE), so the second key
 * present probes into group 1 and counts +1 in group 0's overflow. Every store of
 * index.c (overflow +-1, slot pointer, ctrl tag, the table pointer) is one step; the
 * writer's own loads are folded into its steps (it is the only writer). The reader's
 * loads are one step each: the table pointer, a group's ctrl word (tag and overflow
 * together, one 64-bit load), a slot pointer. Spin explores the sequentially
 * consistent interleavings: the release/acquire pairs are not checked here (TSan and
 * test_index_relaxed do that).
 *
 * Grace periods: an entry or table retired while the reader is in a section is pinned
 * until that section ends; the writer frees whatever is retired and unpinned after
 * each operation.
 *
 * What is checked:
 *  - the reader never loads from a freed table nor from a freed entry;
 *  - a hit returns an entry of the key looked up that was the key's indexed entry at
 *    some instant of the lookup (ghost: every entry indexed for the key while the
 *    lookup runs is recorded);
 *  - a miss happens only if the key was absent at some instant of the lookup (ghost:
 *    a key present at the lookup's start stays "present throughout" until a delete);
 *  - at the end: the current table holds exactly the abstract map, and every entry
 *    is indexed, or retired and freed, never both.
 *
 * Negative controls (this file with -D, one step dropped; run.sh expects them caught):
 *   BAD_NO_GRACE     retired entries and tables are freed at once (no grace period)
 *   BAD_NO_OVERFLOW  put does not count the groups it probes past (no overflow +1)
 *   BAD_PTR_FIRST    an insert stores the pointer before the tag (a reader holding an
 *                    older ctrl returns the entry before a later lookup can find it)
 *   BAD_NO_NULL      delete clears the tag but leaves the pointer (a reader that sees
 *                    the slot's next tag loads the freed entry)
 */

#ifndef OPS
#define OPS 3
#endif
#ifndef RLOOKUPS
#define RLOOKUPS 1
#endif
#ifndef G
#define G 2
#endif
#define NKEYS 2
#define NT 2
#define NE (2 + OPS)          /* entries 1, 2 initial; then one per put */
#define HOME(k) 0              /* COLLIDE: both keys home at group 0 */
#define GI(t, g) ((t) * G + (g))

byte tag[NT * G];    /* the slot's tag (its key), 0 empty */
byte ptr[NT * G];    /* the slot's entry, 0 none */
byte ovf[NT * G];    /* the group's overflow count */
byte tstate[NT];     /* 0 unused, 1 current, 2 retired, 3 freed */
bool tpin[NT];
byte cur;            /* ix->table */

byte ekey[NE + 1];
byte estate[NE + 1]; /* 0 unused, 1 indexed, 2 retired, 3 freed */
bool epin[NE + 1];
byte nexte = 3;

/* Ghosts. */
byte amap[NKEYS + 1];       /* the abstract map: key -> entry, 0 absent */
bool ractive;               /* the reader is in a section */
byte rkey;                  /* the key being looked up, 0 none */
bool stayed;                /* rkey present since the lookup started */
short rseen;                /* entries indexed for rkey during the lookup (bit set) */

inline set_amap(k, v)
{
	amap[k] = v;
	if
	:: rkey == k ->
		rseen = rseen | (1 << v);
		if
		:: v == 0 -> stayed = 0
		:: else -> skip
		fi
	:: else -> skip
	fi
}

inline retire_entry(e)
{
	estate[e] = 2;
	epin[e] = ractive
}

/* After each writer operation: free what the grace period allows. */
inline reclaim()
{
	d_step {
		j = 1;
		do
		:: j <= NE ->
#ifdef BAD_NO_GRACE
			if :: estate[j] == 2 -> estate[j] = 3 :: else -> skip fi;
#else
			if :: estate[j] == 2 && !epin[j] -> estate[j] = 3 :: else -> skip fi;
#endif
			j++
		:: else -> break
		od;
		j = 0;
		do
		:: j < NT ->
#ifdef BAD_NO_GRACE
			if :: tstate[j] == 2 -> tstate[j] = 3 :: else -> skip fi;
#else
			if :: tstate[j] == 2 && !tpin[j] -> tstate[j] = 3 :: else -> skip fi;
#endif
			j++
		:: else -> break
		od
	}
}

/* The writer's probe (wprobe) in table cur, folded: fg = the key's group or G,
 * eg/es = the first empty group on the path and its step, or G. */
inline wprobe(k)
{
	d_step {
		fg = G; eg = G; es = G; settled = 0; i = 0; g = HOME(k);
		do
		:: i < G ->
			if
			:: !settled && tag[GI(cur, g)] == k -> fg = g; break
			:: else -> skip
			fi;
			if
			:: !settled && ovf[GI(cur, g)] == 0 -> settled = 1
			:: else -> skip
			fi;
			if
			:: eg == G && tag[GI(cur, g)] == 0 -> eg = g; es = i
			:: else -> skip
			fi;
			if
			:: settled && eg != G -> break
			:: else -> skip
			fi;
			g = (g + i + 1) % G;
			i++
		:: else -> break
		od
	}
}

proctype writer()
{
	byte op, k, e, old, fg, eg, es, settled, i, g, j, nt;
	byte n = 0;
	do
	:: n < OPS ->
		if
		:: k = 1
		:: k = 2
		fi;
		if
		:: op = 0 /* put */
		:: op = 1 /* delete */
		:: op = 2 /* rebuild */
		fi;
		if
		:: op == 0 ->
			e = nexte;
			d_step { nexte++; ekey[e] = k }
			wprobe(k);
			if
			:: fg != G ->
				/* FULL -> FULL: the new pointer is the linearisation point. */
				old = ptr[GI(cur, fg)];
				d_step { ptr[GI(cur, fg)] = e; estate[e] = 1; set_amap(k, e) }
				retire_entry(old)
			:: fg == G && eg != G ->
				/* EMPTY -> FULL: counts, tag, then the pointer. */
#ifndef BAD_NO_OVERFLOW
				i = 0; g = HOME(k);
				do
				:: i < es -> ovf[GI(cur, g)]++; g = (g + i + 1) % G; i++
				:: else -> break
				od;
#endif
#ifdef BAD_PTR_FIRST
				ptr[GI(cur, eg)] = e;
				d_step { tag[GI(cur, eg)] = k; estate[e] = 1; set_amap(k, e) }
#else
				/* EMPTY -> RESERVED -> FULL: the pointer is the linearisation point. */
				tag[GI(cur, eg)] = k;
				d_step { ptr[GI(cur, eg)] = e; estate[e] = 1; set_amap(k, e) }
#endif
			:: else -> skip /* full (cannot happen with G >= NKEYS) */
			fi
		:: op == 1 ->
			wprobe(k);
			if
			:: fg != G ->
				old = ptr[GI(cur, fg)];
				/* FULL -> RESERVED -> EMPTY: NULLing the pointer is the linearisation
				 * point, then the tag. */
#ifdef BAD_NO_NULL
				d_step { tag[GI(cur, fg)] = 0; set_amap(k, 0) }
#else
				d_step { ptr[GI(cur, fg)] = 0; set_amap(k, 0) }
				tag[GI(cur, fg)] = 0;
#endif
				/* The counts on the path, after the clear. */
				d_step {
					es = 0; g = HOME(k);
					do
					:: g != fg -> es++; g = (g + es) % G
					:: else -> break
					od
				}
				i = 0; g = HOME(k);
				do
				:: i < es -> ovf[GI(cur, g)]--; g = (g + i + 1) % G; i++
				:: else -> break
				od;
				retire_entry(old)
			:: else -> skip
			fi
		:: op == 2 ->
			/* Build the other table from cur (unpublished), publish, retire cur. */
			nt = 1 - cur;
			if
			:: tstate[nt] == 0 || tstate[nt] == 3 ->
				d_step {
					j = 0;
					do
					:: j < G -> tag[GI(nt, j)] = 0; ptr[GI(nt, j)] = 0; ovf[GI(nt, j)] = 0; j++
					:: else -> break
					od;
					/* Re-place every key in the new table, in the other group order
					 * (as a rehash with another hash could). */
					j = G;
					do
					:: j > 0 ->
						j--;
						if
						:: tag[GI(cur, j)] != 0 ->
							i = 0; g = HOME(tag[GI(cur, j)]);
							do
							:: tag[GI(nt, g)] != 0 -> ovf[GI(nt, g)]++; g = (g + i + 1) % G; i++
							:: else -> break
							od;
							tag[GI(nt, g)] = tag[GI(cur, j)];
							ptr[GI(nt, g)] = ptr[GI(cur, j)]
						:: else -> skip
						fi
					:: else -> break
					od;
					tstate[nt] = 1
				}
				/* Publish (release store of ix->table), then retire the old table. */
				old = cur;
				cur = nt;
				d_step { tstate[old] = 2; tpin[old] = ractive }
			:: else -> skip /* the old table is still in its grace period */
			fi
		fi;
		reclaim();
		n++
	:: else -> break
	od;
	n = 0; /* a plain step: a break may not jump into a d_step */
	/* At the end: the current table is the abstract map. */
	d_step {
		j = 0;
		do
		:: j < G ->
			if
			:: tag[GI(cur, j)] != 0 -> assert(amap[tag[GI(cur, j)]] == ptr[GI(cur, j)])
			:: else -> skip
			fi;
			assert(ptr[GI(cur, j)] == 0 || tag[GI(cur, j)] == ekey[ptr[GI(cur, j)]]);
			j++
		:: else -> break
		od;
		j = 1;
		do
		:: j <= NKEYS ->
			if
			:: amap[j] != 0 -> assert(estate[amap[j]] == 1)
			:: else -> skip
			fi;
			j++
		:: else -> break
		od
	}
}

proctype reader()
{
	byte t, g, i, ctag, covf, e, found, n = 0;
	do
	:: n < RLOOKUPS ->
		d_step {
			ractive = 1;
			if :: rkey = 1 :: rkey = 2 fi;
			stayed = (amap[rkey] != 0);
			rseen = 1 << amap[rkey]
		}
		t = cur;                                   /* acquire load of ix->table */
		found = 0; i = 0; g = HOME(rkey);
		do
		:: i < G ->
			d_step {
				assert(tstate[t] != 3);            /* no table read after its free */
				ctag = tag[GI(t, g)]; covf = ovf[GI(t, g)]   /* acquire load of ctrl */
			}
			if
			:: ctag == rkey ->
				e = ptr[GI(t, g)];                 /* acquire load of the slot */
				if
				:: e != 0 ->
					assert(estate[e] != 3);        /* no entry read after its free */
					if
					:: ekey[e] == rkey -> found = e; break
					:: else -> skip
					fi
				:: else -> skip
				fi
			:: else -> skip
			fi;
			if
			:: covf == 0 -> break
			:: else -> skip
			fi;
			g = (g + i + 1) % G;
			i++
		:: else -> break
		od;
		e = found; /* a plain step: a break may not jump into a d_step */
		d_step {
			if
			:: found != 0 ->
				assert(estate[found] != 3);
				assert((rseen & (1 << found)) != 0)   /* indexed at some instant */
			:: else ->
				assert(!stayed)                       /* absent at some instant */
			fi;
			/* Section ends: what was pinned may be freed. */
			ractive = 0; rkey = 0;
			i = 0;
			do :: i <= NE -> epin[i] = 0; i++ :: else -> break od;
			tpin[0] = 0; tpin[1] = 0
		}
		n++
	:: else -> break
	od
}

init
{
	atomic {
		/* Table 0 current; key 1 at group 0 (entry 1), key 2 probed past it to
		 * group 1 (entry 2), group 0's overflow 1. */
		tstate[0] = 1; cur = 0;
		ekey[1] = 1; estate[1] = 1; amap[1] = 1; tag[GI(0, 0)] = 1; ptr[GI(0, 0)] = 1;
		ekey[2] = 2; estate[2] = 1; amap[2] = 2; tag[GI(0, 1)] = 2; ptr[GI(0, 1)] = 2;
		ovf[GI(0, 0)] = 1;
		run writer();
		run reader()
	}
}
