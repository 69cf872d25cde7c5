// Package cmem is the C-heap memory.Allocator used for every Arrow buffer
// kafkars hands out.
//
// Why C memory: batches cross the C Data Interface into pyarrow and live
// there long after the Go call returns; Go memory would be moved or
// collected under them (docs/design.md, "Memory across the C ABI"). Why not arrow-go's mallocator: it
// zeroes every allocation (calloc) and records each one in a sync.Map;
// the batch builder overwrites every byte it hands out, so plain aligned
// malloc is enough, and the live-bytes counter below lets tests check that
// pyarrow's release callbacks really free what we allocated.
//
// Large blocks (>= 64 KiB) are rounded up to a size class and, when freed,
// kept in a small cache (at most cacheLimit bytes) for the next batch: with
// glibc's mmap threshold fixed (see core/internal/rdk.FixMmapThreshold) every large
// block would otherwise be a fresh mmap whose pages the kernel faults in
// and zeroes, batch after batch (measured: a third of the CPU of a replay
// of 1 KiB records).
package cmem

/*
#include <stdlib.h>

static void *cmem_alloc(size_t n) {
	void *p = NULL;
	if (n == 0) n = 1;
	if (posix_memalign(&p, 64, n) != 0) return NULL;
	return p;
}
*/
import "C"

import (
	"sync"
	"sync/atomic"
	"unsafe"
)

const (
	largeBlock = 64 << 10
	cacheLimit = 48 << 20 // bytes kept for reuse, all classes together
	// Blocks kept per size class: at least minPerClass, and as many as fit
	// in classBytes. Binary view batches point into the merge queue's
	// chunks (up to 256 KiB each) and free them when pyarrow releases the
	// batch, dozens per batch; the next chunks should reuse those pages.
	minPerClass = 4
	classBytes  = 16 << 20
)

// perClass is how many freed blocks of size class n are kept.
func perClass(n int) int { return max(minPerClass, classBytes/n) }

// Allocator implements memory.Allocator on the C heap, 64-byte aligned.
// Memory is not zeroed.
type Allocator struct {
	live   atomic.Int64 // bytes allocated and not freed (cached blocks excluded)
	allocs atomic.Int64 // allocations not freed

	mu     sync.Mutex
	cache  map[int][]unsafe.Pointer // size class -> free blocks
	cached int64                    // bytes in cache
}

// Default is the process-wide allocator for batches; its counters are
// exported through the C ABI's debug counters.
var Default = &Allocator{}

// class rounds a large size up: powers of two up to 1 MiB, then whole MiB.
func class(n int) int {
	if n < largeBlock {
		return n
	}
	if n <= 1<<20 {
		c := largeBlock
		for c < n {
			c <<= 1
		}
		return c
	}
	return (n + (1<<20 - 1)) &^ (1<<20 - 1)
}

// Allocate returns size bytes of C memory.
func (a *Allocator) Allocate(size int) []byte {
	if size < 0 {
		panic("cmem: negative size")
	}
	n := class(size)
	if n == 0 {
		n = 1 // keep a capacity so that Free can find the pointer
	}
	var p unsafe.Pointer
	if n >= largeBlock {
		a.mu.Lock()
		if blocks := a.cache[n]; len(blocks) > 0 {
			p = blocks[len(blocks)-1]
			a.cache[n] = blocks[:len(blocks)-1]
			a.cached -= int64(n)
		}
		a.mu.Unlock()
	}
	if p == nil {
		p = C.cmem_alloc(C.size_t(n))
		if p == nil {
			panic("cmem: out of memory")
		}
	}
	a.live.Add(int64(n))
	a.allocs.Add(1)
	return unsafe.Slice((*byte)(p), n)[:size]
}

// Reallocate grows or shrinks b to size bytes.
func (a *Allocator) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) {
		return b[:size]
	}
	nb := a.Allocate(size)
	copy(nb, b)
	a.Free(b)
	return nb
}

// Free releases memory returned by Allocate or Reallocate.
func (a *Allocator) Free(b []byte) {
	n := cap(b)
	if n == 0 {
		return // not ours: every Allocate has a capacity
	}
	p := unsafe.Pointer(unsafe.SliceData(b[:n]))
	a.live.Add(-int64(n))
	a.allocs.Add(-1)
	if n >= largeBlock && n == class(n) {
		a.mu.Lock()
		if a.cache == nil {
			a.cache = map[int][]unsafe.Pointer{}
		}
		if len(a.cache[n]) < perClass(n) && a.cached+int64(n) <= cacheLimit {
			a.cache[n] = append(a.cache[n], p)
			a.cached += int64(n)
			a.mu.Unlock()
			return
		}
		a.mu.Unlock()
	}
	C.free(p)
}

// LiveBytes is the number of bytes allocated and not yet freed (blocks
// kept in the reuse cache do not count).
func (a *Allocator) LiveBytes() int64 { return a.live.Load() }

// LiveAllocations is the number of allocations not yet freed.
func (a *Allocator) LiveAllocations() int64 { return a.allocs.Load() }

// CachedBytes is the memory kept for reuse (at most 48 MiB).
func (a *Allocator) CachedBytes() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cached
}
