package core

import (
	"fmt"
	"math/rand"
	"sort"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/kafkars/kafkars/core/source"
)

// scripted is a generated replay: partitions with their records.
type scripted struct {
	parts   []PartitionInfo
	records [][]source.Msg // per partition, in offset order
}

type genOpts struct {
	maxParts, maxRecs int
	tsRange           int64 // timestamps drawn from [0, tsRange): small => many ties
	lateProb          float64
	gapProb           float64 // offset gaps (compaction, control records)
	tailGapProb       float64 // end beyond the last record (control records at the tail)
	emptyProb         float64
}

func genReplay(rng *rand.Rand, o genOpts) scripted {
	var s scripted
	nTopics := 1 + rng.Intn(3)
	for t := 0; t < nTopics; t++ {
		np := 1 + rng.Intn(o.maxParts)
		for p := 0; p < np; p++ {
			start := int64(rng.Intn(50))
			off := start
			n := rng.Intn(o.maxRecs + 1)
			if rng.Float64() < o.emptyProb {
				n = 0
			}
			var recs []source.Msg
			ts := int64(rng.Int63n(o.tsRange))
			for i := 0; i < n; i++ {
				if rng.Float64() < o.gapProb {
					off += int64(1 + rng.Intn(3))
				}
				if rng.Float64() < o.lateProb {
					ts -= rng.Int63n(o.tsRange/4 + 1)
					if ts < 0 {
						ts = 0
					}
				} else {
					ts += rng.Int63n(o.tsRange/8 + 1)
				}
				idx := int32(len(s.parts))
				key := []byte(fmt.Sprintf("k%d-%d", idx, off))
				var val []byte
				valNull := rng.Intn(10) == 0
				if !valNull {
					val = make([]byte, rng.Intn(20))
					rng.Read(val)
				}
				recs = append(recs, source.Msg{Kind: source.Record, Partition: idx, Offset: off, Timestamp: ts,
					Key: key, Value: val, ValueNull: valNull})
				off++
			}
			end := off
			if rng.Float64() < o.tailGapProb {
				end += int64(1 + rng.Intn(3))
			}
			s.parts = append(s.parts, PartitionInfo{Topic: fmt.Sprintf("t%d", t), TopicRank: int32(t), Partition: int32(p), Start: start, End: end})
			s.records = append(s.records, recs)
		}
	}
	return s
}

type rowKey struct {
	eff  int64
	p    int32
	off  int64
	ts   int64
	tpc  string
	part int32
}

// expected returns the replay's single correct order.
func (s scripted) expected() []rowKey {
	var out []rowKey
	for i, recs := range s.records {
		var last int64
		for j, r := range recs {
			eff := r.Timestamp
			if j > 0 && eff < last {
				eff = last
			}
			last = eff
			out = append(out, rowKey{eff: eff, p: int32(i), off: r.Offset, ts: r.Timestamp,
				tpc: s.parts[i].Topic, part: s.parts[i].Partition})
		}
	}
	sort.Slice(out, func(a, b int) bool {
		x, y := out[a], out[b]
		if x.eff != y.eff {
			return x.eff < y.eff
		}
		if x.p != y.p {
			return x.p < y.p
		}
		return x.off < y.off
	})
	return out
}

// collect reads rows from a released batch.
func collect(t *testing.T, b *batchBuilder, idx map[string]int32, got []rowKey) []rowKey {
	t.Helper()
	rec := b.finish()
	defer rec.Release()
	topics := rec.Column(2).(*array.String)
	parts := rec.Column(3).(*array.Int32)
	offs := rec.Column(4).(*array.Int64)
	tss := rec.Column(5).(*array.Timestamp)
	for i := 0; i < int(rec.NumRows()); i++ {
		tp := topics.Value(i)
		got = append(got, rowKey{off: offs.Value(i), ts: int64(tss.Value(i)), tpc: tp, part: parts.Value(i),
			p: idx[fmt.Sprintf("%s/%d", tp, parts.Value(i))]})
	}
	return got
}

