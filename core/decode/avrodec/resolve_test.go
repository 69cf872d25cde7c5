package avrodec

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/kafkars/kafkars/core/decode"
)

// TestResolution writes a value with one schema (registered as id 1),
// reads it with another and checks the row or the malformed error.
func TestResolution(t *testing.T) {
	inner := `{"type":"record","name":"In","fields":[{"name":"a","type":"int"},{"name":"b","type":{"type":"array","items":"string"}}]}`
	tests := []struct {
		name           string
		writer, reader string
		value          any
		want           string // JSON of the row, or
		wantErr        string // part of a malformed error
	}{
		{
			name:   "added fields take their defaults",
			writer: `{"type":"record","name":"R","fields":[{"name":"id","type":"long"}]}`,
			reader: `{"type":"record","name":"R","fields":[{"name":"id","type":"long"},
				{"name":"i","type":"int","default":7},
				{"name":"s","type":"string","default":"dflt"},
				{"name":"n","type":["null","string"],"default":null},
				{"name":"d","type":"double","default":1.5},
				{"name":"b","type":"bytes","default":"\u0001\u00ff"},
				{"name":"f","type":{"type":"fixed","name":"F2","size":2},"default":"ab"},
				{"name":"e","type":{"type":"enum","name":"E","symbols":["X","Y"]},"default":"Y"},
				{"name":"arr","type":{"type":"array","items":"int"},"default":[1,2]},
				{"name":"m","type":{"type":"map","values":"string"},"default":{"k":"v"}},
				{"name":"r","type":{"type":"record","name":"Sub","fields":[{"name":"x","type":"int"},{"name":"y","type":"string","default":"why"}]},"default":{"x":3}},
				{"name":"u","type":["int","string"],"default":5},
				{"name":"dec","type":{"type":"bytes","logicalType":"decimal","precision":4,"scale":1},"default":"\u0000\u007b"}]}`,
			value: map[string]any{"id": int64(1)},
			want:  `[{"arr":[1,2],"b":"Af8=","d":1.5,"dec":"12.3","e":"Y","f":"YWI=","i":7,"id":1,"m":[{"key":"k","value":"v"}],"n":null,"r":{"x":3,"y":"why"},"s":"dflt","u":{"int":5,"string":null}}]`,
		},
		{
			name: "writer-only fields are skipped",
			writer: `{"type":"record","name":"R","fields":[
				{"name":"gone1","type":` + inner + `},
				{"name":"keep","type":"string"},
				{"name":"gone2","type":{"type":"map","values":{"type":"array","items":["null","double","string"]}}},
				{"name":"gone3","type":["null","In2",{"type":"fixed","name":"F5","size":5}]},
				{"name":"gone4","type":{"type":"record","name":"In2","fields":[{"name":"z","type":"float"},{"name":"t","type":"boolean"}]}},
				{"name":"last","type":"int"}]}`,
			reader: `{"type":"record","name":"R","fields":[{"name":"keep","type":"string"},{"name":"last","type":"int"}]}`,
			value: map[string]any{
				"gone1": map[string]any{"a": int32(1), "b": []any{"x", "yy"}},
				"keep":  "kept",
				"gone2": map[string]any{"m": []any{nil, 2.5, "s"}},
				"gone3": []byte("12345"),
				"gone4": map[string]any{"z": float32(1), "t": true},
				"last":  int32(9),
			},
			want: `[{"keep":"kept","last":9}]`,
		},
		{
			name:   "promotions",
			writer: record(`"int"`, `"int"`, `"int"`, `"long"`, `"long"`, `"float"`, `"string"`, `"bytes"`, `"int"`),
			reader: record(`"long"`, `"float"`, `"double"`, `"float"`, `"double"`, `"double"`, `"bytes"`, `"string"`, `{"type":"long","logicalType":"timestamp-millis"}`),
			value:  map[string]any{"f0": int32(-3), "f1": int32(16777217), "f2": int32(5), "f3": int64(-1234), "f4": int64(-7), "f5": float32(0.5), "f6": "s", "f7": []byte("héllo"), "f8": int32(1000)},
			want:   `[{"f0":-3,"f1":16777216,"f2":5,"f3":-1234,"f4":-7,"f5":0.5,"f6":"cw==","f7":"héllo","f8":"1970-01-01T00:00:01Z"}]`,
		},
		{
			name:    "bytes read as string must be UTF-8",
			writer:  record(`"bytes"`),
			reader:  record(`"string"`),
			value:   map[string]any{"f0": []byte{0xff}},
			wantErr: "f0: string is not valid UTF-8",
		},
		{
			name:   "field renamed, reader alias",
			writer: `{"type":"record","name":"R","fields":[{"name":"old_name","type":"string"},{"name":"n","type":"int"}]}`,
			reader: `{"type":"record","name":"R","fields":[{"name":"new_name","type":"string","aliases":["old_name"]},{"name":"n","type":"int"}]}`,
			value:  map[string]any{"old_name": "x", "n": int32(1)},
			want:   `[{"n":1,"new_name":"x"}]`,
		},
		{
			name:   "record renamed, reader type alias",
			writer: `{"type":"record","name":"old.Thing","fields":[{"name":"n","type":"int"}]}`,
			reader: `{"type":"record","name":"Item","namespace":"new","aliases":["old.Thing"],"fields":[{"name":"n","type":"int"}]}`,
			value:  map[string]any{"n": int32(2)},
			want:   `[{"n":2}]`,
		},
		{
			name:   "namespace changed, same unqualified name",
			writer: `{"type":"record","name":"a.Trade","fields":[{"name":"s","type":{"type":"enum","name":"Side","symbols":["B","S"]}}]}`,
			reader: `{"type":"record","name":"b.Trade","fields":[{"name":"s","type":{"type":"enum","name":"Side","symbols":["B","S"]}}]}`,
			value:  map[string]any{"s": "S"},
			want:   `[{"s":"S"}]`,
		},
		{
			name:   "fields reordered",
			writer: `{"type":"record","name":"R","fields":[{"name":"c","type":{"type":"array","items":"string"}},{"name":"x","type":"string"},{"name":"b","type":"int"},{"name":"a","type":"long"}]}`,
			reader: `{"type":"record","name":"R","fields":[{"name":"a","type":"long"},{"name":"d","type":"int","default":4},{"name":"b","type":"long"},{"name":"c","type":{"type":"array","items":"string"}}]}`,
			value:  map[string]any{"a": int64(1), "b": int32(2), "c": []any{"p", "q"}, "x": "skip"},
			want:   `[{"a":1,"b":2,"c":["p","q"],"d":4}]`,
		},
		{
			name:   "enum symbol added by the writer, reader default",
			writer: record(`{"type":"enum","name":"E","symbols":["A","B","NEW"]}`),
			reader: record(`{"type":"enum","name":"E","symbols":["B","A","UNKNOWN"],"default":"UNKNOWN"}`),
			value:  map[string]any{"f0": "NEW"},
			want:   `[{"f0":"UNKNOWN"}]`,
		},
		{
			name:   "enum symbols reordered",
			writer: record(`{"type":"enum","name":"E","symbols":["A","B"]}`),
			reader: record(`{"type":"enum","name":"E","symbols":["B","A"]}`),
			value:  map[string]any{"f0": "A"},
			want:   `[{"f0":"A"}]`,
		},
		{
			name:    "unknown enum symbol, no reader default",
			writer:  record(`{"type":"enum","name":"E","symbols":["A","NEW"]}`),
			reader:  record(`{"type":"enum","name":"E","symbols":["A"]}`),
			value:   map[string]any{"f0": "NEW"},
			wantErr: `f0: enum symbol "NEW" is not in the reader's enum`,
		},
		{
			name:   "known symbol of an evolved enum without default",
			writer: record(`{"type":"enum","name":"E","symbols":["A","NEW"]}`),
			reader: record(`{"type":"enum","name":"E","symbols":["A"]}`),
			value:  map[string]any{"f0": "A"},
			want:   `[{"f0":"A"}]`,
		},
		{
			name:   "non-union written, union read",
			writer: record(`"int"`, `"string"`),
			reader: record(`["null","long"]`, `["null","int","string"]`),
			value:  map[string]any{"f0": int32(5), "f1": "s"},
			want:   `[{"f0":5,"f1":{"int":null,"string":"s"}}]`,
		},
		{
			name:   "union written, non-union read",
			writer: record(`["null","int"]`),
			reader: record(`"long"`),
			value:  map[string]any{"f0": int32(5)},
			want:   `[{"f0":5}]`,
		},
		{
			name:    "union written null, non-nullable read",
			writer:  record(`["null","int"]`),
			reader:  record(`"long"`),
			value:   map[string]any{"f0": nil},
			wantErr: "f0: writer union branch 0 (null)",
		},
		{
			name:   "union to union, branches remapped",
			writer: record(`["string","int","null"]`, `["string","int","null"]`, `["string","int","null"]`),
			reader: record(`["null","long","string"]`, `["null","long","string"]`, `["null","long","string"]`),
			value:  map[string]any{"f0": "s", "f1": int32(3), "f2": nil},
			want:   `[{"f0":{"long":null,"string":"s"},"f1":{"long":3,"string":null},"f2":null}]`,
		},
		{
			name:   "writer union with a branch the reader lacks, other branch used",
			writer: record(`["null","int","boolean"]`),
			reader: record(`["null","int"]`),
			value:  map[string]any{"f0": int32(1)},
			want:   `[{"f0":1}]`,
		},
		{
			name:    "writer union with a branch the reader lacks, that branch used",
			writer:  record(`["null","int","boolean"]`),
			reader:  record(`["null","int"]`),
			value:   map[string]any{"f0": true},
			wantErr: "writer union branch 2 (boolean)",
		},
		{
			name:   "time units converted",
			writer: record(`{"type":"long","logicalType":"timestamp-micros"}`, `{"type":"long","logicalType":"timestamp-millis"}`, `{"type":"long","logicalType":"timestamp-micros"}`, `{"type":"int","logicalType":"time-millis"}`),
			reader: record(`{"type":"long","logicalType":"timestamp-millis"}`, `{"type":"long","logicalType":"timestamp-nanos"}`, `{"type":"long","logicalType":"timestamp-millis"}`, `{"type":"long","logicalType":"time-micros"}`),
			value:  map[string]any{"f0": int64(1_500_999), "f1": int64(2), "f2": int64(-1), "f3": int32(1)},
			want:   `[{"f0":"1970-01-01T00:00:01.5Z","f1":"1970-01-01T00:00:00.002Z","f2":"1969-12-31T23:59:59.999Z","f3":"00:00:00.001"}]`,
		},
		{
			name:    "time unit conversion overflow",
			writer:  record(`{"type":"long","logicalType":"timestamp-millis"}`),
			reader:  record(`{"type":"long","logicalType":"timestamp-nanos"}`),
			value:   map[string]any{"f0": int64(1) << 60},
			wantErr: "f0: time value 1152921504606846976 overflows",
		},
		{
			name:   "decimal precision widened",
			writer: record(`{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}`),
			reader: record(`{"type":"bytes","logicalType":"decimal","precision":40,"scale":2}`),
			value:  map[string]any{"f0": []byte{0x04, 0xd2}},
			want:   `[{"f0":"12.34"}]`,
		},
		{
			name:   "nested record evolves inside an array",
			writer: `{"type":"record","name":"R","fields":[{"name":"xs","type":{"type":"array","items":{"type":"record","name":"X","fields":[{"name":"a","type":"int"},{"name":"gone","type":"string"}]}}}]}`,
			reader: `{"type":"record","name":"R","fields":[{"name":"xs","type":{"type":"array","items":{"type":"record","name":"X","fields":[{"name":"a","type":"long"},{"name":"new","type":"boolean","default":true}]}}}]}`,
			value:  map[string]any{"xs": []any{map[string]any{"a": int32(1), "gone": "g"}, map[string]any{"a": int32(2), "gone": ""}}},
			want:   `[{"xs":[{"a":1,"new":true},{"a":2,"new":true}]}]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := newRegistry()
			reg.add(1, "", tt.writer)
			d, err := New(Options{Schema: tt.reader, Framing: Confluent, Registry: reg})
			if err != nil {
				t.Fatal(err)
			}
			b := newBuilder(d)
			defer b.Release()
			err = d.Append(b, framed(1, encode(t, tt.writer, tt.value)))
			if tt.wantErr != "" {
				if !errors.Is(err, decode.ErrMalformed) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want a malformed error containing %q", err, tt.wantErr)
				}
				if b.Len() != 0 {
					t.Fatalf("builder has %d rows after an error", b.Len())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := rowsJSON(t, b); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestUnresolvableWriter: a writer schema that cannot be read with the
// reader schema makes every record with its id malformed, naming the id
// and why; records of other ids still decode; the registry is asked once.
func TestUnresolvableWriter(t *testing.T) {
	reader := `{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"must","type":"string"}]}`
	tests := []struct {
		name, writer, why string
	}{
		{"missing field without default", `{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}`, `no field "must" and the reader's field has no default`},
		{"type mismatch", `{"type":"record","name":"R","fields":[{"name":"a","type":"string"},{"name":"must","type":"string"}]}`, "a: writer type string cannot be read as int"},
		{"narrowing", `{"type":"record","name":"R","fields":[{"name":"a","type":"long"},{"name":"must","type":"string"}]}`, "a: writer type long cannot be read as int"},
		{"record name differs", `{"type":"record","name":"Other","fields":[{"name":"a","type":"int"},{"name":"must","type":"string"}]}`, "different names"},
		{"not a record", `"string"`, "writer type string cannot be read as record R"},
		{"recursive writer", `{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"must","type":"string"},{"name":"next","type":["null","R"]}]}`, "recursive schema"},
		{"not avro", "", "a PROTOBUF schema"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := newRegistry()
			reg.add(1, "", reader)
			reg.add(2, "", tt.writer)
			if tt.writer == "" {
				reg.byID[2].Type = "PROTOBUF"
			}
			d, err := New(Options{Schema: reader, Framing: Confluent, Registry: reg})
			if err != nil {
				t.Fatal(err)
			}
			b := newBuilder(d)
			defer b.Release()
			good := framed(1, encode(t, reader, map[string]any{"a": int32(1), "must": "m"}))
			bad := framed(2, []byte{2, 2, 'x'})
			for range 3 {
				err := d.Append(b, bad)
				if !errors.Is(err, decode.ErrMalformed) || !strings.Contains(err.Error(), "schema id 2") || !strings.Contains(err.Error(), tt.why) {
					t.Fatalf("error %v, want a malformed error naming schema id 2 and containing %q", err, tt.why)
				}
				if err := d.Append(b, good); err != nil {
					t.Fatal(err)
				}
			}
			if n := reg.count("id:2"); n != 1 {
				t.Errorf("%d registry requests for id 2, want 1", n)
			}
			if b.Len() != 3 {
				t.Errorf("%d rows, want 3", b.Len())
			}
		})
	}
}

