package core

import (
	"fmt"
	"testing"

	"github.com/kafkars/kafkars/core/cmem"
	"github.com/kafkars/kafkars/core/source"
)

// BenchmarkIngestReleaseBuild measures the engine's per-record work with no
// Kafka in the loop: copy fetched records into the partition queues, advance
// the frontier, k-way merge and build the Arrow batch on the C heap. Records
// have 12-byte keys and valueSize-byte values, spread over 8 partitions
// with interleaved timestamps (a merge, not a concatenation).
func BenchmarkIngestReleaseBuild(b *testing.B) {
	for _, vs := range []int{100, 1024} {
		for _, parts := range []int{1, 8, 64} {
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
	bld := newBatchBuilder(cmem.Default, infos, false)
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
