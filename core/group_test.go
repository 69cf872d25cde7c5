package core

import (
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/kafkars/kafkars/core/source"
)

// fakeGroup is a scripted source that also commits and, in subscribe
// mode, takes assignment changes the test injects (as the rebalance
// callback records them during a Fetch).
type fakeGroup struct {
	*fakeSource
	gmu       sync.Mutex
	own       []bool
	inject    []*source.Rebalance
	committed map[int32]int64
	applied   []string // "assign 0@5" / "revoke 1" in call order
	commits   int
	// refuse: the next commits refused as during a rebalance (-1: all)
	refuse int
}

func newFakeGroup(seed int64, s scripted, owned bool) *fakeGroup {
	g := &fakeGroup{fakeSource: newFakeSource(seed, s), own: make([]bool, len(s.parts)), committed: map[int32]int64{}}
	for i := range g.own {
		g.own[i] = owned
	}
	g.fakeSource.owned = func(p int) bool { return g.own[p] } // called with f.mu held
	return g
}

func (g *fakeGroup) Fetch(wait time.Duration, max int) ([]source.Msg, error) {
	return g.fakeSource.Fetch(wait, max)
}

func (g *fakeGroup) push(ev *source.Rebalance) {
	g.gmu.Lock()
	g.inject = append(g.inject, ev)
	g.gmu.Unlock()
	g.Wake()
}

func (g *fakeGroup) Rebalances() []*source.Rebalance {
	g.gmu.Lock()
	defer g.gmu.Unlock()
	out := g.inject
	g.inject = nil
	return out
}

func (g *fakeGroup) Apply(rb *source.Rebalance, offsets []int64) error {
	g.fakeSource.mu.Lock()
	defer g.fakeSource.mu.Unlock()
	g.gmu.Lock()
	defer g.gmu.Unlock()
	for k, p := range rb.Parts {
		switch rb.Kind {
		case source.Assigned:
			g.own[p] = true
			// seek: the first scripted record at or after the offset
			recs := g.records[p]
			j := 0
			for j < len(recs) && recs[j].Offset < offsets[k] {
				j++
			}
			g.next[p] = j
			g.eofSent[p] = false
			g.applied = append(g.applied, fmt.Sprintf("assign %d@%d", p, offsets[k]))
		case source.Revoked:
			g.own[p] = false
			g.applied = append(g.applied, fmt.Sprintf("revoke %d", p))
		}
	}
	return nil
}

func (g *fakeGroup) Release(rb *source.Rebalance) {}

func (g *fakeGroup) Commit(parts []int32, offsets []int64, timeout time.Duration) ([]error, error) {
	g.gmu.Lock()
	defer g.gmu.Unlock()
	g.commits++
	errs := make([]error, len(parts))
	if g.refuse != 0 {
		if g.refuse > 0 {
			g.refuse--
		}
		for k := range errs {
			errs[k] = fmt.Errorf("commit: Broker: The member epoch is stale: %w", source.ErrRebalancing)
		}
		return errs, nil
	}
	for k, p := range parts {
		g.committed[p] = offsets[k]
	}
	return errs, nil
}

func (g *fakeGroup) CommitAsync(parts []int32, offsets []int64) error {
	_, err := g.Commit(parts, offsets, 0)
	return err
}

func (g *fakeGroup) CommitResults() []source.CommitResult { return nil }

func (g *fakeGroup) Committed(parts []int32, timeout time.Duration) ([]int64, error) {
	g.gmu.Lock()
	defer g.gmu.Unlock()
	out := make([]int64, len(parts))
	for k, p := range parts {
		out[k] = -1
		if c, ok := g.committed[p]; ok {
			out[k] = c
		}
	}
	return out, nil
}

func (g *fakeGroup) EndOffsets(parts []int32, out []int64) {
	for k, p := range parts {
		out[k] = g.parts[p].End
	}
}

func (g *fakeGroup) committedCopy() map[int32]int64 {
	g.gmu.Lock()
	defer g.gmu.Unlock()
	out := map[int32]int64{}
	for k, v := range g.committed {
		out[k] = v
	}
	return out
}

// returnedRows tracks, per partition, the offsets handed to the caller.
type returnedRows struct {
	idx  map[string]int32
	offs map[int32]map[int64]bool
	max  map[int32]int64
}

