package core

// ranges.go: the "offsets" start policy (docs/design.md, "Replay at
// scale"): a topic read over given offset ranges, one [start, stop) per
// listed partition. It is what a time slice of a longer replay is made of:
// a planner resolves the slice's times to offsets (offsets-for-times) and
// every slice, read on its own, returns exactly its share of the single
// ordered sequence.
//
// A ranged partition has no live phase: records at or past its stop
// offset (or, with a cutoff, from its first record at or after the
// cutoff on) are never returned, and the partition is paused for good
// once it reaches there, so librdkafka stops prefetching it. Records whose
// ordering timestamp is below the topic's min_time_ms are read (they
// raise the running maximum that orders late records) but not returned.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"github.com/kafkars/kafkars/core/source"
)

// Offsets is the policy of a topic read over offset ranges
// (TopicSpec.Ranges). Partitions not listed are not read.
const Offsets Policy = "offsets"

// PartitionRange is one partition's offsets to read: [Start, Stop).
type PartitionRange struct {
	Partition int32 `json:"partition"`
	Start     int64 `json:"start"`
	Stop      int64 `json:"stop"`
}

// NoMinTime is PartitionInfo.MinTime when rows are not filtered by time.
const NoMinTime = math.MinInt64

// validateRanges checks the Offsets policy's members of t.
func (t TopicSpec) validateRanges() error {
	if t.Policy != Offsets {
		if t.Ranges != nil {
			return errInvalid("topic %q: ranges apply to the offsets policy only, not %s", t.Name, t.Policy)
		}
		if t.MinTimeMs != nil {
			return errInvalid("topic %q: min_time_ms applies to the offsets policy only, not %s", t.Name, t.Policy)
		}
		return nil
	}
	if t.MinTimeMs != nil && *t.MinTimeMs < 0 {
		return errInvalid("topic %q: min_time_ms must be >= 0 (epoch milliseconds), got %d", t.Name, *t.MinTimeMs)
	}
	seen := make(map[int32]bool, len(t.Ranges))
	for _, r := range t.Ranges {
		switch {
		case r.Partition < 0:
			return errInvalid("topic %q: range of partition %d: partitions are >= 0", t.Name, r.Partition)
		case seen[r.Partition]:
			return errInvalid("topic %q: partition %d has two ranges: give one [start, stop) per partition", t.Name, r.Partition)
		case r.Start < 0:
			return errInvalid("topic %q partition %d: start offset must be >= 0, got %d", t.Name, r.Partition, r.Start)
		case r.Stop < r.Start:
			return errInvalid("topic %q partition %d: stop offset %d is below start offset %d", t.Name, r.Partition, r.Stop, r.Start)
		}
		seen[r.Partition] = true
	}
	return nil
}

// SortedRanges returns the topic's ranges by partition.
func (t TopicSpec) SortedRanges() []PartitionRange {
	out := append([]PartitionRange(nil), t.Ranges...)
	sort.Slice(out, func(i, j int) bool { return out[i].Partition < out[j].Partition })
	return out
}

// rangeJSON is one member of a topic's "ranges" in the spec: every member
// required, nothing else allowed.
type rangeJSON struct {
	Partition *int32 `json:"partition"`
	Start     *int64 `json:"start"`
	Stop      *int64 `json:"stop"`
}

// decodeRanges reads a topic's "ranges" and "min_time_ms" members.
func decodeRanges(ts *TopicSpec, raw json.RawMessage, minTime *int64) error {
	ts.MinTimeMs = minTime
	if len(raw) == 0 || string(raw) == "null" {
		if ts.Policy == Offsets {
			return specErr("topic %q: policy offsets requires 'ranges': [{\"partition\": p, \"start\": s, \"stop\": e}, ...]", ts.Name)
		}
		return nil
	}
	var rs []rangeJSON
	if err := strictUnmarshal(raw, &rs); err != nil {
		return specErr("topic %q: ranges must be a list of {\"partition\", \"start\", \"stop\"} objects: %s", ts.Name, describeJSONError(err))
	}
	ts.Ranges = make([]PartitionRange, 0, len(rs))
	for i, r := range rs {
		if r.Partition == nil || r.Start == nil || r.Stop == nil {
			return specErr("topic %q: ranges[%d] needs 'partition', 'start' and 'stop'", ts.Name, i)
		}
		ts.Ranges = append(ts.Ranges, PartitionRange{Partition: *r.Partition, Start: *r.Start, Stop: *r.Stop})
	}
	return nil
}

// strictUnmarshal is json.Unmarshal rejecting unknown object members.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data")
	}
	return nil
}

// pastRange reports, for a ranged partition, whether msg lies at or past
// the range's end: at or past End, after the partition caught up, or the
// first record at or after the cutoff (which ends the range there). Such
// records are discarded and counted; the partition is caught up.
func (m *Merger) pastRange(p *partition, msg *source.Msg) bool {
	switch {
	case p.caughtUp || msg.Offset >= p.info.End:
	case msg.Timestamp >= m.cutoff:
		p.replayEnd = msg.Offset
	default:
		return false
	}
	if !p.caughtUp {
		p.caughtUp = true
		p.heardAt = m.now
	}
	p.pastEnd++
	return true
}

// haltRanged pauses, for good, every ranged partition that has reached its
// end (appending it to pause), so that librdkafka stops fetching it. A
// halted partition is never resumed.
func (m *Merger) haltRanged(pause []int32) []int32 {
	for i := range m.parts {
		p := &m.parts[i]
		if p.info.Ranged && p.caughtUp && !p.halted {
			p.halted = true
			if !p.paused {
				pause = append(pause, int32(i))
			}
			p.paused = false // not a backpressure pause: never resumed
		}
	}
	return pause
}

// RangeCounts are the rows ranged partitions did not return: below their
// topic's min time, and records at or past their range's end.
func (m *Merger) RangeCounts() (belowMin, pastEnd int64) {
	for i := range m.parts {
		belowMin += m.parts[i].belowMin
		pastEnd += m.parts[i].pastEnd
	}
	return belowMin, pastEnd
}
