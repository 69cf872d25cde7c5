package core

// queue.go: the per-partition FIFO of held records.
//
// Records are stored in chunks so that ingesting a batch costs appends
// into a few slices (no Go allocation per record) and building an Arrow
// batch reads contiguous memory. A chunk holds at most chunkRecords records
// and, unless it holds a single record, at most its pool's chunk size of
// payload; emptied chunks go back to a pool owned by the merger.
//
// The chunk size depends on the partition count (SizeChunks): every
// partition that holds records holds at least one chunk, so 256 KiB chunks
// over 1 000 partitions would be 250 MB before a single byte of budget is
// used. The pool keeps one chunk per partition and a few more: a fetch
// fills the tails of many partitions before a release empties their heads,
// and a pool smaller than the partition count made every batch allocate
// (measured: 0.9 MB per 10 000-record batch at 64 partitions).

import "github.com/apache/arrow-go/v18/arrow/memory"

const (
	chunkRecords = 4096
	// maxChunkBytes and minChunkBytes bound a chunk's data buffer, which
	// is allocated at its full size up front: growing it by append would
	// waste up to half of it.
	maxChunkBytes = 256 << 10
	minChunkBytes = 16 << 10
	// recordOverhead is what one held record costs beyond its payload
	// (column entries); it is counted in the byte budget.
	recordOverhead = 64
	// minPooled chunks are kept for reuse whatever the partition count.
	minPooled = 32
)

// rec is one held record's metadata; its bytes are in chunk.data: the
// key at kOff, then the value, then the headers. 40 bytes: the merge reads
// one rec per record of every partition, and at many partitions these
// reads miss the cache, so the value's and the headers' offsets are
// computed rather than stored.
type rec struct {
	off  int64 // offset
	ts   int64 // timestamp as delivered
	eff  int64 // order timestamp: max(ts, previous eff) in the partition
	kOff uint32
	kLen int32 // -1: null
	vLen int32 // -1: null
	hLen int32 // 0: none
}

// vOff is where the value starts in the chunk's data.
func (r *rec) vOff() uint32 { return r.kOff + uint32(max(r.kLen, 0)) }

// hOff is where the headers start in the chunk's data.
func (r *rec) hOff() uint32 { return r.vOff() + uint32(max(r.vLen, 0)) }

type chunk struct {
	recs []rec
	data []byte
	head int // first record not yet released
	// buf holds data when the pool allocates from an Arrow allocator
	// (binary view batches point into it); nil for Go memory.
	buf *memory.Buffer
	// shared: a batch's view column points into buf, which therefore is
	// not reused when the chunk is recycled (the batch's release frees it).
	shared bool
	// gen and view are the batch generation that last pointed into buf
	// and buf's index among that batch's view buffers (arrowbuild.go).
	gen  uint64
	view int32
}

func (c *chunk) full(payload int) bool {
	n := len(c.recs)
	return n >= chunkRecords || (n > 0 && len(c.data)+payload > cap(c.data))
}

// chunkPool recycles chunks between partitions of one merger.
type chunkPool struct {
	free []*chunk
	size int // data bytes of a new chunk (SizeChunks)
	max  int // chunks kept
	// mem, when set, allocates the chunks' data (SetViews); otherwise
	// it is Go memory.
	mem memory.Allocator
}

// SizeChunks sets the chunk size and the pool's capacity for partitions
// partitions and a byte budget: chunks of budget/(4 x partitions), within
// [minChunkBytes, maxChunkBytes], and free chunks kept up to half the
// budget (at least minPooled). Fewer churned: with a chunk per partition
// kept (the former cap), 1 000 partitions of 1 KiB records allocated
// 400 chunks per 10 000-record batch in the engine benchmark, and 8
// partitions 40.
func (p *chunkPool) sizeChunks(partitions int, budget int64) {
	size := int64(maxChunkBytes)
	if partitions > 0 {
		size = min(size, budget/int64(4*partitions))
	}
	p.size = int(max(size, minChunkBytes))
	p.max = max(minPooled, int(budget/2/int64(p.size)))
}

// get returns an empty chunk with room for at least payload bytes (a
// record larger than the chunk size gets a chunk of its own size).
func (p *chunkPool) get(payload int) *chunk {
	if p.size == 0 {
		p.size, p.max = maxChunkBytes, minPooled
	}
	var c *chunk
	if n := len(p.free); n > 0 {
		c = p.free[n-1]
		p.free = p.free[:n-1]
	} else {
		// record slots for records of 64 bytes and more: a recycled
		// chunk keeps what it grew to
		c = &chunk{recs: make([]rec, 0, min(chunkRecords, p.size/64))}
	}
	if need := max(p.size, payload); cap(c.data) < need {
		p.dropData(c)
		if p.mem != nil {
			c.buf = memory.NewResizableBuffer(p.mem)
			c.buf.Resize(need)
			c.data = c.buf.Bytes()[:0]
		} else {
			c.data = make([]byte, 0, need)
		}
	}
	return c
}

