package produce

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/kafkars/kafkars/core/decode/avrodec"
)

// A schema as a Java service would register it: a namespace, an enum, a
// fixed, decimals in bytes and fixed, unions with null first and last,
// logical types, a named type used twice, defaults.
const orderAvro = `{"type": "record", "name": "Order", "namespace": "com.shop",
 "fields": [
  {"name": "id", "type": "long"},
  {"name": "sym", "type": "string"},
  {"name": "side", "type": {"type": "enum", "name": "Side", "symbols": ["BUY", "SELL"]}},
  {"name": "qty", "type": "int"},
  {"name": "px", "type": ["null", "double"], "default": null},
  {"name": "note", "type": ["string", "null"], "default": "none"},
  {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 20, "scale": 4}},
  {"name": "fee", "type": {"type": "fixed", "name": "Fee", "size": 6, "logicalType": "decimal", "precision": 12, "scale": 2}},
  {"name": "tag", "type": {"type": "fixed", "name": "Tag", "size": 2}},
  {"name": "at", "type": {"type": "long", "logicalType": "timestamp-micros"}},
  {"name": "day", "type": {"type": "int", "logicalType": "date"}},
  {"name": "tod", "type": {"type": "int", "logicalType": "time-millis"}},
  {"name": "legs", "type": {"type": "array", "items": {"type": "record", "name": "Leg",
     "fields": [{"name": "venue", "type": "string"}, {"name": "px", "type": "double"}]}}},
  {"name": "main", "type": ["null", "Leg"], "default": null},
  {"name": "attrs", "type": {"type": "map", "values": ["null", "long"]}},
  {"name": "flags", "type": {"type": "array", "items": "boolean"}, "default": []},
  {"name": "version", "type": "int", "default": 3}
 ]}`

func newAvroWriter(t *testing.T, schema string, dt arrow.DataType) (*AvroWriter, error) {
	t.Helper()
	node, err := avrodec.ParseWriter(schema)
	if err != nil {
		t.Fatal(err)
	}
	return NewAvroWriter(node, dt)
}

// TestAvroWriterRoundTrip: rows in the Arrow type kafkars reads the schema
// into are written and read back unchanged, sliced too.
func TestAvroWriterRoundTrip(t *testing.T) {
	dec, err := avrodec.New(avrodec.Options{Schema: orderAvro})
	if err != nil {
		t.Fatal(err)
	}
	src := buildStruct(t, dec.Type(), `[
		{"id": 1, "sym": "ACME", "side": "SELL", "qty": -5, "px": 1.5, "note": null, "amount": "-12345678.9012",
		 "fee": "-9999999999.99", "tag": "AQI=", "at": -1, "day": -3, "tod": 86399999,
		 "legs": [{"venue": "X", "px": 1}, {"venue": "", "px": -0.5}], "main": {"venue": "M", "px": 2},
		 "attrs": [{"key": "a", "value": 1}, {"key": "b", "value": null}], "flags": [true, false], "version": 7},
		{"id": -9223372036854775808, "sym": "", "side": "BUY", "qty": 2147483647, "px": null, "note": "n",
		 "amount": "0.0000", "fee": "0.01", "tag": "AAA=", "at": 1764000000123456, "day": 0, "tod": 0,
		 "legs": [], "main": null, "attrs": [], "flags": [], "version": 3}
	]`)
	defer src.Release()
	w, err := newAvroWriter(t, orderAvro, dec.Type())
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, src, dec, func(i int) ([]byte, error) { return w.Append(nil, src, i) })
	part := array.NewSlice(src, 1, 2).(*array.Struct)
	defer part.Release()
	roundTrip(t, part, dec, func(i int) ([]byte, error) { return w.Append(nil, part, i) })
}

