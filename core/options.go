package core

import (
	"fmt"
	"strings"
	"time"
)

// Policy is where a topic's replay starts (docs/design.md, "Inputs").
type Policy string

const (
	Earliest     Policy = "earliest"      // the first offset still in the log
	Latest       Policy = "latest"        // the end: nothing to replay, live only
	RelativeTime Policy = "relative_time" // TimeMs milliseconds before creation
	AbsoluteTime Policy = "absolute_time" // the first record with timestamp >= TimeMs
	// FromCommitted: the consumer group's committed offset (config's
	// group.id); where there is none, the topic's Fallback policy (with
	// TimeMs for a time fallback).
	FromCommitted Policy = "committed"
	// Offsets (ranges.go): the given [start, stop) offsets of the listed partitions.
)

// TopicSpec is one source topic. Its index in Options.Topics is its rank.
type TopicSpec struct {
	Name   string `json:"name"`
	Policy Policy `json:"policy"`
	TimeMs int64  `json:"time_ms"`
	// Fallback is the policy of a FromCommitted topic's partitions that have
	// no committed offset (earliest when empty); TimeMs is its time.
	Fallback Policy `json:"fallback"`
	// Key and Value, when set, declare the encoding of the topic's keys or
	// values: they are decoded into a typed column (layout.go).
	Key   *Format `json:"key"`
	Value *Format `json:"value"`
	// Ranges and MinTimeMs belong to the Offsets policy (ranges.go): the
	// offsets to read per partition, and the ordering timestamp below
	// which rows are not returned (nil: none).
	Ranges    []PartitionRange `json:"ranges"`
	MinTimeMs *int64           `json:"min_time_ms"`
}

// Defaults. Each is the value a user gets without asking; the reasons are
// in docs/guides (batching, backpressure) and repeated here.
const (
	// DefaultBatchSize is the most rows one poll returns (docs/design.md, "Inputs").
	DefaultBatchSize = 10_000
	// DefaultLingerMs is how long poll waits for a fuller batch once at
	// least one row is releasable (docs/design.md, "Batches"): low enough for live tailing,
	// long enough that a replay returns full batches.
	DefaultLingerMs = 5
	// DefaultMaxBufferedMessages bounds records held back for ordering
	// (docs/design.md, "Backpressure"). Past it, partitions ahead of the frontier are paused.
	DefaultMaxBufferedMessages = 500_000
	// DefaultMaxBufferedBytes bounds the bytes held back for ordering
	// (payload plus 64 bytes per record), 64 MiB. librdkafka's prefetch
	// queue gets a quarter as much again (see librdkafkaDefaults).
	DefaultMaxBufferedBytes = 64 << 20
	// DefaultStartupTimeoutMs bounds creation: metadata and offset lookups
	// against a broker that cannot be reached fail after this long.
	DefaultStartupTimeoutMs = 15_000
	// DefaultBrokerDownTimeoutMs: once every broker has been unreachable for
	// this long, poll raises BrokerUnavailable instead of waiting on
	// (0 disables: wait for ever, the condition shows in metrics).
	DefaultBrokerDownTimeoutMs = 300_000
	// FetchBatch is the largest batch taken from librdkafka in one cgo call.
	FetchBatch = 10_000
	// idleWait is how long the engine sleeps in a fetch when no data
	// arrives; it wakes at once on arrival (IO event) or on Close.
	idleWait = 100 * time.Millisecond
	// callerGrace: with linger_ms=0 and live, Poll fetches for itself
	// (engine.go, callerFetchLocked); the engine resumes fetching in the
	// background once no Poll has been in progress for this long.
	callerGrace = 20 * time.Millisecond
	// orderedLiveTick: in ordered live mode a waiting poll looks at least
	// this often whether a partition has fallen idle (releasing rows that
	// waited for it).
	orderedLiveTick = 10 * time.Millisecond
	// positionCheckEvery is how often partitions not yet caught up are
	// checked against their consumer position (the liveness fallback when the
	// last records before the end are control records and an EOF event
	// was discarded by a pause).
	positionCheckEvery = 100 * time.Millisecond
)

