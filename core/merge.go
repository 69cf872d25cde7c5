package core

// merge.go: the ordered-replay logic (docs/design.md, "Order key" to
// "Live"), free of Kafka and of
// goroutines so that it can be driven by scripted feeds in tests.
//
// Records wait in per-partition FIFO queues (queue.go). The frontier F is
// the smallest order key any partition that is not caught up can still
// deliver; a held record is releasable when its key is below F. F only
// grows, so each queue keeps a releasable prefix that is extended, never
// re-scanned. Release is a k-way merge over the heads of those prefixes (a
// heap keyed by (eff, partition)), with a fast path that takes a whole run
// from one partition while it stays below the runner-up.

import (
	"math"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/kafkars/kafkars/core/internal/prefetch"
	"github.com/kafkars/kafkars/core/source"
)

// PartitionInfo describes one partition of the replay, fixed at creation.
type PartitionInfo struct {
	Topic     string
	TopicRank int32 // position of the topic in the caller's list
	Partition int32
	Start     int64 // first offset to replay
	End       int64 // replay end: records at End and beyond are live
	// Ranged: read over an offset range (ranges.go): records at End and
	// beyond, and with a cutoff from the first record at or after it on,
	// are never returned (no live phase), and rows whose ordering
	// timestamp is below MinTime (NoMinTime: none) are not returned.
	Ranged  bool
	MinTime int64
}

// frontier is an order key bound: -inf, +inf or (ts, partition index, offset).
// Partition indexes are dense in (topic rank, partition) order, so comparing
// indexes compares (rank, partition) as the order key asks.
type frontier struct {
	inf int8 // -1: minus infinity, 0: finite, 1: plus infinity
	ts  int64
	p   int32
	off int64
}

var (
	minusInf = frontier{inf: -1}
	plusInf  = frontier{inf: 1}
)

// above reports whether key (eff, p, off) < f.
func (f frontier) above(eff int64, p int32, off int64) bool {
	switch f.inf {
	case -1:
		return false
	case 1:
		return true
	}
	if eff != f.ts {
		return eff < f.ts
	}
	if p != f.p {
		return p < f.p
	}
	return off < f.off
}

func (f frontier) less(g frontier) bool {
	if f.inf != g.inf {
		return f.inf < g.inf
	}
	if f.inf != 0 {
		return false
	}
	return g.above(f.ts, f.p, f.off)
}

// partition is the merger's state for one partition.
type partition struct {
	info PartitionInfo
	q    queue
	// rel records at the head of q are releasable; relCur points after them.
	rel    int
	relCur cursor

	caughtUp  bool
	delivered bool  // delivered at least one record
	lastEff   int64 // order timestamp of the last delivered record
	lastTs    int64 // its timestamp as delivered
	lastOff   int64 // its offset (-1: none)
	next      int64 // next offset expected; lower ones are duplicates
	replayEnd int64 // records below this offset belong to the replay
	released  int64 // last released offset (-1: none)
	late      int64 // late records (kept or dropped)
	malformed int64 // records whose key or value did not decode (nulled or skipped)
	dups      int64
	paused    bool
	halted    bool      // ranged and at its end: paused for good (Backpressure)
	belowMin  int64     // ranged: rows not returned, ordering timestamp below MinTime
	pastEnd   int64     // ranged: records at or past the range's end, discarded
	consumed  int64     // records delivered
	heardAt   time.Time // last record, or when it caught up (ordered live: idleness)
	// passed is the offset after everything the consumer has passed in
	// this partition: delivered records, and control or aborted records
	// reported through positions and end-of-partition events.
	passed int64
	// owned: this member consumes the partition (always, unless the
	// partitions are assigned by a consumer group). An unowned partition
	// holds nothing, counts as caught up and bounds nothing.
	owned bool
	// cut is the offset of the first record dropped over the budget (see
	// Merger.SetCap), until the source has been rewound there; -1: none.
	// Records at or after it are dropped meanwhile: they are fetched
	// again.
	cut       int64
	capped    bool  // cut since it last fetched: paused down to half its share
	refetched int64 // records dropped over the budget, to be fetched again
}

