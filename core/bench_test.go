package core

import (
	"fmt"
	"testing"

	"github.com/kafkars/kafkars/core/source"
)

// poolAllocator hands back freed buffers of the same size, without zeroing,
// like the library's C-heap allocator (core/internal/cmem) with its block
// cache (up to 16 MiB per size here): batch after batch, the builder
// asks for the same sizes. Measuring
// with Go's allocator instead would time zeroing and garbage collection of
// a megabyte per batch, which the library does not pay.
type poolAllocator struct{ free map[int][][]byte }

func (p *poolAllocator) Allocate(n int) []byte {
	if l := p.free[n]; len(l) > 0 {
		b := l[len(l)-1]
		p.free[n] = l[:len(l)-1]
		return b
	}
	return make([]byte, n)
}

func (p *poolAllocator) Reallocate(n int, b []byte) []byte {
	if n <= cap(b) {
		return b[:n]
	}
	nb := p.Allocate(n)
	copy(nb, b)
	p.Free(b)
	return nb
}

func (p *poolAllocator) Free(b []byte) {
	if p.free == nil {
		p.free = map[int][][]byte{}
	}
	if (len(p.free[len(b)])+1)*len(b) <= 16<<20 {
		p.free[len(b)] = append(p.free[len(b)], b)
	}
}

// BenchmarkIngestReleaseBuild measures the engine's per-record work with no
// Kafka in the loop: copy fetched records into the partition queues, advance
// the frontier, k-way merge and build the Arrow batch (with poolAllocator:
// see there). Records have 12-byte keys and valueSize-byte values; their
// timestamps interleave across partitions, so the merge takes one row at a
// time from each partition in turn (a merge, not a concatenation: its worst
// case).
//
// Two shapes of fetched batch: "runs" is what librdkafka's batch call
// returns, each partition's records in a run (one fetch response's message
// set, here 10 000 / partitions records, at least 1); "interleaved" has
// every record from a different partition than the one before it, which
// no fetch returns but which defeats the CPU's prefetching in the queue
// copy, a bound for the worst case.
//
// Columns "binary" copy keys and values into the batch; "view" builds
// binary_view columns pointing into the queues' memory (one copy fewer).
func BenchmarkIngestReleaseBuild(b *testing.B) {
	for _, vs := range []int{100, 1024} {
		for _, cols := range []string{"binary", "view"} {
			for _, shape := range []string{"runs", "interleaved"} {
				for _, parts := range []int{1, 8, 64, 1000} {
					if parts == 1 && shape == "interleaved" {
						continue
					}
					b.Run(fmt.Sprintf("value=%dB/columns=%s/fetch=%s/partitions=%d", vs, cols, shape, parts), func(b *testing.B) {
						benchPipeline(b, parts, vs, 10_000, shape == "runs", cols == "view")
					})
				}
			}
		}
	}
}

func benchPipeline(b *testing.B, nparts, valueSize, batch int, runs, views bool) {
	var infos []PartitionInfo
	for p := 0; p < nparts; p++ {
		infos = append(infos, PartitionInfo{Topic: "bench-topic", Partition: int32(p), Start: 0, End: 1 << 62})
	}
	val := make([]byte, valueSize)
	for i := range val {
		val[i] = byte(i)
	}
	// One fetched batch, reused with advancing offsets/timestamps. Record i
	// of a fetch belongs to partition part(i); across fetches, partition p
	// delivers the merged sequence's records p, p+nparts, p+2*nparts, ...
	per := batch / nparts // records per partition per fetch
	part := func(i int) int { return i % nparts }
	if runs {
		part = func(i int) int { return min(i/max(per, 1), nparts-1) }
	}
	msgs := make([]source.Msg, batch)
	keys := make([][]byte, batch)
	for i := range msgs {
		keys[i] = []byte(fmt.Sprintf("key-%08d", i))
		msgs[i] = source.Msg{Kind: source.Record, Partition: int32(part(i)), Key: keys[i], Value: val}
	}
	m := NewMerger(infos, -1, false)
	mem := &poolAllocator{}
	bld := newBatchBuilder(mem, infos, &Layout{BinaryView: views})
	if views {
		m.SetViews(mem)
	}
	next := make([]int64, nparts) // next offset per partition
	fill := func() {
		for i := range msgs {
			p := msgs[i].Partition
			o := next[p]
			next[p]++
			msgs[i].Offset = o
			msgs[i].Timestamp = (o*int64(nparts) + int64(p)) / 3 // ties across partitions
		}
	}
	released := 0
	round := func() {
		fill()
		m.Ingest(msgs, nil)
		m.Recompute()
		for m.Releasable() >= batch {
			released += m.Release(batch, bld)
			bld.finish().Release()
		}
	}
	// Warm up until every partition's queue has cycled through its chunks
	// (the pool then recycles them): the figures are the steady state, not
	// the first fill.
	warm := 8
	if chunkRecs := m.pool.size / (valueSize + 12); per > 0 {
		warm = max(warm, 2*chunkRecs/per+2)
	} else {
		warm = max(warm, 2*chunkRecs*nparts/batch+2)
	}
	for range warm {
		round()
	}
	b.SetBytes(int64(batch * (valueSize + 12)))
	b.ReportAllocs()
	b.ResetTimer()
	released = 0
	for i := 0; i < b.N; i++ {
		round()
	}
	b.StopTimer()
	if released == 0 {
		b.Fatal("nothing released")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/record")
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds()/1e6, "Mrecords/s")
}
