package core

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/kafkars/kafkars/core/decode"
	"github.com/kafkars/kafkars/core/source"
)

// numDecoder decodes ASCII integers into struct<n: int64>; anything else
// is malformed. A stand-in for the real formats, which have their own
// tests: here only the engine's handling of decoded columns is tested.
type numDecoder struct{ typ *arrow.StructType }

func newNumDecoder() *numDecoder {
	return &numDecoder{typ: arrow.StructOf(arrow.Field{Name: "n", Type: arrow.PrimitiveTypes.Int64})}
}

func (d *numDecoder) Type() *arrow.StructType { return d.typ }

func (d *numDecoder) Append(b *array.StructBuilder, data []byte) error {
	v, err := strconv.ParseInt(string(data), 10, 64)
	if err != nil {
		return decode.Malformed(fmt.Sprintf("%q is not a number", data))
	}
	b.Append(true)
	b.FieldBuilder(0).(*array.Int64Builder).Append(v)
	return nil
}

// typedReplay is one topic, two partitions, values "0".."n-1" with a
// malformed "x" at the given offsets of partition 0; timestamps equal to
// the offset, so the order interleaves the partitions.
func typedReplay(n int, bad map[int64]bool) scripted {
	parts := []PartitionInfo{{Topic: "t0", Partition: 0, End: int64(n)}, {Topic: "t0", Partition: 1, End: int64(n)}}
	s := scripted{parts: parts, records: make([][]source.Msg, 2)}
	for p := int32(0); p < 2; p++ {
		for off := int64(0); off < int64(n); off++ {
			v := []byte(strconv.FormatInt(off, 10))
			if p == 0 && bad[off] {
				v = []byte("x")
			}
			s.records[p] = append(s.records[p], source.Msg{Kind: source.Record, Partition: p, Offset: off, Timestamp: off, Value: v, Key: []byte("k")})
		}
	}
	return s
}

// drainAll polls until live or an error, returning every row's batches.
func drainAll(t *testing.T, m *Manager) ([]arrow.RecordBatch, error) {
	t.Helper()
	var out []arrow.RecordBatch
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		rec, err := m.Poll(50 * time.Millisecond)
		if rec != nil {
			out = append(out, rec)
		}
		if err != nil {
			return out, err
		}
		if live, _ := m.IsLive(); live && rec == nil {
			return out, nil
		}
	}
	t.Fatal("not live within 10 s")
	return nil, nil
}

