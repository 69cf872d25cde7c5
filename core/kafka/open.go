// Package kafka wires the ordering engine (package core) to a real Kafka
// cluster: it creates the librdkafka consumer with kafkars' defaults,
// resolves every partition's replay offsets, assigns them and starts a
// core.Manager on the Kafka adapter (core/internal/rdk) with the C-heap
// allocator (core/internal/cmem). It is the only package that imports
// both the engine and cgo; the C ABI (capi) calls Open.
package kafka

// open.go: creation. Resolve every topic's partitions, the replay end of
// each partition (the offset the consumer can read up to now: the high
// watermark, or the last stable offset under read_committed) and its start
// from the topic's policy; then assign everything and start the engine.

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/kafkars/kafkars/core"
	"github.com/kafkars/kafkars/core/internal/cmem"
	"github.com/kafkars/kafkars/core/internal/rdk"
	"github.com/kafkars/kafkars/core/source"
)

var mallocOnce sync.Once

// tuneMalloc applies rdk.FixMmapThreshold and rdk.FixTrimThreshold once
// per process (see there), each unless the user set it in the environment
// (or KAFKARS_MALLOPT=0).
func tuneMalloc() {
	mallocOnce.Do(func() {
		if os.Getenv("KAFKARS_MALLOPT") == "0" {
			return
		}
		if os.Getenv("MALLOC_MMAP_THRESHOLD_") == "" {
			rdk.FixMmapThreshold(16 << 20)
		}
		if os.Getenv("MALLOC_TRIM_THRESHOLD_") == "" {
			rdk.FixTrimThreshold(16 << 20)
		}
	})
}

// Open creates a Manager connected to Kafka. It fails within
// startup_timeout_ms when no broker answers, and at once when every
// bootstrap address refuses the connection.
func Open(o core.Options) (*core.Manager, error) {
	tuneMalloc()
	now := time.Now()
	r, err := o.Resolve(now)
	if err != nil {
		return nil, err
	}
	if err := r.CheckGroup(); err != nil {
		return nil, err
	}
	_, userDebug := r.Config["debug"]
	kc, err := rdk.New(props(r), core.FetchBatch, userDebug || os.Getenv("KAFKARS_LOG") == "stderr", r.Subscribe)
	if err != nil {
		var ce *rdk.ConfigError
		if errors.As(err, &ce) {
			msg := strings.TrimSpace(ce.Msg)
			if ce.Property != "" && !strings.Contains(msg, ce.Property) {
				msg = fmt.Sprintf("config property %q: %s", ce.Property, msg)
			}
			return nil, &core.Error{Kind: core.KindConfig, Msg: "invalid config: " + msg, Cause: err}
		}
		return nil, &core.Error{Kind: core.KindInternal, Msg: err.Error(), Cause: err}
	}
	// Nothing listening at any bootstrap address: say so now rather than
	// after startup_timeout_ms (see probe.go).
	if err := refusedEverywhere(r.Servers(), r.Config["broker.address.family"], r.Startup); err != nil {
		kc.Close()
		return nil, err
	}
	m, err := openWith(r, kc, now)
	if err != nil {
		kc.Close()
		return nil, err
	}
	return m, nil
}