// simulate feeds the scripted replay to a merger in a random interleaving,
// releasing at random moments, and returns the released rows.
func simulate(t *testing.T, rng *rand.Rand, s scripted, budget Budget) ([]rowKey, *Merger) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	m := NewMerger(s.parts, -1, false)
	b := newBatchBuilder(mem, s.parts, &Layout{})
	idx := map[string]int32{}
	for i, p := range s.parts {
		idx[fmt.Sprintf("%s/%d", p.Topic, p.Partition)] = int32(i)
	}
	next := make([]int, len(s.parts)) // next record to deliver per partition
	eofSent := make([]bool, len(s.parts))
	var got []rowKey
	var pause, resume []int32
	fetchMax := 1 + rng.Intn(64)
	batchMax := 1 + rng.Intn(50)
	maxHeld, maxPriming := 0, 0
	for step := 0; step < 1_000_000; step++ {
		// Like the engine: with a full batch releasable, do not fetch
		// until it is taken.
		if m.Releasable() >= batchMax {
			if m.Release(batchMax, b) > 0 {
				got = collect(t, b, idx, got)
			}
			continue
		}
		// Build one fetched batch from random unpaused partitions.
		var batch []source.Msg
		want := 1 + rng.Intn(fetchMax)
		for tries := 0; len(batch) < want && tries < 4*want; tries++ {
			pi := rng.Intn(len(s.parts))
			if m.parts[pi].paused {
				continue
			}
			recs := s.records[pi]
			switch {
			case next[pi] < len(recs):
				k := 1 + rng.Intn(8)
				for ; k > 0 && next[pi] < len(recs) && len(batch) < want; k-- {
					batch = append(batch, recs[next[pi]])
					next[pi]++
				}
				// a reconnect redelivers some records: exactly once drops them
				if rng.Intn(20) == 0 && next[pi] > 0 {
					batch = append(batch, recs[rng.Intn(next[pi])])
				}
			case !eofSent[pi] && rng.Intn(3) == 0:
				eofSent[pi] = true
				if rng.Intn(2) == 0 {
					batch = append(batch, source.Msg{Kind: source.EOF, Partition: int32(pi), Offset: s.parts[pi].End})
				} else {
					m.MarkPosition(int32(pi), s.parts[pi].End)
				}
			}
		}
		m.Ingest(batch, nil)
		m.Recompute()
		pause, resume = m.Backpressure(budget, pause[:0], resume[:0])
		primed := true
		for i := range m.parts {
			if !m.parts[i].delivered && !m.parts[i].caughtUp {
				primed = false
			}
		}
		if primed && m.Held() > maxHeld {
			maxHeld = m.Held()
		}
		if !primed && m.Held() > maxPriming {
			maxPriming = m.Held()
		}
		// release sometimes, like a Python loop polling at its own pace
		if m.Releasable() > 0 && (rng.Intn(3) > 0 || m.Releasable() >= batchMax) {
			if m.Release(1+rng.Intn(batchMax), b) > 0 {
				got = collect(t, b, idx, got)
			}
		}
		done := true
		for pi := range s.parts {
			if next[pi] < len(s.records[pi]) || !m.parts[pi].caughtUp {
				done = false
			}
		}
		if done && m.Held() == 0 {
			break
		}
		if step == 999_999 {
			t.Fatalf("no progress: held=%d releasable=%d paused=%d", m.Held(), m.Releasable(), m.PausedCount())
		}
	}
	// bounded memory: held is bounded by the budget, plus at most one fetch left above
	// the frontier per partition (a partition that stops holding the
	// frontier keeps what it fetched; one that delivered nothing holds it at
	// minus infinity and is never paused), plus one batch. The bound does
	// not grow with the topics' sizes.
	if lim := budget.Messages + (len(s.parts)+1)*(fetchMax+8) + batchMax; maxHeld > lim || maxPriming > lim {
		t.Errorf("bounded memory: held reached %d (priming %d), bound %d: budget %d + (%d partitions + 1) x fetch %d + batch %d",
			maxHeld, maxPriming, lim, budget.Messages, len(s.parts), fetchMax+8, batchMax)
	}
	return got, m
}

