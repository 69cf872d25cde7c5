package core

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/kafkars/kafkars/core/source"
)

// TestOrderedLive drives the merger in ordered live mode with random
// arrivals on random partitions at random times: released rows are in
// order-key order as long as no partition goes idle, and a row never waits
// for a partition that has been quiet for longer than the idle bound.
func TestOrderedLive(t *testing.T) {
	const maxIdle = 50 * time.Millisecond
	for seed := int64(0); seed < 40; seed++ {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rng := rand.New(rand.NewSource(seed))
			nparts := 1 + rng.Intn(6)
			var parts []PartitionInfo
			for p := 0; p < nparts; p++ {
				parts = append(parts, PartitionInfo{Topic: "t", Partition: int32(p)}) // start = end = 0: live at once
			}
			idx := partIndex(parts)
			m := NewMerger(parts, -1, false)
			t0 := time.Unix(1_700_000_000, 0)
			now := t0
			m.SetOrderedLive(maxIdle)
			m.SetNow(now)
			b := newBatchBuilder(memory.NewGoAllocator(), parts, &Layout{})
			next := make([]int64, nparts) // next offset per partition
			lastTs := make([]int64, nparts)
			heard := make([]time.Time, nparts)
			for p := range heard {
				heard[p] = t0
			}
			quiet := rng.Intn(nparts) // goes quiet half-way
			var got []rowKey
			var ts int64 = 1000
			for step := 0; step < 400; step++ {
				now = now.Add(time.Duration(rng.Intn(8)) * time.Millisecond)
				m.SetNow(now)
				var msgs []source.Msg
				for k := rng.Intn(4); k > 0; k-- {
					p := rng.Intn(nparts)
					if p == quiet && step > 200 {
						continue
					}
					ts += int64(rng.Intn(3))
					msgs = append(msgs, source.Msg{Kind: source.Record, Partition: int32(p), Offset: next[p], Timestamp: ts})
					next[p]++
					lastTs[p] = ts
					heard[p] = now
				}
				m.Ingest(msgs, nil)
				m.Recompute()
				// the frontier as the contract states it: the smallest key a
				// non-idle partition can still deliver
				for m.Releasable() > 0 {
					n := m.Release(1+rng.Intn(20), b)
					if n == 0 {
						break
					}
					rows := collect(t, b, idx, nil)
					for _, r := range rows {
						for p := 0; p < nparts; p++ {
							if now.Sub(heard[p]) >= maxIdle || int32(p) == r.p {
								continue
							}
							// every other non-idle partition must be past the row
							if next[p] == 0 || lastTs[p] < r.ts || (lastTs[p] == r.ts && int32(p) < r.p) {
								t.Fatalf("step %d: row %v released while partition %d (last ts %d, heard %v ago) is not past it",
									step, r, p, lastTs[p], now.Sub(heard[p]))
							}
						}
					}
					got = append(got, rows...)
				}
			}
			// quiet partition idle: everything else is released within the bound
			now = now.Add(maxIdle)
			m.SetNow(now)
			m.Recompute()
			for m.Releasable() > 0 {
				m.Release(1000, b)
				got = collect(t, b, idx, got)
			}
			if m.Held() != 0 {
				t.Fatalf("%d rows still held after every partition went idle", m.Held())
			}
			total := int64(0)
			for _, n := range next {
				total += n
			}
			if int64(len(got)) != total {
				t.Fatalf("released %d rows, ingested %d", len(got), total)
			}
			// no partition went idle before step 200 with a busy stream of
			// arrivals every few ms: the first part is sorted by key
			for i := 1; i < len(got); i++ {
				a, c := got[i-1], got[i]
				if c.ts < a.ts && c.ts < 1000+200 { // only the early, no-idle part must be sorted
					t.Fatalf("rows out of order: %v then %v", a, c)
				}
			}
		})
	}
}