func newReturned(parts []PartitionInfo) *returnedRows {
	return &returnedRows{idx: partIndex(parts), offs: map[int32]map[int64]bool{}, max: map[int32]int64{}}
}

func (r *returnedRows) add(rec arrow.RecordBatch) []int32 {
	topics := rec.Column(2).(*array.String)
	parts := rec.Column(3).(*array.Int32)
	offs := rec.Column(4).(*array.Int64)
	var ps []int32
	for i := 0; i < int(rec.NumRows()); i++ {
		p := r.idx[fmt.Sprintf("%s/%d", topics.Value(i), parts.Value(i))]
		if r.offs[p] == nil {
			r.offs[p] = map[int64]bool{}
		}
		r.offs[p][offs.Value(i)] = true
		if o, ok := r.max[p]; !ok || offs.Value(i) > o {
			r.max[p] = offs.Value(i)
		}
		ps = append(ps, p)
	}
	return ps
}

// checkCommitted: a committed offset covers every row returned, and no
// record that was not (at least once, and nothing committed ahead).
func checkCommitted(t *testing.T, s scripted, ret *returnedRows, committed map[int32]int64) {
	t.Helper()
	for p, c := range committed {
		for _, r := range s.records[p] {
			if r.Offset < c && !ret.offs[p][r.Offset] {
				t.Fatalf("partition %d committed at %d, but offset %d was never returned", p, c, r.Offset)
			}
		}
		if m, ok := ret.max[p]; ok && c < m+1 {
			t.Fatalf("partition %d committed at %d, below the returned offset %d", p, c, m)
		}
	}
	for p, m := range ret.max {
		if _, ok := committed[p]; !ok {
			t.Fatalf("partition %d returned up to %d but was not committed", p, m)
		}
	}
}

// TestCommitOnlyReturned: randomized replays read with time bounds that cut
// batches (a kept remainder) and a batch built ahead; after every poll a
// commit covers exactly what was returned.
func TestCommitOnlyReturned(t *testing.T) {
	seeds := 20
	if testing.Short() || raceEnabled {
		seeds = 6
	}
	for seed := int64(0); seed < int64(seeds); seed++ {
		rng := rand.New(rand.NewSource(seed))
		s := genReplay(rng, genOpts{maxParts: 5, maxRecs: 300, tsRange: 200, lateProb: 0.05, gapProb: 0.1, tailGapProb: 0.3, emptyProb: 0.1})
		src := newFakeGroup(seed, s, true)
		opts := testOpts(t, Options{BatchSize: ip(1 + rng.Intn(40)), LingerMs: ip(0), MaxBufferedMessages: ip(60)})
		m := NewGroupManager(opts, s.parts, src, memory.NewGoAllocator(), nil, GroupOptions{GroupID: "g"})
		ret := newReturned(s.parts)
		deadline := time.Now().Add(20 * time.Second)
		until := int64(0)
		for {
			if rng.Intn(3) == 0 {
				until += int64(rng.Intn(30))
			}
			u := UntilNone
			if rng.Intn(2) == 0 {
				u = until
			}
			rec, _, err := m.Next(20*time.Millisecond, 20*time.Millisecond, u, 0)
			if err != nil {
				t.Fatal(err)
			}
			if rec != nil {
				ret.add(rec)
				rec.Release()
			}
			if _, err := m.Commit(rng.Intn(4) == 0, time.Second); err != nil {
				t.Fatal(err)
			}
			checkCommitted(t, s, ret, src.committedCopy())
			if live, _ := m.IsLive(); live {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("seed %d: not live after 20s", seed)
			}
		}
		m.Close()
	}
}

func TestCommitErrors(t *testing.T) {
	s := scripted{parts: []PartitionInfo{{Topic: "t0", Partition: 0, Start: 0, End: 0}}, records: [][]source.Msg{nil}}
	opts := testOpts(t, Options{})
	m := NewGroupManager(opts, s.parts, newFakeGroup(1, s, true), memory.NewGoAllocator(), nil, GroupOptions{})
	if _, err := m.Commit(false, time.Second); KindOf(err) != KindConfig {
		t.Fatalf("commit without group.id: %v", err)
	}
	m.Close()
	m = NewGroupManager(opts, s.parts, newFakeGroup(1, s, true), memory.NewGoAllocator(), nil, GroupOptions{GroupID: "g"})
	if got, err := m.Commit(false, time.Second); err != nil || len(got) != 0 {
		t.Fatalf("commit before the first poll: %v, %v", got, err)
	}
	m.Close()
	if _, err := m.Commit(false, time.Second); KindOf(err) != KindClosed {
		t.Fatalf("commit after close: %v", err)
	}
}

