package kafka

// ranges.go: creation of topics read over offset ranges (the offsets
// policy, core/ranges.go). Every partition of such a topic stays in the
// engine's dense index (the adapter maps (topic, partition) onto it and
// wants each topic whole), but only the listed partitions with something
// to read are assigned; the others are caught up from the start.

import (
	"fmt"

	"github.com/kafkars/kafkars/core"
	"github.com/kafkars/kafkars/core/internal/rdk"
)

// resolveRanges sets the offsets of the partitions of offsets-policy
// topics: a listed partition reads [start, min(stop, end)), where end is
// its replay end (ends, resolved already); an unlisted one reads nothing.
// A listed partition that does not exist, or whose start lies below the
// first offset still in the log, is an error naming it.
func resolveRanges(r *core.Settings, parts []core.PartitionInfo, ends []int64, lookup func([]int32, []int64) ([]int64, error)) error {
	index := map[string]map[int32]int{}
	for i, p := range parts {
		t := r.Topics[p.TopicRank]
		if t.Policy != core.Offsets {
			continue
		}
		if index[p.Topic] == nil {
			index[p.Topic] = map[int32]int{}
		}
		index[p.Topic][p.Partition] = i
		parts[i].Ranged = true
		parts[i].MinTime = core.NoMinTime
		if t.MinTimeMs != nil {
			parts[i].MinTime = *t.MinTimeMs
		}
		parts[i].Start, parts[i].End = ends[i], ends[i] // not listed: nothing to read
	}
	var check []int32
	for _, t := range r.Topics {
		if t.Policy != core.Offsets {
			continue
		}
		for _, rg := range t.SortedRanges() {
			i, ok := index[t.Name][rg.Partition]
			if !ok {
				return &core.Error{Kind: core.KindConfig, Msg: fmt.Sprintf(
					"topic %q has no partition %d (it has %d): check the offset ranges", t.Name, rg.Partition, len(index[t.Name]))}
			}
			end := min(rg.Stop, ends[i])
			parts[i].Start, parts[i].End = min(rg.Start, end), end
			if parts[i].Start < parts[i].End {
				check = append(check, int32(i))
			}
		}
	}
	if len(check) == 0 {
		return nil
	}
	q := make([]int64, len(check))
	for k := range q {
		q[k] = rdk.OffsetBeginning
	}
	lows, err := lookup(check, q)
	if err != nil {
		return err
	}
	for k, i := range check {
		if p := parts[i]; lows[k] > p.Start {
			return &core.Error{Kind: core.KindKafka, Msg: fmt.Sprintf(
				"topic %q partition %d: the range starts at offset %d but the log now starts at %d (records deleted by retention or compaction since the range was planned)",
				p.Topic, p.Partition, p.Start, lows[k])}
		}
	}
	return nil
}

// assignment is what to assign: every partition except ranged ones with
// nothing to read.
func assignment(parts []core.PartitionInfo) (idx []int32, offsets []int64) {
	for i, p := range parts {
		if p.Ranged && p.Start >= p.End {
			continue
		}
		idx = append(idx, int32(i))
		offsets = append(offsets, p.Start)
	}
	return idx, offsets
}
