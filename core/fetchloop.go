package core

// fetchloop.go: the engine goroutine. One per manager: it fetches from the
// source, feeds the merger, applies backpressure and pre-builds the next
// full batch, so Arrow batches are built while Python works on the
// previous one. With linger_ms=0 and live, a waiting Poll fetches for
// itself and the engine stands by (callerFetchLocked explains why).

import (
	"time"

	"github.com/kafkars/kafkars/core/source"
)

// run is the engine goroutine. A panic here would kill the host process
// (Go aborts on an unrecovered panic in any goroutine), so it is recovered
// and fails the manager instead: every later call returns the error. Every
// lock taken below is released by a defer, so a panic never leaves one held.
func (e *Manager) run() {
	defer close(e.done)
	defer func() {
		if r := recover(); r != nil {
			e.fail("the engine goroutine", r)
		}
	}()
	idle := time.NewTimer(time.Hour)
	defer idle.Stop()
	for {
		select {
		case <-e.stop:
			return
		default:
		}
		st := e.plan()
		if st.probeBroker {
			e.probeBroker(time.Now())
		}
		if st.judge != nil {
			e.judgeTopicEvents(st.judge)
		}
		if st.sleep {
			idle.Reset(st.wait)
			select {
			case <-e.stop:
				return
			case <-e.kick:
			case <-idle.C:
			}
			if !idle.Stop() {
				select {
				case <-idle.C:
				default:
				}
			}
			continue
		}
		now, down, stalled := e.fetchOnce()
		if down {
			e.probeBroker(now)
		}
		if stalled {
			e.checkTopicsExist(now)
		}
	}
}

// step is what the engine does next (plan).
type step struct {
	sleep       bool          // wait (for a kick, the stop or wait) instead of fetching
	wait        time.Duration // how long
	probeBroker bool          // check whether brokers are back
	judge       []KafkaEvent  // topic events to check with the cluster
}

// plan decides, under mu, whether to fetch or sleep.
func (e *Manager) plan() step {
	e.mu.Lock()
	defer e.mu.Unlock()
	var st step
	if e.ready == nil && e.fatal == nil && !e.noBuild && e.m.Releasable() >= e.opts.BatchSize {
		// the caller took the batch built ahead: build the next one now,
		// while it works (polls leave batches with typed columns to us)
		e.prebuildLocked()
		e.afterChangeLocked(time.Now())
	}
	// Enough buffered for the next two polls: stop draining librdkafka
	// (its prefetch is bounded too) until Poll takes something.
	throttle := e.ready != nil && e.m.Releasable() >= e.opts.BatchSize
	stopped := e.fatal != nil
	// Live and lingering: rows are releasable and poll will return them
	// at the linger deadline anyway, so waking for every record that
	// arrives meanwhile only costs CPU (one wake-up per record at a few
	// thousand records a second). Let librdkafka's queue collect them and
	// fetch once at the deadline. Not during the replay, where data waits
	// in the queue and every fetch counts; not with linger_ms=0. The
	// engine wakes 1 ms before the deadline (then per record again), so
	// that poll, waking at the deadline, finds everything ingested.
	st.wait = idleWait
	coalesce := false
	if !throttle && !stopped && e.opts.Linger > time.Millisecond && e.m.Live() && e.m.Releasable() > 0 && e.ready == nil {
		if d := time.Until(e.lingerFrom.Add(e.opts.Linger - time.Millisecond)); d > 0 {
			st.wait, coalesce = d, true
		}
	}
	// Topic events judged outside the locks: asking the cluster takes a
	// metadata request (up to 2 s) that no Poll may wait for.
	if len(e.deferred) > 0 {
		st.judge = append([]KafkaEvent(nil), e.deferred...)
		e.deferred = e.deferred[:0]
	}
	// A Poll fetches for itself (linger_ms=0, live): stay out of its way
	// but keep watching a broker outage.
	callerMode := !throttle && !stopped && e.callerFetchesLocked()
	if callerMode {
		st.wait = callerGrace
		st.probeBroker = !e.brokerDown.IsZero()
	}
	st.sleep = throttle || stopped || coalesce || callerMode
	return st
}

