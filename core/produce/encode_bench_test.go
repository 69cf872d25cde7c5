package produce

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/kafkars/kafkars/core/decode/avrodec"
)

// BenchmarkEncode: one typed value column of trades (8 fields: strings,
// numbers, a timestamp, a nested struct, a list, a decimal) encoded row by
// row, as Prepare does. ns/row and MB/s of encoded output. (Protobuf: the
// same rows without the decimal, which Protobuf has no type for.)
func BenchmarkEncode(b *testing.B) {
	st := arrow.StructOf(
		arrow.Field{Name: "symbol", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "price", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		arrow.Field{Name: "qty", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		arrow.Field{Name: "side", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}, Nullable: true},
		arrow.Field{Name: "venue", Type: arrow.StructOf(
			arrow.Field{Name: "mic", Type: arrow.BinaryTypes.String, Nullable: true},
			arrow.Field{Name: "lit", Type: arrow.FixedWidthTypes.Boolean, Nullable: true}), Nullable: true},
		arrow.Field{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
		arrow.Field{Name: "notional", Type: &arrow.Decimal128Type{Precision: 18, Scale: 2}, Nullable: true},
	)
	const n = 10_000
	var sb strings.Builder
	sb.WriteString("[")
	for i := 0; i < n; i++ {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `{"symbol":"S%03d","price":%g,"qty":%d,"side":"buy","ts":%d,"venue":{"mic":"XNAS","lit":true},"tags":["t0","t1"],"notional":"%d.25"}`,
			i%17, 100+float64(i%997)/8, i%500, 1764000000000+i, i%1000)
	}
	sb.WriteString("]")
	src, _, err := array.FromJSON(memory.DefaultAllocator, st, strings.NewReader(sb.String()))
	if err != nil {
		b.Fatal(err)
	}
	defer src.Release()
	// Protobuf has no decimal: the same rows without notional
	sa := src.(*array.Struct)
	var fields []arrow.Array
	var names []string
	for j := 0; j < 7; j++ {
		fields, names = append(fields, sa.Field(j)), append(names, st.Field(j).Name)
	}
	noDec, err := array.NewStructArray(fields, names)
	if err != nil {
		b.Fatal(err)
	}
	defer noDec.Release()
	md := compileMessage(b, benchProto, "Trade")
	penc, err := NewProtoEncoder(noDec.DataType(), md)
	if err != nil {
		b.Fatal(err)
	}
	// Avro with a given schema: the derived one, given back
	schema, err := AvroSchema(st, "Trade")
	if err != nil {
		b.Fatal(err)
	}
	node, err := avrodec.ParseWriter(schema)
	if err != nil {
		b.Fatal(err)
	}
	aw, err := NewAvroWriter(node, st)
	if err != nil {
		b.Fatal(err)
	}
	for _, enc := range []struct {
		name string
		fn   func([]byte, arrow.Array, int) []byte
	}{
		{"json", AppendJSON},
		{"avro", func(buf []byte, a arrow.Array, i int) []byte {
			out, err := AppendAvro(buf, a, i)
			if err != nil {
				b.Fatal(err)
			}
			return out
		}},
		{"avro-schema", func(buf []byte, a arrow.Array, i int) []byte {
			out, err := aw.Append(buf, a, i)
			if err != nil {
				b.Fatal(err)
			}
			return out
		}},
		{"protobuf", func(buf []byte, _ arrow.Array, i int) []byte {
			out, err := penc.Append(buf, noDec, i)
			if err != nil {
				b.Fatal(err)
			}
			return out
		}},
	} {
		b.Run(enc.name, func(b *testing.B) {
			buf := make([]byte, 0, 1<<20)
			var total int
			for k := 0; k < b.N; k++ {
				total = 0
				for i := 0; i < n; i++ {
					buf = enc.fn(buf[:0], src, i)
					total += len(buf)
				}
			}
			b.SetBytes(int64(total))
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/row")
		})
	}
}

const benchProto = `syntax = "proto3";
package bench;
import "google/protobuf/timestamp.proto";
message Venue { string mic = 1; bool lit = 2; }
message Trade {
  string symbol = 1; double price = 2; int64 qty = 3; string side = 4;
  google.protobuf.Timestamp ts = 5; Venue venue = 6; repeated string tags = 7;
}
`
