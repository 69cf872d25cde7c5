// Package cmem is the C-heap memory.Allocator used for every Arrow buffer
// kafkars hands out.
//
// Why C memory: batches cross the C Data Interface into pyarrow and live
// there long after the Go call returns; Go memory would be moved or
// collected under them (SPEC §11). Why not arrow-go's mallocator: it
// zeroes every allocation (calloc) and records each one in a sync.Map;
// the batch builder overwrites every byte it hands out, so plain aligned
// malloc is enough, and the live-bytes counter below lets tests check that
// pyarrow's release callbacks really free what we allocated.
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
	"sync/atomic"
	"unsafe"
)

// Allocator implements memory.Allocator on the C heap, 64-byte aligned.
// Memory is not zeroed.
type Allocator struct {
	live   atomic.Int64 // bytes allocated and not freed
	allocs atomic.Int64 // allocations not freed
}

// Default is the process-wide allocator for batches; its counters are
// exported through the C ABI's debug counters.
var Default = &Allocator{}

// Allocate returns size bytes of C memory.
func (a *Allocator) Allocate(size int) []byte {
	if size < 0 {
		panic("cmem: negative size")
	}
	p := C.cmem_alloc(C.size_t(size))
	if p == nil {
		panic("cmem: out of memory")
	}
	n := size
	if n == 0 {
		n = 1 // keep a capacity so that Free can find the pointer
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
	if cap(b) == 0 {
		return // not ours: every Allocate has a capacity
	}
	p := unsafe.Pointer(unsafe.SliceData(b[:cap(b)]))
	C.free(p)
	a.live.Add(-int64(cap(b)))
	a.allocs.Add(-1)
}

// LiveBytes is the number of bytes allocated and not yet freed.
func (a *Allocator) LiveBytes() int64 { return a.live.Load() }

// LiveAllocations is the number of allocations not yet freed.
func (a *Allocator) LiveAllocations() int64 { return a.allocs.Load() }
