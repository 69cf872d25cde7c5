package core

// backpressure.go: "Backpressure" pause/resume decisions, pure.
//
// Over budget (held records or bytes above the limit), every partition that
// does not hold the frontier is paused: what they would deliver cannot be
// released before the frontier partition delivers anyway. The partitions
// holding the frontier (the one whose bound is F, and any that has delivered
// nothing yet) are never paused, so F keeps moving and the buffer drains
// (no deadlock). When F moves to a paused partition it is resumed at once.
// Everything resumes once the buffer is back under half the budget; the gap
// keeps partitions from flapping, which matters because a pause discards
// librdkafka's prefetched records for that partition.

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

// Backpressure decides which partitions to pause and resume now, records
// the new state, and returns the changes (appended to the given slices).
func (m *Merger) Backpressure(b Budget, pause, resume []int32) ([]int32, []int32) {
	pause = m.haltRanged(pause)
	switch {
	case m.over(b):
		for i := range m.parts {
			p := &m.parts[i]
			if p.halted || !p.owned {
				continue // at its range's end, or not assigned to this member: nothing to pause
			}
			if m.holdsFrontier(i) {
				if p.paused {
					p.paused = false
					resume = append(resume, int32(i))
				}
				continue
			}
			if !p.paused {
				p.paused = true
				pause = append(pause, int32(i))
			}
		}
	case m.under(b):
		for i := range m.parts {
			if p := &m.parts[i]; p.paused {
				p.paused = false
				resume = append(resume, int32(i))
			}
		}
	default:
		// In between: keep the current set, but the frontier holders must
		// fetch.
		for i := range m.parts {
			if p := &m.parts[i]; p.paused && m.holdsFrontier(i) {
				p.paused = false
				resume = append(resume, int32(i))
			}
		}
	}
	return pause, resume
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