// reset starts the partition afresh at start, with replay end end.
func (p *partition) reset(start, end int64) {
	p.info.Start, p.info.End = start, end
	p.next, p.passed = start, start
	p.replayEnd = end
	p.caughtUp = start >= end
	if p.caughtUp {
		p.replayEnd = start
	}
	p.delivered = false
	p.lastEff, p.lastTs, p.lastOff = 0, 0, -1
	p.released = -1
	p.cut = -1
	p.capped = false
}

// bound is the smallest key this partition can still deliver.
func (p *partition) bound(idx int32) frontier {
	if p.caughtUp {
		return plusInf
	}
	if !p.delivered {
		return minusInf
	}
	return frontier{ts: p.lastEff, p: idx, off: p.lastOff + 1}
}

// replayHeld reports whether replay records of p are still held.
func (p *partition) replayHeld() bool {
	off, ok := p.q.headOffset()
	return ok && off < p.replayEnd
}

// live is partition_state's per-partition is_live.
func (p *partition) live() bool { return p.caughtUp && !p.replayHeld() }

// KafkaEvent is an error item the merger saw in a fetched batch.
type KafkaEvent struct {
	Partition int32 // -1 for consumer-wide errors
	Err       error // wraps a source error kind, or none
}

// Merger holds back records until their order is settled. Not safe for
// concurrent use.
type Merger struct {
	parts      []partition
	pool       chunkPool
	f          frontier
	cutoff     int64 // math.MaxInt64 when none
	headers    bool
	dropLate   bool // LateDrop: late records are counted, not kept
	held       int
	heldBytes  int64
	releasable int
	squeezed   bool // over the whole budget, until back under half of it (Backpressure)
	live       bool
	// Release scratch, reused.
	tree    loserTree
	act     []int32 // partitions merged, one per leaf of tree
	rows    []rowRef
	sizes   batchSizes
	take    []int
	curs    []cursor
	lastKey []frontier
	lateAll int64
	// lastReleased is the key of the last released record (for checks).
	lastReleased frontier
	unknown      int64 // records for partitions not ours (should be 0)
	unowned      int64 // records of partitions no longer owned, dropped
	// maxBatchBytes caps the payload of one batch (at least one row).
	maxBatchBytes int64
	// Ordered live mode (SetOrderedLive): once every partition has caught
	// up, a live row waits until every partition that is not idle has
	// passed its key; a partition is idle after maxIdle without a record.
	orderedLive bool
	maxIdle     time.Duration
	now         time.Time
	// The hard cap on held bytes (SetCap): capOn, capBytes, the budget's
	// share of one owned partition, and the partitions cut since the last
	// Rewound.
	capOn      bool
	capBytes   int64
	shareBytes int64
	cuts       []int32
}

// MaxBatchBytes is the default cap on one batch's payload (keys, values and
// headers): Arrow's binary columns use int32 offsets, and a batch of huge
// records should not need gigabytes at once.
const MaxBatchBytes = 256 << 20

// NewMerger creates a merger for the given partitions; cutoff < 0 means no
// cutoff. Partitions with Start >= End are caught up from the start.
func NewMerger(parts []PartitionInfo, cutoff int64, headers bool) *Merger {
	m := &Merger{parts: make([]partition, len(parts)), cutoff: math.MaxInt64, headers: headers, maxBatchBytes: MaxBatchBytes}
	if cutoff >= 0 {
		m.cutoff = cutoff
	}
	for i, info := range parts {
		p := &m.parts[i]
		p.info = info
		p.lastOff = -1
		p.released = -1
		p.owned = true
		p.reset(info.Start, info.End)
		if p.caughtUp {
			p.halted = info.Ranged // never assigned: nothing to pause
		}
	}
	m.pool.sizeChunks(len(parts), DefaultMaxBufferedBytes)
	m.take = make([]int, len(parts))
	m.curs = make([]cursor, len(parts))
	m.lastKey = make([]frontier, len(parts))
	m.lastReleased = minusInf
	m.recompute()
	return m
}