// TestAvroWriterCoercions: other Arrow types than the decoder's own, fields
// in another order, fields left out (their defaults are written).
func TestAvroWriterCoercions(t *testing.T) {
	f := func(name string, dt arrow.DataType) arrow.Field {
		return arrow.Field{Name: name, Type: dt, Nullable: true}
	}
	leg := arrow.StructOf(f("px", arrow.PrimitiveTypes.Int32), f("venue", arrow.BinaryTypes.LargeString))
	st := arrow.StructOf(
		f("qty", arrow.PrimitiveTypes.Int64),
		f("id", arrow.PrimitiveTypes.Uint32),
		f("sym", arrow.BinaryTypes.StringView),
		f("side", &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}),
		f("px", arrow.PrimitiveTypes.Float32),
		f("amount", &arrow.Decimal64Type{Precision: 12, Scale: 4}),
		f("fee", &arrow.Decimal128Type{Precision: 5, Scale: 2}),
		f("tag", arrow.BinaryTypes.Binary),
		f("at", &arrow.TimestampType{Unit: arrow.Nanosecond}),
		f("day", arrow.FixedWidthTypes.Date64),
		f("tod", arrow.FixedWidthTypes.Time64us),
		f("legs", arrow.ListOf(leg)),
		f("attrs", arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int8)),
	)
	w, err := newAvroWriter(t, orderAvro, st)
	if err != nil {
		t.Fatal(err)
	}
	// dictionary columns cannot come from JSON: build the row by hand
	mem := memory.DefaultAllocator
	b := array.NewStructBuilder(mem, st)
	defer b.Release()
	b.Append(true)
	b.FieldBuilder(0).(*array.Int64Builder).Append(12)
	b.FieldBuilder(1).(*array.Uint32Builder).Append(4000000000)
	b.FieldBuilder(2).(*array.StringViewBuilder).Append("ACME")
	if err := b.FieldBuilder(3).(*array.BinaryDictionaryBuilder).AppendString("SELL"); err != nil {
		t.Fatal(err)
	}
	b.FieldBuilder(4).(*array.Float32Builder).Append(0.5)
	b.FieldBuilder(5).(*array.Decimal64Builder).Append(decimal.Decimal64(-15))
	b.FieldBuilder(6).(*array.Decimal128Builder).Append(decimal128.FromI64(-1))
	b.FieldBuilder(7).(*array.BinaryBuilder).Append([]byte{1, 2})
	b.FieldBuilder(8).(*array.TimestampBuilder).Append(-1) // -1 ns: floored to -1 us
	b.FieldBuilder(9).(*array.Date64Builder).Append(-1)    // the day before the epoch
	b.FieldBuilder(10).(*array.Time64Builder).Append(1999) // 1.999 ms: 1 ms
	lb := b.FieldBuilder(11).(*array.ListBuilder)
	lb.Append(true)
	lsb := lb.ValueBuilder().(*array.StructBuilder)
	lsb.Append(true)
	lsb.FieldBuilder(0).(*array.Int32Builder).Append(3)
	lsb.FieldBuilder(1).(*array.LargeStringBuilder).Append("V")
	mb := b.FieldBuilder(12).(*array.MapBuilder)
	mb.Append(true)
	mb.KeyBuilder().(*array.StringBuilder).Append("k")
	mb.ItemBuilder().(*array.Int8Builder).AppendNull()
	col := b.NewStructArray()
	defer col.Release()
	data, err := w.Append(nil, col, 0)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := avrodec.New(avrodec.Options{Schema: orderAvro})
	if err != nil {
		t.Fatal(err)
	}
	db := array.NewStructBuilder(mem, dec.Type())
	defer db.Release()
	if err := dec.Append(db, data); err != nil {
		t.Fatalf("%q does not decode: %v", data, err)
	}
	got := db.NewStructArray()
	defer got.Release()
	js, err := got.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"amount":"-0.0015","at":"1969-12-31T23:59:59.999999Z","attrs":[{"key":"k","value":null}],"day":"1969-12-31",` +
		`"fee":"-0.01","flags":[],"id":4000000000,"legs":[{"px":3,"venue":"V"}],"main":null,"note":"none","px":0.5,"qty":12,` +
		`"side":"SELL","sym":"ACME","tag":"AQI=","tod":"00:00:00.001","version":3}]`
	if strings.ReplaceAll(string(js), "\n", "") != want {
		t.Fatalf("read back\n %s\nwant\n %s", js, want)
	}
}

func TestAvroWriterPlanErrors(t *testing.T) {
	f := func(name string, dt arrow.DataType) arrow.Field {
		return arrow.Field{Name: name, Type: dt, Nullable: true}
	}
	base := []arrow.Field{f("id", arrow.PrimitiveTypes.Int64), f("sym", arrow.BinaryTypes.String), f("side", arrow.BinaryTypes.String),
		f("qty", arrow.PrimitiveTypes.Int32), f("amount", &arrow.Decimal128Type{Precision: 20, Scale: 4}),
		f("fee", &arrow.Decimal128Type{Precision: 12, Scale: 2}), f("tag", &arrow.FixedSizeBinaryType{ByteWidth: 2}),
		f("at", arrow.PrimitiveTypes.Int64), f("day", arrow.PrimitiveTypes.Int32), f("tod", arrow.PrimitiveTypes.Int32),
		f("legs", arrow.ListOf(arrow.StructOf(f("venue", arrow.BinaryTypes.String), f("px", arrow.PrimitiveTypes.Float64)))),
		f("attrs", arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64))}
	with := func(fs ...arrow.Field) arrow.DataType {
		out := append([]arrow.Field(nil), base...)
		for _, x := range fs {
			replaced := false
			for k := range out {
				if out[k].Name == x.Name {
					out[k], replaced = x, true
				}
			}
			if !replaced {
				out = append(out, x)
			}
		}
		return arrow.StructOf(out...)
	}
	without := func(name string) arrow.DataType {
		var out []arrow.Field
		for _, x := range base {
			if x.Name != name {
				out = append(out, x)
			}
		}
		return arrow.StructOf(out...)
	}
	if _, err := newAvroWriter(t, orderAvro, with()); err != nil {
		t.Fatalf("the base type: %v", err)
	}
	for _, tc := range []struct {
		name string
		dt   arrow.DataType
		want string
	}{
		{"extra field", with(f("venue", arrow.BinaryTypes.String)), `field venue: record com.shop.Order has no field "venue"; its fields are "id", "sym"`},
		{"missing without default", without("qty"), `record com.shop.Order's field "qty" has no default, and the column has no field "qty"`},
		{"string into long", with(f("id", arrow.BinaryTypes.String)), "field id: type utf8 cannot be written as Avro long: want an integer type"},
		{"int into enum", with(f("side", arrow.PrimitiveTypes.Int32)), "field side: type int32 cannot be written as Avro enum com.shop.Side: want a string type"},
		{"decimal scale", with(f("amount", &arrow.Decimal128Type{Precision: 20, Scale: 2})), "field amount: type decimal(20, 2) cannot be written as Avro bytes (decimal): want a decimal of scale 4"},
		{"fixed size", with(f("tag", &arrow.FixedSizeBinaryType{ByteWidth: 3})), "want fixed_size_binary[2] or binary of 2 bytes"},
		{"nested", with(f("legs", arrow.ListOf(arrow.StructOf(f("venue", arrow.PrimitiveTypes.Int64))))), "field legs[].venue: type int64 cannot be written as Avro string"},
		{"union without a fit", with(f("px", arrow.BinaryTypes.String)), `field px: type utf8 fits no branch of Avro union [null, double]`},
		{"map keys", with(f("attrs", arrow.MapOf(arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64))), "want a map with string keys"},
		{"not a struct", arrow.PrimitiveTypes.Int64, "the column: type int64 cannot be written as Avro record com.shop.Order: want a struct"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newAvroWriter(t, orderAvro, tc.dt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestAvroWriterRowErrors(t *testing.T) {
	f := func(name string, dt arrow.DataType) arrow.Field {
		return arrow.Field{Name: name, Type: dt, Nullable: true}
	}
	schema := `{"type": "record", "name": "R", "fields": [
		{"name": "n", "type": "int", "default": 0},
		{"name": "s", "type": {"type": "enum", "name": "E", "symbols": ["A", "B"]}, "default": "A"},
		{"name": "fx", "type": {"type": "fixed", "name": "F", "size": 2}, "default": "\u0000\u0000"},
		{"name": "d", "type": {"type": "fixed", "name": "D", "size": 1, "logicalType": "decimal", "precision": 2, "scale": 0}, "default": "\u0000"},
		{"name": "u", "type": ["null", "string"], "default": null},
		{"name": "xs", "type": {"type": "array", "items": "long"}, "default": []},
		{"name": "fl", "type": "float", "default": 0}]}`
	for _, tc := range []struct {
		name string
		st   *arrow.StructType
		row  string
		want string
	}{
		{"int overflow", arrow.StructOf(f("n", arrow.PrimitiveTypes.Int64)), `{"n": 2147483648}`, "field n: 2147483648 does not fit Avro's int"},
		{"null, no union", arrow.StructOf(f("n", arrow.PrimitiveTypes.Int64)), `{"n": null}`, "field n: null, but the schema's type here is int, not a union with null"},
		{"unknown symbol", arrow.StructOf(f("s", arrow.BinaryTypes.String)), `{"s": "C"}`, `field s: "C" is not a symbol of enum E (A, B)`},
		{"fixed length", arrow.StructOf(f("fx", arrow.BinaryTypes.Binary)), `{"fx": "AQID"}`, "field fx: 3 bytes, but the schema's fixed takes 2"},
		{"decimal too wide", arrow.StructOf(f("d", &arrow.Decimal128Type{Precision: 5, Scale: 0})), `{"d": "300"}`, "field d: 300 needs 2 bytes, but the schema's fixed holds 1"},
		{"null item", arrow.StructOf(f("xs", arrow.ListOf(arrow.PrimitiveTypes.Int64))), `{"xs": [1, null]}`, "field xs[]: null, but the schema's type here is long"},
		{"float overflow", arrow.StructOf(f("fl", arrow.PrimitiveTypes.Float64)), `{"fl": 1e300}`, "field fl: 1e+300 does not fit Avro's float"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			col := buildStruct(t, tc.st, "["+tc.row+"]")
			defer col.Release()
			w, err := newAvroWriter(t, schema, tc.st)
			if err != nil {
				t.Fatal(err)
			}
			_, err = w.Append(nil, col, 0)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
