package core

// bounded.go: bounded reads on top of Poll. "Until T" returns the records
// before T in replay order and stops at the first record at or after T; the
// batch holding that record is cut (zero-copy) and the rest is kept for the
// next poll, so nothing is lost. It also stops once the frontier has passed
// T (nothing before T can still come), and at the replay end: a bounded read
// is a read of history, and a T later than every record must not wait for
// the clock. Reading on into live records until T is asked for explicitly
// (ModeFollow): the read then ends at the first live record at or after T,
// or once the wall clock passes T.

import (
	"fmt"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// UntilLive is the until value for "until the replay is live".
const UntilLive int64 = -1

// UntilNone disables the until check (plain poll).
const UntilNone int64 = -2

// PollMode modifies a bounded poll.
type PollMode uint32

const (
	// ModeFollow: with a time bound, read on past the replay end (live
	// records) until a record at or after the bound, or the clock passes
	// it. Without it a time-bounded read ends at the replay end.
	ModeFollow PollMode = 1
)

// PollFlags report conditions after a poll.
type PollFlags uint32

const (
	// FlagLive: the manager is live after this call.
	FlagLive PollFlags = 1
	// FlagUntilReached: no record before the given until will come from
	// further calls with the same until.
	FlagUntilReached PollFlags = 2
	// FlagEvents: log lines are waiting (TakeEvents).
	FlagEvents PollFlags = 4
)

// Next polls like PollWait and applies until (UntilNone, UntilLive or epoch
// ms). Rows at or after until are kept for the next call.
func (e *Manager) Next(timeout, maxWait time.Duration, until int64, mode PollMode) (rec arrow.RecordBatch, flags PollFlags, err error) {
	defer e.catch("poll", &err)
	e.enterPoll()
	if until == UntilLive && e.replayOver() {
		// nothing to wait for: the bound is reached (a read of a replay
		// that is live from the start, or the call after its last rows,
		// returns at once instead of after max_wait)
		return nil, e.flags(until, false, mode), nil
	}
	rec, cut, err := e.pollWait(timeout, maxWait, until)
	if err != nil {
		return nil, e.flags(until, false, mode), err
	}
	return rec, e.flags(until, cut, mode), nil
}

// replayOver reports whether the manager is usable and live: every replay
// row has been returned.
func (e *Manager) replayOver() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.usableLocked() == nil && e.liveLocked()
}

// deliverLocked hands rec to the caller: with a time bound, the rows at or
// after it are cut off (zero-copy) and kept for the next poll. It returns
// the rows delivered (nil when none) and whether a cut was made. Called
// with mu (pendMu is taken here).
func (e *Manager) deliverLocked(rec arrow.RecordBatch, until int64) (arrow.RecordBatch, bool) {
	cut := false
	if until >= 0 {
		ts := rec.Column(5).(*array.Timestamp).Values()
		idx := len(ts)
		for i, t := range ts {
			if int64(t) >= until {
				idx = i
				break
			}
		}
		if idx < len(ts) {
			cut = true
			rest := rec.NewSlice(int64(idx), int64(len(ts)))
			e.stats.released -= rest.NumRows() // not delivered yet
			e.pendMu.Lock()
			e.pending = rest
			e.pendMu.Unlock()
			if idx == 0 {
				rec.Release()
				rec = nil
			} else {
				head := rec.NewSlice(0, int64(idx))
				rec.Release()
				rec = head
			}
		}
	}
	if rec != nil && rec.NumRows() > 0 {
		e.grp.outstanding = true
	}
	return rec, cut
}