// SetBudget sizes the record chunks for a byte budget (by default
// DefaultMaxBufferedBytes): see queue.go.
func (m *Merger) SetBudget(bytes int64) { m.pool.sizeChunks(len(m.parts), bytes) }

// SetViews makes the queues hold record bytes in buffers from mem, so that
// binary view columns can point into them instead of copying (one copy
// fewer: arrowbuild.go). Call it before the first Ingest; Close then
// frees what the queues hold.
func (m *Merger) SetViews(mem memory.Allocator) { m.pool.mem = mem }

// Close drops every held record and frees the queues' memory (batches
// still pointing into it keep their part alive until they are released).
func (m *Merger) Close() {
	for i := range m.parts {
		m.parts[i].q.clear(&m.pool)
	}
	m.pool.drain()
	clear(m.rows)
	m.held, m.heldBytes, m.releasable = 0, 0, 0
}

// SetOrderedLive turns ordered live mode on: live rows are released in
// order-key order across partitions, each waiting at most until every
// partition that delivered a record within maxIdle has passed it (Kafka
// Streams' choice, max.task.idle.ms). Off (the default), live rows are
// released as they arrive.
func (m *Merger) SetOrderedLive(maxIdle time.Duration) {
	m.orderedLive = true
	m.maxIdle = maxIdle
	m.SetNow(m.now) // idleness of partitions caught up from the start counts from now
	m.recompute()
}

// SetNow tells the merger the time: arrivals are stamped with it and
// ordered live mode judges idleness by it. The engine sets it before each
// Ingest and Recompute; without it the zero time is used.
func (m *Merger) SetNow(t time.Time) {
	m.now = t
	if m.orderedLive {
		for i := range m.parts {
			if p := &m.parts[i]; p.caughtUp && p.heardAt.IsZero() {
				p.heardAt = t // caught up from the start: idle counts from now
			}
		}
	}
}

// SetLate sets the late-record policy (LateKeep by default). Only LateDrop
// changes what the merger keeps; LateRewrite is the batch builder's.
func (m *Merger) SetLate(p LatePolicy) { m.dropLate = p == LateDrop }

// Ingest takes a fetched batch: records go to their partition's queue, EOF
// events may end a partition's replay, errors are returned for the caller
// to judge. Call Recompute afterwards (once per batch).
func (m *Merger) Ingest(msgs []source.Msg, events []KafkaEvent) []KafkaEvent {
	n := int32(len(m.parts))
	for i := range msgs {
		msg := &msgs[i]
		switch msg.Kind {
		case source.Record:
			if msg.Partition < 0 || msg.Partition >= n {
				m.unknown++
				continue
			}
			p := &m.parts[msg.Partition]
			if !p.owned {
				m.unowned++ // fetched before it was revoked: its next owner reads it
				continue
			}
			if msg.Offset < p.next {
				p.dups++ // redelivered after a reconnect or seek: exactly once
				continue
			}
			if p.cut >= 0 {
				p.refetched++ // after a cut, until the rewind
				continue
			}
			if m.overCap(p) {
				p.cut = msg.Offset
				p.capped = true
				p.refetched++
				m.cuts = append(m.cuts, msg.Partition)
				continue
			}
			if p.info.Ranged && m.pastRange(p, msg) {
				continue
			}
			eff := msg.Timestamp
			keep := true
			if p.delivered && eff < p.lastEff {
				eff = p.lastEff
				p.late++
				m.lateAll++
				keep = !m.dropLate
			}
			if p.info.Ranged && eff < p.info.MinTime {
				// an earlier slice's row: it only raises the running maximum
				keep = false
				p.belowMin++
			}
			if keep {
				var hdr []byte
				if m.headers {
					hdr = msg.Headers
				}
				before := p.q.bytes
				p.q.push(&m.pool, msg.Offset, msg.Timestamp, eff, msg.Key, msg.KeyNull, msg.Value, msg.ValueNull, hdr)
				m.held++
				m.heldBytes += p.q.bytes - before
			}
			p.delivered = true
			p.heardAt = m.now
			p.lastEff, p.lastTs, p.lastOff = eff, msg.Timestamp, msg.Offset
			p.next = msg.Offset + 1
			if p.next > p.passed {
				p.passed = p.next
			}
			p.consumed++
			if !p.caughtUp {
				if msg.Offset+1 >= p.info.End {
					p.caughtUp = true
				} else if msg.Timestamp >= m.cutoff {
					p.caughtUp = true
					p.replayEnd = msg.Offset
				}
			}
		case source.EOF:
			if msg.Partition >= 0 && msg.Partition < n {
				m.MarkPosition(msg.Partition, msg.Offset)
			}
		case source.Error:
			events = append(events, KafkaEvent{Partition: msg.Partition, Err: msg.Err})
		}
	}
	return events
}