// fetchOnce fetches one batch and ingests it. It reports the time, whether
// brokers are down, and whether partitions stalled long enough to ask the
// cluster whether their topics still exist.
func (e *Manager) fetchOnce() (now time.Time, down, stalled bool) {
	e.fetchMu.Lock()
	defer e.fetchMu.Unlock()
	now, down, stalled = e.fetchIngest()
	// assignment changes recorded during the fetch: before the next one
	e.handleRebalances()
	return now, down, stalled
}

// fetchIngest is one Fetch and its ingestion. Called with fetchMu.
func (e *Manager) fetchIngest() (now time.Time, down, stalled bool) {
	msgs, err := e.src.Fetch(idleWait, FetchBatch)
	defer e.src.Done() // copied by then: free librdkafka's buffers now
	now = time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	stalled = e.ingestLocked(msgs, err, now)
	return now, !e.brokerDown.IsZero(), stalled
}

// ingestState is scratch space and clocks of ingestLocked (fetchMu).
type ingestState struct {
	events    []KafkaEvent
	lastPos   time.Time
	notCaught []int32
	positions []int64
}

// ingestLocked feeds one fetched batch to the merger and updates
// everything that depends on it: events, the position fallback of
// liveness, backpressure, the pre-built batch, the linger clock; then
// wakes waiting polls. It reports whether partitions stalled long enough
// to ask the cluster whether their topics still exist. Called with fetchMu
// and mu.
func (e *Manager) ingestLocked(msgs []source.Msg, err error, now time.Time) (stalled bool) {
	e.stats.fetches++
	if err != nil {
		e.setFatalLocked(&Error{Kind: KindInternal, Msg: "fetch failed: " + err.Error(), Cause: err})
		return false
	}
	g := &e.ing
	caughtBefore := e.caughtUpCount()
	e.m.SetNow(now)
	g.events = e.m.Ingest(msgs, g.events[:0])
	e.rewindLocked()
	if hasRecord(msgs) {
		e.progressAt = now
		if !e.brokerDown.IsZero() {
			e.brokerDown = time.Time{}
		}
	}
	for _, ev := range g.events {
		e.handleEventLocked(ev, now)
	}
	// Liveness fallback: a partition whose consumer position passed its
	// replay end is caught up even if no end-of-partition event reached us
	// (a pause discards it).
	if now.Sub(g.lastPos) >= positionCheckEvery {
		g.lastPos = now
		g.notCaught = g.notCaught[:0]
		for i := range e.m.parts {
			if !e.m.parts[i].caughtUp {
				g.notCaught = append(g.notCaught, int32(i))
			}
		}
		if len(g.notCaught) > 0 {
			if len(g.positions) < len(g.notCaught) {
				g.positions = make([]int64, len(e.parts))
			}
			if err := e.src.Positions(g.notCaught, g.positions[:len(g.notCaught)]); err == nil {
				for k, p := range g.notCaught {
					e.m.MarkPosition(p, g.positions[k])
				}
			}
		}
	}
	e.m.Recompute()
	if e.caughtUpCount() != caughtBefore {
		e.progressAt = now
	}
	stalled = e.probe != nil && e.fatal == nil && e.caughtUpCount() < len(e.parts) &&
		now.Sub(e.progressAt) > stallCheckAfter && now.Sub(e.stallProbe) > stallCheckAfter
	if h := e.m.Held(); h > e.stats.peakHeld {
		e.stats.peakHeld = h
	}
	if hb := e.m.HeldBytes(); hb > e.stats.peakBytes {
		e.stats.peakBytes = hb
	}
	e.applyBackpressureLocked()
	if e.ready == nil && e.m.Releasable() >= e.opts.BatchSize {
		e.prebuildLocked()
	}
	e.afterChangeLocked(now)
	return stalled
}

// callerFetchesLocked: with linger_ms=0 and live, Poll fetches for itself
// while a caller is polling (inside PollWait, or left it less than
// callerGrace ago, about to come back). Called with mu.
func (e *Manager) callerFetchesLocked() bool {
	if e.opts.Linger > 0 || !e.m.Live() {
		return false
	}
	return e.callers > 0 || time.Since(e.callerLeft) < callerGrace
}

