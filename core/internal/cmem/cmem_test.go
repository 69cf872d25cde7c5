package cmem

import "testing"

func TestAllocatorCountsAndCache(t *testing.T) {
	a := &Allocator{}
	tests := []struct{ size, class int }{{0, 0}, {100, 100}, {64 << 10, 64 << 10}, {65<<10 + 1, 128 << 10}, {3<<20 + 5, 4 << 20}}
	for _, tc := range tests {
		if got := class(tc.size); got != tc.class {
			t.Errorf("class(%d) = %d, want %d", tc.size, got, tc.class)
		}
		b := a.Allocate(tc.size)
		if len(b) != tc.size {
			t.Fatalf("len %d, want %d", len(b), tc.size)
		}
		for i := range b {
			b[i] = byte(i)
		}
		a.Free(b)
	}
	if a.LiveBytes() != 0 || a.LiveAllocations() != 0 {
		t.Fatalf("live %d bytes in %d allocations after freeing everything", a.LiveBytes(), a.LiveAllocations())
	}
	if a.CachedBytes() != 64<<10+128<<10+4<<20 {
		t.Fatalf("cached %d", a.CachedBytes())
	}
	// reuse: the same class comes back from the cache
	b := a.Allocate(3<<20 + 100) // class 4 MiB, like the block freed above
	if a.CachedBytes() != 64<<10+128<<10 {
		t.Fatalf("cached %d after reuse", a.CachedBytes())
	}
	a.Free(b)
	// bounded: many blocks of one class keep at most perClass
	var bs [][]byte
	for i := 0; i < perClass(1<<20)+6; i++ {
		bs = append(bs, a.Allocate(1<<20))
	}
	for _, b := range bs {
		a.Free(b)
	}
	if n := len(a.cache[1<<20]); n != perClass(1<<20) {
		t.Fatalf("%d blocks cached for one class, want %d", n, perClass(1<<20))
	}
}
