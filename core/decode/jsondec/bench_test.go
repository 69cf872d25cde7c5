package jsondec

import (
	stdjson "encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	gojson "github.com/goccy/go-json"
	"github.com/valyala/fastjson"
)

// tradeType is the record the decoder is optimised for.
var tradeType = arrow.StructOf(
	arrow.Field{Name: "symbol", Type: arrow.BinaryTypes.String},
	arrow.Field{Name: "price", Type: arrow.PrimitiveTypes.Float64},
	arrow.Field{Name: "qty", Type: arrow.PrimitiveTypes.Int64},
	arrow.Field{Name: "side", Type: arrow.BinaryTypes.String},
	arrow.Field{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}},
	arrow.Field{Name: "venue", Type: arrow.BinaryTypes.String},
)

type trade struct {
	Symbol string  `json:"symbol"`
	Price  float64 `json:"price"`
	Qty    int64   `json:"qty"`
	Side   string  `json:"side"`
	TS     int64   `json:"ts"`
	Venue  string  `json:"venue"`
}

// tradeRecords makes n varied trade records, about 90-110 bytes each.
func tradeRecords(n int) ([][]byte, []trade) {
	symbols := []string{"AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "META", "TSLA", "BRK.B", "JPM", "V", "UNH", "XOM"}
	venues := []string{"XNAS", "XNYS", "ARCX", "BATS", "IEXG", "EDGX"}
	r := rand.New(rand.NewPCG(1, 2))
	recs := make([][]byte, n)
	want := make([]trade, n)
	ts := int64(1732000000123)
	for i := range recs {
		t := trade{
			Symbol: symbols[r.IntN(len(symbols))],
			Price:  float64(r.IntN(5_000_000)+100) / 100,
			Qty:    int64(r.IntN(1000)+1) * int64([]int{1, 10, 100}[r.IntN(3)]),
			Side:   []string{"buy", "sell"}[r.IntN(2)],
			TS:     ts,
			Venue:  venues[r.IntN(len(venues))],
		}
		ts += int64(r.IntN(50))
		want[i] = t
		recs[i] = fmt.Appendf(nil, `{"symbol":%q,"price":%s,"qty":%d,"side":%q,"ts":%d,"venue":%q}`,
			t.Symbol, strconv.FormatFloat(t.Price, 'f', -1, 64), t.Qty, t.Side, t.TS, t.Venue)
	}
	return recs, want
}

// recycler is an allocator that reuses freed buffers of the same size, so
// that starting a new batch (outside the timer) makes no garbage: the
// collector then runs only for the garbage the contenders make themselves.
type recycler struct{ free map[int][][]byte }

func (r *recycler) Allocate(size int) []byte {
	if l := r.free[size]; len(l) > 0 {
		b := l[len(l)-1]
		r.free[size] = l[:len(l)-1]
		clear(b)
		return b
	}
	return make([]byte, size)
}

func (r *recycler) Reallocate(size int, b []byte) []byte {
	nb := r.Allocate(size)
	copy(nb, b)
	r.Free(b)
	return nb
}

func (r *recycler) Free(b []byte) {
	if r.free == nil {
		r.free = map[int][][]byte{}
	}
	r.free[cap(b)] = append(r.free[cap(b)], b[:cap(b)])
}

// benchAppend runs append over the records into one StructBuilder,
// reserved up front as the engine does; every len(recs) rows the batch is
// finished outside the timer.
func benchAppend(b *testing.B, recs [][]byte, append func(sb *array.StructBuilder, rec []byte) error) {
	mem := &recycler{}
	total := 0
	for _, r := range recs {
		total += len(r)
	}
	newBuilder := func() *array.StructBuilder {
		sb := array.NewBuilder(mem, tradeType).(*array.StructBuilder)
		sb.Reserve(len(recs))
		for _, i := range []int{0, 3, 5} {
			sb.FieldBuilder(i).(*array.StringBuilder).ReserveData(total / 8)
		}
		return sb
	}
	sb := newBuilder()
	// Warm up: the first batch grows scratch space.
	for _, r := range recs {
		if err := append(sb, r); err != nil {
			b.Fatal(err)
		}
	}
	sb.NewArray().Release()
	sb.Release()
	sb = newBuilder()
	b.SetBytes(int64(total / len(recs)))
	b.ReportAllocs()
	b.ResetTimer()
	k := 0
	for i := 0; i < b.N; i++ {
		if k == len(recs) {
			b.StopTimer()
			sb.NewArray().Release()
			sb.Release()
			sb = newBuilder()
			k = 0
			b.StartTimer()
		}
		if err := append(sb, recs[k]); err != nil {
			b.Fatal(err)
		}
		k++
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/record")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrecords/s")
	sb.Release()
}

// The contenders all meet the same contract as far as they can: values
// are extracted and checked first and appended only when the whole record
// is good, so a bad record never leaves a partial row.
func BenchmarkTrade(b *testing.B) {
	recs, _ := tradeRecords(10_000)
	b.Run("jsondec", func(b *testing.B) {
		dec, err := New(tradeType, Options{})
		if err != nil {
			b.Fatal(err)
		}
		benchAppend(b, recs, dec.Append)
	})
	// arrow-go's own JSON path, one record per call. (StructBuilder does
	// not roll back a failed record; see RecordBuilder below for that.)
	b.Run("arrow-StructBuilder.UnmarshalJSON", func(b *testing.B) {
		// It takes a JSON array of rows: wrap each record beforehand.
		wrapped := make([][]byte, len(recs))
		for i, r := range recs {
			wrapped[i] = append(append([]byte{'['}, r...), ']')
		}
		benchAppend(b, wrapped, func(sb *array.StructBuilder, rec []byte) error {
			return sb.UnmarshalJSON(rec)
		})
	})
	b.Run("arrow-RecordBuilder.UnmarshalJSON", func(b *testing.B) {
		benchRecordBuilder(b, recs)
	})
	// fastjson: a reused Parser, then typed getters.
	b.Run("fastjson", func(b *testing.B) {
		var p fastjson.Parser
		benchAppend(b, recs, func(sb *array.StructBuilder, rec []byte) error {
			v, err := p.ParseBytes(rec)
			if err != nil {
				return err
			}
			if v.Type() != fastjson.TypeObject {
				return errors.New("not an object")
			}
			sym, err := v.Get("symbol").StringBytes()
			if err != nil {
				return err
			}
			price, err := v.Get("price").Float64()
			if err != nil {
				return err
			}
			qty, err := v.Get("qty").Int64()
			if err != nil {
				return err
			}
			side, err := v.Get("side").StringBytes()
			if err != nil {
				return err
			}
			ts, err := v.Get("ts").Int64()
			if err != nil {
				return err
			}
			venue, err := v.Get("venue").StringBytes()
			if err != nil {
				return err
			}
			appendTrade(sb, sym, price, qty, side, ts, venue)
			return nil
		})
	})
	// goccy/go-json and encoding/json into a reused Go struct.
	b.Run("goccy-go-json", func(b *testing.B) {
		var t trade
		benchAppend(b, recs, func(sb *array.StructBuilder, rec []byte) error {
			t = trade{}
			if err := gojson.Unmarshal(rec, &t); err != nil {
				return err
			}
			appendTrade(sb, []byte(t.Symbol), t.Price, t.Qty, []byte(t.Side), t.TS, []byte(t.Venue))
			return nil
		})
	})
	b.Run("encoding-json", func(b *testing.B) {
		var t trade
		benchAppend(b, recs, func(sb *array.StructBuilder, rec []byte) error {
			t = trade{}
			if err := stdjson.Unmarshal(rec, &t); err != nil {
				return err
			}
			appendTrade(sb, []byte(t.Symbol), t.Price, t.Qty, []byte(t.Side), t.TS, []byte(t.Venue))
			return nil
		})
	})
}

func appendTrade(sb *array.StructBuilder, sym []byte, price float64, qty int64, side []byte, ts int64, venue []byte) {
	sb.Append(true)
	sb.FieldBuilder(0).(*array.StringBuilder).BinaryBuilder.Append(sym)
	sb.FieldBuilder(1).(*array.Float64Builder).Append(price)
	sb.FieldBuilder(2).(*array.Int64Builder).Append(qty)
	sb.FieldBuilder(3).(*array.StringBuilder).BinaryBuilder.Append(side)
	sb.FieldBuilder(4).(*array.TimestampBuilder).Append(arrow.Timestamp(ts))
	sb.FieldBuilder(5).(*array.StringBuilder).BinaryBuilder.Append(venue)
}

// benchRecordBuilder is benchAppend for a RecordBuilder of the trade
// fields, whose UnmarshalJSON rolls a failed row back.
func benchRecordBuilder(b *testing.B, recs [][]byte) {
	mem := &recycler{}
	schema := arrow.NewSchema(tradeType.Fields(), nil)
	total := 0
	for _, r := range recs {
		total += len(r)
	}
	newBuilder := func() *array.RecordBuilder {
		rb := array.NewRecordBuilder(mem, schema)
		rb.Reserve(len(recs))
		for _, i := range []int{0, 3, 5} {
			rb.Field(i).(*array.StringBuilder).ReserveData(total / 8)
		}
		return rb
	}
	rb := newBuilder()
	b.SetBytes(int64(total / len(recs)))
	b.ReportAllocs()
	b.ResetTimer()
	k := 0
	for i := 0; i < b.N; i++ {
		if k == len(recs) {
			b.StopTimer()
			rb.NewRecordBatch().Release()
			rb.Release()
			rb = newBuilder()
			k = 0
			b.StartTimer()
		}
		if err := rb.UnmarshalJSON(recs[k]); err != nil {
			b.Fatal(err)
		}
		k++
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/record")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrecords/s")
	rb.Release()
}

// BenchmarkRich decodes random records of every supported type, nested
// (the round-trip test's records, about 1.5 KB each): the cost per byte
// away from the trade record's sweet spot, and no allocation either.
func BenchmarkRich(b *testing.B) {
	g := &gen{rand.New(rand.NewPCG(1, 1))}
	recs := make([][]byte, 2000)
	total := 0
	for i := range recs {
		recs[i], _ = g.object(nil, richType)
		total += len(recs[i])
	}
	dec, err := New(richType, Options{})
	if err != nil {
		b.Fatal(err)
	}
	mem := &recycler{}
	sb := array.NewBuilder(mem, richType).(*array.StructBuilder)
	defer sb.Release()
	for _, r := range recs { // warm up
		if err := dec.Append(sb, r); err != nil {
			b.Fatal(err)
		}
	}
	sb.NewArray().Release()
	b.SetBytes(int64(total / len(recs)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i % len(recs)
		if k == 0 && i > 0 {
			b.StopTimer()
			sb.NewArray().Release()
			b.StartTimer()
		}
		if err := dec.Append(sb, recs[k]); err != nil {
			b.Fatal(err)
		}
	}
}
