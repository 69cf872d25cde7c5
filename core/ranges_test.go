package core

import (
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/kafkars/kafkars/core/source"
)

// logEntry is one offset of a scripted partition log. Invisible entries
// are what the consumer never sees but offsets-for-times does: transaction
// markers (stamped with the broker's clock) and aborted records.
type logEntry struct {
	ts      int64
	visible bool
}

type slicedLog struct {
	topics [][]int      // partition indexes per topic (rank order)
	logs   [][]logEntry // per partition index, offsets 0..len-1
}

func genLog(rng *rand.Rand, tsRange int64, lateProb, hiddenProb float64) slicedLog {
	var s slicedLog
	nTopics := 1 + rng.Intn(3)
	for t := 0; t < nTopics; t++ {
		np := 1 + rng.Intn(4)
		var idx []int
		for p := 0; p < np; p++ {
			n := rng.Intn(80)
			if rng.Intn(6) == 0 {
				n = 0 // empty partition
			}
			ts := rng.Int63n(tsRange)
			var log []logEntry
			for i := 0; i < n; i++ {
				if rng.Float64() < hiddenProb {
					// a marker stamped late (the broker's clock) or an
					// aborted record with any timestamp
					hts := tsRange * 10
					if rng.Intn(2) == 0 {
						hts = rng.Int63n(tsRange * 2)
					}
					log = append(log, logEntry{ts: hts})
					continue
				}
				if rng.Float64() < lateProb {
					ts -= rng.Int63n(tsRange/4 + 1)
					ts = max(ts, 0)
				} else {
					ts += rng.Int63n(tsRange/8 + 1)
				}
				log = append(log, logEntry{ts: ts, visible: true})
			}
			idx = append(idx, len(s.logs))
			s.logs = append(s.logs, log)
		}
		s.topics = append(s.topics, idx)
	}
	return s
}

func (s slicedLog) info(i int) PartitionInfo {
	for rank, ps := range s.topics {
		for p, j := range ps {
			if j == i {
				return PartitionInfo{Topic: fmt.Sprintf("t%d", rank), TopicRank: int32(rank), Partition: int32(p)}
			}
		}
	}
	panic("no partition")
}

// offsetForTime is offsets-for-times: the first offset whose entry has a
// timestamp >= t, visible or not; the end when there is none.
func offsetForTime(log []logEntry, t int64) int64 {
	for i, e := range log {
		if e.ts >= t {
			return int64(i)
		}
	}
	return int64(len(log))
}

// expectedFrom is the single ordered sequence of the visible records from
// the given offsets to the end of each log.
func (s slicedLog) expectedFrom(from []int64, stop []int64) []rowKey {
	var out []rowKey
	for i, log := range s.logs {
		var last int64
		seen := false
		for off := from[i]; off < stop[i]; off++ {
			e := log[off]
			if !e.visible {
				continue
			}
			eff := e.ts
			if seen && eff < last {
				eff = last
			}
			last, seen = eff, true
			out = append(out, rowKey{eff: eff, p: int32(i), off: off, ts: e.ts})
		}
	}
	sort.Slice(out, func(a, b int) bool {
		x, y := out[a], out[b]
		if x.eff != y.eff {
			return x.eff < y.eff
		}
		if x.p != y.p {
			return x.p < y.p
		}
		return x.off < y.off
	})
	return out
}