// MarkPosition records that the consumer of partition p has passed every
// offset below pos (records, control records, aborted transactions). A
// partition whose position reaches its replay end is caught up: this is how
// a replay ends when the last records before End never reach us (liveness).
func (m *Merger) MarkPosition(p int32, pos int64) {
	pp := &m.parts[p]
	if !pp.owned || pp.cut >= 0 {
		return // a cut partition's position is past records it must fetch again
	}
	if pos > pp.passed && pos >= pp.next {
		pp.passed = pos
	}
	if !pp.caughtUp && pos >= pp.info.End {
		pp.caughtUp = true
		pp.heardAt = m.now
	}
}

// capFactor: the merger drops records once it holds this many times the
// byte budget (SetCap).
const capFactor = 3

// SetCap bounds the bytes the merger holds, whatever the fetch sizes: once
// it holds capFactor times b.Bytes or more, a record of a partition that
// already holds its share of b.Bytes (divided by the partitions owned) is
// not kept, nor are the partition's later records until the source has
// been rewound to it (Cuts, Rewound). Held bytes then stay within
// capFactor budgets, plus one share per partition (one budget in all, or
// minShareBytes per partition if that is more), plus one record per
// partition: four times the budget. Only for sources that can rewind
// (source.Rewinder).
//
// Why: the pause of Backpressure stops new fetches, but no record can go
// out before every partition has delivered one, and Kafka sends a whole
// record batch per partition and fetch (up to max.partition.fetch.bytes,
// 1 MiB by default). Over 1 000 partitions the first fetches alone were
// 166 MB held for a 64 MiB budget; with 1 MiB fetches they could be a
// gigabyte. Lowering max.partition.fetch.bytes does not bound them
// either: librdkafka grows a partition's fetch size until a whole record
// batch fits, and over 200 partitions with 16 KiB fetches, 112 MB were
// held for 64 MiB.
//
// Why not at the budget itself: what is dropped is fetched again, and
// partitions resumed as they drain are fetched a few per request. At
// twice the budget, the 1 000-partition benchmark (166 MB held for
// 64 MiB) held 143 MB but replayed at 0.70 M rows/s instead of 3.3 M,
// fetching 14% of its records twice. At three times it drops nothing,
// and a replay whose first fetches would hold a gigabyte holds at most
// about 256 MiB.
//
// Bytes only: the record budget (b.Messages) stays a pause threshold. A
// small one (1 000 records, batches of 1 000, 2 partitions fetching 8 000
// records at a time) made the cap drop 3.4 times the replay and polls
// wait a second for rows, where holding one fetch too many costs little.
//
// A partition that holds nothing always takes a record, so the frontier
// keeps moving. A cut partition stays paused until it has drained to half
// its share or the merger to the budget (Backpressure), so that it is not
// fetched again only to drop the same records.
func (m *Merger) SetCap(b Budget) {
	m.capOn = b.Bytes > 0
	m.capBytes = capFactor * b.Bytes
	m.resetShare()
}

// minShareBytes is the least share of the byte budget a partition gets
// (shareBytes), whatever the budget and the partition count.
//
// Why: below about one record per partition, each partition kept one
// record per fetch and was cut and fetched again for the next, one fetch
// round trip per record: 200 partitions of 4 records with a 4 KiB budget
// took 45 to 55 s to replay. At 4 KiB a partition keeps a few dozen small
// records per fetch; it adds at most 4 MB to the bound over 1 000
// partitions, and nothing wherever the budget divided by the partitions
// is larger (64 KiB for the default budget over 1 000 partitions).
const minShareBytes = 4 << 10