func checkReplay(t *testing.T, s scripted, got []rowKey, m *Merger) {
	t.Helper()
	want := s.expected()
	if len(got) != len(want) {
		t.Fatalf("exactly once: released %d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].p != want[i].p || got[i].off != want[i].off || got[i].ts != want[i].ts {
			t.Fatalf("order: row %d is %s[%d]@%d ts=%d, want %s[%d]@%d ts=%d", i,
				got[i].tpc, got[i].part, got[i].off, got[i].ts, want[i].tpc, want[i].part, want[i].off, want[i].ts)
		}
	}
	if !m.Live() {
		t.Fatalf("liveness: not live after the replay")
	}
	if _, ok := m.Watermark(); ok {
		t.Errorf("watermark should be None once live")
	}
}

func TestMergeProperties(t *testing.T) {
	cases := []struct {
		name string
		gen  genOpts
		bud  Budget
	}{
		{"many-ties", genOpts{maxParts: 6, maxRecs: 60, tsRange: 5, lateProb: 0.05, gapProb: 0.1, tailGapProb: 0.3, emptyProb: 0.1}, Budget{1 << 30, 1 << 40}},
		{"wide-timestamps", genOpts{maxParts: 12, maxRecs: 120, tsRange: 1_000_000, lateProb: 0.02, gapProb: 0.05, tailGapProb: 0.2, emptyProb: 0.1}, Budget{1 << 30, 1 << 40}},
		{"late-heavy", genOpts{maxParts: 4, maxRecs: 80, tsRange: 100, lateProb: 0.4, gapProb: 0.2, tailGapProb: 0.5, emptyProb: 0.2}, Budget{1 << 30, 1 << 40}},
		{"tight-budget", genOpts{maxParts: 10, maxRecs: 1500, tsRange: 50, lateProb: 0.05, gapProb: 0.1, tailGapProb: 0.3, emptyProb: 0.1}, Budget{Messages: 20, Bytes: 1 << 40}},
		{"byte-budget", genOpts{maxParts: 8, maxRecs: 100, tsRange: 1000, lateProb: 0.05, gapProb: 0.1, tailGapProb: 0.3, emptyProb: 0.1}, Budget{Messages: 1 << 30, Bytes: 4096}},
		{"many-partitions", genOpts{maxParts: 40, maxRecs: 30, tsRange: 200, lateProb: 0.05, gapProb: 0.1, tailGapProb: 0.3, emptyProb: 0.3}, Budget{Messages: 100, Bytes: 1 << 40}},
	}
	seeds := 150
	if testing.Short() || raceEnabled {
		seeds = 15
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for seed := int64(0); seed < int64(seeds); seed++ {
				s := genReplay(rand.New(rand.NewSource(seed)), tc.gen)
				// the same replay under several interleavings: identical output
				for run := int64(0); run < 3; run++ {
					rng := rand.New(rand.NewSource(seed*1000 + run))
					got, m := simulate(t, rng, s, tc.bud)
					checkReplay(t, s, got, m)
					if t.Failed() {
						t.Fatalf("seed %d run %d", seed, run)
					}
				}
			}
		})
	}
}

func TestFrontier(t *testing.T) {
	parts := []PartitionInfo{
		{Topic: "a", TopicRank: 0, Partition: 0, Start: 0, End: 10},
		{Topic: "a", TopicRank: 0, Partition: 1, Start: 0, End: 10},
		{Topic: "b", TopicRank: 1, Partition: 0, Start: 5, End: 5}, // empty: caught up from the start
	}
	rec := func(p int32, off, ts int64) source.Msg {
		return source.Msg{Kind: source.Record, Partition: p, Offset: off, Timestamp: ts, Value: []byte("v")}
	}
	tests := []struct {
		name       string
		feed       []source.Msg
		releasable int
		watermark  int64 // -1: none
		live       bool
	}{
		{"nothing delivered holds minus infinity", nil, 0, -1, false},
		{"one partition silent holds everything", []source.Msg{rec(0, 0, 100), rec(0, 1, 200)}, 0, -1, false},
		{"both delivered: release below the lower bound",
			[]source.Msg{rec(0, 0, 100), rec(0, 1, 200), rec(1, 0, 150)}, 2, 150, false},
		{"tie on timestamp: lower partition first",
			[]source.Msg{rec(0, 0, 100), rec(1, 0, 100)}, 1, 100, false},
		{"late record keeps the previous timestamp",
			[]source.Msg{rec(0, 0, 100), rec(0, 1, 50), rec(1, 0, 100)}, 2, 100, false},
		{"EOF at end catches up",
			[]source.Msg{rec(0, 0, 100), rec(1, 0, 500), {Kind: source.EOF, Partition: 0, Offset: 10}}, 2, 500, false},
		{"all caught up: plus infinity, everything releasable",
			[]source.Msg{rec(0, 9, 100), rec(1, 9, 500)}, 2, -1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMerger(parts, -1, false)
			m.Ingest(tc.feed, nil)
			m.Recompute()
			if m.Releasable() != tc.releasable {
				t.Errorf("releasable = %d, want %d", m.Releasable(), tc.releasable)
			}
			wm, ok := m.Watermark()
			if (tc.watermark < 0) == ok || (ok && wm != tc.watermark) {
				t.Errorf("watermark = %d,%v, want %d", wm, ok, tc.watermark)
			}
			if m.Live() != tc.live {
				t.Errorf("live = %v, want %v", m.Live(), tc.live)
			}
		})
	}
}

