package jsondec

import (
	"encoding/binary"
	"strconv"
	"testing"
)

func TestSWARDigits(t *testing.T) {
	for _, n := range []uint64{0, 1, 12345678, 99999999, 10000000, 87654321, 1234} {
		s := []byte(strconv.FormatUint(n+100000000, 10)[1:])
		w := binary.LittleEndian.Uint64(s)
		if !eightDigits(w) || parseEight(w) != n {
			t.Errorf("%s: %v %d", s, eightDigits(w), parseEight(w))
		}
	}
	for _, s := range []string{"1234567a", "/1234567", ":1234567", "1234 678", "12345.78", "\x8012345678"} {
		if eightDigits(binary.LittleEndian.Uint64([]byte(s))) {
			t.Errorf("%q taken for digits", s)
		}
	}
}