// Options configure a Manager. A nil field means "the default".
type Options struct {
	// Config holds librdkafka consumer properties, passed through. A
	// property set here always wins over a kafkars default.
	Config map[string]string `json:"config"`
	Topics []TopicSpec       `json:"topics"`
	// CutoffMs, when set, also ends a partition's replay at its first
	// record with timestamp >= CutoffMs.
	CutoffMs            *int64 `json:"cutoff_ms"`
	BatchSize           *int   `json:"batch_size"`
	LingerMs            *int   `json:"linger_ms"`
	MaxBufferedMessages *int   `json:"max_buffered_messages"`
	MaxBufferedBytes    *int64 `json:"max_buffered_bytes"`
	IncludeHeaders      bool   `json:"include_headers"`
	// Headers is the headers layout when IncludeHeaders: list (default)
	// or map.
	Headers             HeadersLayout `json:"headers_layout"`
	StartupTimeoutMs    *int          `json:"startup_timeout_ms"`
	BrokerDownTimeoutMs *int          `json:"broker_down_timeout_ms"`
	// Late is the late-record policy (default keep).
	Late LatePolicy `json:"late"`
	// OrderingTimestamp adds the ordering_timestamp column.
	OrderingTimestamp bool `json:"ordering_timestamp"`
	// BinaryView returns key and value as binary_view columns pointing
	// into the engine's queue memory: one copy of every value fewer
	// (docs/design.md, "Batches").
	BinaryView bool `json:"binary_view"`
	// LiveOrder is how live rows are released: "arrival" (default: as
	// they arrive) or "event_time" (in order across partitions, each
	// waiting at most MaxIdleMs for a partition that has gone quiet).
	LiveOrder string `json:"live_order"`
	// MaxIdleMs: with LiveOrder event_time, how long a partition may go
	// without a record before live rows stop waiting for it (default
	// DefaultMaxIdleMs).
	MaxIdleMs *int `json:"max_idle_ms"`
	// Subscribe: the consumer group (config's group.id) assigns the
	// partitions; every topic starts from the group's committed offsets,
	// its policy applying where there is none.
	Subscribe bool `json:"subscribe"`
}

// DefaultMaxIdleMs is how long, in ordered live mode, a partition may go
// without a record before it no longer holds live rows back. Shorter
// lowers the latency of live rows when a partition is quiet; longer orders
// more of what a slow partition sends late.
const DefaultMaxIdleMs = 1000

// Settings are Options after defaults and validation: what a Manager and
// the wiring that connects it to Kafka work with.
type Settings struct {
	Config              map[string]string
	Topics              []TopicSpec
	BatchSize           int
	MaxBufferedMessages int
	MaxBufferedBytes    int64
	IncludeHeaders      bool          // Headers != HeadersNone
	Headers             HeadersLayout // the headers column's layout
	Late                LatePolicy
	OrderingTimestamp   bool
	BinaryView          bool
	OrderedLive         bool          // live_order event_time
	MaxIdle             time.Duration // with OrderedLive
	Linger              time.Duration
	Startup             time.Duration // bound on creation
	BrokerDown          time.Duration // 0: never give up on brokers
	Cutoff              int64         // -1: none
	Now                 time.Time     // creation time: relative start times count from it
	Subscribe           bool          // partitions assigned by the consumer group
}

// GroupID is the group.id the user gave, and whether one was given.
func (s *Settings) GroupID() (string, bool) {
	g, ok := s.Config["group.id"]
	return g, ok
}

// NeedsGroup reports why this read needs the user's group.id: subscribe
// mode or a topic starting from committed offsets ("" when it does not).
func (s *Settings) NeedsGroup() string {
	if s.Subscribe {
		return "subscribe=True"
	}
	for _, t := range s.Topics {
		if t.Policy == FromCommitted {
			return fmt.Sprintf("topic %q with policy committed (SourceTopic.from_committed)", t.Name)
		}
	}
	return ""
}