// TestCommitRetriesDuringRebalance: a commit refused because the group is
// rebalancing is sent again until the caller's timeout; it then fails
// naming the cause, within the timeout.
func TestCommitRetriesDuringRebalance(t *testing.T) {
	recs := []source.Msg{{Kind: source.Record, Partition: 0, Offset: 0, Timestamp: 1}, {Kind: source.Record, Partition: 0, Offset: 1, Timestamp: 2}}
	s := scripted{parts: []PartitionInfo{{Topic: "t0", Partition: 0, Start: 0, End: 2}}, records: [][]source.Msg{recs}}
	for _, tc := range []struct {
		name    string
		refuse  int
		timeout time.Duration
		ok      bool
		commits int
	}{
		{"refused twice", 2, 5 * time.Second, true, 3},
		{"refused until the timeout", -1, 350 * time.Millisecond, false, 0},
		{"no time to retry", -1, 50 * time.Millisecond, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := newFakeGroup(1, s, true)
			m := NewGroupManager(testOpts(t, Options{LingerMs: ip(0)}), s.parts, src, memory.NewGoAllocator(), nil, GroupOptions{GroupID: "g"})
			defer m.Close()
			ret := newReturned(s.parts)
			waitFor(t, m, ret, "both rows", func() bool { return len(ret.offs[0]) == 2 })
			src.gmu.Lock()
			src.refuse = tc.refuse
			src.gmu.Unlock()
			t0 := time.Now()
			got, err := m.Commit(false, tc.timeout)
			took := time.Since(t0)
			if tc.ok != (err == nil) {
				t.Fatalf("commit: %v, %v", got, err)
			}
			if !tc.ok && !strings.Contains(err.Error(), "member epoch is stale") {
				t.Fatalf("error does not name the cause: %v", err)
			}
			if took > tc.timeout+200*time.Millisecond {
				t.Fatalf("commit took %v, past its %v timeout", took, tc.timeout)
			}
			src.gmu.Lock()
			n, committed := src.commits, src.committed[0]
			src.gmu.Unlock()
			if tc.commits > 0 && n != tc.commits {
				t.Fatalf("%d commit requests, want %d", n, tc.commits)
			}
			if tc.ok && (committed != 2 || len(got) != 1 || got[0].Offset != 2) {
				t.Fatalf("committed %d, returned %v", committed, got)
			}
		})
	}
}