// callerFetch fetches in the polling goroutine, waiting for data up to
// until. Why: with linger_ms=0 every record is handed over on its own, and
// the engine goroutine waking for it and then waking the poller costs two
// thread hand-offs per record (measured: the client at 1.6x the CPU of a
// bare librdkafka consumer at 5 000 records/s, and p99 latency several
// times the floor's on 2 cores). Fetching here takes one. Called without
// mu; every lock it takes is released by a defer.
func (e *Manager) callerFetch(until time.Time) {
	if !e.fetchMu.TryLock() {
		e.src.Wake() // the engine is in a fetch: cut its wait short
		e.fetchMu.Lock()
	}
	defer e.fetchMu.Unlock()
	e.mu.Lock()
	still := !e.closed && e.fatal == nil && e.callerFetchesLocked() && e.m.Releasable() == 0
	e.mu.Unlock()
	if !still {
		return // changed meanwhile: the caller's loop sees it
	}
	wait := time.Until(until)
	if wait < 0 {
		wait = 0
	}
	e.callerFetchIngest(wait)
	e.handleRebalances()
}

// callerFetchIngest is callerFetch's Fetch and its ingestion. Called with
// fetchMu.
func (e *Manager) callerFetchIngest(wait time.Duration) {
	var msgs []source.Msg
	var err error
	if bf, ok := e.src.(source.BlockingFetcher); ok {
		msgs, err = bf.FetchBlocking(wait, FetchBatch)
	} else {
		msgs, err = e.src.Fetch(wait, FetchBatch)
	}
	defer e.src.Done()
	now := time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stats.pollFetches++
	e.ingestLocked(msgs, err, now)
	if len(e.deferred) > 0 {
		select {
		case e.kick <- struct{}{}:
		default:
		}
	}
}

func hasRecord(msgs []source.Msg) bool {
	for i := range msgs {
		if msgs[i].Kind == source.Record {
			return true
		}
	}
	return false
}

// afterChangeLocked maintains the linger clock and the live timestamp, and
// wakes waiting polls.
func (e *Manager) afterChangeLocked(now time.Time) {
	rel := e.m.Releasable() > 0 || e.ready != nil
	if rel && !e.hadRel {
		e.lingerFrom = now
	}
	e.hadRel = rel
	if e.stats.liveAt.IsZero() && e.liveLocked() {
		e.stats.liveAt = now
	}
	e.broadcastLocked()
}

// rewindLocked has the source fetch again the partitions whose records the
// merger dropped over the budget, from the first one dropped, before
// anything else is asked of it (their positions are past those records).
// A failed rewind would lose records: it fails the manager.
func (e *Manager) rewindLocked() {
	if e.rewinder == nil {
		return
	}
	e.rewindParts, e.rewindOffs = e.m.Cuts(e.rewindParts[:0], e.rewindOffs[:0])
	if len(e.rewindParts) == 0 {
		return
	}
	if err := e.rewinder.Rewind(e.rewindParts, e.rewindOffs); err != nil {
		e.setFatalLocked(&Error{Kind: KindInternal, Msg: "fetching again records dropped over max_buffered_bytes failed: " + err.Error(), Cause: err})
		return
	}
	e.m.Rewound()
	e.stats.rewinds += int64(len(e.rewindParts))
}

func (e *Manager) applyBackpressureLocked() {
	e.pauseBuf, e.resumeBuf = e.m.Backpressure(e.budget, e.pauseBuf[:0], e.resumeBuf[:0])
	if len(e.resumeBuf) > 0 {
		if err := e.src.Resume(e.resumeBuf); err != nil {
			e.noteErrorLocked("resume: "+err.Error(), time.Now())
		}
	}
	if len(e.pauseBuf) > 0 {
		e.stats.pauseEvents += int64(len(e.pauseBuf))
		if err := e.src.Pause(e.pauseBuf); err != nil {
			e.noteErrorLocked("pause: "+err.Error(), time.Now())
		}
	}
}