// readRanged runs one manager's merger over ranged partitions: the source
// delivers every visible record from each partition's start, in random
// fetches, including records past the range (librdkafka prefetches), until
// the partition is paused; it returns the released rows and the
// partitions it was asked to pause.
func readRanged(t *testing.T, rng *rand.Rand, s slicedLog, parts []PartitionInfo, cutoff int64) ([]rowKey, map[int32]bool) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	m := NewMerger(parts, cutoff, false)
	b := newBatchBuilder(mem, parts, &Layout{})
	idx := map[string]int32{}
	for i, p := range parts {
		idx[fmt.Sprintf("%s/%d", p.Topic, p.Partition)] = int32(i)
	}
	next := make([]int64, len(parts))
	for i := range parts {
		next[i] = parts[i].Start
	}
	paused := map[int32]bool{}
	var got []rowKey
	var pause, resume []int32
	budget := Budget{Messages: 1 + rng.Intn(40), Bytes: 1 << 40}
	for step := 0; ; step++ {
		if step > 200_000 {
			t.Fatalf("no progress")
		}
		var batch []source.Msg
		for tries := 0; tries < 8; tries++ {
			pi := rng.Intn(len(parts))
			if paused[int32(pi)] || (parts[pi].Start >= parts[pi].End) {
				continue // paused, or never assigned
			}
			log := s.logs[pi]
			for k := 1 + rng.Intn(6); k > 0 && next[pi] < int64(len(log)); k-- {
				off := next[pi]
				next[pi]++
				if e := log[off]; e.visible {
					batch = append(batch, source.Msg{Kind: source.Record, Partition: int32(pi), Offset: off, Timestamp: e.ts,
						Key: []byte("k"), Value: []byte("v")})
				}
			}
			if next[pi] >= int64(len(log)) && rng.Intn(2) == 0 {
				batch = append(batch, source.Msg{Kind: source.EOF, Partition: int32(pi), Offset: next[pi]})
			}
		}
		m.Ingest(batch, nil)
		m.Recompute()
		pause, resume = m.Backpressure(budget, pause[:0], resume[:0])
		for _, p := range pause {
			paused[p] = true
		}
		for _, p := range resume {
			if m.parts[p].halted {
				t.Fatalf("partition %d resumed after it reached its range's end", p)
			}
			delete(paused, p)
		}
		if n := m.Releasable(); n > 0 && rng.Intn(3) > 0 {
			if m.Release(1+rng.Intn(n), b) > 0 {
				got = collect(t, b, idx, got)
			}
		}
		if m.Live() && m.Releasable() == 0 {
			if m.Held() != 0 {
				t.Fatalf("live with %d rows held", m.Held())
			}
			break
		}
	}
	for i := range parts {
		if p := &m.parts[i]; parts[i].Start < parts[i].End && !paused[int32(i)] {
			t.Fatalf("partition %d reached its end (caught up %v) but was not paused", i, p.caughtUp)
		}
	}
	return got, paused
}

func sameRows(t *testing.T, what string, got, want []rowKey) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d", what, len(got), len(want))
	}
	for i := range want {
		if got[i].p != want[i].p || got[i].off != want[i].off || got[i].ts != want[i].ts {
			t.Fatalf("%s: row %d is p%d@%d ts=%d, want p%d@%d ts=%d", what, i,
				got[i].p, got[i].off, got[i].ts, want[i].p, want[i].off, want[i].ts)
		}
	}
}

// TestTimeSlicesConcatenate is the exactness of time slices: slice
// [t_i, t_i+1) reads each partition from offsets-for-times(t_i), drops rows
// whose ordering timestamp is below t_i (min time) and ends each partition
// at its first record at or after t_i+1 (cutoff). Concatenated, the slices'
// outputs are the single replay, whatever late records, ties, markers and
// aborted records (invisible entries that offsets-for-times still finds),
// empty partitions and empty slices there are.
func TestTimeSlicesConcatenate(t *testing.T) {
	cases := []struct {
		name             string
		tsRange          int64
		late, hidden     float64
		minSlices, extra int
	}{
		{"plain", 1000, 0, 0, 1, 6},
		{"late", 1000, 0.3, 0, 1, 6},
		{"ties", 6, 0.1, 0, 2, 8},
		{"markers", 500, 0.1, 0.15, 1, 8},
		{"markers-and-ties", 8, 0.2, 0.2, 2, 10},
	}
	seeds := 200
	if testing.Short() || raceEnabled {
		seeds = 25
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for seed := int64(0); seed < int64(seeds); seed++ {
				rng := rand.New(rand.NewSource(seed))
				s := genLog(rng, tc.tsRange, tc.late, tc.hidden)
				n := len(s.logs)
				zero, ends := make([]int64, n), make([]int64, n)
				for i := range s.logs {
					ends[i] = int64(len(s.logs[i]))
				}
				want := s.expectedFrom(zero, ends)
				effOf := map[[2]int64]int64{}
				for _, r := range want {
					effOf[[2]int64{int64(r.p), r.off}] = r.eff
				}
				// boundaries, some outside the data (empty slices)
				nb := tc.minSlices - 1 + rng.Intn(tc.extra)
				set := map[int64]bool{}
				for len(set) < nb {
					set[rng.Int63n(tc.tsRange*3)] = true
				}
				var bounds []int64
				for b := range set {
					bounds = append(bounds, b)
				}
				sort.Slice(bounds, func(i, j int) bool { return bounds[i] < bounds[j] })
				var got []rowKey
				for k := 0; k <= len(bounds); k++ {
					parts := make([]PartitionInfo, n)
					for i := range parts {
						parts[i] = s.info(i)
						parts[i].Ranged, parts[i].MinTime, parts[i].End = true, NoMinTime, ends[i]
						if k > 0 {
							parts[i].Start = offsetForTime(s.logs[i], bounds[k-1])
							parts[i].MinTime = bounds[k-1]
						}
					}
					cutoff := int64(-1)
					if k < len(bounds) {
						cutoff = bounds[k]
					}
					rows, _ := readRanged(t, rng, s, parts, cutoff)
					for _, r := range rows {
						eff := effOf[[2]int64{int64(r.p), r.off}]
						if k > 0 && eff < bounds[k-1] || k < len(bounds) && eff >= bounds[k] {
							t.Fatalf("seed %d slice %d: row p%d@%d ordering timestamp %d outside the slice", seed, k, r.p, r.off, eff)
						}
					}
					got = append(got, rows...)
				}
				sameRows(t, fmt.Sprintf("seed %d, bounds %v", seed, bounds), got, want)
			}
		})
	}
}

