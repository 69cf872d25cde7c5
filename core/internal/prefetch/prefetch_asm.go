//go:build amd64 || arm64

package prefetch

// lines prefetches the cache lines of p[:n] (n > 0) and returns how many.
//
//go:noescape
func lines(p *byte, n int) int