// shareOf is one partition's share of a byte budget over owned partitions.
func shareOf(budget int64, owned int) int64 {
	return max(budget/int64(max(owned, 1)), minShareBytes)
}

// resetShare computes one owned partition's share of the budget.
func (m *Merger) resetShare() {
	owned := 0
	for i := range m.parts {
		if m.parts[i].owned {
			owned++
		}
	}
	m.shareBytes = shareOf(m.capBytes/capFactor, owned)
}

// overCap reports whether p's next record is dropped: the merger holds
// the whole cap or more, and p its share or more. A partition that holds
// nothing takes its next record whatever the cap: that is what moves the
// frontier. The frontier's own partition is capped too (exempting it let
// each partition load its whole remainder as the frontier reached it):
// its held records are all releasable, so it drains and is fetched again.
func (m *Merger) overCap(p *partition) bool {
	if !m.capOn || p.q.n == 0 {
		return false
	}
	return m.heldBytes >= m.capBytes && p.q.bytes >= m.shareBytes
}

// Cuts returns the partitions cut since the last Rewound and, for each,
// the offset to fetch again from (appended to the given slices).
func (m *Merger) Cuts(parts []int32, offsets []int64) ([]int32, []int64) {
	for _, i := range m.cuts {
		if p := &m.parts[i]; p.cut >= 0 {
			parts = append(parts, i)
			offsets = append(offsets, p.cut)
		}
	}
	return parts, offsets
}

// Rewound says the source now delivers every partition Cuts returned from
// its cut offset: their records are kept again.
func (m *Merger) Rewound() {
	for _, i := range m.cuts {
		m.parts[i].cut = -1
	}
	m.cuts = m.cuts[:0]
}

// Refetched is the number of records dropped over the cap so far.
func (m *Merger) Refetched() int64 {
	var n int64
	for i := range m.parts {
		n += m.parts[i].refetched
	}
	return n
}

// Disown drops partition p from this member (a consumer group revoked it):
// its held records are discarded, it bounds nothing and counts as caught up.
// It reports whether the partition was paused. Call Recompute afterwards.
func (m *Merger) Disown(p int32) (wasPaused bool) {
	pp := &m.parts[p]
	before := pp.q.bytes
	n := pp.q.n
	pp.q.clear(&m.pool)
	m.held -= n
	m.heldBytes -= before - pp.q.bytes
	pp.rel = 0
	pp.relCur = cursor{}
	pp.owned = false
	pp.caughtUp = true
	pp.replayEnd = pp.info.Start
	pp.cut, pp.capped = -1, false // its next owner starts from the committed offset
	wasPaused = pp.paused
	pp.paused = false
	m.resetShare()
	return wasPaused
}

// Own gives partition p to this member, starting afresh at start with
// replay end end (its earlier state, if any, is forgotten). Call Recompute
// afterwards.
func (m *Merger) Own(p int32, start, end int64) {
	pp := &m.parts[p]
	if pp.q.n > 0 {
		m.Disown(p)
	}
	pp.owned = true
	pp.paused = false
	pp.reset(start, end)
	m.resetShare()
	// The frontier moves back (the partition has delivered nothing yet):
	// rows of other partitions marked releasable wait for it again.
	for i := range m.parts {
		q := &m.parts[i]
		q.rel = 0
		q.relCur = q.q.first()
	}
}

// Owned reports whether this member consumes partition p.
func (m *Merger) Owned(p int32) bool { return m.parts[p].owned }

// Recompute updates the frontier and the releasable prefixes. Cheap: O(1)
// per partition plus O(1) per newly releasable record.
func (m *Merger) Recompute() { m.recompute() }