func openWith(r *core.Settings, kc *rdk.Consumer, now time.Time) (*core.Manager, error) {
	// decoders first: a bad schema fails before any request to Kafka
	typed, err := typedColumns(r)
	if err != nil {
		return nil, err
	}
	deadline := now.Add(r.Startup)
	remaining := func() time.Duration {
		d := time.Until(deadline)
		if d < 100*time.Millisecond {
			d = 100 * time.Millisecond
		}
		return d
	}
	servers := r.Servers()
	kafkaErr := func(what string, err error) error {
		var ke *rdk.KafkaError
		if !errors.As(err, &ke) {
			return &core.Error{Kind: core.KindInternal, Msg: fmt.Sprintf("%s: %v", what, err), Cause: err}
		}
		logs := lastLine(kc.RecentLogs())
		if errors.Is(err, source.ErrBrokerDown) || errors.Is(err, source.ErrTimedOut) {
			msg := fmt.Sprintf("cannot reach Kafka at bootstrap.servers=%q within startup_timeout_ms=%d (%s: %s)",
				servers, r.Startup.Milliseconds(), what, ke.Name())
			if logs != "" {
				msg += "; librdkafka says: " + logs
			}
			return &core.Error{Kind: core.KindBrokerUnavailable, Msg: msg, Cause: err}
		}
		msg := fmt.Sprintf("%s failed: %s", what, ke.Error())
		if logs != "" {
			msg += "; librdkafka says: " + logs
		}
		return &core.Error{Kind: core.KindKafka, Msg: msg, Cause: err}
	}

	names := make([]string, len(r.Topics))
	for i, t := range r.Topics {
		names[i] = t.Name
	}
	counts, topicErrs, err := kc.PartitionCounts(names, remaining())
	if err != nil {
		return nil, kafkaErr("metadata for topics "+strings.Join(names, ", "), err)
	}
	var parts []core.PartitionInfo
	var tps []rdk.TopicPartition
	for rank, t := range r.Topics {
		if err := topicErrs[t.Name]; err != nil {
			if errors.Is(err, source.ErrTopicNotFound) {
				return nil, &core.Error{Kind: core.KindTopicNotFound, Cause: err,
					Msg: fmt.Sprintf("topic %q does not exist on %s", t.Name, servers)}
			}
			return nil, kafkaErr(fmt.Sprintf("metadata for topic %q", t.Name), err)
		}
		n := counts[t.Name]
		if n == 0 {
			return nil, &core.Error{Kind: core.KindTopicNotFound, Msg: fmt.Sprintf("topic %q has no partitions on %s", t.Name, servers)}
		}
		for p := 0; p < n; p++ {
			parts = append(parts, core.PartitionInfo{Topic: t.Name, TopicRank: int32(rank), Partition: int32(p)})
			tps = append(tps, rdk.TopicPartition{Topic: t.Name, Partition: int32(p)})
		}
	}
	if err := kc.SetPartitions(tps); err != nil {
		return nil, &core.Error{Kind: core.KindInternal, Msg: err.Error(), Cause: err}
	}
	kc.SetWantHeaders(r.IncludeHeaders)

	gid, _ := r.GroupID()
	if r.Subscribe {
		// Every partition starts unowned; the group assigns them, and the
		// engine resolves their offsets then (resolveOffsets).
		if err := kc.Subscribe(names); err != nil {
			return nil, kafkaErr("subscribe to "+strings.Join(names, ", "), err)
		}
		g := core.GroupOptions{Subscribe: true, GroupID: gid, Resolve: func(idx []int32) ([]int64, []int64, []int64, error) {
			starts, ends, committed, err := resolveOffsets(kc, r, parts, idx, true, time.Now(), time.Now().Add(r.Startup))
			if err != nil {
				return nil, nil, nil, kafkaErr("resolving the offsets of assigned partitions", err)
			}
			return starts, ends, committed, nil
		}}
		return core.NewGroupManager(r, parts, kc, cmem.Default, typed, g), nil
	}

	all := make([]int32, len(parts))
	for i := range parts {
		all[i] = int32(i)
	}
	starts, ends, committed, err := resolveOffsets(kc, r, parts, all, false, now, deadline)
	if err != nil {
		return nil, kafkaErr("looking up offsets", err)
	}
	for i := range parts {
		parts[i].Start, parts[i].End = starts[i], ends[i]
	}
	if err := resolveRanges(r, parts, ends, func(ps []int32, ts []int64) ([]int64, error) {
		return offsetsForTimes(kc, ps, ts, deadline)
	}); err != nil {
		var ce *core.Error
		if errors.As(err, &ce) {
			return nil, err
		}
		return nil, kafkaErr("looking up the first offsets of the ranges", err)
	}
	assign, starts := assignment(parts)
	if err := kc.Assign(assign, starts); err != nil {
		return nil, kafkaErr("assign", err)
	}
	return core.NewGroupManager(r, parts, kc, cmem.Default, typed, core.GroupOptions{GroupID: gid, Committed: committed}), nil
}