// CheckGroup reports a read that needs a consumer group without one (the
// default group.id is random: committed offsets under it mean nothing).
func (s *Settings) CheckGroup() error {
	why := s.NeedsGroup()
	g, ok := s.GroupID()
	if ok && strings.TrimSpace(g) == "" && why == "" {
		// librdkafka's consumer has no consumer queue without a group
		return errInvalid("config['group.id'] is empty (%q): give a group name, or leave group.id out "+
			"(kafkars then uses a random one, and nothing can be committed)", g)
	}
	if why == "" {
		return nil
	}
	switch {
	case !ok:
		return errInvalid("%s needs config['group.id']: the consumer group whose committed offsets to use "+
			"(kafkars' default group.id is random)", why)
	case strings.TrimSpace(g) == "":
		return errInvalid("%s needs a non-empty config['group.id'], got %q", why, g)
	}
	return nil
}

// Servers is the bootstrap broker list, for messages.
func (s *Settings) Servers() string {
	if v := s.Config["bootstrap.servers"]; v != "" {
		return v
	}
	return s.Config["metadata.broker.list"]
}

func errInvalid(format string, args ...any) error {
	return &Error{Kind: KindConfig, Msg: fmt.Sprintf(format, args...)}
}

// Resolve applies defaults and checks every argument, naming the culprit.
func (o Options) Resolve(now time.Time) (*Settings, error) {
	r := &Settings{Config: o.Config, Topics: o.Topics, Now: now, Cutoff: -1, OrderingTimestamp: o.OrderingTimestamp, BinaryView: o.BinaryView, Subscribe: o.Subscribe}
	switch {
	case !o.IncludeHeaders && o.Headers != HeadersNone:
		return nil, errInvalid("headers_layout %q is given but include_headers is false", string(o.Headers))
	case !o.IncludeHeaders:
	case o.Headers == HeadersNone || o.Headers == HeadersList:
		r.Headers = HeadersList
	case o.Headers == HeadersMap:
		r.Headers = HeadersMap
	default:
		return nil, errInvalid("headers layout must be 'list' or 'map', got %q", string(o.Headers))
	}
	r.IncludeHeaders = r.Headers != HeadersNone
	switch o.LiveOrder {
	case "", "arrival":
		if o.MaxIdleMs != nil {
			return nil, errInvalid("max_idle_ms applies to live_order='event_time' only")
		}
	case "event_time":
		idle, err := positive("max_idle_ms", o.MaxIdleMs, DefaultMaxIdleMs, 0)
		if err != nil {
			return nil, err
		}
		r.OrderedLive, r.MaxIdle = true, time.Duration(idle)*time.Millisecond
	default:
		return nil, errInvalid("live_order must be 'arrival' or 'event_time', got %q", o.LiveOrder)
	}
	switch o.Late {
	case "", LateKeep:
		r.Late = LateKeep
	case LateRewrite, LateDrop:
		r.Late = o.Late
	default:
		return nil, errInvalid("late must be 'keep', 'rewrite' or 'drop', got %q", string(o.Late))
	}
	if r.Config == nil {
		r.Config = map[string]string{}
	}
	if len(o.Topics) == 0 {
		return nil, errInvalid("topics is empty: give at least one SourceTopic")
	}
	seen := map[string]int{}
	for i, t := range o.Topics {
		if err := t.Validate(); err != nil {
			return nil, err
		}
		if j, dup := seen[t.Name]; dup {
			return nil, errInvalid("duplicate topic %q: listed twice (positions %d and %d); each topic may appear once", t.Name, j, i)
		}
		seen[t.Name] = i
	}
	if err := checkColumns(o.Topics); err != nil {
		return nil, err
	}
	var err error
	if r.BatchSize, err = positive("batch_size", o.BatchSize, DefaultBatchSize, 1); err != nil {
		return nil, err
	}
	linger, err := positive("linger_ms", o.LingerMs, DefaultLingerMs, 0)
	if err != nil {
		return nil, err
	}
	r.Linger = time.Duration(linger) * time.Millisecond
	if r.MaxBufferedMessages, err = positive("max_buffered_messages", o.MaxBufferedMessages, DefaultMaxBufferedMessages, 1); err != nil {
		return nil, err
	}
	r.MaxBufferedBytes = DefaultMaxBufferedBytes
	if o.MaxBufferedBytes != nil {
		if *o.MaxBufferedBytes < 1 {
			return nil, errInvalid("max_buffered_bytes must be >= 1, got %d", *o.MaxBufferedBytes)
		}
		r.MaxBufferedBytes = *o.MaxBufferedBytes
	}
	st, err := positive("startup_timeout_ms", o.StartupTimeoutMs, DefaultStartupTimeoutMs, 1)
	if err != nil {
		return nil, err
	}
	r.Startup = time.Duration(st) * time.Millisecond
	bd, err := positive("broker_down_timeout_ms", o.BrokerDownTimeoutMs, DefaultBrokerDownTimeoutMs, 0)
	if err != nil {
		return nil, err
	}
	r.BrokerDown = time.Duration(bd) * time.Millisecond
	if o.CutoffMs != nil {
		if *o.CutoffMs < 0 {
			return nil, errInvalid("cutoff_ms must be >= 0 (epoch milliseconds), got %d", *o.CutoffMs)
		}
		r.Cutoff = *o.CutoffMs
	}
	if _, ok := r.Config["bootstrap.servers"]; !ok {
		if _, ok2 := r.Config["metadata.broker.list"]; !ok2 {
			return nil, errInvalid("config has no 'bootstrap.servers': give the broker address, e.g. {'bootstrap.servers': 'localhost:9092'}")
		}
	}
	if _, empty := r.Config[""]; empty {
		return nil, errInvalid("config has an empty property name")
	}
	return r, nil
}