func (m *Merger) recompute() {
	f := plusInf
	ordered := m.orderedLive && m.allCaughtUp()
	for i := range m.parts {
		var b frontier
		if ordered {
			b = m.liveBound(i)
		} else {
			b = m.parts[i].bound(int32(i))
		}
		if b.less(f) {
			f = b
			if f.inf < 0 {
				break
			}
		}
	}
	// In ordered live mode the frontier moves back when an idle partition
	// comes back: rows already made releasable stay so (the releasable
	// prefixes below only grow), later ones wait for it again.
	m.f = f
	total := 0
	live := true
	for i := range m.parts {
		p := &m.parts[i]
		q := &p.q
		for p.rel < q.n {
			q.normalize(&p.relCur)
			c, j := q.at(p.relCur)
			if r := &c.recs[j]; !f.above(r.eff, int32(i), r.off) {
				break
			}
			p.rel++
			p.relCur.i++
		}
		total += p.rel
		if live && !p.live() {
			live = false
		}
	}
	m.releasable = total
	m.live = live
}

// Held is the number of records held; HeldBytes their accounted size.
func (m *Merger) Held() int             { return m.held }
func (m *Merger) HeldBytes() int64      { return m.heldBytes }
func (m *Merger) Releasable() int       { return m.releasable }
func (m *Merger) Live() bool            { return m.live }
func (m *Merger) Partitions() int       { return len(m.parts) }
func (m *Merger) LateTotal() int64      { return m.lateAll }
func (m *Merger) UnknownRecords() int64 { return m.unknown }
func (m *Merger) UnownedRecords() int64 { return m.unowned }

// Watermark returns the frontier's timestamp while it is finite and the
// replay is not live (the priming watermark).
func (m *Merger) Watermark() (int64, bool) {
	if m.live || m.f.inf != 0 {
		return 0, false
	}
	return m.f.ts, true
}

// Release moves up to max releasable records, in order-key order, into b.
// It returns the number of rows written. When a row's typed column fails
// under on_error=raise (b.err is set), the batch ends before that row and
// the row stays held.
func (m *Merger) Release(max int, b *batchBuilder) int {
	if max > m.releasable {
		max = m.releasable
	}
	if max <= 0 {
		return 0
	}
	m.selectRows(max, b)
	m.build(b)
	m.pop()
	m.recompute()
	// m.rows keeps pointers to the chunks until the next release
	// overwrites them: at most one batch's chunks outlive the pool.
	return len(m.rows)
}

// rowRef is one selected row: its record and the chunk holding its bytes.
type rowRef struct {
	r  *rec
	c  *chunk
	pi int32
}

// selectRows runs the k-way merge: it fills m.rows with the rows to
// release, in order, m.take with counts per partition, and m.sizes with
// the batch's byte totals as b will write them.
func (m *Merger) selectRows(max int, b *batchBuilder) {
	m.rows = m.rows[:0]
	m.sizes = batchSizes{}
	act := m.act[:0]
	for i := range m.parts {
		m.take[i] = 0
		if m.parts[i].rel > 0 {
			act = append(act, int32(i))
		}
	}
	m.act = act
	t := &m.tree
	t.reset(len(act))
	for l, pi := range act {
		q := &m.parts[pi].q
		m.curs[pi] = q.first()
		c, j := q.at(m.curs[pi])
		t.set(l, c.recs[j].eff)
	}
	t.build()
	var bytes int64
	ru := int32(-1) // the runner-up while the winner keeps winning
	for len(m.rows) < max {
		w, ok := t.winner()
		if !ok {
			return
		}
		pi := act[w]
		p := &m.parts[pi]
		c, j := p.q.at(m.curs[pi])
		r := &c.recs[j]
		sz := int64(max32(r.kLen, 0)) + int64(max32(r.vLen, 0)) + int64(r.hLen)
		if bytes+sz > m.maxBatchBytes && len(m.rows) > 0 {
			return // a batch's columns must stay far below 2 GiB (int32 offsets)
		}
		bytes += sz
		m.sizes.add(b, pi, r)
		m.rows = append(m.rows, rowRef{r: r, c: c, pi: pi})
		m.take[pi]++
		if m.take[pi] >= p.rel {
			t.exhaust(int(w))
			t.replay(w)
			ru = -1
			continue
		}
		m.curs[pi] = p.q.next(m.curs[pi])
		c, j = p.q.at(m.curs[pi])
		t.set(int(w), c.recs[j].eff)
		if ru >= 0 && t.less(w, ru) {
			continue // a run: still ahead of every other partition
		}
		t.replay(w)
		if t.node[0] == w {
			ru = t.runnerUp()
		} else {
			ru = -1
		}
	}
}