func (e *Manager) flags(until int64, cut bool, mode PollMode) PollFlags {
	e.mu.Lock()
	defer e.mu.Unlock()
	var f PollFlags
	live := e.liveLocked() // false while a cut remainder is pending
	e.pendMu.Lock()
	pendingRows := e.pending != nil
	e.pendMu.Unlock()
	if live {
		f |= FlagLive
	}
	if len(e.grp.events) > 0 {
		f |= FlagEvents
	}
	switch {
	case until == UntilLive:
		if f&FlagLive != 0 {
			f |= FlagUntilReached
		}
	case until >= 0:
		if cut {
			f |= FlagUntilReached
		} else if wm, ok := e.m.Watermark(); ok && wm >= until && e.m.Releasable() == 0 && e.ready == nil && !pendingRows {
			f |= FlagUntilReached
		} else if live && mode&ModeFollow == 0 {
			f |= FlagUntilReached // the replay end: history is read
		} else if live && time.Now().UnixMilli() >= until && e.m.Releasable() == 0 && e.ready == nil {
			f |= FlagUntilReached
		}
	}
	return f
}

// releasePending drops a kept remainder (on Close).
func (e *Manager) releasePending() {
	e.pendMu.Lock()
	if e.pending != nil {
		e.pending.Release()
		e.pending = nil
	}
	e.pendMu.Unlock()
}

// Stream is an array.RecordReader over a manager, ending when until is
// reached (UntilLive or epoch ms). Each Next waits at most idle for a batch;
// past it the stream ends with an error rather than blocking for ever.
// It is what the C ABI exports as an ArrowArrayStream.
type Stream struct {
	m     *Manager
	until int64
	mode  PollMode
	idle  time.Duration

	mu    sync.Mutex
	refs  int64
	cur   arrow.RecordBatch
	err   error
	done  bool // the bound is reached
	ended bool // the end was reported once
}

// errReadTwice is what a stream says when it is read again after its end:
// a second query over the same reader would otherwise see zero rows.
var errReadTwice = &Error{Kind: KindClosed, Msg: "this stream was already read to its end (a reader is read once); " +
	"read the topics again with a new manager, or use kafkars.scan(...), which replays afresh on every read"}

// NewStream returns a reader over m. idle <= 0 means one hour.
func (e *Manager) NewStream(until int64, mode PollMode, idle time.Duration) *Stream {
	if idle <= 0 {
		idle = time.Hour
	}
	return &Stream{m: e, until: until, mode: mode, idle: idle, refs: 1}
}

func (s *Stream) Retain() { s.mu.Lock(); s.refs++; s.mu.Unlock() }

func (s *Stream) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refs--
	if s.refs == 0 && s.cur != nil {
		s.cur.Release()
		s.cur = nil
	}
}

func (s *Stream) Schema() *arrow.Schema { return s.m.Schema() }

// Next waits for the next non-empty batch before until.
func (s *Stream) Next() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil {
		s.cur.Release()
		s.cur = nil
	}
	if s.err != nil {
		return false
	}
	if s.done {
		if s.ended {
			s.err = errReadTwice
		}
		s.ended = true
		return false
	}
	deadline := time.Now().Add(s.idle)
	for {
		remaining := time.Until(deadline)
		if remaining < 0 {
			remaining = 0
		}
		rec, flags, err := s.m.Next(remaining, remaining, s.until, s.mode)
		if err != nil {
			s.err = err
			return false
		}
		if rec != nil && rec.NumRows() > 0 {
			s.cur = rec
			if flags&FlagUntilReached != 0 {
				s.done = true // deliver this batch; the next call ends the stream
			}
			return true
		}
		if rec != nil {
			rec.Release()
		}
		if flags&FlagUntilReached != 0 {
			s.done, s.ended = true, true
			return false
		}
		if remaining == 0 {
			s.err = &Error{Kind: KindKafka, Msg: fmt.Sprintf("no record for %s while reading the stream (the until condition was not reached); is the broker reachable?", s.idle)}
			return false
		}
	}
}

func (s *Stream) RecordBatch() arrow.RecordBatch { return s.cur }

// Record is RecordBatch (arrow-go's deprecated name).
func (s *Stream) Record() arrow.RecordBatch { return s.cur }

func (s *Stream) Err() error { return s.err }
