package avrodec

import (
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/twmb/avro"
)

const tradeSchema = `{"type":"record","name":"Trade","namespace":"market","fields":[
	{"name":"symbol","type":"string"},
	{"name":"price","type":"double"},
	{"name":"qty","type":"long"},
	{"name":"side","type":{"type":"enum","name":"Side","symbols":["BUY","SELL"]}},
	{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
	{"name":"venue","type":"string"}]}`

const benchRecords = 10_000

// trades returns n varied Confluent-framed trades written with schema id 1.
func trades(tb testing.TB, n int) [][]byte {
	symbols := []string{"AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "META", "TSLA", "BRK.B", "JPM", "V", "XOM", "UNH", "JNJ", "WMT", "PG", "MA", "HD", "CVX", "LLY", "ABBV", "KO", "PEP", "AVGO", "COST", "MRK", "BAC", "TMO", "CSCO", "ACN", "MCD"}
	venues := []string{"XNAS", "XNYS", "ARCX", "BATS", "IEXG", "EDGX", "MEMX", "XCHI"}
	s := avro.MustParse(tradeSchema)
	rng := rand.New(rand.NewPCG(1, 2))
	ts := time.Date(2026, 1, 2, 14, 30, 0, 0, time.UTC)
	out := make([][]byte, n)
	for i := range out {
		ts = ts.Add(time.Duration(rng.IntN(5000)) * time.Microsecond).Truncate(time.Millisecond)
		side := "BUY"
		if rng.IntN(2) == 1 {
			side = "SELL"
		}
		datum, err := s.Encode(map[string]any{
			"symbol": symbols[rng.IntN(len(symbols))],
			"price":  10 + rng.Float64()*990,
			"qty":    int64(rng.IntN(100_000)),
			"side":   side,
			"ts":     ts,
			"venue":  venues[rng.IntN(len(venues))],
		})
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = framed(1, datum)
	}
	return out
}

func tradeDecoder(tb testing.TB) (*Decoder, *memRegistry) {
	reg := newRegistry()
	reg.add(1, "trades-value", tradeSchema)
	d, err := New(Options{Subject: "trades-value", Framing: Confluent, Registry: reg})
	if err != nil {
		tb.Fatal(err)
	}
	return d, reg
}

// poolAllocator keeps freed buffers for reuse, as the engine's C allocator
// does for large blocks, so that the benchmark measures decoding rather
// than the Go garbage collector clearing fresh buffers every batch.
type poolAllocator struct{ free map[int][][]byte }

func newPoolAllocator() *poolAllocator { return &poolAllocator{free: map[int][][]byte{}} }

func sizeClass(n int) int { return 1 << bits.Len(uint(n-1)) }

func (p *poolAllocator) Allocate(size int) []byte {
	c := sizeClass(size)
	if l := p.free[c]; len(l) > 0 {
		b := l[len(l)-1]
		p.free[c] = l[:len(l)-1]
		return b[:size]
	}
	return make([]byte, size, c)
}

func (p *poolAllocator) Reallocate(size int, b []byte) []byte {
	if cap(b) >= size {
		return b[:size]
	}
	nb := p.Allocate(size)
	copy(nb, b)
	p.Free(b)
	return nb
}

func (p *poolAllocator) Free(b []byte) {
	if c := cap(b); c == sizeClass(c) {
		p.free[c] = append(p.free[c], b[:0])
	}
}

// BenchmarkAppendTrade decodes one Confluent-framed trade per op into a
// StructBuilder reserved for benchRecords rows; every benchRecords rows
// the array is finished and the builder reserved again (amortized into
// the per-record numbers).
func BenchmarkAppendTrade(b *testing.B) {
	recs := trades(b, benchRecords)
	d, _ := tradeDecoder(b)
	bld := array.NewBuilder(newPoolAllocator(), d.Type()).(*array.StructBuilder)
	defer bld.Release()
	reserve := func() {
		bld.Reserve(benchRecords)
		for i := 0; i < bld.NumField(); i++ {
			if sb, ok := bld.FieldBuilder(i).(*array.StringBuilder); ok {
				sb.ReserveData(8 * benchRecords)
			}
		}
	}
	reserve()
	var bytes int64
	for _, r := range recs {
		bytes += int64(len(r))
	}
	b.SetBytes(bytes / benchRecords)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%benchRecords == 0 && i > 0 {
			bld.NewArray().Release()
			reserve()
		}
		if err := d.Append(bld, recs[i%benchRecords]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrecords/s")
}

// BenchmarkAppendTradeEvolved is BenchmarkAppendTrade with resolution at
// work: the writer has a field the reader lacks (skipped) and the reader
// a field the writer lacks (its default).
func BenchmarkAppendTradeEvolved(b *testing.B) {
	writer := strings.Replace(tradeSchema, `{"name":"venue"`, `{"name":"trader","type":"string"},{"name":"venue"`, 1)
	reader := strings.Replace(tradeSchema, `{"name":"venue"`, `{"name":"fee","type":["null","double"],"default":null},{"name":"venue"`, 1)
	ws := avro.MustParse(writer)
	rs := avro.MustParse(tradeSchema)
	recs := trades(b, benchRecords)
	for i, r := range recs {
		var v map[string]any
		if _, err := rs.Decode(r[5:], &v); err != nil {
			b.Fatal(err)
		}
		v["trader"] = "desk-7"
		datum, err := ws.Encode(v)
		if err != nil {
			b.Fatal(err)
		}
		recs[i] = framed(2, datum)
	}
	reg := newRegistry()
	reg.add(2, "", writer)
	d, err := New(Options{Schema: reader, Framing: Confluent, Registry: reg})
	if err != nil {
		b.Fatal(err)
	}
	bld := array.NewBuilder(newPoolAllocator(), d.Type()).(*array.StructBuilder)
	defer bld.Release()
	reserveAll(bld, benchRecords)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%benchRecords == 0 && i > 0 {
			bld.NewArray().Release()
			reserveAll(bld, benchRecords)
		}
		if err := d.Append(bld, recs[i%benchRecords]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrecords/s")
}

// BenchmarkGenericDecodeTrade decodes the same records with twmb/avro into
// Go values (map[string]any), for comparison: it is what decoding through
// a generic library would cost before anything reaches Arrow.
func BenchmarkGenericDecodeTrade(b *testing.B) {
	recs := trades(b, benchRecords)
	s := avro.MustParse(tradeSchema)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var v any
		if _, err := s.Decode(recs[i%benchRecords][5:], &v); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrecords/s")
}
