package core

// metrics.go: a snapshot of the Manager's counters and conditions. The JSON
// names are the keys of the metrics object of the C ABI and of Python's
// ConsumerManager.metrics(): documented in docs/reference/c-api.md; keys
// are only ever added, never renamed or removed, within one ABI version.

import (
	"runtime"
	"time"
)

// Metrics is a snapshot of counters and conditions.
type Metrics struct {
	// where the replay stands
	IsLive             bool   `json:"is_live"`
	Partitions         int    `json:"partitions"`
	PartitionsCaughtUp int    `json:"partitions_caught_up"`
	PrimingWatermarkMs *int64 `json:"priming_watermark_ms"` // frontier timestamp while replaying, else null
	RecordsToReplay    int64  `json:"records_to_replay"`
	TimeToLiveMs       *int64 `json:"time_to_live_ms"` // from creation to live, null until then
	UptimeMs           int64  `json:"uptime_ms"`

	// held back for ordering, and backpressure
	HeldMessages       int   `json:"held_messages"`
	HeldBytes          int64 `json:"held_bytes"`
	PeakHeldMessages   int   `json:"peak_held_messages"`
	PeakHeldBytes      int64 `json:"peak_held_bytes"`
	ReleasableMessages int   `json:"releasable_messages"`
	PausedPartitions   int   `json:"paused_partitions"`
	PauseEvents        int64 `json:"pause_events"`
	// records not kept because the buffer was full and the partition held
	// its share (fetched again later), and the partitions' rewinds
	RecordsRefetched int64 `json:"records_refetched"`
	Rewinds          int64 `json:"rewinds"`

	// records and batches
	RecordsConsumed   int64   `json:"records_consumed"`
	RecordsReleased   int64   `json:"records_released"` // handed to the caller
	BatchesReleased   int64   `json:"batches_released"`
	LateMessages      int64   `json:"late_messages"`     // below their partition's running maximum (kept or dropped)
	MalformedRecords  int64   `json:"malformed_records"` // keys or values that did not decode (nulled or skipped)
	DuplicatesDropped int64   `json:"duplicates_dropped"`
	FetchCalls        int64   `json:"fetch_calls"`
	FetchCallsByPoll  int64   `json:"fetch_calls_by_poll"` // of fetch_calls: made by a waiting poll (linger_ms=0, live)
	EmptyPolls        int64   `json:"empty_polls"`
	BuildSeconds      float64 `json:"build_seconds"`

	// offset ranges (the offsets policy): rows below the topic's min
	// time, and records at or past a range's end; neither is returned
	RecordsBelowMinTime int64 `json:"records_below_min_time"`
	RecordsPastRange    int64 `json:"records_past_range"`

	// errors and health
	ErrorCount      int64   `json:"error_count"`
	LastError       *string `json:"last_error"` // null when none
	BrokerDownForMs *int64  `json:"broker_down_for_ms"`
	Fatal           *string `json:"fatal_error"` // null unless the manager failed

	// consumer group: commits, rebalances, lag (group.go)
	AssignedPartitions int     `json:"assigned_partitions"` // partitions this member consumes
	Rebalances         int64   `json:"rebalances"`          // assignment changes handled
	LastRebalanceMs    *int64  `json:"last_rebalance_ms"`   // epoch ms of the last one, null if none
	PartitionsLost     int64   `json:"partitions_lost"`     // taken away involuntarily
	Commits            int64   `json:"commits"`             // successful commits
	CommitFailures     int64   `json:"commit_failures"`
	LastCommitMs       *int64  `json:"last_commit_ms"` // epoch ms, null if none
	LastCommitError    *string `json:"last_commit_error"`
	Lag                *int64  `json:"lag"`             // sum over assigned partitions of end - committed; null if unknown
	LagToPosition      *int64  `json:"lag_to_position"` // sum over assigned partitions of end - position

	// settings in effect
	BatchSize           int   `json:"batch_size"`
	LingerMs            int64 `json:"linger_ms"`
	MaxBufferedMessages int   `json:"max_buffered_messages"`
	MaxBufferedBytes    int64 `json:"max_buffered_bytes"`
}

