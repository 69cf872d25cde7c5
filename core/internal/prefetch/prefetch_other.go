//go:build !amd64 && !arm64

package prefetch

import "unsafe"

// lines is a no-op where there is no assembly for it; it returns the
// count the others would, for the tests.
func lines(p *byte, n int) int {
	first := uintptr(unsafe.Pointer(p)) &^ 63
	last := (uintptr(unsafe.Pointer(p)) + uintptr(n) - 1) &^ 63
	return int((last-first)/64) + 1
}
