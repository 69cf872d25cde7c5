package decode

import (
	"errors"
	"slices"
	"testing"
)

func TestSplitConfluent(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		id      int32
		payload []byte
		bad     bool
	}{
		{"framed", append(AppendConfluent(nil, 258), 'x', 'y'), 258, []byte("xy"), false},
		{"empty payload", AppendConfluent(nil, 7), 7, []byte{}, false},
		{"short", []byte{0, 0, 1}, 0, nil, true},
		{"wrong magic", []byte{1, 0, 0, 0, 1, 'x'}, 0, nil, true},
		{"nothing", nil, 0, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, p, err := SplitConfluent(tt.in)
			if tt.bad {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("want a malformed error, got %v", err)
				}
				return
			}
			if err != nil || id != tt.id || string(p) != string(tt.payload) {
				t.Fatalf("got (%d, %q, %v), want (%d, %q)", id, p, err, tt.id, tt.payload)
			}
		})
	}
}

func TestMessageIndexes(t *testing.T) {
	tests := []struct {
		name    string
		indexes []int
	}{
		{"first", []int{0}},
		{"second", []int{1}},
		{"nested", []int{2, 0, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := AppendMessageIndexes(nil, tt.indexes)
			b = append(b, 0xAA)
			got, rest, err := SplitMessageIndexes(nil, b)
			if err != nil || !slices.Equal(got, tt.indexes) || len(rest) != 1 || rest[0] != 0xAA {
				t.Fatalf("got %v rest %x err %v", got, rest, err)
			}
		})
	}
	if _, _, err := SplitMessageIndexes(nil, nil); !errors.Is(err, ErrMalformed) {
		t.Fatalf("empty: %v", err)
	}
	if _, _, err := SplitMessageIndexes(nil, []byte{0x04}); !errors.Is(err, ErrMalformed) { // count 2, no indexes
		t.Fatalf("truncated: %v", err)
	}
	if _, _, err := SplitMessageIndexes(nil, []byte{0x03}); !errors.Is(err, ErrMalformed) { // count -2
		t.Fatalf("negative count: %v", err)
	}
}
