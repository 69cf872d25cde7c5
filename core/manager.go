package core

// manager.go: the Manager, its fields grouped by what guards them, its
// creation and its end.
//
// A Manager is a merger (merge.go) fed by a source (core/source) on a
// background goroutine (fetchloop.go), read by Poll (poll.go). Kafka
// errors and broker health are judged in health.go, counters are
// snapshotted in metrics.go, bounded reads live in bounded.go.
//
// Locking: mu guards the merger, the pre-built batch and every field
// listed under it below; fetchMu serialises fetching and ingesting (the
// source's batch is reused by every Fetch). Lock order: fetchMu, then mu,
// then pendMu. Nobody holds mu while waiting in the source, so a Poll is
// never blocked behind a fetch.

import (
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/kafkars/kafkars/core/source"
)

// liveManagers counts managers not yet closed (a debug counter of the C ABI).
var liveManagers atomic.Int64

// LiveManagers returns the number of managers created and not closed.
func LiveManagers() int64 { return liveManagers.Load() }

// Manager replays and tails a set of partitions in order. Methods are safe
// for concurrent use.
type Manager struct {
	// Fixed at creation.
	opts      *Settings
	parts     []PartitionInfo
	src       source.Source
	probe     source.Prober // nil for sources that cannot ask the cluster
	mem       memory.Allocator
	budget    Budget
	createdAt time.Time

	// failed is set once, by a recovered panic on any goroutine; every
	// later call returns it. It is atomic because a panic may leave mu in
	// any state, and the check must not need it.
	failed atomic.Pointer[Error]

	mu      sync.Mutex
	m       *Merger       // the ordering state
	builder *batchBuilder // used with m
	// the batch built ahead of Poll
	ready       arrow.RecordBatch // pre-built full batch, or nil
	readyPrev   []int64           // released offsets before ready was built
	readyReplay bool              // ready may hold replay rows (built before live)
	// waking polls and the linger clock
	changed    chan struct{} // closed and replaced on every change
	lingerFrom time.Time     // linger for the releasable rows counts from here
	hadRel     bool
	// polls that fetch for themselves (linger_ms=0, live)
	callers    int          // Polls inside PollWait
	callerLeft time.Time    // when the last one left
	deferred   []KafkaEvent // events a Poll's fetch left to the engine
	// lifecycle and health
	fatal      error
	noBuild    bool // a record failed to decode: nothing after it is released
	closed     bool
	brokerDown time.Time // zero when brokers are reachable
	progressAt time.Time // last record ingested or partition caught up
	lastErr    string
	lastErrAt  time.Time
	errCount   int64
	stats      counters
	pauseBuf   []int32 // scratch of applyBackpressureLocked
	resumeBuf  []int32

	// Used by the engine goroutine only.
	probeAt    time.Time // last broker probe
	stallProbe time.Time // last check that stalled topics still exist

	fetchMu sync.Mutex
	ing     ingestState // scratch of ingestLocked

	pendMu sync.Mutex
	// pending is the rest of a batch cut by an until (bounded.go),
	// returned by the next poll.
	pending arrow.RecordBatch

	kick      chan struct{} // Poll took rows: the engine may fetch again
	stop      chan struct{}
	done      chan struct{} // closed when the engine goroutine ends
	closeOnce sync.Once

	// Consumer group (group.go): fixed at creation.
	committer source.Committer // nil when the source cannot commit
	group     source.Group     // nil unless partitions are assigned by a group
	gopts     GroupOptions
	tpIndex   map[string]map[int32]int32 // topic, partition -> index
	grp       groupState                 // guarded by mu
	revMu     sync.Mutex                 // commits and completing revocations

	// rewinder is src when it can fetch a partition again (the merger then
	// drops records over the budget: Merger.SetCap); nil otherwise.
	rewinder    source.Rewinder
	rewindParts []int32
	rewindOffs  []int64

	// hooks lets tests inject faults; nil in production.
	hooks *testHooks
}

// counters are the Manager's running totals for Metrics (guarded by mu).
type counters struct {
	released    int64 // rows handed to the caller
	batches     int64
	fetches     int64
	pollFetches int64 // of fetches: made by a waiting Poll
	emptyPolls  int64
	releaseTime time.Duration // building batches
	liveAt      time.Time
	peakHeld    int
	peakBytes   int64
	pauseEvents int64
	rewinds     int64 // partitions fetched again after records were dropped over the budget
}

// testHooks are fault injection points for tests.
type testHooks struct {
	beforeBuild func() // called by buildLocked, with mu held
}

// NewManager wires a merger to a source and starts the engine goroutine.
// parts are the partitions with their resolved offsets, indexed as the
// source indexes them; mem allocates every Arrow buffer handed out (it
// must not be Go memory when batches leave the process's Go code: see
// core/internal/cmem); typed are the decoded columns, built by the caller
// from the topics' formats. The manager owns src from now on and closes it.
func NewManager(s *Settings, parts []PartitionInfo, src source.Source, mem memory.Allocator, typed []TypedColumn) *Manager {
	return NewGroupManager(s, parts, src, mem, typed, GroupOptions{})
}

