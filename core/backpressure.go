package core

// backpressure.go: "Backpressure" pause/resume decisions, pure.
//
// Under the budget nothing is paused. Over it (held records or bytes above
// the limit), a partition that does not hold the frontier is paused when
// it holds more than its share of the budget (the budget divided by the
// partitions this member owns): what it would deliver cannot be released
// before the frontier partition delivers anyway. A partition within its
// share keeps fetching: it is behind, the frontier will need its records
// soon, and the partitions in that state fetch together, in the same
// requests. While the buffer drains back to half the budget, a paused
// partition that holds no more than half its share fetches again; below
// half the budget everything resumes.
//
// Without the merger's hard cap (SetCap, sources that cannot rewind),
// every partition but the frontier's is paused over the budget, so that
// the budget stays a bound; with it, the cap bounds the bytes. (Pausing
// them all, then resuming them one at a time as the frontier reached
// each, cost one fetch round trip per partition: over 1 000 partitions of
// 3 000 records, 150 000 rows/s against 626 000 with the cap and the
// partitions within their share fetching; over 200 partitions with
// 16 KiB fetches, 45 000 against about a million.)
//
// The partitions holding the frontier (the one whose bound is F, and any
// that has delivered nothing yet) are not paused for being over the
// budget, so F keeps moving and the buffer drains (no deadlock); one cut
// over the cap is, until it has drained (its held records are all
// releasable). When F moves to a paused partition it is resumed at once.
// The gaps between pausing and resuming keep partitions from flapping,
// which matters because a pause discards librdkafka's prefetched records
// for that partition.

// Budget is the held-record limit (docs/design.md, "Backpressure").
type Budget struct {
	Messages int
	Bytes    int64
}

func (m *Merger) over(b Budget) bool {
	return m.held > b.Messages || m.heldBytes > b.Bytes
}

func (m *Merger) under(b Budget) bool {
	return m.held <= b.Messages/2 && m.heldBytes <= b.Bytes/2
}

// overShare reports whether p holds more than its share (share bytes,
// shareN records); a paused partition stays paused down to half its share.
func (p *partition) overShare(shareB int64, shareN int) bool {
	n, b := p.q.n, p.q.bytes
	if p.paused {
		return b > shareB/2 || n > shareN/2
	}
	return b > shareB || n > shareN
}

// Backpressure decides which partitions to pause and resume now, records
// the new state, and returns the changes (appended to the given slices).
func (m *Merger) Backpressure(b Budget, pause, resume []int32) ([]int32, []int32) {
	pause = m.haltRanged(pause)
	over := m.over(b)
	switch {
	case over:
		m.squeezed = true
	case m.under(b):
		m.squeezed = false
	}
	owned := 0
	for i := range m.parts {
		if p := &m.parts[i]; p.owned && !p.halted {
			owned++
		}
	}
	if owned == 0 {
		return pause, resume
	}
	shareB, shareN := b.Bytes/int64(owned), b.Messages/owned
	if m.capOn {
		shareB = shareOf(b.Bytes, owned) // the merger's share (SetCap)
	}
	for i := range m.parts {
		p := &m.parts[i]
		if p.halted || !p.owned {
			continue // at its range's end, or not assigned to this member: nothing to pause
		}
		frontier := m.holdsFrontier(i)
		capped := false
		if p.capped {
			// Cut over the cap (SetCap): what it fetches now would be
			// dropped again. Paused, frontier or not, while the merger
			// holds more bytes than the budget and the partition more
			// than half its share; the frontier's held records are all
			// releasable, so it drains.
			if capped = m.heldBytes > b.Bytes && p.q.bytes > shareB/2; !capped {
				p.capped = false
			}
		}
		// Over the budget every other partition is paused, unless the
		// cap bounds memory: then the partitions behind (within their
		// share) keep fetching together, which is what drains the
		// buffer; paused too, they were resumed one by one as the
		// frontier reached them (over 200 partitions: 45 000 rows/s).
		want := capped || (m.squeezed && !frontier && ((over && !m.capOn) || p.overShare(shareB, shareN)))
		switch {
		case want && !p.paused:
			p.paused = true
			pause = append(pause, int32(i))
		case !want && p.paused:
			p.paused = false
			resume = append(resume, int32(i))
		}
	}
	return pause, resume
}

// FrontierStarved reports whether the partition holding the frontier is
// paused although Backpressure would resume it now: cut over the cap
// (SetCap), it is paused while it holds its share, and releasing its rows
// is what drains it.
func (m *Merger) FrontierStarved(b Budget) bool {
	if !m.capOn || m.f.inf != 0 {
		return false
	}
	p := &m.parts[m.f.p]
	if !p.paused || !p.capped || p.halted || !p.owned {
		return false
	}
	owned := 0
	for i := range m.parts {
		if q := &m.parts[i]; q.owned && !q.halted {
			owned++
		}
	}
	return m.heldBytes <= b.Bytes || p.q.bytes <= shareOf(b.Bytes, owned)/2
}

// PausedCount is the number of partitions paused by backpressure.
func (m *Merger) PausedCount() int {
	n := 0
	for i := range m.parts {
		if m.parts[i].paused {
			n++
		}
	}
	return n
}