func TestCutoffEndsReplay(t *testing.T) {
	parts := []PartitionInfo{{Topic: "a", Partition: 0, Start: 0, End: 100}, {Topic: "a", Partition: 1, Start: 0, End: 100}}
	m := NewMerger(parts, 1000, false)
	m.Ingest([]source.Msg{
		{Kind: source.Record, Partition: 0, Offset: 0, Timestamp: 10},
		{Kind: source.Record, Partition: 0, Offset: 1, Timestamp: 1000},
		{Kind: source.Record, Partition: 1, Offset: 0, Timestamp: 2000},
	}, nil)
	m.Recompute()
	if m.Releasable() != 3 {
		t.Fatalf("releasable = %d, want 3 (both partitions past the cutoff)", m.Releasable())
	}
	b := newBatchBuilder(memory.NewGoAllocator(), parts, &Layout{})
	m.Release(10, b)
	b.finish().Release()
	if !m.Live() {
		t.Fatalf("not live after releasing everything up to the cutoff")
	}
}

func TestLateCounted(t *testing.T) {
	parts := []PartitionInfo{{Topic: "a", Partition: 0, Start: 0, End: 3}}
	m := NewMerger(parts, -1, false)
	m.Ingest([]source.Msg{
		{Kind: source.Record, Partition: 0, Offset: 0, Timestamp: 10},
		{Kind: source.Record, Partition: 0, Offset: 1, Timestamp: 5},
		{Kind: source.Record, Partition: 0, Offset: 2, Timestamp: 20},
	}, nil)
	m.Recompute()
	if got := m.stateRows()[0].Late; got != 1 {
		t.Fatalf("late = %d, want 1", got)
	}
	b := newBatchBuilder(memory.NewGoAllocator(), parts, &Layout{})
	m.Release(10, b)
	rec := b.finish()
	defer rec.Release()
	ts := rec.Column(5).(*array.Timestamp)
	if ts.Value(1) != 5 {
		t.Fatalf("a late record keeps its true timestamp in the column, got %d", ts.Value(1))
	}
}

func TestBackpressureNeverPausesFrontier(t *testing.T) {
	parts := []PartitionInfo{
		{Topic: "a", Partition: 0, Start: 0, End: 1000},
		{Topic: "a", Partition: 1, Start: 0, End: 1000},
		{Topic: "a", Partition: 2, Start: 0, End: 1000},
	}
	m := NewMerger(parts, -1, false)
	var msgs []source.Msg
	for i := 0; i < 50; i++ {
		msgs = append(msgs, source.Msg{Kind: source.Record, Partition: 1, Offset: int64(i), Timestamp: int64(1000 + i)})
		msgs = append(msgs, source.Msg{Kind: source.Record, Partition: 2, Offset: int64(i), Timestamp: int64(2000 + i)})
	}
	msgs = append(msgs, source.Msg{Kind: source.Record, Partition: 0, Offset: 0, Timestamp: 10})
	m.Ingest(msgs, nil)
	m.Recompute()
	pause, resume := m.Backpressure(Budget{Messages: 10, Bytes: 1 << 30}, nil, nil)
	if len(resume) != 0 || len(pause) != 2 || pause[0] != 1 || pause[1] != 2 {
		t.Fatalf("pause=%v resume=%v, want pause [1 2]", pause, resume)
	}
	// Partition 0 moves past partition 1's records: the frontier moves to 1,
	// which must be resumed even while over budget.
	m.Ingest([]source.Msg{{Kind: source.Record, Partition: 0, Offset: 1, Timestamp: 1500}}, nil)
	m.Recompute()
	pause, resume = m.Backpressure(Budget{Messages: 10, Bytes: 1 << 30}, nil, nil)
	if len(resume) != 1 || resume[0] != 1 || len(pause) != 1 || pause[0] != 0 {
		t.Fatalf("pause=%v resume=%v, want resume [1] pause [0]", pause, resume)
	}
}

