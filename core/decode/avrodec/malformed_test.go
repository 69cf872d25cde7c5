package avrodec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/kafkars/kafkars/core/decode"
)

// cat joins byte pieces: []byte, string (raw bytes), int (a zigzag varint).
func cat(parts ...any) []byte {
	var out []byte
	for _, p := range parts {
		switch p := p.(type) {
		case []byte:
			out = append(out, p...)
		case string:
			out = append(out, p...)
		case int:
			out = binary.AppendVarint(out, int64(p))
		default:
			panic(fmt.Sprintf("cat: %T", p))
		}
	}
	return out
}

// TestMalformed: bad datums are malformed errors naming the field and the
// cause, and leave every builder as it was.
func TestMalformed(t *testing.T) {
	tests := []struct {
		name   string
		schema string // reader = writer, Raw framing
		data   []byte
		want   string
	}{
		{"empty datum", record(`"int"`), nil, "f0: datum ends inside a varint (int)"},
		{"truncated string", record(`"string"`), cat(5, "ab"), "f0: string length 5, but only 2 bytes are left"},
		{"truncated double", record(`"long"`, `"double"`), cat(1, "\x00\x00\x00"), "f1: datum ends inside a double"},
		{"truncated float", record(`"float"`), cat("\x00"), "f0: datum ends inside a float"},
		{"truncated fixed", record(`{"type":"fixed","name":"F","size":4}`), cat("abc"), "f0: datum ends inside a fixed(4)"},
		{"truncated varint", record(`"long"`), cat("\x80\x80"), "f0: datum ends inside a varint (long)"},
		{"truncated boolean", record(`"int"`, `"boolean"`), cat(1), "f1: datum ends inside a boolean"},
		{"truncated array", record(`{"type":"array","items":"int"}`), cat(2, 1, "\x80"), "f0[]: datum ends inside a varint (int)"},
		{"array without end", record(`{"type":"array","items":"int"}`), cat(1, 1), "f0: datum ends inside a varint (long)"},
		{"bytes left over", record(`"int"`), cat(1, "xyz"), "record: 3 bytes left over after the datum"},
		{"invalid UTF-8", record(`"string"`), cat(2, "\xc3\x28"), "f0: string is not valid UTF-8"},
		{"invalid UTF-8 late in a long string", record(`"string"`), cat(20, "abcdefghijklmnopqr\xff\xfe"), "f0: string is not valid UTF-8"},
		{"invalid UTF-8 ending the datum", record(`"string"`, `"string"`), cat(8, "abcdefgh", 2, "a\xff"), "f1: string is not valid UTF-8"},
		{"invalid UTF-8 map key", record(`{"type":"map","values":"int"}`), cat(1, 1, "\xff", 0, 0), "f0: map key is not valid UTF-8"},
		{"negative length", record(`"bytes"`), cat(-1), "f0: negative bytes length -1"},
		{"oversized length", record(`"string"`), cat(1_000_000, "abc"), "f0: string length 1000000, but only 3 bytes are left"},
		{"oversized array count", record(`{"type":"array","items":"long"}`), cat(1_000_000, 1, 2, 0), "f0: array block of 1000000 items, but only 3 bytes are left"},
		{"oversized count of doubles", record(`{"type":"array","items":"double"}`), cat(2, "12345678"), "f0: array block of 2 items, but only 8 bytes are left"},
		{"oversized map count", record(`{"type":"map","values":"int"}`), cat(1000, 0), "f0: map block of 1000 items, but only 1 bytes are left"},
		{"zero-byte items beyond budget", record(`{"type":"array","items":"null"}`), cat(1<<40, 0), "zero-byte items is more than a datum"},
		{"bad block size", record(`{"type":"array","items":"int"}`), cat(-1, 100, 2, 0), "f0: array block size 100 out of range"},
		{"block count min int64", record(`{"type":"array","items":"int"}`), cat("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"), "array block count -9223372036854775808 out of range"},
		{"union index out of range", record(`["null","int"]`), cat(2, 1), "f0: union branch index 2 out of range (the writer's union has 2 branches)"},
		{"negative union index", record(`["null","int"]`), cat(-1), "f0: union branch index -1 out of range"},
		{"enum index out of range", record(`{"type":"enum","name":"E","symbols":["A","B"]}`), cat(2), "f0: enum index 2 out of range (the writer's enum has 2 symbols)"},
		{"negative enum index", record(`{"type":"enum","name":"E","symbols":["A","B"]}`), cat(-1), "f0: enum index -1 out of range"},
		{"long varint overflow", record(`"long"`), cat("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f"), "f0: varint overflows a 64-bit long"},
		{"long varint too long", record(`"long"`), cat("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x81\x00"), "f0: varint overflows a 64-bit long"},
		{"int varint overflow", record(`"int"`), cat("\xff\xff\xff\xff\x1f"), "f0: varint overflows a 32-bit int"},
		{"int varint too long", record(`"int"`), cat("\x80\x80\x80\x80\x80\x00"), "f0: varint overflows a 32-bit int"},
		{"boolean not 0 or 1", record(`"boolean"`), cat("\x02"), "f0: boolean byte is 0x02, not 0 or 1"},
		{"decimal too many digits", record(`{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}`), cat(2, "\x27\x10"), "f0: decimal has more than 4 digits"},
		{"negative decimal too many digits", record(`{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}`), cat(2, "\xd8\xf0"), "f0: decimal has more than 4 digits"},
		{"decimal without bytes", record(`{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}`), cat(0), "f0: decimal has no bytes"},
		{"decimal wider than 128 bits", record(`{"type":"bytes","logicalType":"decimal","precision":38,"scale":0}`), cat(17, "\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), "f0: decimal of 17 bytes does not fit 38 digits"},
		{"decimal 16 bytes min value", record(`{"type":"bytes","logicalType":"decimal","precision":38,"scale":0}`), cat(16, "\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), "f0: decimal has more than 38 digits"},
		{"nested path", `{"type":"record","name":"R","fields":[{"name":"xs","type":{"type":"array","items":{"type":"record","name":"X","fields":[{"name":"a","type":"int"},{"name":"s","type":"string"}]}}}]}`,
			cat(2, 1, 2, "ok", 2, 2, "\xff\xff", 0), "xs[].s: string is not valid UTF-8"},
		{"map value path", record(`{"type":"map","values":{"type":"array","items":"string"}}`), cat(1, 1, "k", 1, 1, "\xff", 0, 0), "f0{}[]: string is not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := New(Options{Schema: tt.schema})
			if err != nil {
				t.Fatal(err)
			}
			checkMalformed(t, d, tt.data, tt.want)
		})
	}
}

// checkMalformed appends data to a builder holding one row (when a valid
// row can be made) and checks the error and that no builder changed.
func checkMalformed(t *testing.T, d *Decoder, data []byte, want string) {
	t.Helper()
	b := newBuilder(d)
	defer b.Release()
	b.AppendNull() // a row already there, as the engine's null-row policy leaves
	before := lengths(b)
	err := d.Append(b, data)
	if !errors.Is(err, decode.ErrMalformed) {
		t.Fatalf("error %v, want a malformed error", err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q, want it to contain %q", err, want)
	}
	if after := lengths(b); !slices.Equal(before, after) {
		t.Fatalf("builder lengths %v after the error, were %v", after, before)
	}
}

// TestMalformedFraming: Confluent framing errors and unknown schema ids.
func TestMalformedFraming(t *testing.T) {
	reg := newRegistry()
	reg.add(1, "", record(`"int"`))
	d, err := New(Options{Schema: record(`"int"`), Framing: Confluent, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"wrong magic byte", []byte{1, 0, 0, 0, 1, 2}, "magic byte is 0x01"},
		{"shorter than the framing", []byte{0, 0, 1}, "need at least 5"},
		{"unknown schema id", framed(99, []byte{2}), "schema id 99"},
		{"truncated after the framing", framed(1, nil), "avro (schema id 1): f0: datum ends inside a varint"},
		{"bytes left over, framed", framed(1, []byte{2, 2}), "avro (schema id 1): record: 1 bytes left over"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkMalformed(t, d, tt.data, tt.want) })
	}
	if n := reg.count("id:99"); n != 1 {
		t.Errorf("unknown id asked %d times, want 1 (the answer is kept)", n)
	}
}

// TestAllOrNothing: an error found late in a record, after fields of
// every kind were read, leaves every child builder as it was; the rows
// around it are intact.
func TestAllOrNothing(t *testing.T) {
	schema := `{"type":"record","name":"R","fields":[
		{"name":"s","type":"string"},
		{"name":"n","type":["null","long"]},
		{"name":"u","type":["null","int","string"]},
		{"name":"arr","type":{"type":"array","items":{"type":"record","name":"X","fields":[{"name":"a","type":"int"},{"name":"m","type":{"type":"map","values":"string"}}]}}},
		{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}},
		{"name":"dec","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}},
		{"name":"last","type":"string"}]}`
	good := map[string]any{"s": "x", "n": int64(1), "u": "v", "arr": []any{map[string]any{"a": int32(1), "m": map[string]any{"k": "v"}}}, "e": "B", "dec": []byte{1}, "last": "ok"}
	d, err := New(Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	b := newBuilder(d)
	defer b.Release()
	if err := d.Append(b, encode(t, schema, good)); err != nil {
		t.Fatal(err)
	}
	okBytes := encode(t, schema, good)
	// The same record with "last" = "ok" made invalid UTF-8: the final
	// field's bytes are its last two.
	bad := slices.Clone(okBytes)
	bad[len(bad)-1] = 0xff
	before := lengths(b)
	if err := d.Append(b, bad); !errors.Is(err, decode.ErrMalformed) || !strings.Contains(err.Error(), "last: string is not valid UTF-8") {
		t.Fatalf("error %v", err)
	}
	if after := lengths(b); !slices.Equal(before, after) {
		t.Fatalf("lengths %v after the error, were %v", after, before)
	}
	// Every prefix of the record is truncated: none may leave a trace.
	for n := range len(okBytes) {
		if err := d.Append(b, okBytes[:n]); !errors.Is(err, decode.ErrMalformed) {
			t.Fatalf("prefix of %d bytes: error %v", n, err)
		}
		if after := lengths(b); !slices.Equal(before, after) {
			t.Fatalf("prefix of %d bytes: lengths %v, were %v", n, after, before)
		}
	}
	if err := d.Append(b, okBytes); err != nil {
		t.Fatal(err)
	}
	row := `{"arr":[{"a":1,"m":[{"key":"k","value":"v"}]}],"dec":"0.01","e":"B","last":"ok","n":1,"s":"x","u":{"int":null,"string":"v"}}`
	if got, want := rowsJSON(t, b), "["+row+","+row+"]"; got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// TestBuilderOfAnotherType is an error of the caller, not of the record.
func TestBuilderOfAnotherType(t *testing.T) {
	d, err := New(Options{Schema: record(`"int"`)})
	if err != nil {
		t.Fatal(err)
	}
	other, err := New(Options{Schema: record(`"string"`)})
	if err != nil {
		t.Fatal(err)
	}
	b := newBuilder(other)
	defer b.Release()
	err = d.Append(b, []byte{2})
	if err == nil || errors.Is(err, decode.ErrMalformed) {
		t.Fatalf("error %v, want a non-malformed error", err)
	}
}

// TestRebind: a decoder follows the builder it is given, including a new
// one after the first is finished.
func TestRebind(t *testing.T) {
	schema := record(`"string"`, `{"type":"array","items":"int"}`)
	d, err := New(Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	data := encode(t, schema, map[string]any{"f0": "a", "f1": []any{int32(1)}})
	var builders []*array.StructBuilder
	for range 3 {
		b := newBuilder(d)
		defer b.Release()
		builders = append(builders, b)
	}
	for i := range 6 {
		if err := d.Append(builders[i%3], data); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range builders {
		if got, want := rowsJSON(t, b), `[{"f0":"a","f1":[1]},{"f0":"a","f1":[1]}]`; got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}
}
