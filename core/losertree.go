package core

// losertree.go: the k-way merge's selection structure.
//
// A tournament ("loser") tree over the heads of the partitions being
// merged: each inner node keeps the leaf that lost the match played there,
// the root's winner is the smallest head. After the winner's head moves on,
// one match per level is replayed on its path: log2(k) comparisons, against
// about twice that for a binary heap's sift-down, which compares both
// children at every level. Ties on the order timestamp go to the lower
// leaf; leaves are laid out in partition index order, so this is the order
// key's tie-break on (topic rank, partition).

import "math"

type loserTree struct {
	k    int     // leaves: a power of two, padded with exhausted leaves
	eff  []int64 // head key of each leaf (math.MaxInt64 when exhausted)
	done []bool  // exhausted: loses to every leaf that is not
	node []int32 // node[0]: the winner; node[1:k]: the loser of each match
	win  []int32 // scratch for build
}

// reset sizes the tree for n leaves, all exhausted; set eff and done of the
// first n, then call build.
func (t *loserTree) reset(n int) {
	k := 1
	for k < n {
		k <<= 1
	}
	t.k = k
	if cap(t.eff) < k {
		t.eff = make([]int64, k)
		t.done = make([]bool, k)
		t.node = make([]int32, k)
		t.win = make([]int32, 2*k)
	}
	t.eff, t.done, t.node, t.win = t.eff[:k], t.done[:k], t.node[:k], t.win[:2*k]
	for i := range t.eff {
		t.eff[i] = math.MaxInt64
		t.done[i] = true
	}
}

// set gives leaf i the head key eff.
func (t *loserTree) set(i int, eff int64) { t.eff[i], t.done[i] = eff, false }

// exhaust marks leaf i as having no more heads.
func (t *loserTree) exhaust(i int) { t.eff[i], t.done[i] = math.MaxInt64, true }

// less reports whether leaf a's head goes before leaf b's.
func (t *loserTree) less(a, b int32) bool {
	ea, eb := t.eff[a], t.eff[b]
	if ea != eb {
		return ea < eb
	}
	// a tie; rare enough to look at done here (an exhausted leaf's key
	// equals a real head at math.MaxInt64)
	if da, db := t.done[a], t.done[b]; da != db {
		return db
	}
	return a < b
}

// build plays every match bottom-up.
func (t *loserTree) build() {
	k := t.k
	for i := 0; i < k; i++ {
		t.win[k+i] = int32(i)
	}
	for n := k - 1; n >= 1; n-- {
		a, b := t.win[2*n], t.win[2*n+1]
		if t.less(b, a) {
			a, b = b, a
		}
		t.win[n], t.node[n] = a, b
	}
	if k == 1 {
		t.node[0] = 0
	} else {
		t.node[0] = t.win[1]
	}
}

// winner returns the leaf with the smallest head and whether it has one.
func (t *loserTree) winner() (int32, bool) {
	w := t.node[0]
	return w, !t.done[w]
}

// replay replays the matches on leaf i's path after its key changed.
func (t *loserTree) replay(i int32) {
	cur := i
	for n := (int(i) + t.k) >> 1; n >= 1; n >>= 1 {
		if l := t.node[n]; t.less(l, cur) {
			t.node[n], cur = cur, l
		}
	}
	t.node[0] = cur
}

// runnerUp returns the leaf with the second smallest head (-1 with a
// single leaf): the smallest of the leaves that lost to the winner, all on
// its path. While the winner keeps winning, its next heads need only be
// compared with this one.
func (t *loserTree) runnerUp() int32 {
	w := t.node[0]
	best := int32(-1)
	for n := (int(w) + t.k) >> 1; n >= 1; n >>= 1 {
		if l := t.node[n]; best < 0 || t.less(l, best) {
			best = l
		}
	}
	return best
}