// resolveOffsets returns, for the partitions idx (indexes into parts),
// the replay start, the replay end (the offset the consumer can read up to
// now: the high watermark, or the last stable offset under read_committed)
// and the group's committed offset (-1: none, or no group.id given).
// A partition starts at its committed offset when its topic's policy is
// committed, or with group (subscribe mode: every topic), and where there is
// one; otherwise at its topic's policy (a committed topic's fallback). A
// committed offset outside the log is brought inside it: below the first
// offset still in the log (deleted by retention) to that offset, past the
// end to the end.
func resolveOffsets(kc *rdk.Consumer, r *core.Settings, parts []core.PartitionInfo, idx []int32, group bool, now, deadline time.Time) (starts, ends, committed []int64, err error) {
	endQ := make([]int64, len(idx))
	for k := range idx {
		endQ[k] = rdk.OffsetEnd
	}
	ends, err = offsetsForTimes(kc, idx, endQ, deadline)
	if err != nil {
		return nil, nil, nil, err
	}
	committed = make([]int64, len(idx))
	for k := range committed {
		committed[k] = -1
	}
	if _, ok := r.GroupID(); ok {
		c, err := committedOffsets(kc, idx, deadline)
		if err != nil && (group || r.NeedsGroup() != "") {
			return nil, nil, nil, err
		}
		if err == nil {
			committed = c
		}
	}
	starts = make([]int64, len(idx))
	// one list-offsets request for every start that needs one
	var sq []int32
	var sts []int64
	var at []int
	fromCommitted := make([]bool, len(idx))
	for k, i := range idx {
		t := r.Topics[parts[i].TopicRank]
		useCommitted := group || t.Policy == core.FromCommitted
		if useCommitted && committed[k] >= 0 {
			starts[k] = committed[k]
			fromCommitted[k] = true
			if committed[k] < ends[k] {
				// the first offset still in the log bounds it below
				sq, sts, at = append(sq, i), append(sts, rdk.OffsetBeginning), append(at, k)
			} else {
				starts[k] = ends[k]
			}
			continue
		}
		switch t.StartPolicy() {
		case core.Latest:
			starts[k] = ends[k]
		case core.Earliest:
			sq, sts, at = append(sq, i), append(sts, rdk.OffsetBeginning), append(at, k)
		case core.RelativeTime:
			sq, sts, at = append(sq, i), append(sts, now.UnixMilli()-t.TimeMs), append(at, k)
		case core.AbsoluteTime:
			sq, sts, at = append(sq, i), append(sts, t.TimeMs), append(at, k)
		}
	}
	if len(sq) > 0 {
		got, err := offsetsForTimes(kc, sq, sts, deadline)
		if err != nil {
			return nil, nil, nil, err
		}
		for n, k := range at {
			s := got[n]
			if fromCommitted[k] && starts[k] > s {
				s = starts[k] // the committed offset, inside the log
			}
			// No record at or after the time: nothing to replay (a time
			// past the last record resolves to the end).
			if s < 0 || s > ends[k] {
				s = ends[k]
			}
			starts[k] = s
		}
	}
	return starts, ends, committed, nil
}

// committedOffsets is kc.Committed, asked again while the group
// coordinator is being found or loads, until deadline.
func committedOffsets(kc *rdk.Consumer, parts []int32, deadline time.Time) ([]int64, error) {
	for {
		d := time.Until(deadline)
		if d < 100*time.Millisecond {
			d = 100 * time.Millisecond
		}
		out, err := kc.Committed(parts, d)
		if err == nil || !rdk.Transient(err) || time.Until(deadline) < 200*time.Millisecond {
			return out, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// retryPause spaces the offset lookups offsetsForTimes repeats.
const retryPause = 100 * time.Millisecond

// offsetsForTimes is kc.OffsetsForTimes, asked again while a partition's
// leadership is in transition (a broker that has just restarted answers
// UNKNOWN_LEADER_EPOCH for a moment), until the startup deadline.
func offsetsForTimes(kc *rdk.Consumer, parts []int32, ts []int64, deadline time.Time) ([]int64, error) {
	for {
		out, err := kc.OffsetsForTimes(parts, ts, max(time.Until(deadline), 100*time.Millisecond))
		var ke *rdk.KafkaError
		if err == nil || !errors.As(err, &ke) || !rdk.LeaderInTransition(ke.Code) || time.Until(deadline) < 2*retryPause {
			return out, err
		}
		time.Sleep(retryPause)
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// LibrdkafkaVersion is the version of the librdkafka kafkars runs on.
func LibrdkafkaVersion() string { return rdk.Version() }

// ArrowMemory reports the C-heap memory of batches handed out: bytes and
// allocations not yet released by their consumers, and bytes kept for
// reuse. For leak checks and debugging.
func ArrowMemory() (liveBytes, liveAllocations, cachedBytes int64) {
	a := cmem.Default
	return a.LiveBytes(), a.LiveAllocations(), a.CachedBytes()
}
