// Package source defines what the replay engine needs from Kafka, and
// nothing more: batches of fetched records per partition, pause/resume,
// consumer positions and a way to interrupt a wait.
//
// The real implementation is the Kafka adapter in core/internal/rdk
// (librdkafka's batch API through cgo), wired up by core/kafka.
// Tests drive the engine with scripted sources, so that merge, frontier,
// liveness and backpressure are checked without a broker.
package source

import "time"

// Kind tells what a fetched item is.
type Kind int32

const (
	// Record is a Kafka record.
	Record Kind = iota
	// EOF reports that the consumer reached the end of a partition; Offset
	// is the end offset reached.
	EOF
	// Error reports a consumer or partition error.
	Error
)

// Msg is one item of a fetched batch. Its byte slices alias memory owned by
// the source and are valid only until the next call to Fetch: the engine
// copies what it keeps.
type Msg struct {
	Key   []byte // nil when KeyNull
	Value []byte // nil when ValueNull
	// Headers is the encoded header list (see DecodeHeaders), nil if none or
	// if headers were not requested.
	Headers   []byte
	Offset    int64
	Timestamp int64 // ms since the epoch
	Partition int32 // engine partition index, -1 if not one of ours
	Kind      Kind
	KeyNull   bool
	ValueNull bool
	// Err describes an Error item: it wraps one of the kinds in errors.go
	// (or none, for errors the engine only reports).
	Err error
}

// Source is a stream of fetched batches for a fixed set of partitions,
// identified by the dense indexes 0..n-1 the engine uses.
type Source interface {
	// Fetch returns the next batch of at most max items. When nothing is
	// available it waits up to wait (0: do not wait) for an arrival or a
	// Wake, then returns what is there (possibly nothing). The returned
	// slice and the memory it points to are valid until the next Fetch.
	Fetch(wait time.Duration, max int) ([]Msg, error)
	// Done says the engine is done with the last batch: the source may
	// free it now rather than at the next Fetch (librdkafka's messages pin
	// whole fetch buffers).
	Done()
	// Pause stops fetching the given partitions; Resume restarts them from
	// the position after the last record Fetch returned for each.
	Pause(parts []int32) error
	Resume(parts []int32) error
	// Positions writes, for each partition, the offset after the last
	// record or control record the consumer has passed (-1 if unknown).
	Positions(parts []int32, out []int64) error
	// Wake makes a waiting Fetch return early. Safe from any goroutine.
	Wake()
	// Close releases the source. Fetch must not be running.
	Close() error
}

// Prober is implemented by sources that can ask the cluster about topics
// (the Kafka adapter). The engine uses it to tell a broker outage from a
// deleted topic; scripted sources need not implement it.
type Prober interface {
	// Partitions returns the partition count of topic; an error wrapping
	// ErrTopicNotFound when the cluster says it does not exist.
	Partitions(topic string, timeout time.Duration) (int, error)
	// ExistingTopics returns every topic of the cluster; an error (not an
	// empty set) when no broker answers.
	ExistingTopics(timeout time.Duration) (map[string]bool, error)
}

// BlockingFetcher is implemented by sources that can wait in a blocking
// system call on the calling thread. With linger_ms=0 a poll fetches for
// itself (see the engine's callerFetchLocked), and for a goroutine running
// on a foreign thread (a Python thread calling in) that costs no thread
// hand-off, where parking in Go's netpoller costs two.
type BlockingFetcher interface {
	FetchBlocking(wait time.Duration, max int) ([]Msg, error)
}

// Rewinder is implemented by sources that can fetch a partition again from
// an offset it has already delivered (the Kafka adapter: a seek). The
// engine then bounds what it holds by dropping records over its budget and
// fetching them again later (Merger.SetCap).
type Rewinder interface {
	// Rewind makes the next records Fetch returns for parts[i] start at
	// offsets[i], paused or not: records fetched before the call and not
	// yet returned are discarded, and a later Resume does not move the
	// position.
	Rewind(parts []int32, offsets []int64) error
}

// Committer is implemented by sources that can store offsets for the
// consumer group (the Kafka adapter with a group.id) and read them back.
type Committer interface {
	// Commit stores, synchronously (waiting at most timeout), offsets[i]
	// as the next offset to consume of partition parts[i]. errs[i] is the
	// error of parts[i], nil when it was stored; err is the request's own
	// error (no coordinator, timed out), in which case errs may be nil.
	Commit(parts []int32, offsets []int64, timeout time.Duration) (errs []error, err error)
	// CommitAsync sends the same request without waiting; its outcome is
	// reported by CommitResults.
	CommitAsync(parts []int32, offsets []int64) error
	// CommitResults returns the outcomes of asynchronous commits finished
	// since the last call, without waiting.
	CommitResults() []CommitResult
	// Committed asks the group coordinator for the committed offsets
	// (-1 where there is none).
	Committed(parts []int32, timeout time.Duration) ([]int64, error)
	// EndOffsets writes, for each partition, the log end offset the client
	// last learned from a fetch response (no request; -1 when unknown).
	EndOffsets(parts []int32, out []int64)
}

// CommitResult is the outcome of one asynchronous commit.
type CommitResult struct {
	Parts   []int32
	Offsets []int64
	Errs    []error // per partition, nil when stored
	Err     error   // the request's own error
}

// RebalanceKind tells what a consumer-group rebalance did.
type RebalanceKind int32

const (
	// Assigned: partitions were added to this member. The engine resolves
	// their start offsets and calls Apply.
	Assigned RebalanceKind = 1
	// Revoked: partitions are taken away in an orderly way. The engine
	// commits what the caller has processed, then calls Apply.
	Revoked RebalanceKind = 2
	// Lost: partitions were taken away involuntarily (the member was
	// fenced or timed out); already unassigned by the source. Nothing may
	// be committed for them.
	Lost RebalanceKind = 3
	// RebalanceFailed: the group protocol reported an error; the source
	// cleared the whole assignment.
	RebalanceFailed RebalanceKind = 4
)

// Rebalance is one assignment change of a consumer group.
type Rebalance struct {
	Kind    RebalanceKind
	Parts   []int32  // engine partition indexes
	Unknown []string // partitions the engine does not know, as "topic [n]"
	At      time.Time
	Err     error // RebalanceFailed: what the protocol reported
	Ref     any   // the source's own handle of the event, for Apply
}

// Group is implemented by sources whose partitions a consumer group
// assigns (subscribe mode).
type Group interface {
	// Rebalances returns the changes seen during the last Fetch, oldest
	// first. Called by the goroutine that fetched, right after Fetch.
	Rebalances() []*Rebalance
	// Apply performs an Assigned change (consuming Parts[i] from
	// offsets[i]) or a Revoked one (stop consuming them). Every Assigned
	// and Revoked event must be applied once: the group waits for it.
	Apply(rb *Rebalance, offsets []int64) error
	// Release frees the event (after Apply, or for events needing none).
	Release(rb *Rebalance)
}