// batchSizes are the byte totals and null flags a batch's buffers are
// allocated for.
type batchSizes struct {
	keyBytes, valBytes, hdrBytes int
	keyNulls, valNulls           bool
}

func (s *batchSizes) add(b *batchBuilder, pi int32, r *rec) {
	if r.kLen < 0 || !b.rawKey[pi] {
		s.keyNulls = true
	} else {
		s.keyBytes += int(r.kLen)
	}
	if r.vLen < 0 || !b.rawVal[pi] {
		s.valNulls = true
	} else {
		s.valBytes += int(r.vLen)
	}
	s.hdrBytes += int(r.hLen)
}

// prefetchAhead: how many rows ahead build prefetches a row's bytes.
const prefetchAhead = 8

// build copies the selected rows into b.
func (m *Merger) build(b *batchBuilder) {
	topicBytes := 0
	for i, n := range m.take {
		topicBytes += n * len(m.parts[i].info.Topic)
	}
	s := &m.sizes
	b.begin(len(m.rows), s.keyBytes, s.valBytes, s.keyNulls, s.valNulls, s.hdrBytes)
	b.setTopicBytes(topicBytes)
	for i := range m.rows {
		if j := i + prefetchAhead; j < len(m.rows) {
			// the bytes of a row a few ahead: their copy then finds
			// them in the cache (see package prefetch)
			ahead := &m.rows[j]
			end := ahead.r.hOff()
			if b.views {
				// only the key and the value's prefix are read
				end = min(end, ahead.r.vOff()+4)
			}
			prefetch.Range(ahead.c.data[ahead.r.kOff:end])
		}
		row := &m.rows[i]
		pi, r := row.pi, row.r
		switch b.add(pi, row.c, r) {
		case rowFailed:
			// the batch ends before this row; it stays held
			for _, rest := range m.rows[i:] {
				m.take[rest.pi]--
			}
			m.rows = m.rows[:i]
			return
		case rowNulled, rowSkipped:
			m.parts[pi].malformed++
		}
		m.lastKey[pi] = frontier{ts: r.eff, p: pi, off: r.off}
	}
}

// pop removes the released rows from their queues.
func (m *Merger) pop() {
	for i := range m.parts {
		n := m.take[i]
		if n == 0 {
			continue
		}
		p := &m.parts[i]
		q := &p.q
		lr := m.lastKey[i]
		p.released = lr.off
		if m.lastReleased.less(lr) {
			m.lastReleased = lr
		}
		before := q.bytes
		removed := q.pop(&m.pool, n)
		m.heldBytes -= before - q.bytes
		m.held -= n
		p.rel -= n
		p.relCur.ci -= removed
		if q.n == 0 {
			p.relCur = cursor{}
		} else if p.relCur.ci < 0 {
			p.relCur = q.first()
		}
	}
}

func (m *Merger) allCaughtUp() bool {
	for i := range m.parts {
		if !m.parts[i].caughtUp {
			return false
		}
	}
	return true
}

// liveBound is a partition's bound in ordered live mode: the smallest key
// it can still deliver, unless it is idle.
func (m *Merger) liveBound(i int) frontier {
	p := &m.parts[i]
	if p.halted || m.now.Sub(p.heardAt) >= m.maxIdle {
		return plusInf
	}
	if !p.delivered {
		return minusInf
	}
	return frontier{ts: p.lastEff, p: int32(i), off: p.lastOff + 1}
}

// Frontier holders: partitions that must never be paused (docs/design.md, "Backpressure"): the
// one whose bound is F, and every partition still at minus infinity.
func (m *Merger) holdsFrontier(i int) bool {
	p := &m.parts[i]
	if p.caughtUp {
		// in ordered live mode the frontier can sit on a live partition
		return m.orderedLive && m.f.inf == 0 && m.f.p == int32(i)
	}
	if !p.delivered {
		return true
	}
	return m.f.inf == 0 && m.f.p == int32(i)
}
