package core

// state.go: "State" partition state and partition statistics as Arrow
// batches.

import (
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// PartitionState is one row of State, for Go callers and tests.
type PartitionState struct {
	Topic         string
	Partition     int32
	Start, End    int64
	Consumed      int64 // last consumed offset, -1 if none
	Released      int64 // last released offset, -1 if none
	LastTimestamp int64 // of the last consumed record; valid if Consumed >= 0
	Live, Paused  bool
	CaughtUp      bool
	Held, Late    int64
	Malformed     int64 // keys or values that did not decode (nulled or skipped)
	Rank          int32
	Duplicates    int64
}

// StateRows returns the partition state.
func (e *Manager) StateRows() (rows []PartitionState, err error) {
	defer e.catch("partition_state", &err)
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.usableLocked(); err != nil {
		return nil, err
	}
	rows = e.m.stateRows()
	// released_offset is what the caller has received: not the rows of the
	// pre-built batch, nor a remainder kept back by an until bound.
	if e.ready != nil && len(e.readyPrev) == len(rows) {
		for i := range rows {
			rows[i].Released = e.readyPrev[i]
		}
	}
	e.pendMu.Lock()
	if e.pending != nil {
		pendingFirst(e.pending, e.parts, rows)
	}
	e.pendMu.Unlock()
	return rows, nil
}

// pendingFirst lowers Released below the first row of each partition in a
// batch not yet delivered.
func pendingFirst(rec arrow.RecordBatch, parts []PartitionInfo, rows []PartitionState) {
	idx := map[string]map[int32]int{}
	for i, p := range parts {
		if idx[p.Topic] == nil {
			idx[p.Topic] = map[int32]int{}
		}
		idx[p.Topic][p.Partition] = i
	}
	topics := rec.Column(2).(*array.String)
	partsCol := rec.Column(3).(*array.Int32)
	offs := rec.Column(4).(*array.Int64)
	seen := map[int]bool{}
	for r := 0; r < int(rec.NumRows()); r++ {
		i, ok := idx[topics.Value(r)][partsCol.Value(r)]
		if !ok || seen[i] {
			continue
		}
		seen[i] = true
		if o := offs.Value(r) - 1; o < rows[i].Released {
			rows[i].Released = o
		}
	}
}

func (m *Merger) stateRows() []PartitionState {
	out := make([]PartitionState, len(m.parts))
	for i := range m.parts {
		p := &m.parts[i]
		out[i] = PartitionState{
			Topic: p.info.Topic, Partition: p.info.Partition, Rank: p.info.TopicRank,
			Start: p.info.Start, End: p.info.End,
			Consumed: p.lastOff, Released: p.released, LastTimestamp: p.lastTs,
			Live: p.live(), Paused: p.paused, CaughtUp: p.caughtUp,
			Held: int64(p.q.n), Late: p.late, Malformed: p.malformed, Duplicates: p.dups,
		}
	}
	return out
}

// sortedRows returns the partition state in the row order of the Arrow
// batches: by topic name, then partition (the Rust kafkars' order), not by
// topic rank.
func (e *Manager) sortedRows() ([]PartitionState, error) {
	rows, err := e.StateRows()
	if err != nil {
		return nil, err
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Topic != rows[j].Topic {
			return rows[i].Topic < rows[j].Topic
		}
		return rows[i].Partition < rows[j].Partition
	})
	return rows, nil
}

// offsetOrStart is the consumed_offset or released_offset column's value:
// the offset of the last record consumed (released), or replay_start_offset
// before the first one, as in the Rust kafkars 0.0.8 (code written for it
// computes progress from these values); last_consumed_timestamp is null
// until a record is consumed.
func offsetOrStart(off, start int64) int64 {
	if off < 0 {
		return start
	}
	return off
}

// State returns the partition state as a batch with PartitionStateSchema,
// one row per partition, sorted by topic name then partition.
func (e *Manager) State() (arrow.RecordBatch, error) {
	rows, err := e.sortedRows()
	if err != nil {
		return nil, err
	}
	b := array.NewRecordBuilder(e.mem, PartitionStateSchema)
	defer b.Release()
	b.Reserve(len(rows))
	for _, r := range rows {
		b.Field(0).(*array.StringBuilder).Append(r.Topic)
		b.Field(1).(*array.Int32Builder).Append(r.Partition)
		b.Field(2).(*array.Int64Builder).Append(r.Start)
		b.Field(3).(*array.Int64Builder).Append(r.End)
		b.Field(4).(*array.Int64Builder).Append(offsetOrStart(r.Consumed, r.Start))
		b.Field(5).(*array.Int64Builder).Append(offsetOrStart(r.Released, r.Start))
		if r.Consumed >= 0 {
			b.Field(6).(*array.TimestampBuilder).Append(arrow.Timestamp(r.LastTimestamp))
		} else {
			b.Field(6).AppendNull()
		}
		b.Field(7).(*array.BooleanBuilder).Append(r.Live)
		b.Field(8).(*array.BooleanBuilder).Append(r.Paused)
	}
	return b.NewRecordBatch(), nil
}

// Stats returns the partition statistics as a batch with
// PartitionStatsSchema, in the row order of State.
func (e *Manager) Stats() (arrow.RecordBatch, error) {
	rows, err := e.sortedRows()
	if err != nil {
		return nil, err
	}
	b := array.NewRecordBuilder(e.mem, PartitionStatsSchema)
	defer b.Release()
	b.Reserve(len(rows))
	for _, r := range rows {
		b.Field(0).(*array.StringBuilder).Append(r.Topic)
		b.Field(1).(*array.Int32Builder).Append(r.Partition)
		b.Field(2).(*array.Int64Builder).Append(r.Held)
		b.Field(3).(*array.Int64Builder).Append(r.Late)
		b.Field(4).(*array.Int64Builder).Append(r.Malformed)
		b.Field(5).(*array.BooleanBuilder).Append(r.CaughtUp)
		b.Field(6).(*array.Int32Builder).Append(r.Rank)
	}
	return b.NewRecordBatch(), nil
}
