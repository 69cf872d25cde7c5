package prefetch

import (
	"testing"
	"unsafe"
)

// A prefetch has no effect a program can see, so this checks the lines the
// assembly walks: every line of the range, once, whatever its alignment.
func TestLines(t *testing.T) {
	buf := make([]byte, 8192)
	base := 64 - int(uintptr(unsafe.Pointer(&buf[0]))%64) // first line boundary
	for _, c := range []struct {
		off, n, want int
	}{
		{0, 1, 1},
		{0, 64, 1},
		{0, 65, 2},
		{63, 1, 1},
		{63, 2, 2},
		{1, 64, 2},
		{1, 127, 2},
		{1, 128, 3},
		{10, 1000, 16},
		{0, 4096, 64},
	} {
		if got := lines(&buf[base+c.off], c.n); got != c.want {
			t.Errorf("lines(line+%d, %d) = %d, want %d", c.off, c.n, got, c.want)
		}
	}
}

func TestRange(t *testing.T) {
	buf := make([]byte, 4096)
	Range(nil)
	Range(buf[:0])
	Range(buf[4095:])
	Range(buf) // capped at maxBytes: must return promptly
}
