package core

import (
	"fmt"
	"testing"

	"github.com/kafkars/kafkars/core/source"
)

// poolAllocator hands back freed buffers of the same size, without zeroing,
// like the library's C-heap allocator (core/internal/cmem) with its block
// cache: batch after batch, the builder asks for the same sizes. Measuring
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
	if len(p.free[len(b)]) < 4 {
		p.free[len(b)] = append(p.free[len(b)], b)
	}
}

// BenchmarkIngestReleaseBuild measures the engine's per-record work with no
// Kafka in the loop: copy fetched records into the partition queues, advance
// the frontier, k-way merge and build the Arrow batch (with poolAllocator: see there). Records
// have 12-byte keys and valueSize-byte values, spread over 8 partitions
// with interleaved timestamps (a merge, not a concatenation).
func BenchmarkIngestReleaseBuild(b *testing.B) {
	for _, vs := range []int{100, 1024} {
		for _, parts := range []int{1, 8, 64, 1000} {
			b.Run(fmt.Sprintf("value=%dB/partitions=%d", vs, parts), func(b *testing.B) {
				benchPipeline(b, parts, vs, 10_000)
			})
		}
	}
}

func benchPipeline(b *testing.B, nparts, valueSize, batch int) {
	var infos []PartitionInfo
	for p := 0; p < nparts; p++ {
		infos = append(infos, PartitionInfo{Topic: "bench-topic", Partition: int32(p), Start: 0, End: 1 << 62})
	}
	val := make([]byte, valueSize)
	for i := range val {
		val[i] = byte(i)
	}
	// One fetched batch, reused with advancing offsets/timestamps.
	msgs := make([]source.Msg, batch)
	keys := make([][]byte, batch)
	for i := range msgs {
		keys[i] = []byte(fmt.Sprintf("key-%08d", i))
		msgs[i] = source.Msg{Kind: source.Record, Partition: int32(i % nparts), Key: keys[i], Value: val}
	}
	m := NewMerger(infos, -1, false)
	bld := newBatchBuilder(&poolAllocator{}, infos, &Layout{})
	var seq int64
	fill := func() {
		for i := range msgs {
			msgs[i].Offset = seq / int64(nparts)
			msgs[i].Timestamp = seq / 3 // ties across partitions
			seq++
		}
	}
	// Prime: every partition has delivered, so the frontier is finite.
	fill()
	m.Ingest(msgs, nil)
	m.Recompute()
	b.SetBytes(int64(batch * (valueSize + 12)))
	b.ReportAllocs()
	b.ResetTimer()
	released := 0
	for i := 0; i < b.N; i++ {
		fill()
		m.Ingest(msgs, nil)
		m.Recompute()
		for m.Releasable() >= batch {
			released += m.Release(batch, bld)
			bld.finish().Release()
		}
	}
	b.StopTimer()
	if released == 0 {
		b.Fatal("nothing released")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/record")
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds()/1e6, "Mrecords/s")
}
