package core

import (
	"bytes"
	"fmt"
	"math/rand"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/kafkars/kafkars/core/source"
)

// TestBinaryViewsMatchBinary replays the same records through a merger
// building binary columns and one building binary view columns over its
// queue memory, and checks that every batch holds the same keys and values,
// that batches stay valid after the merger is closed (they own their part
// of the queue memory), and that releasing them frees every buffer.
func TestBinaryViewsMatchBinary(t *testing.T) {
	cases := []struct {
		name       string
		partitions int
		records    int
		valueSize  func(*rand.Rand) int // -1: null
		budget     int64                // sizes the chunks
	}{
		{"inline values", 3, 2000, func(r *rand.Rand) int { return r.Intn(13) }, DefaultMaxBufferedBytes},
		{"1 KiB values", 8, 3000, func(r *rand.Rand) int { return 1024 }, DefaultMaxBufferedBytes},
		{"mixed with nulls", 5, 4000, func(r *rand.Rand) int {
			if r.Intn(8) == 0 {
				return -1
			}
			return r.Intn(200)
		}, 1 << 20},
		{"records larger than a chunk", 2, 40, func(r *rand.Rand) int { return r.Intn(3) * 40_000 }, 4 * 2 * minChunkBytes},
		{"many partitions", 300, 6000, func(r *rand.Rand) int { return 20 + r.Intn(100) }, DefaultMaxBufferedBytes},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(int64(len(tc.name))))
			var infos []PartitionInfo
			for p := 0; p < tc.partitions; p++ {
				infos = append(infos, PartitionInfo{Topic: "t", Partition: int32(p), End: 1 << 40})
			}
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			plain := NewMerger(infos, -1, false)
			plain.SetBudget(tc.budget)
			views := NewMerger(infos, -1, false)
			views.SetBudget(tc.budget)
			views.SetViews(mem)
			pb := newBatchBuilder(memory.NewGoAllocator(), infos, &Layout{})
			vb := newBatchBuilder(mem, infos, &Layout{BinaryView: true})
			if got := vb.schema.Field(1).Type; got.ID() != arrow.BINARY_VIEW {
				t.Fatalf("value column type %v, want binary_view", got)
			}
			next := make([]int64, tc.partitions)
			var kept []arrow.RecordBatch // view batches, checked again after Close
			var want [][]byte            // their values, from the binary batches
			release := func(n int) {
				np := plain.Release(n, pb)
				nv := views.Release(n, vb)
				if np != nv {
					t.Fatalf("released %d binary rows and %d view rows", np, nv)
				}
				if np == 0 {
					return
				}
				p, v := pb.finish(), vb.finish()
				defer p.Release()
				for c := 0; c < 2; c++ {
					pc := p.Column(c).(*array.Binary)
					vc := v.Column(c).(*array.BinaryView)
					for i := 0; i < np; i++ {
						if pc.IsNull(i) != vc.IsNull(i) || !bytes.Equal(pc.Value(i), vc.Value(i)) {
							t.Fatalf("column %d row %d: binary %.32q, view %.32q", c, i, pc.Value(i), vc.Value(i))
						}
						if c == 1 {
							want = append(want, bytes.Clone(pc.Value(i)))
						}
					}
				}
				kept = append(kept, v)
			}
			for sent := 0; sent < tc.records; {
				// a fetch: runs from random partitions
				var msgs []source.Msg
				for k := 0; k < 1+rng.Intn(8) && sent < tc.records; k++ {
					p := rng.Intn(tc.partitions)
					for r := 0; r < 1+rng.Intn(40) && sent < tc.records; r++ {
						n := tc.valueSize(rng)
						m := source.Msg{Kind: source.Record, Partition: int32(p), Offset: next[p], Timestamp: int64(sent / 3),
							Key: []byte(fmt.Sprintf("key-%d-%d", p, next[p]))}
						if n < 0 {
							m.ValueNull = true
						} else {
							m.Value = make([]byte, n)
							rng.Read(m.Value)
						}
						next[p]++
						sent++
						msgs = append(msgs, m)
					}
				}
				plain.Ingest(msgs, nil)
				views.Ingest(msgs, nil)
				for _, m := range msgs {
					clear(m.Value) // the source may reuse its buffers once ingested
				}
				plain.Recompute()
				views.Recompute()
				if rng.Intn(2) == 0 {
					release(1 + rng.Intn(500))
				}
			}
			for _, m := range []*Merger{plain, views} {
				for p := range infos {
					m.MarkPosition(int32(p), 1<<40)
				}
				m.Recompute()
			}
			for views.Releasable() > 0 {
				release(500)
			}
			views.Close()
			plain.Close()
			// every batch still reads its values: it holds its chunks
			i := 0
			for _, v := range kept {
				vc := v.Column(1).(*array.BinaryView)
				for r := 0; r < vc.Len(); r++ {
					if !bytes.Equal(vc.Value(r), want[i]) {
						t.Fatalf("after close, row %d: %.32q, want %.32q", i, vc.Value(r), want[i])
					}
					i++
				}
				v.Release()
			}
			if i != tc.records {
				t.Fatalf("released %d rows, want %d", i, tc.records)
			}
			mem.AssertSize(t, 0)
		})
	}
}