// put recycles an emptied chunk. Its data is kept for the next records
// unless a batch points into it or it grew beyond the chunk size (a huge
// record's).
func (p *chunkPool) put(c *chunk) {
	c.recs, c.data, c.head = c.recs[:0], c.data[:0], 0
	if c.shared || cap(c.data) > p.size {
		p.dropData(c)
	}
	if len(p.free) < p.max {
		p.free = append(p.free, c)
	} else {
		p.dropData(c)
	}
}

// dropData lets go of a chunk's data: a shared buffer is freed by the
// last batch pointing into it.
func (p *chunkPool) dropData(c *chunk) {
	if c.buf != nil {
		c.buf.Release()
		c.buf = nil
	}
	c.data, c.shared = nil, false
}

// drain lets go of every pooled chunk's data.
func (p *chunkPool) drain() {
	for _, c := range p.free {
		p.dropData(c)
	}
	p.free = nil
}

// queue is a FIFO of records for one partition. Offsets and eff are
// non-decreasing from head to tail, so the queue is sorted by order key.
type queue struct {
	chunks []*chunk // chunks[0] holds the head
	n      int      // records held
	bytes  int64    // payload bytes held + recordOverhead per record
}

func (q *queue) push(pool *chunkPool, off, ts, eff int64, key []byte, keyNull bool, val []byte, valNull bool, hdr []byte) {
	payload := len(key) + len(val) + len(hdr)
	var c *chunk
	if k := len(q.chunks); k > 0 && !q.chunks[k-1].full(payload) {
		c = q.chunks[k-1]
	} else {
		c = pool.get(payload)
		q.chunks = append(q.chunks, c)
	}
	d := c.data
	r := rec{off: off, ts: ts, eff: eff, kOff: uint32(len(d)), kLen: -1, vLen: -1, hLen: int32(len(hdr))}
	if !keyNull {
		r.kLen = int32(len(key))
		d = append(d, key...)
	}
	if !valNull {
		r.vLen = int32(len(val))
		d = append(d, val...)
	}
	d = append(d, hdr...)
	c.data = d
	c.recs = append(c.recs, r)
	q.n++
	q.bytes += int64(payload) + recordOverhead
}

// cursor addresses one record of a queue.
type cursor struct {
	ci, i int // chunk index in queue.chunks, record index in the chunk
}

// first returns a cursor at the head.
func (q *queue) first() cursor {
	if len(q.chunks) == 0 {
		return cursor{}
	}
	return cursor{0, q.chunks[0].head}
}

// next advances a cursor by one record.
func (q *queue) next(c cursor) cursor {
	c.i++
	if c.i >= len(q.chunks[c.ci].recs) && c.ci+1 < len(q.chunks) {
		c.ci++
		c.i = q.chunks[c.ci].head
	}
	return c
}

// at returns the chunk and index of a cursor.
func (q *queue) at(c cursor) (*chunk, int) { return q.chunks[c.ci], c.i }

// normalize moves a cursor that sits past the end of a chunk to the head of
// the next chunk, if there is one.
func (q *queue) normalize(c *cursor) {
	for c.ci < len(q.chunks)-1 && c.i >= len(q.chunks[c.ci].recs) {
		c.ci++
		c.i = q.chunks[c.ci].head
	}
}

// pop removes n records from the head, recycling emptied chunks. It returns
// the number of chunks removed (cursors past the head shift by that much).
func (q *queue) pop(pool *chunkPool, n int) int {
	removed := 0
	for n > 0 {
		c := q.chunks[0]
		avail := len(c.recs) - c.head
		take := n
		if take > avail {
			take = avail
		}
		for i := c.head; i < c.head+take; i++ {
			r := &c.recs[i]
			q.bytes -= int64(max32(r.kLen, 0)+max32(r.vLen, 0)+r.hLen) + recordOverhead
		}
		c.head += take
		q.n -= take
		n -= take
		if c.head == len(c.recs) {
			copy(q.chunks, q.chunks[1:])
			q.chunks[len(q.chunks)-1] = nil
			q.chunks = q.chunks[:len(q.chunks)-1]
			pool.put(c)
			removed++
		}
	}
	return removed
}

// headOffset returns the offset of the head record; ok is false when empty.
func (q *queue) headOffset() (int64, bool) {
	if q.n == 0 {
		return 0, false
	}
	c := q.chunks[0]
	return c.recs[c.head].off, true
}

// clear drops everything.
func (q *queue) clear(pool *chunkPool) {
	for _, c := range q.chunks {
		pool.put(c)
	}
	q.chunks = q.chunks[:0]
	q.n = 0
	q.bytes = 0
}

func max32(a, b int32) int32 {
	if a > b {
		return a
	}
	return b
}
