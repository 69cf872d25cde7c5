package avrodec

import (
	"math/big"
	"strings"
	"testing"
	"time"
)

// TestTypes decodes one value of each Avro type and logical type (the
// only field of a record) and checks the Arrow type and the value.
func TestTypes(t *testing.T) {
	ts := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)
	tests := []struct {
		name     string
		typ      string // Avro type of field f0
		value    any    // as twmb/avro encodes it
		wantType string // Arrow type of f0
		want     string // JSON of f0
	}{
		{"null", `"null"`, nil, "null", `null`},
		{"boolean", `"boolean"`, true, "bool", `true`},
		{"int", `"int"`, int32(-5), "int32", `-5`},
		{"int max", `"int"`, int32(2147483647), "int32", `2147483647`},
		{"long", `"long"`, int64(-1) << 62, "int64", `-4611686018427387904`},
		{"float", `"float"`, float32(1.5), "float32", `1.5`},
		{"double", `"double"`, 2.25, "float64", `2.25`},
		{"string", `"string"`, "héllo", "utf8", `"héllo"`},
		{"empty string", `"string"`, "", "utf8", `""`},
		{"bytes", `"bytes"`, []byte{0, 1, 255}, "binary", `"AAH/"`},
		{"fixed", `{"type":"fixed","name":"F3","size":3}`, []byte("abc"), "fixed_size_binary[3]", `"YWJj"`},
		{"enum", `{"type":"enum","name":"E","symbols":["A","B","C"]}`, "C", "utf8", `"C"`},
		{"array", `{"type":"array","items":"int"}`, []any{int32(1), int32(2)}, "list<item: int32>", `[1,2]`},
		{"empty array", `{"type":"array","items":"int"}`, []any{}, "list<item: int32>", `[]`},
		{"array of nullable", `{"type":"array","items":["null","string"]}`, []any{nil, "x"}, "list<item: utf8, nullable>", `[null,"x"]`},
		{"map", `{"type":"map","values":"long"}`, map[string]any{"k": int64(3)}, "map<utf8, int64, items_non_nullable>", `[{"key":"k","value":3}]`},
		{"map of nullable", `{"type":"map","values":["null","long"]}`, map[string]any{"k": nil}, "map<utf8, int64, items_nullable>", `[{"key":"k","value":null}]`},
		{"record", `{"type":"record","name":"In","fields":[{"name":"a","type":"int"},{"name":"b","type":"string"}]}`,
			map[string]any{"a": int32(1), "b": "x"}, "struct<a: int32, b: utf8>", `{"a":1,"b":"x"}`},
		{"empty record", `{"type":"record","name":"Empty","fields":[]}`, map[string]any{}, "struct<>", `{}`},
		{"array of empty records", `{"type":"array","items":{"type":"record","name":"Empty","fields":[]}}`, []any{map[string]any{}, map[string]any{}}, "list<item: struct<>>", `[{},{}]`},
		{"nested nullable record", `["null",{"type":"record","name":"In","fields":[{"name":"a","type":["null","int"]},{"name":"m","type":{"type":"map","values":"string"}}]}]`,
			map[string]any{"a": nil, "m": map[string]any{"x": "y"}}, "struct<a: int32 nullable, m: map<utf8, utf8, items_non_nullable>>", `{"a":null,"m":[{"key":"x","value":"y"}]}`},
		{"null first union, null", `["null","string"]`, nil, "utf8", `null`},
		{"null first union, value", `["null","string"]`, "v", "utf8", `"v"`},
		{"null last union", `["string","null"]`, "v", "utf8", `"v"`},
		{"single branch union", `["int"]`, int32(4), "int32", `4`},
		{"null-only union", `["null"]`, nil, "null", `null`},
		{"multi union, int", `["null","int","string"]`, int32(3), "struct<int: int32 nullable, string: utf8 nullable>", `{"int":3,"string":null}`},
		{"multi union, string", `["null","int","string"]`, "s", "struct<int: int32 nullable, string: utf8 nullable>", `{"int":null,"string":"s"}`},
		{"multi union, null", `["null","int","string"]`, nil, "struct<int: int32 nullable, string: utf8 nullable>", `null`},
		{"multi union of records", `[{"type":"record","name":"A","fields":[{"name":"x","type":"int"}]},{"type":"record","name":"B","fields":[{"name":"y","type":"string"}]}]`,
			map[string]any{"B": map[string]any{"y": "z"}}, "struct<A: struct<x: int32> nullable, B: struct<y: utf8> nullable>", `{"A":null,"B":{"y":"z"}}`},
		{"union branches with the same short name", `[{"type":"record","name":"a.X","fields":[{"name":"p","type":"int"}]},{"type":"record","name":"b.X","fields":[{"name":"q","type":"int"}]}]`,
			map[string]any{"b.X": map[string]any{"q": int32(2)}}, "struct<a.X: struct<p: int32> nullable, b.X: struct<q: int32> nullable>", `{"a.X":null,"b.X":{"q":2}}`},
		{"date", `{"type":"int","logicalType":"date"}`, int32(20000), "date32", `"2024-10-04"`},
		{"time-millis", `{"type":"int","logicalType":"time-millis"}`, int32(3_723_004), "time32[ms]", `"01:02:03.004"`},
		{"time-micros", `{"type":"long","logicalType":"time-micros"}`, int64(3_723_000_005), "time64[us]", `"01:02:03.000005"`},
		{"timestamp-millis", `{"type":"long","logicalType":"timestamp-millis"}`, ts.UnixMilli(), "timestamp[ms, tz=UTC]", `"2026-03-04T05:06:07.123Z"`},
		{"timestamp-micros", `{"type":"long","logicalType":"timestamp-micros"}`, ts.UnixMicro(), "timestamp[us, tz=UTC]", `"2026-03-04T05:06:07.123456Z"`},
		{"timestamp-nanos", `{"type":"long","logicalType":"timestamp-nanos"}`, ts.UnixNano(), "timestamp[ns, tz=UTC]", `"2026-03-04T05:06:07.123456789Z"`},
		{"local-timestamp-millis", `{"type":"long","logicalType":"local-timestamp-millis"}`, ts.UnixMilli(), "timestamp[ms]", `"2026-03-04T05:06:07.123"`},
		{"local-timestamp-micros", `{"type":"long","logicalType":"local-timestamp-micros"}`, ts.UnixMicro(), "timestamp[us]", `"2026-03-04T05:06:07.123456"`},
		{"local-timestamp-nanos", `{"type":"long","logicalType":"local-timestamp-nanos"}`, ts.UnixNano(), "timestamp[ns]", `"2026-03-04T05:06:07.123456789"`},
		{"timestamp before the epoch", `{"type":"long","logicalType":"timestamp-millis"}`, int64(-1), "timestamp[ms, tz=UTC]", `"1969-12-31T23:59:59.999Z"`},
		{"decimal bytes", `{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}`, big.NewRat(-12345, 100), "decimal(9, 2)", `"-123.45"`},
		{"decimal bytes positive", `{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}`, big.NewRat(9999999, 100), "decimal(9, 2)", `"99999.99"`},
		{"decimal fixed", `{"type":"fixed","name":"D","size":8,"logicalType":"decimal","precision":18,"scale":3}`, big.NewRat(1234567, 1000), "decimal(18, 3)", `"1234.567"`},
		{"decimal 38 digits", `{"type":"bytes","logicalType":"decimal","precision":38,"scale":0}`, new(big.Rat).SetInt(mustBig("-99999999999999999999999999999999999999")), "decimal(38, 0)", `"-99999999999999999999999999999999999999"`},
		{"decimal256", `{"type":"bytes","logicalType":"decimal","precision":40,"scale":1}`, new(big.Rat).SetFrac(mustBig("1234567890123456789012345678901234567891"), big.NewInt(10)), "decimal256(40, 1)", `"123456789012345678901234567890123456789.1"`},
		{"uuid string", `{"type":"string","logicalType":"uuid"}`, "0f8fad5b-d9cb-469f-a165-70867728950e", "utf8", `"0f8fad5b-d9cb-469f-a165-70867728950e"`},
		{"uuid fixed", `{"type":"fixed","name":"U","size":16,"logicalType":"uuid"}`, []byte{0x0f, 0x8f, 0xad, 0x5b, 0xd9, 0xcb, 0x46, 0x9f, 0xa1, 0x65, 0x70, 0x86, 0x77, 0x28, 0x95, 0x0e}, "utf8", `"0f8fad5b-d9cb-469f-a165-70867728950e"`},
		{"duration stays fixed", `{"type":"fixed","name":"Dur","size":12,"logicalType":"duration"}`, make([]byte, 12), "fixed_size_binary[12]", `"AAAAAAAAAAAAAAAA"`},
		{"invalid logical type ignored", `{"type":"int","logicalType":"timestamp-millis"}`, int32(7), "int32", `7`},
		{"unknown logical type ignored", `{"type":"string","logicalType":"ip-address"}`, "1.2.3.4", "utf8", `"1.2.3.4"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			schema := record(tt.typ)
			d, err := New(Options{Schema: schema})
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Type().Field(0).Type.String(); got != tt.wantType {
				t.Errorf("type %s, want %s", got, tt.wantType)
			}
			b := newBuilder(d)
			defer b.Release()
			if err := d.Append(b, encode(t, schema, map[string]any{"f0": tt.value})); err != nil {
				t.Fatal(err)
			}
			if got, want := rowsJSON(t, b), `[{"f0":`+tt.want+`}]`; got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

func mustBig(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return n
}

// TestNullability: a field is nullable exactly when its union has a null
// branch.
func TestNullability(t *testing.T) {
	d, err := New(Options{Schema: record(`"int"`, `["null","int"]`, `["int","null"]`, `["int","string"]`, `["null","int","string"]`, `"null"`)})
	if err != nil {
		t.Fatal(err)
	}
	want := []bool{false, true, true, false, true, true}
	for i, w := range want {
		if got := d.Type().Field(i).Nullable; got != w {
			t.Errorf("field %d (%s): nullable %v, want %v", i, d.Type().Field(i).Type, got, w)
		}
	}
}

// TestTopLevelNotRecord: a reader schema that is not a record gives rows
// of one field "value".
func TestTopLevelNotRecord(t *testing.T) {
	tests := []struct {
		schema   string
		value    any
		wantType string
		want     string
	}{
		{`"string"`, "key-1", "struct<value: utf8>", `[{"value":"key-1"}]`},
		{`"long"`, int64(42), "struct<value: int64>", `[{"value":42}]`},
		{`["null","string"]`, nil, "struct<value: utf8 nullable>", `[{"value":null}]`},
		{`{"type":"array","items":"int"}`, []any{int32(1)}, "struct<value: list<item: int32>>", `[{"value":[1]}]`},
	}
	for _, tt := range tests {
		t.Run(tt.schema, func(t *testing.T) {
			d, err := New(Options{Schema: tt.schema})
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Type().String(); got != tt.wantType {
				t.Errorf("type %s, want %s", got, tt.wantType)
			}
			b := newBuilder(d)
			defer b.Release()
			if err := d.Append(b, encode(t, tt.schema, tt.value)); err != nil {
				t.Fatal(err)
			}
			if got := rowsJSON(t, b); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// TestNewErrors: schemas New refuses, with what the error must name.
func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"recursive", Options{Schema: `{"type":"record","name":"Node","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","Node"]}]}`}, "recursive schema: Node"},
		{"recursive through array", Options{Schema: `{"type":"record","name":"T","namespace":"n","fields":[{"name":"kids","type":{"type":"array","items":"T"}}]}`}, "recursive schema: n.T contains itself (at kids[])"},
		{"bad json", Options{Schema: `{"type":`}, "reader schema"},
		{"unknown type", Options{Schema: record(`"Nope"`)}, "Nope"},
		{"no schema", Options{}, "no reader schema"},
		{"schema and subject", Options{Schema: `"int"`, Subject: "s", Registry: newRegistry()}, "not both"},
		{"confluent without registry", Options{Schema: `"int"`, Framing: Confluent}, "needs a Registry"},
		{"decimal too wide", Options{Schema: record(`{"type":"bytes","logicalType":"decimal","precision":77,"scale":0}`)}, "decimal precision 77"},
		{"raw writer unreadable", Options{Schema: record(`"int"`), WriterSchema: record(`"string"`)}, "f0: writer type string cannot be read as int"},
		{"unknown subject", Options{Subject: "nope", Registry: newRegistry()}, `subject "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