// TestRangeStops: records at or past a range's stop offset are never
// returned, even when the source delivers them (prefetch), and the
// partition is paused once it reached its stop.
func TestRangeStops(t *testing.T) {
	seeds := 200
	if testing.Short() || raceEnabled {
		seeds = 25
	}
	for seed := int64(0); seed < int64(seeds); seed++ {
		rng := rand.New(rand.NewSource(seed))
		s := genLog(rng, 300, 0.2, 0.1)
		n := len(s.logs)
		parts := make([]PartitionInfo, n)
		from, stop := make([]int64, n), make([]int64, n)
		for i, log := range s.logs {
			l := int64(len(log))
			a := rng.Int63n(l + 1)
			b := a + rng.Int63n(l-a+1)
			if rng.Intn(5) == 0 {
				b = a // an empty range: caught up from the start, never assigned
			}
			from[i], stop[i] = a, b
			parts[i] = s.info(i)
			parts[i].Ranged, parts[i].MinTime, parts[i].Start, parts[i].End = true, NoMinTime, a, b
		}
		got, _ := readRanged(t, rng, s, parts, -1)
		sameRows(t, fmt.Sprintf("seed %d", seed), got, s.expectedFrom(from, stop))
	}
}

func TestDecodeRanges(t *testing.T) {
	const pre = `{"config":{"bootstrap.servers":"h:1"},"topics":[`
	tests := []struct {
		name, topic, wantErr string
		want                 []PartitionRange
		minTime              int64 // -1: none
	}{
		{"ok", `{"name":"t","policy":"offsets","ranges":[{"partition":1,"start":5,"stop":9},{"partition":0,"start":0,"stop":0}]}`, "",
			[]PartitionRange{{1, 5, 9}, {0, 0, 0}}, -1},
		{"min time", `{"name":"t","policy":"offsets","ranges":[],"min_time_ms":7}`, "", []PartitionRange{}, 7},
		{"no ranges", `{"name":"t","policy":"offsets"}`, "policy offsets requires 'ranges'", nil, -1},
		{"ranges elsewhere", `{"name":"t","policy":"earliest","ranges":[]}`, "ranges apply to the offsets policy only", nil, -1},
		{"min time elsewhere", `{"name":"t","policy":"latest","min_time_ms":5}`, "min_time_ms applies to the offsets policy only", nil, -1},
		{"missing stop", `{"name":"t","policy":"offsets","ranges":[{"partition":0,"start":1}]}`, "ranges[0] needs 'partition', 'start' and 'stop'", nil, -1},
		{"unknown member", `{"name":"t","policy":"offsets","ranges":[{"partition":0,"start":1,"stop":2,"x":1}]}`, `unknown field "x"`, nil, -1},
		{"not a list", `{"name":"t","policy":"offsets","ranges":{"0":[1,2]}}`, "ranges must be a list", nil, -1},
		{"stop below start", `{"name":"t","policy":"offsets","ranges":[{"partition":0,"start":5,"stop":4}]}`, "stop offset 4 is below start offset 5", nil, -1},
		{"negative start", `{"name":"t","policy":"offsets","ranges":[{"partition":0,"start":-2,"stop":4}]}`, "start offset must be >= 0", nil, -1},
		{"negative partition", `{"name":"t","policy":"offsets","ranges":[{"partition":-1,"start":0,"stop":4}]}`, "partitions are >= 0", nil, -1},
		{"twice", `{"name":"t","policy":"offsets","ranges":[{"partition":2,"start":0,"stop":4},{"partition":2,"start":4,"stop":5}]}`, "partition 2 has two ranges", nil, -1},
		{"negative min time", `{"name":"t","policy":"offsets","ranges":[],"min_time_ms":-1}`, "min_time_ms must be >= 0", nil, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := DecodeOptions([]byte(pre + tc.topic + "]}"))
			if err == nil {
				err = o.Validate()
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || KindOf(err) != KindConfig {
					t.Fatalf("error %v, want a config error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ts := o.Topics[0]
			if fmt.Sprint(ts.Ranges) != fmt.Sprint(tc.want) {
				t.Fatalf("ranges %v, want %v", ts.Ranges, tc.want)
			}
			if (ts.MinTimeMs == nil) != (tc.minTime < 0) || ts.MinTimeMs != nil && *ts.MinTimeMs != tc.minTime {
				t.Fatalf("min time %v, want %d", ts.MinTimeMs, tc.minTime)
			}
		})
	}
}
