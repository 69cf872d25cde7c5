package jsondec

import (
	"encoding/binary"
	"strconv"
	"testing"
)

func TestLeadingDigits(t *testing.T) {
	tests := []struct {
		in string
		n  int
		v  uint64
	}{
		{"12345678", 8, 12345678},
		{"00000000", 8, 0},
		{"99999999", 8, 99999999},
		{"1234567,", 7, 1234567},
		{"1,234567", 1, 1},
		{"187.23,x", 3, 187},
		{"0.05\"}xx", 1, 0},
		{"x1234567", 0, 0},
		{"/9999999", 0, 0},
		{":1111111", 0, 0},
		{"12\x0012345", 2, 12},
		{"12\xff45678", 2, 12},
		{"9\xfa\xfa\xfa\xfa\xfa\xfa", 1, 9},
		{"98 ", 2, 98},
	}
	for _, tt := range tests {
		b := append([]byte(tt.in), make([]byte, 8)...)
		n, v := leadingDigits(binary.LittleEndian.Uint64(b))
		if n != tt.n || (n > 0 && v != tt.v) {
			t.Errorf("%q: got %d digits = %d, want %d = %d", tt.in, n, v, tt.n, tt.v)
		}
	}
	// Every count of digits followed by every byte.
	for n := 0; n <= 8; n++ {
		for c := 0; c < 256; c++ {
			if c >= '0' && c <= '9' {
				continue
			}
			digits := strconv.FormatUint(98765432, 10)[:n]
			b := append([]byte(digits), byte(c), '5', '5', '5', '5', '5', '5', '5', '5')
			gn, gv := leadingDigits(binary.LittleEndian.Uint64(b))
			want, _ := strconv.ParseUint(digits, 10, 64)
			if gn != n || (n > 0 && gv != want) {
				t.Fatalf("%q: got %d digits = %d", b[:8], gn, gv)
			}
		}
	}
}

func TestPlainRun(t *testing.T) {
	isPlain := func(c byte) bool { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\' }
	// Every position of every byte, after plain bytes and before bytes of
	// all kinds (which must not matter).
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			for _, after := range []byte{0, 'a', '"', 0xff, 0x1f} {
				b := []byte("abcdefgh")
				b[pos] = byte(c)
				for k := pos + 1; k < 8; k++ {
					b[k] = after
				}
				want := 8
				for k := range b {
					if !isPlain(b[k]) {
						want = k
						break
					}
				}
				if got := plainRun(binary.LittleEndian.Uint64(b)); got != want {
					t.Fatalf("%q: got %d, want %d", b, got, want)
				}
			}
		}
	}
}