// positive returns *v, or def when v is nil, checking *v >= min.
func positive(name string, v *int, def, min int) (int, error) {
	if v == nil {
		return def, nil
	}
	if *v < min {
		return 0, errInvalid("%s must be >= %d, got %d", name, min, *v)
	}
	return *v, nil
}

// Validate checks one topic description (docs/design.md, "Inputs").
func (t TopicSpec) Validate() error {
	if t.Name == "" {
		return errInvalid("topic name is empty")
	}
	if len(t.Name) > 249 {
		return errInvalid("topic name %q is longer than Kafka's 249 characters", t.Name)
	}
	policy := t.Policy
	if policy == FromCommitted {
		switch t.Fallback {
		case "", Earliest, Latest, RelativeTime, AbsoluteTime:
		default:
			return errInvalid("topic %q: unknown fallback %q (expected earliest, latest, relative_time or absolute_time)", t.Name, string(t.Fallback))
		}
		policy = t.StartPolicy()
	} else if t.Fallback != "" {
		return errInvalid("topic %q: fallback %q is only for policy committed, not %q", t.Name, string(t.Fallback), string(t.Policy))
	}
	switch policy {
	case Earliest, Latest:
	case RelativeTime:
		if t.TimeMs < 0 {
			return errInvalid("topic %q: relative_time must be >= 0 ms before now, got %d", t.Name, t.TimeMs)
		}
	case AbsoluteTime:
		if t.TimeMs < 0 {
			return errInvalid("topic %q: absolute_time must be >= 0 (epoch milliseconds), got %d", t.Name, t.TimeMs)
		}
	case Offsets:
	default:
		return errInvalid("topic %q: unknown policy %q (expected earliest, latest, relative_time, absolute_time, committed or offsets)", t.Name, string(t.Policy))
	}
	if err := t.validateRanges(); err != nil {
		return err
	}
	if t.Key != nil {
		if err := t.Key.validate(t.Name, "key"); err != nil {
			return err
		}
	}
	if t.Value != nil {
		if err := t.Value.validate(t.Name, "value"); err != nil {
			return err
		}
	}
	return nil
}

// StartPolicy is the policy that places a partition without a committed
// offset: Fallback (earliest by default) for a FromCommitted topic, else
// Policy.
func (t TopicSpec) StartPolicy() Policy {
	if t.Policy != FromCommitted {
		return t.Policy
	}
	if t.Fallback == "" {
		return Earliest
	}
	return t.Fallback
}

// Validate checks options without connecting. A missing bootstrap.servers
// is not reported (validate_source_topic checks topics alone).
func (o Options) Validate() error {
	cfg := map[string]string{"bootstrap.servers": "-"}
	for k, v := range o.Config {
		cfg[k] = v
	}
	o.Config = cfg
	_, err := o.Resolve(time.Now())
	return err
}
