package core

// poll.go: handing batches to the caller. Poll takes the pre-built batch,
// or builds one from what is releasable: at once when batch_size rows are
// releasable, otherwise once the linger time has passed since the first
// releasable row, otherwise nothing at the timeout.

import (
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// Poll returns the next batch: as soon as batch_size rows are releasable;
// otherwise, once a row is releasable, after at most linger; otherwise nil
// (zero rows) at the timeout. The caller owns the batch.
func (e *Manager) Poll(timeout time.Duration) (arrow.RecordBatch, error) {
	return e.PollWait(timeout, timeout)
}

// PollWait is Poll that blocks at most maxWait: past it, it returns nil
// even though the timeout has not passed (the caller calls again with the
// remaining timeout). Linger is measured by the manager, not the call, so
// waiting in slices does not shorten it.
func (e *Manager) PollWait(timeout, maxWait time.Duration) (rec arrow.RecordBatch, err error) {
	defer e.catch("poll", &err)
	e.enterPoll()
	rec, _, err = e.pollWait(timeout, maxWait, UntilNone)
	return rec, err
}

// pollWait is PollWait applying until (bounded.go) in the same locked
// section that takes the rows, so that at every moment a row is either
// with the caller or still the manager's (held, pre-built, or kept back):
// what commits and revocations rely on. cut reports that rows at or after
// until were kept back.
func (e *Manager) pollWait(timeout, maxWait time.Duration, until int64) (rec arrow.RecordBatch, cut bool, err error) {
	start := time.Now()
	deadline := start.Add(timeout)
	waitEnd := start.Add(maxWait)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	e.mu.Lock()
	e.callers++
	locked := true // whether this call holds mu (it lets go while waiting)
	defer func() {
		if !locked {
			e.mu.Lock()
		}
		e.callers--
		e.callerLeft = time.Now()
		e.mu.Unlock()
	}()
	for {
		if err := e.usableLocked(); err != nil {
			return nil, false, err
		}
		now := time.Now()
		if e.opts.OrderedLive {
			// partitions fall idle as time passes, without any fetch
			e.m.SetNow(now)
			e.m.Recompute()
		}
		e.pendMu.Lock()
		kept := e.pending
		e.pending = nil
		e.pendMu.Unlock()
		if kept != nil {
			e.stats.released += kept.NumRows() // delivered now
			rec, cut = e.deliverLocked(kept, until)
			return rec, cut, nil
		}
		if e.ready != nil {
			r := e.ready
			e.ready = nil
			if e.m.Releasable() >= e.opts.BatchSize && !e.builder.decodes() {
				// keep one batch ahead (built here rather than waiting for
				// the engine's next round). A batch with typed columns is
				// left to the engine: decoding it here would hold this
				// caller for the whole build.
				e.prebuildLocked()
			}
			e.tookLocked(now, r)
			rec, cut = e.deliverLocked(r, until)
			return rec, cut, nil
		}
		n := e.m.Releasable()
		if e.noBuild {
			n = 0 // held back behind a record that did not decode
		}
		if n > 0 {
			if n >= e.opts.BatchSize || !now.Before(e.lingerFrom.Add(e.opts.Linger)) || !now.Before(deadline) {
				if n > e.opts.BatchSize {
					n = e.opts.BatchSize
				}
				r := e.buildLocked(n)
				e.tookLocked(now, r)
				if r != nil {
					rec, cut = e.deliverLocked(r, until)
					return rec, cut, nil
				}
				if e.fatal != nil {
					return nil, false, e.fatal
				}
				continue // every row was skipped: look again
			}
		}
		if e.fatal != nil {
			return nil, false, e.fatal
		}
		if !now.Before(deadline) {
			e.stats.emptyPolls++
			return nil, false, nil
		}
		if !now.Before(waitEnd) {
			return nil, false, nil // not yet: the caller calls again
		}
		wakeAt := deadline
		if waitEnd.Before(wakeAt) {
			wakeAt = waitEnd
		}
		if n > 0 {
			if t := e.lingerFrom.Add(e.opts.Linger); t.Before(wakeAt) {
				wakeAt = t
			}
		}
		if e.opts.OrderedLive && e.m.Held() > 0 {
			// look again when a partition may have fallen idle
			if t := now.Add(orderedLiveTick); t.Before(wakeAt) {
				wakeAt = t
			}
		}
		if n == 0 && e.callerFetchesLocked() {
			locked = false
			e.mu.Unlock()
			e.callerFetch(wakeAt)
			e.mu.Lock()
			locked = true
			continue
		}
		ch := e.changed
		locked = false
		e.mu.Unlock()
		d := time.Until(wakeAt)
		if timer == nil {
			timer = time.NewTimer(d)
		} else {
			timer.Reset(d)
		}
		select {
		case <-ch:
		case <-timer.C:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		e.mu.Lock()
		locked = true
	}
}

// tookLocked runs after Poll took rows: the linger clock restarts for what
// remains, and the engine may fetch again.
func (e *Manager) tookLocked(now time.Time, r arrow.RecordBatch) {
	if r != nil {
		e.stats.released += r.NumRows()
		e.stats.batches++
	}
	e.lingerFrom = now
	e.hadRel = e.m.Releasable() > 0 || e.ready != nil
	if e.stats.liveAt.IsZero() && e.liveLocked() {
		e.stats.liveAt = now
	}
	if e.callerFetchesLocked() {
		return // the engine stays idle while polls fetch
	}
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// prebuildLocked builds the next full batch ahead of Poll.
func (e *Manager) prebuildLocked() {
	e.readyReplay = !e.m.Live()
	// what the caller has received: the merger counts these rows as
	// released as soon as they are in the batch
	if len(e.readyPrev) != len(e.m.parts) {
		e.readyPrev = make([]int64, len(e.m.parts))
	}
	for i := range e.m.parts {
		e.readyPrev[i] = e.m.parts[i].released
	}
	e.ready = e.buildLocked(e.opts.BatchSize)
}

// buildLocked releases up to n rows into a new batch (nil when no row
// could be released or every row was skipped). A record that failed to
// decode under on_error=raise ends the batch before it and becomes the
// manager's fatal error: the rows before it are returned first, nothing
// after it is released.
func (e *Manager) buildLocked(n int) arrow.RecordBatch {
	if e.hooks != nil && e.hooks.beforeBuild != nil {
		e.hooks.beforeBuild()
	}
	if e.noBuild {
		return nil
	}
	t0 := time.Now()
	rows := e.m.Release(n, e.builder)
	if err := e.builder.err; err != nil {
		e.setFatalLocked(err)
		e.noBuild = true
		e.builder.err = nil
	}
	if rows == 0 {
		return nil
	}
	rec := e.builder.finish()
	e.stats.releaseTime += time.Since(t0)
	if e.m.FrontierStarved(e.budget) {
		// the frontier's partition was paused over its share and has
		// drained: the fetch loop, perhaps waiting on an idle source,
		// must resume it now
		e.src.Wake()
	}
	return rec
}
