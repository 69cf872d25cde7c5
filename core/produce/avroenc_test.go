package produce

import (
	"math/big"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/kafkars/kafkars/core/decode/avrodec"
)

// TestAvroRoundTrip: the schema derived from an Arrow type and the datums
// written for its rows are read back by core/decode/avrodec into the same
// Arrow type and values.
func TestAvroRoundTrip(t *testing.T) {
	st := arrow.StructOf(
		arrow.Field{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		arrow.Field{Name: "n", Type: arrow.PrimitiveTypes.Int32},
		arrow.Field{Name: "sym", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "px", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		arrow.Field{Name: "f", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		arrow.Field{Name: "ok", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		arrow.Field{Name: "raw", Type: arrow.BinaryTypes.Binary, Nullable: true},
		arrow.Field{Name: "fx", Type: &arrow.FixedSizeBinaryType{ByteWidth: 2}, Nullable: true},
		arrow.Field{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
		arrow.Field{Name: "at_ms", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}, Nullable: true},
		arrow.Field{Name: "at_ns", Type: &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}, Nullable: true},
		arrow.Field{Name: "local", Type: &arrow.TimestampType{Unit: arrow.Millisecond}, Nullable: true},
		arrow.Field{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		arrow.Field{Name: "tod", Type: arrow.FixedWidthTypes.Time32ms, Nullable: true},
		arrow.Field{Name: "tod_us", Type: arrow.FixedWidthTypes.Time64us, Nullable: true},
		arrow.Field{Name: "amount", Type: &arrow.Decimal128Type{Precision: 30, Scale: 3}, Nullable: true},
		arrow.Field{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
		arrow.Field{Name: "ints", Type: arrow.ListOfNonNullable(arrow.PrimitiveTypes.Int64), Nullable: true},
		arrow.Field{Name: "attrs", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), Nullable: true},
		arrow.Field{Name: "inner", Type: arrow.StructOf(
			arrow.Field{Name: "ok", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
			arrow.Field{Name: "deep", Type: arrow.StructOf(arrow.Field{Name: "x", Type: arrow.BinaryTypes.String})}),
			Nullable: true},
	)
	src := buildStruct(t, st, `[
		{"id": 1, "n": -7, "sym": "ÉTÉ \"q\"", "px": 1.0000000000000002, "f": 0.5, "ok": true, "raw": "AP8=", "fx": "AQI=",
		 "at": -1, "at_ms": 1764000000123, "at_ns": 1764000000123456789, "local": 5, "day": -3, "tod": 86399999, "tod_us": 1,
		 "amount": "-123456789012345678901234567.891", "tags": ["a", null, "c"], "ints": [1, -1, 300],
		 "attrs": [{"key": "k", "value": 1}, {"key": "z", "value": null}], "inner": {"ok": false, "deep": {"x": "d"}}},
		{"id": null, "n": 0, "sym": null, "px": null, "f": null, "ok": null, "raw": "", "fx": null, "at": null, "at_ms": null,
		 "at_ns": null, "local": null, "day": null, "tod": null, "tod_us": null, "amount": null,
		 "tags": null, "ints": null, "attrs": null, "inner": null},
		{"id": -9223372036854775808, "n": 2147483647, "sym": "", "px": -1.5e-300, "amount": "0.001", "tags": [], "ints": [],
		 "attrs": [], "inner": {"ok": null, "deep": {"x": ""}}},
		{"id": 9223372036854775807, "n": -2147483648, "amount": "-0.001"},
		{"n": 1, "amount": "127.000"},
		{"n": 1, "amount": "-128.000"}
	]`)
	defer src.Release()
	schema, err := AvroSchema(st, AvroRecordName("trades.v1-value"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(schema, `"name":"trades_v1_value"`) {
		t.Fatalf("top record name: %s", schema)
	}
	dec, err := avrodec.New(avrodec.Options{Schema: schema})
	if err != nil {
		t.Fatalf("the derived schema does not parse: %v\n%s", err, schema)
	}
	if !arrow.TypeEqual(dec.Type(), st) {
		t.Fatalf("the derived schema reads back as\n %s\nwant\n %s", dec.Type(), st)
	}
	roundTrip(t, src, dec, func(i int) ([]byte, error) { return AppendAvro(nil, src, i) })
}

func TestAvroSchemaErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		dt   arrow.DataType
		want string
	}{
		{"bad field name", arrow.StructOf(arrow.Field{Name: "a-b", Type: arrow.PrimitiveTypes.Int32}), `field "a-b"`},
		{"nanosecond time", arrow.StructOf(arrow.Field{Name: "t", Type: arrow.FixedWidthTypes.Time64ns}), "field t: Avro has no nanosecond time"},
		{"map keys", arrow.MapOf(arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int32), "Avro map keys are strings"},
		{"interval", arrow.FixedWidthTypes.MonthInterval, "no Avro form for month_interval"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := AvroSchema(c.dt, "r")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func TestAvroRowErrors(t *testing.T) {
	st := arrow.StructOf(arrow.Field{Name: "u", Type: arrow.PrimitiveTypes.Uint64},
		arrow.Field{Name: "s", Type: arrow.BinaryTypes.String})
	src := buildStruct(t, st, `[{"u": 1, "s": "a"}, {"u": 18446744073709551615, "s": "b"}, {"u": 2, "s": null}]`)
	defer src.Release()
	if _, err := AppendAvro(nil, src, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := AppendAvro(nil, src, 1); err == nil || !strings.Contains(err.Error(), "field u: 18446744073709551615 does not fit Avro's long") {
		t.Fatalf("uint64 overflow: %v", err)
	}
	if _, err := AppendAvro(nil, src, 2); err == nil || !strings.Contains(err.Error(), "field s: null, but not nullable in the schema") {
		t.Fatalf("null in a non-nullable field: %v", err)
	}
}

func TestTwosComplement(t *testing.T) {
	for _, c := range []struct {
		v    int64
		want []byte
	}{{0, []byte{0}}, {1, []byte{1}}, {127, []byte{0x7f}}, {128, []byte{0, 0x80}}, {-1, []byte{0xff}},
		{-128, []byte{0x80}}, {-129, []byte{0xff, 0x7f}}, {255, []byte{0, 0xff}}, {-256, []byte{0xff, 0x00}}} {
		if got := twosComplement(bigInt(c.v)); string(got) != string(c.want) {
			t.Errorf("%d: % x, want % x", c.v, got, c.want)
		}
	}
}

func bigInt(v int64) *big.Int { return big.NewInt(v) }

// Narrow decimals are written as the same Avro decimal; Avro readers give
// them back as decimal128 with the same digits.
func TestAvroNarrowDecimals(t *testing.T) {
	for _, dt := range []arrow.DataType{&arrow.Decimal32Type{Precision: 9, Scale: 2}, &arrow.Decimal64Type{Precision: 18, Scale: 2}} {
		st := arrow.StructOf(arrow.Field{Name: "d", Type: dt})
		src := buildStruct(t, st, `[{"d": "0.00"}, {"d": "-0.01"}, {"d": "1.27"}, {"d": "-1.28"}, {"d": "-1234567.89"}, {"d": "9999999.99"}]`)
		schema, err := AvroSchema(st, "r")
		if err != nil {
			t.Fatal(err)
		}
		dec, err := avrodec.New(avrodec.Options{Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		b := array.NewStructBuilder(memory.DefaultAllocator, dec.Type())
		for i := 0; i < src.Len(); i++ {
			datum, err := AppendAvro(nil, src, i)
			if err != nil {
				t.Fatal(err)
			}
			if err := dec.Append(b, datum); err != nil {
				t.Fatalf("%s row %d: %v", dt, i, err)
			}
		}
		got := b.NewStructArray()
		for i := 0; i < src.Len(); i++ {
			if g, w := got.Field(0).ValueStr(i), src.Field(0).ValueStr(i); g != w {
				t.Errorf("%s row %d: %s, want %s", dt, i, g, w)
			}
		}
		got.Release()
		b.Release()
		src.Release()
	}
}
