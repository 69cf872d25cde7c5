package avrodec

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestEncodeDefault: defaults are encoded in Avro binary from the Go
// values the schema parser gives, and from looser spellings (JSON numbers,
// Avro's code-point strings for bytes).
func TestEncodeDefault(t *testing.T) {
	fixed2 := &snode{kind: kFixed, size: 2}
	tests := []struct {
		name string
		s    *snode
		v    any
		want []byte
		bad  bool
	}{
		{"int from int32", &snode{kind: kInt}, int32(-1), []byte{1}, false},
		{"int from json number", &snode{kind: kInt}, json.Number("2"), []byte{4}, false},
		{"int from whole float", &snode{kind: kInt}, 3.0, []byte{6}, false},
		{"int from fraction", &snode{kind: kInt}, 3.5, nil, true},
		{"int out of range", &snode{kind: kInt}, int64(1) << 40, nil, true},
		{"long from int", &snode{kind: kLong}, 64, []byte{0x80, 1}, false},
		{"float from int64", &snode{kind: kFloat}, int64(1), []byte{0, 0, 0x80, 0x3f}, false},
		{"double from json number", &snode{kind: kDouble}, json.Number("0.5"), []byte{0, 0, 0, 0, 0, 0, 0xe0, 0x3f}, false},
		{"bytes from code points", &snode{kind: kBytes}, "\u00ff\u0001", []byte{4, 0xff, 1}, false},
		{"bytes above 255", &snode{kind: kBytes}, "\u0100", nil, true},
		{"fixed of the wrong size", fixed2, []byte{1}, nil, true},
		{"boolean", &snode{kind: kBoolean}, false, []byte{0}, false},
		{"string of a number", &snode{kind: kString}, 1, nil, true},
		{"enum not a symbol", &snode{kind: kEnum, symbols: []string{"A"}}, "B", nil, true},
		{"null not nil", &snode{kind: kNull}, 0, nil, true},
		{"union, second branch by Go type", &snode{kind: kUnion, branches: []*snode{{kind: kNull}, {kind: kLong}}}, int64(1), []byte{2, 2}, false},
		{"union, loose match", &snode{kind: kUnion, branches: []*snode{{kind: kString}, {kind: kDouble}}}, json.Number("1"), []byte{2, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f}, false},
		{"union, no branch", &snode{kind: kUnion, branches: []*snode{{kind: kNull}, {kind: kInt}}}, "x", nil, true},
		{"record missing a field without default", &snode{kind: kRecord, fields: []sfield{{name: "a", typ: &snode{kind: kInt}}}}, map[string]any{}, nil, true},
		{"map keys sorted", &snode{kind: kMap, values: &snode{kind: kBoolean}}, map[string]any{"b": true, "a": false}, []byte{4, 2, 'a', 0, 2, 'b', 1, 0}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := encodeDefault(nil, tt.s, tt.v)
			if tt.bad {
				if err == nil {
					t.Fatalf("encoded %x, want an error", got)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tt.want) {
				t.Fatalf("got %x (%v), want %x", got, err, tt.want)
			}
		})
	}
}

func TestFramingString(t *testing.T) {
	for f, want := range map[Framing]string{Raw: "raw", Confluent: "confluent", 7: "Framing(7)"} {
		if got := f.String(); got != want {
			t.Errorf("%d: %q, want %q", int(f), got, want)
		}
	}
}

// TestShortASCII: the one-load ASCII check, from the start of a string or
// back from its end, never calls non-ASCII ASCII.
func TestShortASCII(t *testing.T) {
	tests := []struct {
		src        string
		start, end int
		want       bool
	}{
		{"abcdefghij", 0, 8, true},
		{"abcdefghij", 2, 2, true}, // empty
		{"abc\xe9efghij", 0, 8, false},
		{"abc\xe9efghij", 0, 3, true}, // the é is past the end
		{"abcdefgh\xff", 8, 9, false}, // ends the datum: loaded back from the end
		{"abcdefghé", 8, 10, false},
		{"abcdefghij", 8, 10, true},
		{"abcdefghijklmnop", 0, 9, false}, // longer than 8: look closer
		{"ab", 0, 2, false},               // fewer than 8 bytes in all: look closer
	}
	for _, tt := range tests {
		if got := shortASCII([]byte(tt.src), tt.start, tt.end); got != tt.want {
			t.Errorf("shortASCII(%q, %d, %d) = %v, want %v", tt.src, tt.start, tt.end, got, tt.want)
		}
	}
}
