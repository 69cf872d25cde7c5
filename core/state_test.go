package core

import (
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/kafkars/kafkars/core/source"
)

func TestOffsetOrStart(t *testing.T) {
	for _, c := range []struct {
		off, start, want int64
	}{
		{off: -1, start: 0, want: 0},     // nothing consumed yet: the start, as the Rust kafkars
		{off: -1, start: 10, want: 10},   // likewise from a later start
		{off: 10, start: 10, want: 10},   // the first record consumed
		{off: 42, start: 10, want: 42},   // later records
		{off: -1, start: 100, want: 100}, // nothing to replay (start == end == 100)
	} {
		if got := offsetOrStart(c.off, c.start); got != c.want {
			t.Errorf("offsetOrStart(%d, %d) = %d, want %d", c.off, c.start, got, c.want)
		}
	}
}

// TestStateAndStatsBatches replays two topics listed in reverse name order
// and checks both batches: their schemas, rows sorted by topic name then
// partition (not by rank), offsets with and without consumption, and the
// statistics (held, late, caught up, rank).
func TestStateAndStatsBatches(t *testing.T) {
	rec := func(p int32, off, ts int64) source.Msg {
		return source.Msg{Kind: source.Record, Partition: p, Offset: off, Timestamp: ts, Value: []byte("v")}
	}
	// Partition indexes are dense in (rank, partition) order.
	parts := []PartitionInfo{
		{Topic: "zeta", TopicRank: 0, Partition: 0, Start: 10, End: 13},
		{Topic: "zeta", TopicRank: 0, Partition: 1, Start: 100, End: 100}, // nothing to replay
		{Topic: "alpha", TopicRank: 1, Partition: 0, Start: 0, End: 2},
	}
	s := scripted{parts: parts, records: [][]source.Msg{
		{rec(0, 10, 5), rec(0, 11, 3), rec(0, 12, 7)}, // offset 11 is late
		nil,
		{rec(2, 0, 1), rec(2, 1, 2)},
	}}
	opts := testOpts(t, Options{LingerMs: ip(0), Topics: []TopicSpec{{Name: "zeta", Policy: Earliest}, {Name: "alpha", Policy: Earliest}}})
	m := startManager(opts, parts, newFakeSource(3, s))
	defer m.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rec, err := m.Poll(50 * time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if rec != nil {
			rec.Release()
		}
		if live, _ := m.IsLive(); live {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not live after 10s")
		}
	}

	st, err := m.State()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Release()
	if !st.Schema().Equal(PartitionStateSchema) {
		t.Fatalf("state schema %v", st.Schema())
	}
	type stateRow struct {
		topic              string
		part               int32
		start, end         int64
		consumed, released int64
		ts                 int64 // -1: null
		live, paused       bool
	}
	wantState := []stateRow{
		{"alpha", 0, 0, 2, 1, 1, 2, true, false},
		{"zeta", 0, 10, 13, 12, 12, 7, true, false},
		{"zeta", 1, 100, 100, 100, 100, -1, true, false}, // nothing consumed: the start
	}
	if int(st.NumRows()) != len(wantState) {
		t.Fatalf("%d state rows, want %d", st.NumRows(), len(wantState))
	}
	for i, w := range wantState {
		ts := int64(-1)
		if c := st.Column(6).(*array.Timestamp); c.IsValid(i) {
			ts = int64(c.Value(i))
		}
		got := stateRow{
			st.Column(0).(*array.String).Value(i), st.Column(1).(*array.Int32).Value(i),
			st.Column(2).(*array.Int64).Value(i), st.Column(3).(*array.Int64).Value(i),
			st.Column(4).(*array.Int64).Value(i), st.Column(5).(*array.Int64).Value(i), ts,
			st.Column(7).(*array.Boolean).Value(i), st.Column(8).(*array.Boolean).Value(i),
		}
		if got != w {
			t.Errorf("state row %d = %+v, want %+v", i, got, w)
		}
	}

	ss, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Release()
	if !ss.Schema().Equal(PartitionStatsSchema) {
		t.Fatalf("stats schema %v", ss.Schema())
	}
	type statsRow struct {
		topic                 string
		part                  int32
		held, late, malformed int64
		caughtUp              bool
		rank                  int32
	}
	wantStats := []statsRow{
		{"alpha", 0, 0, 0, 0, true, 1},
		{"zeta", 0, 0, 1, 0, true, 0},
		{"zeta", 1, 0, 0, 0, true, 0},
	}
	for i, w := range wantStats {
		got := statsRow{
			ss.Column(0).(*array.String).Value(i), ss.Column(1).(*array.Int32).Value(i),
			ss.Column(2).(*array.Int64).Value(i), ss.Column(3).(*array.Int64).Value(i), ss.Column(4).(*array.Int64).Value(i),
			ss.Column(5).(*array.Boolean).Value(i), ss.Column(6).(*array.Int32).Value(i),
		}
		if got != w {
			t.Errorf("stats row %d = %+v, want %+v", i, got, w)
		}
	}
}

// TestPartitionStateSchemaIsTheRustOne pins the nine columns, their types
// and nullability: code written for the Rust kafkars 0.0.8 compares schemas.
func TestPartitionStateSchemaIsTheRustOne(t *testing.T) {
	ts := &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}
	want := []arrow.Field{
		{Name: "topic", Type: arrow.BinaryTypes.String},
		{Name: "partition", Type: arrow.PrimitiveTypes.Int32},
		{Name: "replay_start_offset", Type: arrow.PrimitiveTypes.Int64},
		{Name: "replay_end_offset", Type: arrow.PrimitiveTypes.Int64},
		{Name: "consumed_offset", Type: arrow.PrimitiveTypes.Int64},
		{Name: "released_offset", Type: arrow.PrimitiveTypes.Int64},
		{Name: "last_consumed_timestamp", Type: ts, Nullable: true},
		{Name: "is_live", Type: arrow.FixedWidthTypes.Boolean},
		{Name: "is_paused", Type: arrow.FixedWidthTypes.Boolean},
	}
	got := PartitionStateSchema.Fields()
	if len(got) != len(want) {
		t.Fatalf("%d fields, want %d", len(got), len(want))
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Errorf("field %d = %v, want %v", i, got[i], want[i])
		}
	}
}
