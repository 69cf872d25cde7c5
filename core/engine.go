package core

// engine.go: the Manager. One goroutine per manager fetches from the source,
// feeds the merger, applies backpressure and pre-builds the next full batch,
// so Arrow batches are built while Python works on the previous one. Poll
// takes a pre-built batch, or builds one from what is releasable once the
// linger time has passed (SPEC §8).
//
// Locking: mu guards the merger, the pre-built batch and the flags;
// fetchMu serialises fetches (lock order: fetchMu, then mu). Nobody holds
// mu while waiting in the source, so Poll is never blocked behind a fetch.
// With linger_ms=0 and live, a waiting Poll fetches for itself and the
// engine stands by (callerFetchLocked).

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/kafkars/kafkars/core/cmem"
	"github.com/kafkars/kafkars/core/rdk"
	"github.com/kafkars/kafkars/core/source"
)

func init() {
	// The Go heap here is almost all long-lived record chunks; collecting at
	// 50% growth instead of 100% keeps it near what is held, for little CPU
	// (the engine allocates little: chunks are pooled). Only this library's
	// Go runtime is affected, not the host process.
	debug.SetGCPercent(50)
}

// liveManagers counts managers not yet closed (a debug counter of the C ABI).
var liveManagers atomic.Int64

// LiveManagers returns the number of managers created and not closed.
func LiveManagers() int64 { return liveManagers.Load() }

// brokerProbe is what the engine needs, beyond source.Source, to tell a
// broker outage from a deleted topic. The Kafka adapter implements it;
// scripted sources need not.
type brokerProbe interface {
	Partitions(topic string, timeout time.Duration) (int, error)
	ExistingTopics(timeout time.Duration) (map[string]bool, error)
}

// blockingFetcher is a source that can wait in a blocking system call on
// the calling thread (rdk.Consumer): what a Poll fetching for itself wants.
type blockingFetcher interface {
	FetchBlocking(wait time.Duration, max int) ([]source.Msg, error)
}

// stallCheckAfter: when partitions that are not caught up have made no
// progress for this long, kafkars asks the cluster whether their topics
// still exist. librdkafka itself reports a deleted topic only after
// topic.metadata.propagation.max.ms (30 s by default), and until then a
// replay would just stall.
const stallCheckAfter = 2 * time.Second

// Manager replays and tails a set of partitions in order. Methods are safe
// for concurrent use.
type Manager struct {
	opts    *resolved
	parts   []PartitionInfo
	src     source.Source
	probe   brokerProbe
	mem     memory.Allocator
	builder *batchBuilder
	budget  Budget

	mu          sync.Mutex
	m           *Merger
	ready       arrow.RecordBatch // pre-built full batch, or nil
	readyPrev   []int64           // released offsets before ready was built
	readyReplay bool              // ready may hold replay rows (built before live)
	changed     chan struct{}     // closed and replaced on every change
	lingerFrom  time.Time         // linger for the releasable rows counts from here
	hadRel      bool
	fatal       error
	closed      bool
	pauseBuf    []int32
	resumeBuf   []int32
	lastErr     string
	lastErrAt   time.Time
	errCount    int64
	brokerDown  time.Time // zero when brokers are reachable
	probeAt     time.Time
	released    int64
	batches     int64
	fetches     int64
	pollFetches int64
	emptyPolls  int64
	createdAt   time.Time
	liveAt      time.Time
	releaseTime time.Duration
	progressAt  time.Time // last record ingested or partition caught up
	stallProbe  time.Time
	peakHeld    int
	peakBytes   int64
	pauseEvents int64

	kick chan struct{} // Poll took rows: the engine may fetch again
	stop chan struct{}

	// fetchMu serialises fetching and ingesting (the source's batch is
	// reused by every Fetch). Lock order: fetchMu before mu. Usually the
	// engine goroutine fetches; with linger_ms=0 and live, a waiting Poll
	// fetches itself (callerFetchLocked explains why).
	fetchMu    sync.Mutex
	callers    int          // Polls inside PollWait (mu)
	callerLeft time.Time    // when the last one left (mu)
	deferred   []KafkaEvent // events a Poll's fetch left to the engine (mu)
	ing        ingestState
	done       chan struct{}

	closeOnce sync.Once

	// pending is the rest of a batch cut by an until (bounded.go), returned
	// by the next poll. Lock order: mu before pendMu.
	pendMu  sync.Mutex
	pending arrow.RecordBatch
}