// TestBackpressureSkew: one partition holds 100x the records of the others
// and the earliest timestamps are in the small ones. Held records stay
// bounded by the budget, not by the topic size, and the replay completes.
func TestBackpressureSkew(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	var s scripted
	for p := 0; p < 8; p++ {
		n := 50
		if p == 3 {
			n = 5000
		}
		var recs []source.Msg
		for i := 0; i < n; i++ {
			// small partitions span the same time range as the big one
			ts := int64(i) * 100_000 / int64(n)
			recs = append(recs, source.Msg{Kind: source.Record, Partition: int32(p), Offset: int64(i), Timestamp: ts, Value: []byte("x")})
		}
		s.parts = append(s.parts, PartitionInfo{Topic: "skew", Partition: int32(p), End: int64(n)})
		s.records = append(s.records, recs)
	}
	budget := Budget{Messages: 200, Bytes: 1 << 40}
	got, m := simulate(t, rng, s, budget)
	checkReplay(t, s, got, m)
}

func TestBatchByteCap(t *testing.T) {
	parts := []PartitionInfo{{Topic: "a", Partition: 0, Start: 0, End: 100}, {Topic: "a", Partition: 1, Start: 0, End: 100}}
	m := NewMerger(parts, -1, false)
	m.maxBatchBytes = 2500
	big := make([]byte, 1000)
	var msgs []source.Msg
	for i := 0; i < 100; i++ {
		msgs = append(msgs, source.Msg{Kind: source.Record, Partition: int32(i % 2), Offset: int64(i / 2), Timestamp: int64(i), Value: big})
	}
	m.Ingest(msgs, nil)
	m.MarkPosition(0, 100)
	m.MarkPosition(1, 100)
	m.Recompute()
	b := newBatchBuilder(memory.NewGoAllocator(), parts, &Layout{})
	total := 0
	for m.Releasable() > 0 {
		n := m.Release(10_000, b)
		b.finish().Release()
		if n != 2 && m.Releasable() > 0 {
			t.Fatalf("batch of %d rows of 1000 bytes under a 2500-byte cap", n)
		}
		total += n
	}
	if total != 100 {
		t.Fatalf("released %d", total)
	}
	// a single record larger than the cap still goes out, alone
	m2 := NewMerger(parts[:1], -1, false)
	m2.maxBatchBytes = 10
	m2.Ingest([]source.Msg{{Kind: source.Record, Partition: 0, Offset: 0, Timestamp: 1, Value: big}, {Kind: source.Record, Partition: 0, Offset: 1, Timestamp: 2, Value: big}}, nil)
	m2.MarkPosition(0, 100)
	m2.Recompute()
	if n := m2.Release(10, b); n != 1 {
		t.Fatalf("oversized record: batch of %d, want 1", n)
	}
	b.finish().Release()
}