// TestDecimalScaleMismatch: decimals of different scales do not resolve.
func TestDecimalScaleMismatch(t *testing.T) {
	_, err := New(Options{
		Schema:       record(`{"type":"bytes","logicalType":"decimal","precision":9,"scale":3}`),
		WriterSchema: record(`{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}`),
	})
	if err == nil || !strings.Contains(err.Error(), "writer decimal scale 2, reader scale 3") {
		t.Fatalf("error %v", err)
	}
}

// TestRawWriterSchema: with Raw framing, WriterSchema is resolved against
// Schema.
func TestRawWriterSchema(t *testing.T) {
	writer := record(`"int"`, `"string"`)
	reader := `{"type":"record","name":"R","namespace":"t","fields":[{"name":"f0","type":"long"},{"name":"x","type":"int","default":1}]}`
	d, err := New(Options{Schema: reader, WriterSchema: writer})
	if err != nil {
		t.Fatal(err)
	}
	b := newBuilder(d)
	defer b.Release()
	if err := d.Append(b, encode(t, writer, map[string]any{"f0": int32(3), "f1": "gone"})); err != nil {
		t.Fatal(err)
	}
	if got, want := rowsJSON(t, b), `[{"f0":3,"x":1}]`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestSkipSizedBlocks: writer-only arrays and maps written in blocks with
// a negative count and a byte size (as Java's block encoders do) are
// jumped over; read arrays in that form decode.
func TestSkipSizedBlocks(t *testing.T) {
	writer := record(`{"type":"array","items":"long"}`, `{"type":"map","values":"string"}`, `"int"`)
	reader := `{"type":"record","name":"R","namespace":"t","fields":[{"name":"f0","type":{"type":"array","items":"long"}},{"name":"f2","type":"int"}]}`
	var data []byte
	// f0: a block of -2 items of 2 bytes, then a block of 1, then the end.
	data = binary.AppendVarint(data, -2)
	data = binary.AppendVarint(data, 2)
	data = binary.AppendVarint(data, 1)
	data = binary.AppendVarint(data, 2)
	data = binary.AppendVarint(data, 1)
	data = binary.AppendVarint(data, 3)
	data = append(data, 0)
	// f1 (skipped): a sized block of 1 entry whose contents are not even
	// valid (the size is trusted for skipping), then the end.
	data = binary.AppendVarint(data, -1)
	data = binary.AppendVarint(data, 3)
	data = append(data, 0xff, 0xff, 0xff, 0)
	// f2
	data = binary.AppendVarint(data, 9)
	d, err := New(Options{Schema: reader, WriterSchema: writer})
	if err != nil {
		t.Fatal(err)
	}
	b := newBuilder(d)
	defer b.Release()
	if err := d.Append(b, data); err != nil {
		t.Fatal(err)
	}
	if got, want := rowsJSON(t, b), `[{"f0":[1,2,3],"f2":9}]`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