// newManager wires a merger to a source and starts the engine goroutine.
func newManager(opts *resolved, parts []PartitionInfo, src source.Source) *Manager {
	e := &Manager{
		opts:      opts,
		parts:     parts,
		src:       src,
		mem:       cmem.Default,
		budget:    Budget{Messages: opts.MaxBufferedMessages, Bytes: opts.MaxBufferedBytes},
		m:         NewMerger(parts, opts.cutoff, opts.IncludeHeaders),
		changed:   make(chan struct{}),
		kick:      make(chan struct{}, 1),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
		createdAt: time.Now(),
	}
	e.progressAt = e.createdAt
	if p, ok := src.(brokerProbe); ok {
		e.probe = p
	}
	e.builder = newBatchBuilder(e.mem, parts, opts.IncludeHeaders)
	if e.m.Live() {
		e.liveAt = e.createdAt
	}
	liveManagers.Add(1)
	go e.run()
	return e
}

// Schema is the schema of the batches Poll returns.
func (e *Manager) Schema() *arrow.Schema { return e.builder.schema }

// broadcastLocked wakes every Poll waiting for a change.
func (e *Manager) broadcastLocked() {
	close(e.changed)
	e.changed = make(chan struct{})
}

func (e *Manager) run() {
	defer close(e.done)
	idle := time.NewTimer(time.Hour)
	defer idle.Stop()
	for {
		select {
		case <-e.stop:
			return
		default:
		}
		e.mu.Lock()
		// Enough buffered for the next two polls: stop draining librdkafka
		// (its prefetch is bounded too) until Poll takes something.
		throttle := e.ready != nil && e.m.Releasable() >= e.opts.BatchSize
		stopped := e.fatal != nil
		// Live and lingering: rows are releasable and poll will return them
		// at the linger deadline anyway, so waking for every record that
		// arrives meanwhile only costs CPU (one wake-up per record at a few
		// thousand records a second). Let librdkafka's queue collect them
		// and fetch once at the deadline. Not during the replay, where data
		// waits in the queue and every fetch counts; not with linger_ms=0.
		// The engine wakes 1 ms before the deadline (then per record again),
		// so that poll, waking at the deadline, finds everything ingested.
		wait := idleWait
		coalesce := false
		if !throttle && !stopped && e.opts.linger > time.Millisecond && e.m.Live() && e.m.Releasable() > 0 && e.ready == nil {
			if d := time.Until(e.lingerFrom.Add(e.opts.linger - time.Millisecond)); d > 0 {
				wait, coalesce = d, true
			}
		}
		// Events a Poll's fetch left here: judging them takes a metadata
		// request, which a Poll must not wait for.
		if len(e.deferred) > 0 {
			now := time.Now()
			for len(e.deferred) > 0 {
				ev := e.deferred[0]
				e.deferred = e.deferred[1:]
				e.handleEventLocked(ev, now, false)
			}
			if e.fatal != nil {
				e.broadcastLocked()
			}
		}
		// A Poll fetches for itself (linger_ms=0, live): stay out of its way
		// but keep watching a broker outage.
		callerMode := !throttle && !stopped && e.callerFetchesLocked()
		down := !e.brokerDown.IsZero()
		if callerMode {
			wait = callerGrace
		}
		e.mu.Unlock()
		if callerMode && down {
			e.probeBroker(time.Now())
		}
		if throttle || stopped || coalesce || callerMode {
			idle.Reset(wait)
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

		e.fetchMu.Lock()
		msgs, err := e.src.Fetch(idleWait, fetchBatch)
		now := time.Now()
		e.mu.Lock()
		stalled := e.ingestLocked(msgs, err, now, false)
		down = !e.brokerDown.IsZero()
		e.mu.Unlock()
		e.src.Done() // copied: free librdkafka's buffers now
		e.fetchMu.Unlock()
		if down {
			e.probeBroker(now)
		}
		if stalled {
			e.checkTopicsExist(now)
		}
	}
}

// ingestState is scratch space and clocks of ingestLocked (fetchMu).
type ingestState struct {
	events    []KafkaEvent
	lastPos   time.Time
	notCaught []int32
	positions []int64
}

// ingestLocked feeds one fetched batch to the merger and updates
// everything that depends on it: events, the G3 position fallback,
// backpressure, the pre-built batch, the linger clock; then wakes waiting
// polls. It reports whether partitions stalled long enough to ask the
// cluster whether their topics still exist. Called with fetchMu and mu;
// byCaller when a Poll fetched (events needing a request are deferred).
func (e *Manager) ingestLocked(msgs []source.Msg, err error, now time.Time, byCaller bool) (stalled bool) {
	e.fetches++
	if err != nil {
		e.setFatalLocked(&Error{Kind: KindInternal, Msg: "fetch failed: " + err.Error()})
		return false
	}
	g := &e.ing
	caughtBefore := e.caughtUpCount()
	g.events = e.m.Ingest(msgs, g.events[:0])
	if hasRecord(msgs) {
		e.progressAt = now
		if !e.brokerDown.IsZero() {
			e.brokerDown = time.Time{}
		}
	}
	for _, ev := range g.events {
		e.handleEventLocked(ev, now, byCaller)
	}
	// G3 fallback: a partition whose consumer position passed its
	// replay end is caught up even if no EOF event reached us.
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
	if h := e.m.Held(); h > e.peakHeld {
		e.peakHeld = h
	}
	if hb := e.m.HeldBytes(); hb > e.peakBytes {
		e.peakBytes = hb
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
	if e.opts.linger > 0 || !e.m.Live() {
		return false
	}
	return e.callers > 0 || time.Since(e.callerLeft) < callerGrace
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
	if e.liveAt.IsZero() && e.liveLocked() {
		e.liveAt = now
	}
	e.broadcastLocked()
}

func (e *Manager) applyBackpressureLocked() {
	e.pauseBuf, e.resumeBuf = e.m.Backpressure(e.budget, e.pauseBuf[:0], e.resumeBuf[:0])
	if len(e.resumeBuf) > 0 {
		if err := e.src.Resume(e.resumeBuf); err != nil {
			e.noteErrorLocked("resume: "+err.Error(), time.Now())
		}
	}
	if len(e.pauseBuf) > 0 {
		e.pauseEvents += int64(len(e.pauseBuf))
		if err := e.src.Pause(e.pauseBuf); err != nil {
			e.noteErrorLocked("pause: "+err.Error(), time.Now())
		}
	}
}

func (e *Manager) noteErrorLocked(text string, now time.Time) {
	e.lastErr = text
	e.lastErrAt = now
	e.errCount++
}

func (e *Manager) setFatalLocked(err error) {
	if e.fatal == nil {
		e.fatal = err
	}
}

func (e *Manager) partName(p int32) string {
	if p < 0 || int(p) >= len(e.parts) {
		return "consumer"
	}
	return fmt.Sprintf("%s [%d]", e.parts[p].Topic, e.parts[p].Partition)
}

// handleEventLocked judges an error librdkafka reported while fetching.
// librdkafka retries transient errors itself; kafkars only turns into an
// exception what will not heal: a fatal error, failed authentication or
// authorization, a topic that no longer exists, or brokers unreachable for
// longer than broker_down_timeout_ms.
func (e *Manager) handleEventLocked(ev KafkaEvent, now time.Time, byCaller bool) {
	switch ev.Code {
	case rdk.ErrUnknownTopicOrP, rdk.ErrUnknownTopic, rdk.ErrUnknownPart:
		if byCaller {
			// judging it takes a metadata request (up to 2 s): not in a
			// Poll; the engine does it
			e.deferred = append(e.deferred, ev)
			return
		}
	}
	name := rdk.ErrName(ev.Code)
	text := fmt.Sprintf("%s: %s: %s", e.partName(ev.Partition), name, ev.Text)
	e.noteErrorLocked(text, now)
	switch ev.Code {
	case rdk.ErrFatal:
		e.setFatalLocked(&Error{Kind: KindKafka, Code: ev.Code, Msg: "fatal Kafka error: " + text})
	case rdk.ErrAuthentication, rdk.ErrTopicAuthFailed:
		e.setFatalLocked(&Error{Kind: KindKafka, Code: ev.Code, Msg: "" + text})
	case rdk.ErrUnknownTopicOrP, rdk.ErrUnknownTopic, rdk.ErrUnknownPart:
		if ev.Partition >= 0 && e.probe != nil {
			topic := e.parts[ev.Partition].Topic
			// Ask the cluster: only a definite "does not exist" is final.
			e.mu.Unlock()
			_, err := e.probe.Partitions(topic, 2*time.Second)
			e.mu.Lock()
			if ke, ok := err.(*rdk.KafkaError); ok && (ke.Code == rdk.ErrUnknownTopicOrP || ke.Code == rdk.ErrUnknownTopic) {
				e.setFatalLocked(&Error{Kind: KindTopicNotFound, Code: ev.Code,
					Msg: fmt.Sprintf("topic %q no longer exists (deleted during the replay?): %s", topic, text)})
			}
		}
	case rdk.ErrTransport, rdk.ErrAllBrokersDown, rdk.ErrResolve:
		if e.brokerDown.IsZero() {
			e.brokerDown = now
		}
	}
}

func (e *Manager) caughtUpCount() int {
	n := 0
	for i := range e.m.parts {
		if e.m.parts[i].caughtUp {
			n++
		}
	}
	return n
}

// checkTopicsExist turns a topic deleted during the replay into
// TopicNotFound. Only a successful metadata answer that lacks the topic
// counts: an unreachable broker is not a deleted topic.
func (e *Manager) checkTopicsExist(now time.Time) {
	e.stallProbe = now
	existing, err := e.probe.ExistingTopics(time.Second)
	if err != nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range e.m.parts {
		p := &e.m.parts[i]
		if !p.caughtUp && !existing[p.info.Topic] {
			e.setFatalLocked(&Error{Kind: KindTopicNotFound, Msg: fmt.Sprintf(
				"topic %q no longer exists on %s (deleted during the replay?); %s [%d] stopped at offset %d of %d",
				p.info.Topic, e.opts.Config["bootstrap.servers"], p.info.Topic, p.info.Partition, p.lastOff, p.info.End)})
			e.broadcastLocked()
			return
		}
	}
}

// probeBroker clears the broker-down condition once a metadata request
// succeeds, and raises BrokerUnavailable past the configured limit.
func (e *Manager) probeBroker(now time.Time) {
	if now.Sub(e.probeAt) < time.Second || e.probe == nil || len(e.parts) == 0 {
		return
	}
	e.probeAt = now
	_, err := e.probe.Partitions(e.parts[0].Topic, 500*time.Millisecond)
	e.mu.Lock()
	defer e.mu.Unlock()
	if err == nil {
		e.brokerDown = time.Time{}
		return
	}
	if lim := e.opts.brokerDown; lim > 0 && !e.brokerDown.IsZero() && now.Sub(e.brokerDown) > lim {
		e.setFatalLocked(&Error{Kind: KindBrokerUnavailable, Msg: fmt.Sprintf(
			"no broker of %s reachable for %s (broker_down_timeout_ms=%d); last error: %s",
			e.opts.Config["bootstrap.servers"], now.Sub(e.brokerDown).Round(time.Second),
			e.opts.brokerDown.Milliseconds(), e.lastErr)})
		e.broadcastLocked()
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

// liveLocked is SPEC G3 as the caller sees it: the merger is live and no
// replay row waits in the pre-built batch.
func (e *Manager) liveLocked() bool {
	if !e.m.Live() || (e.ready != nil && e.readyReplay) {
		return false
	}
	e.pendMu.Lock()
	defer e.pendMu.Unlock()
	return e.pending == nil
}

// buildLocked releases up to n rows into a new batch.
func (e *Manager) buildLocked(n int) arrow.RecordBatch {
	t0 := time.Now()
	rows := e.m.Release(n, e.builder)
	if rows == 0 {
		return nil
	}
	rec := e.builder.finish()
	e.releaseTime += time.Since(t0)
	return rec
}

// Poll returns the next batch (SPEC §8): as soon as batch_size rows are
// releasable; otherwise, once a row is releasable, after at most linger;
// otherwise nil (zero rows) at the timeout. The caller owns the batch.
func (e *Manager) Poll(timeout time.Duration) (arrow.RecordBatch, error) {
	return e.PollWait(timeout, timeout)
}

// PollWait is Poll that blocks at most maxWait: past it, it returns nil
// even though the timeout has not passed (the caller calls again with the
// remaining timeout). Linger is measured by the manager, not the call, so
// waiting in slices does not shorten it.
func (e *Manager) PollWait(timeout, maxWait time.Duration) (arrow.RecordBatch, error) {
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
	defer func() {
		e.callers--
		e.callerLeft = time.Now()
		e.mu.Unlock()
	}()
	for {
		if e.closed {
			return nil, ErrClosed
		}
		now := time.Now()
		if e.ready != nil {
			r := e.ready
			e.ready = nil
			if e.m.Releasable() >= e.opts.BatchSize {
				// keep one batch ahead (built here rather than waiting for
				// the engine's next round)
				e.prebuildLocked()
			}
			e.tookLocked(now, r)
			return r, nil
		}
		n := e.m.Releasable()
		if n > 0 {
			if n >= e.opts.BatchSize || !now.Before(e.lingerFrom.Add(e.opts.linger)) || !now.Before(deadline) {
				if n > e.opts.BatchSize {
					n = e.opts.BatchSize
				}
				r := e.buildLocked(n)
				e.tookLocked(now, r)
				return r, nil
			}
		}
		if e.fatal != nil {
			return nil, e.fatal
		}
		if !now.Before(deadline) {
			e.emptyPolls++
			return nil, nil
		}
		if !now.Before(waitEnd) {
			return nil, nil // not yet: the caller calls again
		}
		wakeAt := deadline
		if waitEnd.Before(wakeAt) {
			wakeAt = waitEnd
		}
		if n > 0 {
			if t := e.lingerFrom.Add(e.opts.linger); t.Before(wakeAt) {
				wakeAt = t
			}
		}
		if n == 0 && e.callerFetchesLocked() {
			e.callerFetchLocked(wakeAt)
			continue
		}
		ch := e.changed
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
	}
}

// tookLocked runs after Poll took rows: the linger clock restarts for what
// remains, and the engine may fetch again.
func (e *Manager) tookLocked(now time.Time, r arrow.RecordBatch) {
	if r != nil {
		e.released += r.NumRows()
		e.batches++
	}
	e.lingerFrom = now
	e.hadRel = e.m.Releasable() > 0 || e.ready != nil
	if e.liveAt.IsZero() && e.liveLocked() {
		e.liveAt = now
	}
	if e.callerFetchesLocked() {
		return // the engine stays idle while polls fetch
	}
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// callerFetchLocked fetches in the polling goroutine, waiting for data up
// to until. Why: with linger_ms=0 every record is handed over on its own,
// and the engine goroutine waking for it and then waking the poller costs
// two thread hand-offs per record (measured: the client at 1.6x the CPU of
// a bare librdkafka consumer at 5 000 records/s, and p99 latency several
// times the floor's on 2 cores). Fetching here takes one. Called with mu;
// returns with mu.
func (e *Manager) callerFetchLocked(until time.Time) {
	e.mu.Unlock()
	if !e.fetchMu.TryLock() {
		e.src.Wake() // the engine is in a fetch: cut its wait short
		e.fetchMu.Lock()
	}
	e.mu.Lock()
	if e.closed || e.fatal != nil || !e.callerFetchesLocked() || e.m.Releasable() > 0 {
		e.fetchMu.Unlock()
		return // changed meanwhile: the caller's loop sees it
	}
	e.mu.Unlock()
	wait := time.Until(until)
	if wait < 0 {
		wait = 0
	}
	var msgs []source.Msg
	var err error
	if bf, ok := e.src.(blockingFetcher); ok {
		msgs, err = bf.FetchBlocking(wait, fetchBatch)
	} else {
		msgs, err = e.src.Fetch(wait, fetchBatch)
	}
	now := time.Now()
	e.mu.Lock()
	e.pollFetches++
	e.ingestLocked(msgs, err, now, true)
	if len(e.deferred) > 0 {
		select {
		case e.kick <- struct{}{}:
		default:
		}
	}
	e.src.Done()
	e.fetchMu.Unlock()
}

// IsLive reports SPEC §5 G3: every partition caught up and every replay
// record released.
func (e *Manager) IsLive() (bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false, ErrClosed
	}
	return e.liveLocked(), nil
}

// Close stops the engine and releases the consumer. Idempotent.
func (e *Manager) Close() error {
	e.closeOnce.Do(func() {
		e.mu.Lock()
		e.closed = true
		if e.ready != nil {
			e.ready.Release()
			e.ready = nil
		}
		e.broadcastLocked()
		e.mu.Unlock()
		close(e.stop)
		e.src.Wake()
		<-e.done
		// a Poll may be in a fetch (callerFetchLocked): Wake ended its
		// wait; the source closes once it is out
		e.fetchMu.Lock()
		_ = e.src.Close()
		e.fetchMu.Unlock()
		e.releasePending()
		e.mu.Lock()
		for i := range e.m.parts {
			e.m.parts[i].q.clear(&e.m.pool)
		}
		e.m.pool.free = nil
		e.mu.Unlock()
		liveManagers.Add(-1)
	})
	return nil
}

// Metrics is a snapshot of counters and conditions (SPEC §9 and more).
type Metrics struct {
	IsLive              bool    `json:"is_live"`
	Partitions          int     `json:"partitions"`
	PartitionsCaughtUp  int     `json:"partitions_caught_up"`
	PausedPartitions    int     `json:"paused_partitions"`
	HeldMessages        int     `json:"held_messages"`
	HeldBytes           int64   `json:"held_bytes"`
	PeakHeldMessages    int     `json:"peak_held_messages"`
	PeakHeldBytes       int64   `json:"peak_held_bytes"`
	PauseEvents         int64   `json:"pause_events"`
	ReleasableMessages  int     `json:"releasable_messages"`
	PrimingWatermarkMs  *int64  `json:"priming_watermark_ms"`
	LateMessages        int64   `json:"late_messages"`
	DuplicatesDropped   int64   `json:"duplicates_dropped"`
	RecordsConsumed     int64   `json:"records_consumed"`
	RecordsReleased     int64   `json:"records_released"`
	BatchesReleased     int64   `json:"batches_released"`
	RecordsToReplay     int64   `json:"records_to_replay"`
	FetchCalls          int64   `json:"fetch_calls"`
	FetchCallsByPoll    int64   `json:"fetch_calls_by_poll"` // of FetchCalls: made by a waiting poll (linger_ms=0, live)
	EmptyPolls          int64   `json:"empty_polls"`
	BuildSeconds        float64 `json:"build_seconds"`
	ErrorCount          int64   `json:"error_count"`
	LastError           string  `json:"last_error,omitempty"`
	BrokerDownForMs     *int64  `json:"broker_down_for_ms"`
	UptimeMs            int64   `json:"uptime_ms"`
	TimeToLiveMs        *int64  `json:"time_to_live_ms"`
	BatchSize           int     `json:"batch_size"`
	LingerMs            int64   `json:"linger_ms"`
	MaxBufferedMessages int     `json:"max_buffered_messages"`
	MaxBufferedBytes    int64   `json:"max_buffered_bytes"`
	Fatal               string  `json:"fatal_error,omitempty"`
}

// Metrics returns a snapshot.
func (e *Manager) Metrics() (Metrics, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return Metrics{}, ErrClosed
	}
	now := time.Now()
	m := Metrics{
		IsLive:              e.liveLocked(),
		Partitions:          len(e.parts),
		PausedPartitions:    e.m.PausedCount(),
		HeldMessages:        e.m.Held(),
		HeldBytes:           e.m.HeldBytes(),
		PeakHeldMessages:    e.peakHeld,
		PeakHeldBytes:       e.peakBytes,
		PauseEvents:         e.pauseEvents,
		ReleasableMessages:  e.m.Releasable(),
		LateMessages:        e.m.LateTotal(),
		RecordsReleased:     e.released,
		BatchesReleased:     e.batches,
		FetchCalls:          e.fetches,
		FetchCallsByPoll:    e.pollFetches,
		EmptyPolls:          e.emptyPolls,
		BuildSeconds:        e.releaseTime.Seconds(),
		ErrorCount:          e.errCount,
		LastError:           e.lastErr,
		UptimeMs:            now.Sub(e.createdAt).Milliseconds(),
		BatchSize:           e.opts.BatchSize,
		LingerMs:            e.opts.linger.Milliseconds(),
		MaxBufferedMessages: e.opts.MaxBufferedMessages,
		MaxBufferedBytes:    e.opts.MaxBufferedBytes,
	}
	if e.ready != nil {
		m.ReleasableMessages += int(e.ready.NumRows())
	}
	for i := range e.m.parts {
		p := &e.m.parts[i]
		m.RecordsConsumed += p.consumed
		m.DuplicatesDropped += p.dups
		if p.caughtUp {
			m.PartitionsCaughtUp++
		}
		if d := p.info.End - p.info.Start; d > 0 {
			m.RecordsToReplay += d
		}
	}
	if ts, ok := e.m.Watermark(); ok {
		m.PrimingWatermarkMs = &ts
	}
	if !e.brokerDown.IsZero() {
		d := now.Sub(e.brokerDown).Milliseconds()
		m.BrokerDownForMs = &d
	}
	if !e.liveAt.IsZero() {
		d := e.liveAt.Sub(e.createdAt).Milliseconds()
		m.TimeToLiveMs = &d
	}
	if e.fatal != nil {
		m.Fatal = e.fatal.Error()
	}
	return m, nil
}

// Partitions returns the partitions of the replay with their resolved
// offsets.
func (e *Manager) Partitions() []PartitionInfo { return e.parts }

// goroutines is runtime.NumGoroutine, for the C ABI's debug counters.
func Goroutines() int { return runtime.NumGoroutine() }