// Metrics returns a snapshot.
func (e *Manager) Metrics() (m Metrics, err error) {
	defer e.catch("metrics", &err)
	lag, lerr := e.LagRows()
	if lerr != nil {
		return Metrics{}, lerr
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.usableLocked(); err != nil {
		return Metrics{}, err
	}
	now := time.Now()
	s := &e.stats
	m = Metrics{
		IsLive:              e.liveLocked(),
		Partitions:          len(e.parts),
		PausedPartitions:    e.m.PausedCount(),
		HeldMessages:        e.m.Held(),
		HeldBytes:           e.m.HeldBytes(),
		PeakHeldMessages:    s.peakHeld,
		PeakHeldBytes:       s.peakBytes,
		PauseEvents:         s.pauseEvents,
		RecordsRefetched:    e.m.Refetched(),
		Rewinds:             s.rewinds,
		ReleasableMessages:  e.m.Releasable(),
		LateMessages:        e.m.LateTotal(),
		RecordsReleased:     s.released,
		BatchesReleased:     s.batches,
		FetchCalls:          s.fetches,
		FetchCallsByPoll:    s.pollFetches,
		EmptyPolls:          s.emptyPolls,
		BuildSeconds:        s.releaseTime.Seconds(),
		ErrorCount:          e.errCount,
		UptimeMs:            now.Sub(e.createdAt).Milliseconds(),
		BatchSize:           e.opts.BatchSize,
		LingerMs:            e.opts.Linger.Milliseconds(),
		MaxBufferedMessages: e.opts.MaxBufferedMessages,
		MaxBufferedBytes:    e.opts.MaxBufferedBytes,
	}
	m.RecordsBelowMinTime, m.RecordsPastRange = e.m.RangeCounts()
	if e.lastErr != "" {
		t := e.lastErr
		m.LastError = &t
	}
	if e.ready != nil {
		m.ReleasableMessages += int(e.ready.NumRows())
	}
	for i := range e.m.parts {
		p := &e.m.parts[i]
		m.RecordsConsumed += p.consumed
		m.DuplicatesDropped += p.dups
		m.MalformedRecords += p.malformed
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
	if !s.liveAt.IsZero() {
		d := s.liveAt.Sub(e.createdAt).Milliseconds()
		m.TimeToLiveMs = &d
	}
	if e.fatal != nil {
		t := e.fatal.Error()
		m.Fatal = &t
	}
	g := &e.grp
	m.AssignedPartitions = e.ownedCountLocked()
	m.Rebalances = g.rebalances
	m.PartitionsLost = g.lostParts
	m.Commits = g.commits
	m.CommitFailures = g.commitFailures
	if !g.lastRebalance.IsZero() {
		v := g.lastRebalance.UnixMilli()
		m.LastRebalanceMs = &v
	}
	if !g.lastCommit.IsZero() {
		v := g.lastCommit.UnixMilli()
		m.LastCommitMs = &v
	}
	if g.lastCommitErr != "" {
		t := g.lastCommitErr
		m.LastCommitError = &t
	}
	var sumLag, sumPos int64
	knownLag, knownPos := false, false
	for _, r := range lag {
		if !r.Assigned || r.End < 0 {
			continue
		}
		if r.Committed >= 0 {
			sumLag += max(r.End-r.Committed, 0)
			knownLag = true
		}
		if r.Position >= 0 {
			sumPos += max(r.End-r.Position, 0)
			knownPos = true
		}
	}
	if knownLag {
		m.Lag = &sumLag
	}
	if knownPos {
		m.LagToPosition = &sumPos
	}
	return m, nil
}

// Goroutines is runtime.NumGoroutine, for the C ABI's debug counters.
func Goroutines() int { return runtime.NumGoroutine() }
