// Package prefetch asks the CPU to bring memory into its caches ahead of
// use.
//
// Why: building a batch at many partitions copies each row's bytes from
// the queue of a different partition than the row before. The CPU's own
// prefetchers follow a few sequential streams, not dozens, so each copy
// waits for memory: at 64 partitions the copy into the batch's columns
// was a quarter of the engine's CPU samples. Naming the bytes of a row a
// few rows ahead lets those waits overlap (the engine benchmark at 64 and
// 1 000 partitions: 5 to 10% less time per record in most alternating
// runs; docs/benchmarks.md has the series).
//
// Go has no prefetch intrinsic, so this is one instruction per cache line
// in assembly (amd64, arm64; a no-op elsewhere).
package prefetch

// Range prefetches the cache lines of b (at most the first four: a longer
// value is read sequentially, which the CPU prefetches by itself).
// Prefetching is only a hint: it never faults and changes no memory.
func Range(b []byte) {
	if len(b) == 0 {
		return
	}
	lines(&b[0], min(len(b), maxBytes))
}

// maxBytes: Range prefetches at most this many bytes' lines.
const maxBytes = 4 * 64