// NewGroupManager is NewManager for a consumer group: commits under
// g.GroupID, and with g.Subscribe partitions assigned by the group
// protocol (src must then implement source.Group).
func NewGroupManager(s *Settings, parts []PartitionInfo, src source.Source, mem memory.Allocator, typed []TypedColumn, g GroupOptions) *Manager {
	e := &Manager{
		opts:      s,
		parts:     parts,
		src:       src,
		mem:       mem,
		budget:    Budget{Messages: s.MaxBufferedMessages, Bytes: s.MaxBufferedBytes},
		m:         NewMerger(parts, s.Cutoff, s.IncludeHeaders),
		changed:   make(chan struct{}),
		kick:      make(chan struct{}, 1),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
		createdAt: time.Now(),
	}
	e.progressAt = e.createdAt
	if p, ok := src.(source.Prober); ok {
		e.probe = p
	}
	e.m.SetLate(s.Late)
	e.m.SetBudget(s.MaxBufferedBytes)
	if rw, ok := src.(source.Rewinder); ok {
		e.rewinder = rw
		e.m.SetCap(e.budget)
	}
	e.m.SetNow(e.createdAt)
	if s.OrderedLive {
		e.m.SetOrderedLive(s.MaxIdle)
		e.m.SetNow(e.createdAt)
	}
	layout := &Layout{Headers: s.Headers, OrderingTimestamp: s.OrderingTimestamp, Late: s.Late, Typed: typed, BinaryView: s.BinaryView}
	if s.BinaryView {
		e.m.SetViews(e.mem)
	}
	for _, c := range typed {
		layout.ErrorColumn = layout.ErrorColumn || c.OnError == OnErrorNull
	}
	e.builder = newBatchBuilder(e.mem, parts, layout)
	e.initGroup(g)
	if e.liveLocked() {
		e.stats.liveAt = e.createdAt
	}
	liveManagers.Add(1)
	go e.run()
	return e
}

// Schema is the schema of the batches Poll returns.
func (e *Manager) Schema() *arrow.Schema { return e.builder.schema }

// Partitions returns the partitions of the replay with their resolved
// offsets.
func (e *Manager) Partitions() []PartitionInfo { return e.parts }

// usable returns the error every call reports once the manager is closed
// or failed, nil otherwise. Called with mu.
func (e *Manager) usableLocked() error {
	if e.closed {
		return ErrClosed
	}
	if f := e.failed.Load(); f != nil {
		return f
	}
	return nil
}

// fail marks the manager failed by a recovered panic and wakes every
// waiting Poll. It does not take mu if mu is held by the goroutine that
// panicked: callers run it after their deferred unlocks.
func (e *Manager) fail(where string, r any) *Error {
	err := &Error{Kind: KindInternal, Msg: fmt.Sprintf(
		"internal error in %s (please report): %v\n%s", where, r, debug.Stack())}
	if e.failed.CompareAndSwap(nil, err) {
		e.mu.Lock()
		e.broadcastLocked()
		e.mu.Unlock()
	}
	return e.failed.Load()
}

// catch turns a panic in a public method into the manager's failure; use
// as `defer e.catch("poll", &err)`, deferred before any lock is taken.
func (e *Manager) catch(where string, err *error) {
	if r := recover(); r != nil {
		*err = e.fail(where, r)
	}
}

// broadcastLocked wakes every Poll waiting for a change.
func (e *Manager) broadcastLocked() {
	close(e.changed)
	e.changed = make(chan struct{})
}

// IsLive reports whether the replay is over for the caller: every
// partition caught up and every replay record returned.
func (e *Manager) IsLive() (live bool, err error) {
	defer e.catch("is_live", &err)
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.usableLocked(); err != nil {
		return false, err
	}
	return e.liveLocked(), nil
}

// liveLocked is liveness as the caller sees it: the merger is live and no
// replay row waits in the pre-built batch or a kept remainder.
func (e *Manager) liveLocked() bool {
	if !e.m.Live() || (e.ready != nil && e.readyReplay) || e.grp.awaiting {
		return false
	}
	e.pendMu.Lock()
	defer e.pendMu.Unlock()
	return e.pending == nil
}

// Close stops the engine and releases the consumer. Idempotent, and
// possible after a failure.
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
		// revocations waiting for the caller go back to the group first
		e.closeGroup()
		// a Poll may be in a fetch (callerFetchLocked): Wake ended its
		// wait; the source closes once it is out
		e.fetchMu.Lock()
		_ = e.src.Close()
		e.fetchMu.Unlock()
		e.releasePending()
		e.mu.Lock()
		e.m.Close()
		e.mu.Unlock()
		liveManagers.Add(-1)
	})
	return nil
}