// TestBackpressureShares: under the budget nothing is paused; over it,
// every partition but the frontier's; while the buffer drains back to half
// the budget, the partitions at half their share (budget / partitions) or
// less fetch again and the others stay paused; under half, all resume.
func TestBackpressureShares(t *testing.T) {
	const n = 4
	rec := func(p int32, off, ts int64) source.Msg {
		return source.Msg{Kind: source.Record, Partition: p, Offset: off, Timestamp: ts, Value: make([]byte, 36)} // 100 bytes held with the overhead
	}
	var parts []PartitionInfo
	for p := 0; p < n; p++ {
		parts = append(parts, PartitionInfo{Topic: "s", Partition: int32(p), End: 1000})
	}
	// every partition delivers: 0 holds the frontier (smallest timestamp)
	// with 6 records, 1 holds 6 ahead of it, 2 holds 3 and 3 holds 1:
	// 16 records, 1 600 bytes.
	setup := func() *Merger {
		m := NewMerger(parts, -1, false)
		var msgs []source.Msg
		for i, c := range []int{6, 6, 3, 1} {
			for k := 0; k < c; k++ {
				msgs = append(msgs, rec(int32(i), int64(k), int64(1000*(i+1)+k)))
			}
		}
		msgs[0].Timestamp = 1 // partition 0's first record is the frontier
		for k := 1; k < 6; k++ {
			msgs[k].Timestamp = int64(10 + k)
		}
		m.Ingest(msgs, nil)
		m.Recompute()
		return m
	}
	tests := []struct {
		name       string
		budget     Budget
		wantPaused []bool
	}{
		{"over the budget in bytes", Budget{Messages: 1 << 30, Bytes: 1500}, []bool{false, true, true, true}},
		{"over the budget in records", Budget{Messages: 15, Bytes: 1 << 40}, []bool{false, true, true, true}},
		// partition 1 is over its share (500 bytes), but the budget holds
		{"under the budget", Budget{Messages: 1 << 30, Bytes: 2000}, []bool{false, false, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := setup()
			m.Backpressure(tt.budget, nil, nil)
			for i, want := range tt.wantPaused {
				if got := m.parts[i].paused; got != want {
					t.Errorf("partition %d paused=%v, want %v (held %d bytes)", i, got, want, m.parts[i].q.bytes)
				}
			}
		})
	}
	t.Run("draining", func(t *testing.T) {
		m := setup()
		budget := Budget{Messages: 1 << 30, Bytes: 1500} // shares of 375 bytes
		if pause, _ := m.Backpressure(budget, nil, nil); len(pause) != 3 {
			t.Fatalf("pause=%v, want [1 2 3]", pause)
		}
		// partition 0 delivers past partition 1's first records: 800 bytes
		// stay held (1: 400, 2: 300, 3: 100), between half the budget and
		// the budget. Partition 3 is at half its share or less: it fetches.
		for k := 6; k < 9; k++ {
			m.Ingest([]source.Msg{rec(0, int64(k), 2002)}, nil)
		}
		m.Recompute()
		b := newBatchBuilder(memory.NewGoAllocator(), parts, &Layout{})
		m.Release(1000, b)
		b.finish().Release()
		if pause, resume := m.Backpressure(budget, nil, nil); len(pause) != 0 || len(resume) != 1 || resume[0] != 3 {
			t.Fatalf("pause=%v resume=%v with %d bytes held, want resume [3]", pause, resume, m.HeldBytes())
		}
		// 600 bytes held, under half the budget: everything resumes
		m.Ingest([]source.Msg{rec(0, 9, 2004)}, nil)
		m.Recompute()
		m.Release(1000, b)
		b.finish().Release()
		if _, resume := m.Backpressure(budget, nil, nil); len(resume) != 2 || resume[0] != 1 || resume[1] != 2 {
			t.Fatalf("resume=%v with %d bytes held, want [1 2]", resume, m.HeldBytes())
		}
	})
}

// TestOverShare: a running partition is over its share above it; a paused
// one stays over down to half of it (by bytes or by records).
func TestOverShare(t *testing.T) {
	tests := []struct {
		name   string
		paused bool
		n      int
		bytes  int64
		want   bool
	}{
		{"running, under", false, 3, 900, false},
		{"running, at the share", false, 4, 1000, false},
		{"running, over in bytes", false, 4, 1001, true},
		{"running, over in records", false, 5, 500, true},
		{"paused, between half and the share", true, 3, 600, true},
		{"paused, at half in bytes", true, 2, 500, false},
		{"paused, over half in records", true, 3, 100, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := partition{paused: tt.paused}
			p.q.n, p.q.bytes = tt.n, tt.bytes
			if got := p.overShare(1000, 4); got != tt.want {
				t.Errorf("overShare(1000 bytes, 4 records) with %d records, %d bytes, paused=%v: %v, want %v",
					tt.n, tt.bytes, tt.paused, got, tt.want)
			}
		})
	}
}
