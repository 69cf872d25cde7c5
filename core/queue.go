package core

// queue.go: the per-partition FIFO of held records.
//
// Records are stored column-wise in chunks so that ingesting a batch costs
// appends into a few slices (no Go allocation per record) and building an
// Arrow batch reads contiguous memory. A chunk holds at most chunkRecords
// records and, unless it holds a single record, at most chunkBytes bytes of
// payload; emptied chunks go back to a pool owned by the merger.

const (
	chunkRecords = 4096
	// chunkBytes is a chunk's data buffer, allocated at its full size up
	// front: growing it by append would waste up to half of it.
	chunkBytes = 256 << 10
	// recordOverhead is what one held record costs beyond its payload
	// (column entries); it is counted in the byte budget.
	recordOverhead = 64
	maxPooled      = 32 // chunks kept for reuse across all partitions (~16 MB)
)

// rec is one held record's metadata; its bytes are in chunk.data.
type rec struct {
	off  int64 // offset
	ts   int64 // timestamp as delivered
	eff  int64 // order timestamp: max(ts, previous eff) in the partition
	kOff uint32
	vOff uint32
	hOff uint32
	kLen int32 // -1: null
	vLen int32 // -1: null
	hLen int32 // 0: none
}

type chunk struct {
	recs []rec
	data []byte
	head int // first record not yet released
}

func newChunk() *chunk {
	// recs grows on demand: 4096 slots of 56 bytes would be mostly empty
	// for large records (a 256 KiB chunk holds 256 records of 1 KiB).
	return &chunk{recs: make([]rec, 0, 256), data: make([]byte, 0, chunkBytes)}
}

func (c *chunk) reset() {
	c.recs = c.recs[:0]
	if cap(c.data) > chunkBytes {
		c.data = make([]byte, 0, chunkBytes) // do not keep a huge record's buffer
	} else {
		c.data = c.data[:0]
	}
	c.head = 0
}

func (c *chunk) full(payload int) bool {
	n := len(c.recs)
	return n >= chunkRecords || (n > 0 && len(c.data)+payload > chunkBytes)
}

// chunkPool recycles chunks between partitions of one merger.
type chunkPool struct{ free []*chunk }

func (p *chunkPool) get() *chunk {
	if n := len(p.free); n > 0 {
		c := p.free[n-1]
		p.free = p.free[:n-1]
		return c
	}
	return newChunk()
}

func (p *chunkPool) put(c *chunk) {
	if len(p.free) < maxPooled {
		c.reset()
		p.free = append(p.free, c)
	}
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
		c = pool.get()
		q.chunks = append(q.chunks, c)
	}
	d := c.data
	r := rec{off: off, ts: ts, eff: eff, kOff: uint32(len(d)), kLen: -1, vLen: -1, hLen: int32(len(hdr))}
	if !keyNull {
		r.kLen = int32(len(key))
		d = append(d, key...)
	}
	r.vOff = uint32(len(d))
	if !valNull {
		r.vLen = int32(len(val))
		d = append(d, val...)
	}
	r.hOff = uint32(len(d))
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