func TestTypedColumns(t *testing.T) {
	const n = 50
	bad := map[int64]bool{20: true, 30: true}
	tests := []struct {
		name    string
		policy  ErrorPolicy
		keepRaw bool
		check   func(t *testing.T, rows [][]string, err error, met Metrics)
	}{
		{"raise: rows before the record, then an error naming it", OnErrorRaise, true, func(t *testing.T, rows [][]string, err error, met Metrics) {
			if KindOf(err) != KindDecode || !strings.Contains(err.Error(), "t0 [0] at offset 20") ||
				!strings.Contains(err.Error(), `"x" is not a number`) || !errors.Is(err, decode.ErrMalformed) {
				t.Fatalf("error = %v", err)
			}
			// rows in order up to (t0[0]@20) exclusive: 20 of partition 0 and 20 of partition 1
			// (timestamps tie at 20: partition 0 comes first)
			if len(rows) != 40 {
				t.Fatalf("%d rows before the error, want 40", len(rows))
			}
			for _, r := range rows {
				if r[0] != r[1] { // decoded n equals the raw value
					t.Fatalf("row %v: decoded != raw", r)
				}
			}
		}},
		{"null: every row, null and the error text for the bad ones", OnErrorNull, true, func(t *testing.T, rows [][]string, err error, met Metrics) {
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 2*n {
				t.Fatalf("%d rows, want %d", len(rows), 2*n)
			}
			nulls := 0
			for _, r := range rows {
				if r[1] == "null" {
					nulls++
					if r[0] != "x" || !strings.Contains(r[2], `value: "x" is not a number`) {
						t.Fatalf("null row %v", r)
					}
				} else if r[2] != "null" {
					t.Fatalf("good row %v has an error text", r)
				}
			}
			if nulls != 2 || met.MalformedRecords != 2 {
				t.Fatalf("%d null rows, malformed_records=%d, want 2", nulls, met.MalformedRecords)
			}
		}},
		{"skip: the bad rows are dropped and counted", OnErrorSkip, true, func(t *testing.T, rows [][]string, err error, met Metrics) {
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 2*n-2 || met.MalformedRecords != 2 {
				t.Fatalf("%d rows, malformed_records=%d, want %d and 2", len(rows), met.MalformedRecords, 2*n-2)
			}
			for _, r := range rows {
				if r[0] == "x" {
					t.Fatalf("a skipped row was returned: %v", r)
				}
			}
		}},
		{"keep_raw=false: values null, decoded kept", OnErrorSkip, false, func(t *testing.T, rows [][]string, err error, met Metrics) {
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				if r[0] != "null" || r[1] == "null" {
					t.Fatalf("row %v: want a null raw value and a decoded one", r)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := typedReplay(n, bad)
			opts := testOpts(t, Options{Topics: []TopicSpec{{Name: "t0", Policy: Earliest}}, BatchSize: ip(7)})
			cols := []TypedColumn{{Name: "t0", Topic: 0, OnError: tt.policy, KeepRaw: tt.keepRaw, Decoder: newNumDecoder()}}
			m := NewManager(opts, s.parts, newFakeSource(1, s), testAllocator(t), cols)
			defer m.Close()
			recs, err := drainAll(t, m)
			var rows [][]string
			for _, rec := range recs {
				sch := rec.Schema()
				if sch.Field(6).Name != "t0" {
					t.Fatalf("schema %v", sch)
				}
				// the decoder's field is required, but the column is null on
				// other rows: the batch says nullable, and the array agrees
				if st := sch.Field(6).Type.(*arrow.StructType); !st.Field(0).Nullable ||
					!arrow.TypeEqual(rec.Column(6).DataType(), st) {
					t.Fatalf("typed column type %v, array %v", st, rec.Column(6).DataType())
				}
				vals := rec.Column(1).(*array.Binary)
				st := rec.Column(6).(*array.Struct)
				num := st.Field(0).(*array.Int64)
				var errs *array.String
				if tt.policy == OnErrorNull {
					errs = rec.Column(7).(*array.String)
				}
				for i := 0; i < int(rec.NumRows()); i++ {
					r := []string{"null", "null", "null"}
					if vals.IsValid(i) {
						r[0] = string(vals.Value(i))
					}
					if st.IsValid(i) {
						r[1] = strconv.FormatInt(num.Value(i), 10)
					}
					if errs != nil && errs.IsValid(i) {
						r[2] = errs.Value(i)
					}
					rows = append(rows, r)
				}
				rec.Release()
			}
			met, _ := m.Metrics()
			if tt.policy == OnErrorRaise {
				// every later call reports the same error
				if _, e := m.Poll(10 * time.Millisecond); !errors.Is(e, err) {
					t.Fatalf("second poll: %v", e)
				}
			}
			tt.check(t, rows, err, met)
		})
	}
}

func TestLatePoliciesAndOrderingTimestamp(t *testing.T) {
	// one partition, timestamps 10, 20, 15 (late), 30, 5 (late), 40
	ts := []int64{10, 20, 15, 30, 5, 40}
	parts := []PartitionInfo{{Topic: "t0", Partition: 0, End: int64(len(ts))}}
	mk := func() scripted {
		s := scripted{parts: parts, records: make([][]source.Msg, 1)}
		for i, v := range ts {
			s.records[0] = append(s.records[0], source.Msg{Kind: source.Record, Offset: int64(i), Timestamp: v, Value: []byte("v")})
		}
		return s
	}
	tests := []struct {
		late      LatePolicy
		ordering  bool
		wantTs    []int64
		wantOrd   []int64 // ordering_timestamp column, when asked for
		wantOrig  []int64 // original_timestamp column (rewrite)
		wantLate  int64
		wantNames []string
	}{
		{LateKeep, true, ts, []int64{10, 20, 20, 30, 30, 40}, nil, 2,
			[]string{"key", "value", "topic", "partition", "offset", "timestamp", "ordering_timestamp"}},
		{LateRewrite, false, []int64{10, 20, 20, 30, 30, 40}, nil, ts, 2,
			[]string{"key", "value", "topic", "partition", "offset", "timestamp", "original_timestamp"}},
		{LateDrop, false, []int64{10, 20, 30, 40}, nil, nil, 2,
			[]string{"key", "value", "topic", "partition", "offset", "timestamp"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.late), func(t *testing.T) {
			s := mk()
			opts := testOpts(t, Options{Topics: []TopicSpec{{Name: "t0", Policy: Earliest}}, Late: tt.late, OrderingTimestamp: tt.ordering})
			m := NewManager(opts, s.parts, newFakeSource(1, s), testAllocator(t), nil)
			defer m.Close()
			recs, err := drainAll(t, m)
			if err != nil {
				t.Fatal(err)
			}
			var gotTs, gotOrd, gotOrig []int64
			for _, rec := range recs {
				var names []string
				for _, f := range rec.Schema().Fields() {
					names = append(names, f.Name)
				}
				if fmt.Sprint(names) != fmt.Sprint(tt.wantNames) {
					t.Fatalf("columns %v, want %v", names, tt.wantNames)
				}
				for i := 0; i < int(rec.NumRows()); i++ {
					gotTs = append(gotTs, int64(rec.Column(5).(*array.Timestamp).Value(i)))
					if len(names) > 6 && names[6] == "ordering_timestamp" {
						gotOrd = append(gotOrd, int64(rec.Column(6).(*array.Timestamp).Value(i)))
					}
					if len(names) > 6 && names[6] == "original_timestamp" {
						gotOrig = append(gotOrig, int64(rec.Column(6).(*array.Timestamp).Value(i)))
					}
				}
				rec.Release()
			}
			if fmt.Sprint(gotTs) != fmt.Sprint(tt.wantTs) || fmt.Sprint(gotOrd) != fmt.Sprint(tt.wantOrd) || fmt.Sprint(gotOrig) != fmt.Sprint(tt.wantOrig) {
				t.Fatalf("timestamp %v ordering %v original %v, want %v %v %v", gotTs, gotOrd, gotOrig, tt.wantTs, tt.wantOrd, tt.wantOrig)
			}
			if met, _ := m.Metrics(); met.LateMessages != tt.wantLate {
				t.Fatalf("late_messages = %d, want %d", met.LateMessages, tt.wantLate)
			}
		})
	}
}

func TestHeadersMapLayout(t *testing.T) {
	parts := []PartitionInfo{{Topic: "t0", Partition: 0, End: 2}}
	s := scripted{parts: parts, records: [][]source.Msg{{
		{Kind: source.Record, Offset: 0, Timestamp: 1, Value: []byte("a"),
			Headers: source.EncodeHeaders(nil, []string{"trace", "empty"}, [][]byte{[]byte("t-1"), nil})},
		{Kind: source.Record, Offset: 1, Timestamp: 2, Value: []byte("b")},
	}}}
	opts := testOpts(t, Options{Topics: []TopicSpec{{Name: "t0", Policy: Earliest}}, IncludeHeaders: true, Headers: HeadersMap})
	m := NewManager(opts, s.parts, newFakeSource(1, s), testAllocator(t), nil)
	defer m.Close()
	recs, err := drainAll(t, m)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rec := range recs {
		mp := rec.Column(6).(*array.Map)
		keys := mp.Keys().(*array.String)
		items := mp.Items().(*array.Binary)
		for i := 0; i < int(rec.NumRows()); i++ {
			a, b := mp.ValueOffsets(i)
			var kv []string
			for j := a; j < b; j++ {
				v := "null"
				if items.IsValid(int(j)) {
					v = string(items.Value(int(j)))
				}
				kv = append(kv, keys.Value(int(j))+"="+v)
			}
			got = append(got, strings.Join(kv, ","))
		}
		rec.Release()
	}
	if fmt.Sprint(got) != "[trace=t-1,empty=null ]" {
		t.Fatalf("headers %q", got)
	}
}