// waitFor polls the manager (returning rows to ret) until cond holds.
func waitFor(t *testing.T, m *Manager, ret *returnedRows, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		rec, err := m.Poll(10 * time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if rec != nil {
			ret.add(rec)
			rec.Release()
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestRevokeDropsUnreturnedRows: partition 1 is revoked while it has rows
// held for ordering, in the batch built ahead and in a remainder kept back
// by a time bound. None of them is returned after the revoke; what was
// returned is committed, and the partition goes back to the group only once
// the caller came back for more.
func TestRevokeDropsUnreturnedRows(t *testing.T) {
	// partition 0: timestamps 0..99; partition 1: 0..99 too, interleaved
	s := scripted{parts: []PartitionInfo{{Topic: "t0", Partition: 0, End: 100}, {Topic: "t0", Partition: 1, End: 100}}}
	for p := int32(0); p < 2; p++ {
		var recs []source.Msg
		for o := int64(0); o < 100; o++ {
			recs = append(recs, source.Msg{Kind: source.Record, Partition: p, Offset: o, Timestamp: o, Value: []byte("v")})
		}
		s.records = append(s.records, recs)
	}
	src := newFakeGroup(7, s, false)
	opts := testOpts(t, Options{Topics: []TopicSpec{{Name: "t0", Policy: Earliest}}, BatchSize: ip(10), LingerMs: ip(0)})
	resolve := func(parts []int32) ([]int64, []int64, []int64, error) {
		starts, ends, committed := make([]int64, len(parts)), make([]int64, len(parts)), make([]int64, len(parts))
		for k, p := range parts {
			ends[k] = s.parts[p].End
			committed[k] = -1
		}
		return starts, ends, committed, nil
	}
	m := NewGroupManager(opts, s.parts, src, memory.NewGoAllocator(), nil, GroupOptions{Subscribe: true, GroupID: "g", Resolve: resolve})
	defer m.Close()
	if live, _ := m.IsLive(); live {
		t.Fatal("live before the group assigned anything")
	}
	src.push(&source.Rebalance{Kind: source.Assigned, Parts: []int32{0, 1}, At: time.Now()})
	ret := newReturned(s.parts)
	// read until a batch is built ahead, then cut a batch with a time bound
	waitFor(t, m, ret, "a pre-built batch", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.ready != nil && m.m.Held() > 0
	})
	// cut the next batch: its rows at or after this time are kept back
	until := max(ret.max[0], ret.max[1]) + 3 // timestamps equal offsets here
	rec, _, err := m.Next(time.Second, time.Second, until, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rec != nil {
		ret.add(rec)
		rec.Release()
	}
	m.mu.Lock()
	state := fmt.Sprintf("ready=%v pending=%v held=%d", m.ready != nil, m.pending != nil, m.m.Held())
	all3 := m.pending != nil && m.ready != nil && m.m.Held() > 0
	m.mu.Unlock()
	if !all3 {
		t.Fatalf("want rows of partition 1 held, built ahead and kept back: %s", state)
	}
	t.Logf("before the revoke: %s, partition 1 returned up to %d", state, ret.max[1])
	returnedBefore := ret.max[1]
	src.push(&source.Rebalance{Kind: source.Revoked, Parts: []int32{1}, At: time.Now()})
	// handled right after a fetch: the engine may be throttled (a batch is
	// built ahead and more is releasable), so do what it does after one
	m.fetchMu.Lock()
	m.handleRebalances()
	m.fetchMu.Unlock()
	m.mu.Lock()
	frozen := !m.m.parts[1].owned
	m.mu.Unlock()
	if !frozen {
		t.Fatal("revoke not handled")
	}
	src.gmu.Lock()
	early := fmt.Sprint(src.applied)
	src.gmu.Unlock()
	if len(early) > 0 && contains(early, "revoke 1") {
		t.Fatalf("partition 1 handed back before the caller came back: %s", early)
	}
	before := len(ret.offs[1])
	waitFor(t, m, ret, "live", func() bool { live, _ := m.IsLive(); return live })
	if len(ret.offs[1]) != before {
		t.Fatalf("rows of revoked partition 1 returned after the revoke: %d then %d (%s)", before, len(ret.offs[1]), state)
	}
	src.gmu.Lock()
	applied := fmt.Sprint(src.applied)
	c1, ok := src.committed[1]
	src.gmu.Unlock()
	if !contains(applied, "revoke 1") {
		t.Fatalf("partition 1 not handed back: %s", applied)
	}
	if !ok || c1 != returnedBefore+1 {
		t.Fatalf("partition 1 committed %v (%v), want %d", c1, ok, returnedBefore+1)
	}
	if len(ret.offs[0]) != 100 {
		t.Fatalf("partition 0: %d rows, want 100", len(ret.offs[0]))
	}
	st, _ := m.StateRows()
	if st[1].Held != 0 {
		t.Fatalf("revoked partition holds %d rows", st[1].Held)
	}
	// assigned again: from its committed offset, with a fresh state
	src.push(&source.Rebalance{Kind: source.Assigned, Parts: []int32{1}, At: time.Now()})
	waitFor(t, m, ret, "partition 1 again", func() bool { return ret.max[1] == 99 })
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && (s[:len(sub)] == sub || contains(s[1:], sub)))
}

func TestOwnDisownFrontier(t *testing.T) {
	parts := []PartitionInfo{{Topic: "t", Partition: 0, Start: 0, End: 10}, {Topic: "t", Partition: 1, Start: 0, End: 10}}
	m := NewMerger(parts, -1, false)
	m.Ingest([]source.Msg{{Kind: source.Record, Partition: 0, Offset: 0, Timestamp: 5}}, nil)
	m.Recompute()
	if m.Releasable() != 0 {
		t.Fatal("released before partition 1 delivered anything")
	}
	m.Disown(1)
	m.Recompute()
	if m.Releasable() != 1 {
		t.Fatalf("releasable %d after partition 1 left, want 1", m.Releasable())
	}
	m.Ingest([]source.Msg{{Kind: source.Record, Partition: 1, Offset: 0, Timestamp: 1}}, nil)
	if m.UnownedRecords() != 1 || m.Held() != 1 {
		t.Fatalf("a record of an unowned partition was kept: unowned=%d held=%d", m.UnownedRecords(), m.Held())
	}
	m.Own(1, 3, 10)
	m.Recompute()
	if m.Releasable() != 0 {
		t.Fatal("partition 1 owned again: the frontier must wait for it")
	}
	m.Ingest([]source.Msg{{Kind: source.Record, Partition: 1, Offset: 2, Timestamp: 1}}, nil)
	m.Recompute()
	if m.Held() != 1 {
		t.Fatal("a record below the new start was kept")
	}
	m.Ingest([]source.Msg{{Kind: source.Record, Partition: 1, Offset: 3, Timestamp: 1}}, nil)
	m.Recompute()
	if m.Releasable() != 1 {
		t.Fatalf("releasable %d, want 1 (partition 1's record at ts 1)", m.Releasable())
	}
}

// TestLostCommitsNothing: partitions lost (the member was fenced) are
// dropped without a commit, also when a revocation of theirs was still
// waiting for the caller.
func TestLostCommitsNothing(t *testing.T) {
	s := scripted{parts: []PartitionInfo{{Topic: "t0", Partition: 0, End: 50}, {Topic: "t0", Partition: 1, End: 50}}}
	for p := int32(0); p < 2; p++ {
		var recs []source.Msg
		for o := int64(0); o < 50; o++ {
			recs = append(recs, source.Msg{Kind: source.Record, Partition: p, Offset: o, Timestamp: o, Value: []byte("v")})
		}
		s.records = append(s.records, recs)
	}
	src := newFakeGroup(3, s, false)
	opts := testOpts(t, Options{Topics: []TopicSpec{{Name: "t0", Policy: Earliest}}, BatchSize: ip(10), LingerMs: ip(0)})
	resolve := func(parts []int32) ([]int64, []int64, []int64, error) {
		n := len(parts)
		ends, committed := make([]int64, n), make([]int64, n)
		for k := range parts {
			ends[k], committed[k] = 50, -1
		}
		return make([]int64, n), ends, committed, nil
	}
	m := NewGroupManager(opts, s.parts, src, memory.NewGoAllocator(), nil, GroupOptions{Subscribe: true, GroupID: "g", Resolve: resolve})
	defer m.Close()
	src.push(&source.Rebalance{Kind: source.Assigned, Parts: []int32{0, 1}, At: time.Now()})
	ret := newReturned(s.parts)
	waitFor(t, m, ret, "rows of both partitions", func() bool { return len(ret.offs[0]) > 0 && len(ret.offs[1]) > 0 })
	// the caller holds a batch: the revoke of 1 waits; then 0 and 1 are lost
	src.push(&source.Rebalance{Kind: source.Revoked, Parts: []int32{1}, At: time.Now()})
	src.push(&source.Rebalance{Kind: source.Lost, Parts: []int32{0, 1}, At: time.Now()})
	m.fetchMu.Lock()
	m.handleRebalances()
	m.fetchMu.Unlock()
	before := len(ret.offs[0]) + len(ret.offs[1])
	rec, err := m.Poll(50 * time.Millisecond) // the caller comes back
	if err != nil {
		t.Fatal(err)
	}
	if rec != nil {
		ret.add(rec)
		rec.Release()
	}
	if got := len(ret.offs[0]) + len(ret.offs[1]); got != before {
		t.Fatalf("rows of lost partitions returned after the loss: %d then %d", before, got)
	}
	if c := src.committedCopy(); len(c) != 0 {
		t.Fatalf("committed %v for lost partitions", c)
	}
	met, _ := m.Metrics()
	if met.PartitionsLost != 2 || met.AssignedPartitions != 0 {
		t.Fatalf("metrics: lost %d, assigned %d", met.PartitionsLost, met.AssignedPartitions)
	}
}
