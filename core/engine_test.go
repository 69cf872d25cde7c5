package core

import (
	"errors"
	"fmt"
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/kafkars/kafkars/core/source"
)

// fakeSource is a scripted source.Source: it hands out the records of
// unpaused partitions in random chunks, honours pause/resume like
// librdkafka (a resumed partition restarts after the last record handed
// out), and accepts live records pushed while it runs.
type fakeSource struct {
	mu      sync.Mutex
	rng     *rand.Rand
	parts   []PartitionInfo
	records [][]source.Msg
	next    []int
	eofSent []bool
	paused  []bool
	out     []source.Msg
	arrived chan struct{}
	wake    chan struct{}
	closed  bool
	pauses  int
	// owned, when set, says which partitions are consumed (group tests)
	owned func(p int) bool
	// whole: a take hands out everything a partition has (no random chunks)
	whole bool
}

func newFakeSource(seed int64, s scripted) *fakeSource {
	n := len(s.parts)
	return &fakeSource{rng: rand.New(rand.NewSource(seed)), parts: s.parts, records: s.records,
		next: make([]int, n), eofSent: make([]bool, n), paused: make([]bool, n),
		arrived: make(chan struct{}, 1), wake: make(chan struct{}, 1)}
}

// push appends a live record to partition p.
func (f *fakeSource) push(p int32, ts int64, val []byte) { f.pushMany(p, []int64{ts}, val) }

// pushMany appends live records to partition p at once (one arrival).
func (f *fakeSource) pushMany(p int32, tss []int64, val []byte) {
	f.mu.Lock()
	for _, ts := range tss {
		off := f.parts[p].End + int64(len(f.records[p])) // beyond anything scripted
		if n := len(f.records[p]); n > 0 && f.records[p][n-1].Offset >= off {
			off = f.records[p][n-1].Offset + 1
		}
		f.records[p] = append(f.records[p], source.Msg{Kind: source.Record, Partition: p, Offset: off, Timestamp: ts, Value: val})
	}
	f.mu.Unlock()
	select {
	case f.arrived <- struct{}{}:
	default:
	}
}

func (f *fakeSource) take(max int) []source.Msg {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.out = f.out[:0]
	for tries := 0; len(f.out) < max && tries < 4*len(f.parts)+8; tries++ {
		p := f.rng.Intn(len(f.parts))
		if f.paused[p] || (f.owned != nil && !f.owned(p)) {
			continue
		}
		recs := f.records[p]
		if f.next[p] < len(recs) {
			k := 1 + f.rng.Intn(16)
			if f.whole {
				k = len(recs)
			}
			for ; k > 0 && f.next[p] < len(recs) && len(f.out) < max; k-- {
				f.out = append(f.out, recs[f.next[p]])
				f.next[p]++
			}
		} else if !f.eofSent[p] {
			f.eofSent[p] = true
			end := f.parts[p].End
			if n := len(recs); n > 0 && recs[n-1].Offset+1 > end {
				end = recs[n-1].Offset + 1
			}
			f.out = append(f.out, source.Msg{Kind: source.EOF, Partition: int32(p), Offset: end})
		}
	}
	return f.out
}

func (f *fakeSource) Fetch(wait time.Duration, max int) ([]source.Msg, error) {
	if out := f.take(max); len(out) > 0 {
		return out, nil
	}
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-f.arrived:
		case <-f.wake:
		case <-t.C:
		}
	}
	return f.take(max), nil
}

func (f *fakeSource) Done() {}

func (f *fakeSource) Pause(parts []int32) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range parts {
		f.paused[p] = true
		f.pauses++
	}
	return nil
}

func (f *fakeSource) Resume(parts []int32) error {
	f.mu.Lock()
	for _, p := range parts {
		f.paused[p] = false
	}
	f.mu.Unlock()
	select {
	case f.arrived <- struct{}{}:
	default:
	}
	return nil
}

func (f *fakeSource) Positions(parts []int32, out []int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, p := range parts {
		out[i] = -1
		if recs := f.records[p]; f.next[p] > 0 {
			out[i] = recs[f.next[p]-1].Offset + 1
		} else if len(recs) == 0 {
			out[i] = f.parts[p].End // nothing to read: the position is at the end
		}
	}
	return nil
}

func (f *fakeSource) Wake() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *fakeSource) Close() error {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	return nil
}

func testOpts(t *testing.T, o Options) *Settings {
	t.Helper()
	if o.Config == nil {
		o.Config = map[string]string{"bootstrap.servers": "fake"}
	}
	if o.Topics == nil {
		o.Topics = []TopicSpec{{Name: "t0", Policy: Earliest}, {Name: "t1", Policy: Earliest}, {Name: "t2", Policy: Earliest}}
	}
	r, err := o.Resolve(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func ip(v int) *int { return &v }

// startManager starts a manager on a scripted source with Go-heap Arrow
// buffers (the engine takes any allocator).
func startManager(s *Settings, parts []PartitionInfo, src source.Source) *Manager {
	return NewManager(s, parts, src, memory.NewGoAllocator(), nil)
}

func rowsOf(t *testing.T, rec arrow.RecordBatch, idx map[string]int32, got []rowKey) []rowKey {
	t.Helper()
	topics := rec.Column(2).(*array.String)
	parts := rec.Column(3).(*array.Int32)
	offs := rec.Column(4).(*array.Int64)
	tss := rec.Column(5).(*array.Timestamp)
	for i := 0; i < int(rec.NumRows()); i++ {
		got = append(got, rowKey{off: offs.Value(i), ts: int64(tss.Value(i)), tpc: topics.Value(i), part: parts.Value(i),
			p: idx[fmt.Sprintf("%s/%d", topics.Value(i), parts.Value(i))]})
	}
	return got
}

func partIndex(parts []PartitionInfo) map[string]int32 {
	idx := map[string]int32{}
	for i, p := range parts {
		idx[fmt.Sprintf("%s/%d", p.Topic, p.Partition)] = int32(i)
	}
	return idx
}

// TestEngineReplay runs whole replays through the engine goroutine and
// Poll, with small batches and buffers, and checks order, exactly once
// and liveness.
func TestEngineReplay(t *testing.T) {
	seeds := 30
	if testing.Short() || raceEnabled {
		seeds = 8
	}
	for seed := int64(0); seed < int64(seeds); seed++ {
		s := genReplay(rand.New(rand.NewSource(seed)), genOpts{maxParts: 8, maxRecs: 400, tsRange: 100, lateProb: 0.05,
			gapProb: 0.1, tailGapProb: 0.3, emptyProb: 0.1})
		src := newFakeSource(seed, s)
		opts := testOpts(t, Options{BatchSize: ip(1 + int(seed)*7%97), LingerMs: ip(0), MaxBufferedMessages: ip(50)})
		m := startManager(opts, s.parts, src)
		got := pollUntilLive(t, m, s.parts, opts.BatchSize, seed)
		m.mu.Lock()
		checkReplay(t, s, got, m.m)
		m.mu.Unlock()
		m.Close()
		if t.Failed() {
			t.Fatalf("seed %d", seed)
		}
	}
}

// pollUntilLive polls m until it is live (at most 20 s) and returns the
// rows released, checking that no batch exceeds batchSize.
func pollUntilLive(t *testing.T, m *Manager, parts []PartitionInfo, batchSize int, seed int64) []rowKey {
	t.Helper()
	idx := partIndex(parts)
	var got []rowKey
	deadline := time.Now().Add(20 * time.Second)
	for {
		rec, err := m.Poll(50 * time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if rec != nil {
			if int(rec.NumRows()) > batchSize {
				t.Fatalf("batch of %d rows > batch_size %d", rec.NumRows(), batchSize)
			}
			got = rowsOf(t, rec, idx, got)
			rec.Release()
		}
		if live, _ := m.IsLive(); live {
			return got
		}
		if time.Now().After(deadline) {
			met, _ := m.Metrics()
			t.Fatalf("seed %d: not live after 20s: %+v", seed, met)
		}
	}
}

func TestPollSemantics(t *testing.T) {
	one := scripted{parts: []PartitionInfo{{Topic: "t0", Partition: 0, Start: 0, End: 0}}, records: [][]source.Msg{nil}}

	t.Run("timeout with nothing returns no rows at the timeout", func(t *testing.T) {
		m := startManager(testOpts(t, Options{Topics: []TopicSpec{{Name: "t0", Policy: Latest}}}), one.parts, newFakeSource(1, one))
		defer m.Close()
		t0 := time.Now()
		rec, err := m.Poll(150 * time.Millisecond)
		el := time.Since(t0)
		if err != nil || rec != nil {
			t.Fatalf("rec=%v err=%v", rec, err)
		}
		if el < 140*time.Millisecond || el > 600*time.Millisecond {
			t.Fatalf("returned after %v, want ~150ms", el)
		}
	})

	t.Run("linger: one live row waits linger_ms, not the timeout", func(t *testing.T) {
		src := newFakeSource(1, scripted{parts: one.parts, records: [][]source.Msg{nil}})
		m := startManager(testOpts(t, Options{Topics: []TopicSpec{{Name: "t0", Policy: Latest}}, LingerMs: ip(200)}), one.parts, src)
		defer m.Close()
		time.Sleep(50 * time.Millisecond) // caught up and live
		t0 := time.Now()
		src.push(0, 1, []byte("a"))
		rec, err := m.Poll(5 * time.Second)
		el := time.Since(t0)
		if err != nil || rec == nil || rec.NumRows() != 1 {
			t.Fatalf("rec=%v err=%v", rec, err)
		}
		rec.Release()
		if el < 190*time.Millisecond || el > 1500*time.Millisecond {
			t.Fatalf("returned after %v, want ~linger 200ms", el)
		}
	})

	t.Run("a full batch returns at once", func(t *testing.T) {
		src := newFakeSource(1, scripted{parts: one.parts, records: [][]source.Msg{nil}})
		// the three records arrive together and one fetch takes them all:
		// when a fetch takes fewer, the engine waits for the linger deadline
		// before fetching the rest (it coalesces live arrivals)
		src.whole = true
		m := startManager(testOpts(t, Options{Topics: []TopicSpec{{Name: "t0", Policy: Latest}}, LingerMs: ip(5000), BatchSize: ip(3)}), one.parts, src)
		defer m.Close()
		time.Sleep(50 * time.Millisecond)
		src.pushMany(0, []int64{0, 1, 2}, []byte("a"))
		t0 := time.Now()
		rec, err := m.Poll(10 * time.Second)
		if err != nil || rec == nil || rec.NumRows() != 3 {
			t.Fatalf("rec=%v err=%v", rec, err)
		}
		rec.Release()
		if el := time.Since(t0); el > time.Second {
			t.Fatalf("full batch took %v", el)
		}
	})

	t.Run("slices do not shorten linger", func(t *testing.T) {
		src := newFakeSource(1, scripted{parts: one.parts, records: [][]source.Msg{nil}})
		m := startManager(testOpts(t, Options{Topics: []TopicSpec{{Name: "t0", Policy: Latest}}, LingerMs: ip(300)}), one.parts, src)
		defer m.Close()
		time.Sleep(50 * time.Millisecond)
		src.push(0, 1, []byte("a"))
		t0 := time.Now()
		for {
			rec, err := m.PollWait(5*time.Second, 20*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			if rec != nil {
				rec.Release()
				break
			}
		}
		if el := time.Since(t0); el < 250*time.Millisecond {
			t.Fatalf("sliced poll returned after %v, before linger", el)
		}
	})

	t.Run("close wakes a blocked poll with ErrClosed", func(t *testing.T) {
		m := startManager(testOpts(t, Options{Topics: []TopicSpec{{Name: "t0", Policy: Latest}}}), one.parts, newFakeSource(1, one))
		closeEndsBlockedPoll(t, m)
		if _, err := m.Metrics(); !errors.Is(err, ErrClosed) {
			t.Fatalf("metrics after close: %v", err)
		}
	})
}

// TestConcurrentPolls: two goroutines polling one manager get disjoint rows
// that together are the whole replay.
func TestConcurrentPolls(t *testing.T) {
	s := genReplay(rand.New(rand.NewSource(3)), genOpts{maxParts: 6, maxRecs: 500, tsRange: 1000, gapProb: 0.05})
	m := startManager(testOpts(t, Options{BatchSize: ip(37), LingerMs: ip(1)}), s.parts, newFakeSource(3, s))
	defer m.Close()
	want := len(s.expected())
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(time.Now().Add(time.Minute)) {
				rec, err := m.Poll(20 * time.Millisecond)
				if err != nil {
					t.Error(err)
					return
				}
				if rec != nil {
					tp := rec.Column(2).(*array.String)
					pt := rec.Column(3).(*array.Int32)
					of := rec.Column(4).(*array.Int64)
					mu.Lock()
					for i := 0; i < int(rec.NumRows()); i++ {
						k := fmt.Sprintf("%s/%d/%d", tp.Value(i), pt.Value(i), of.Value(i))
						if seen[k] {
							t.Errorf("row %s delivered twice", k)
						}
						seen[k] = true
					}
					mu.Unlock()
					rec.Release()
				}
				mu.Lock()
				n := len(seen)
				mu.Unlock()
				if n == want {
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(seen) != want {
		t.Fatalf("got %d rows, want %d", len(seen), want)
	}
}

// TestReleasedCountsOnlyDelivered: a batch built ahead of poll is not
// "released" until poll returns it (metrics and partition state).
func TestReleasedCountsOnlyDelivered(t *testing.T) {
	var s scripted
	for p := 0; p < 3; p++ {
		var recs []source.Msg
		for i := 0; i < 1000; i++ {
			recs = append(recs, source.Msg{Kind: source.Record, Partition: int32(p), Offset: int64(i), Timestamp: int64(i*3 + p), Value: []byte("v")})
		}
		s.parts = append(s.parts, PartitionInfo{Topic: "t0", Partition: int32(p), End: 1000})
		s.records = append(s.records, recs)
	}
	m := startManager(testOpts(t, Options{Topics: []TopicSpec{{Name: "t0", Policy: Earliest}}, BatchSize: ip(1000)}), s.parts, newFakeSource(1, s))
	defer m.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		m.mu.Lock()
		built := m.ready != nil
		m.mu.Unlock()
		if built {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no batch built ahead of poll")
		}
		time.Sleep(5 * time.Millisecond)
	}
	met, _ := m.Metrics()
	rows, _ := m.StateRows()
	if met.RecordsReleased != 0 || met.BatchesReleased != 0 {
		t.Fatalf("before any poll: released %d records in %d batches", met.RecordsReleased, met.BatchesReleased)
	}
	for _, r := range rows {
		if r.Released != -1 {
			t.Fatalf("before any poll: partition %d released_offset %d", r.Partition, r.Released)
		}
	}
	rec, err := m.Poll(time.Second)
	if err != nil || rec == nil {
		t.Fatal(rec, err)
	}
	defer rec.Release()
	met, _ = m.Metrics()
	if met.RecordsReleased != rec.NumRows() || met.BatchesReleased != 1 {
		t.Fatalf("after one poll of %d rows: released %d in %d batches", rec.NumRows(), met.RecordsReleased, met.BatchesReleased)
	}
}

// TestLiveLingerZero covers the live path with linger_ms=0, where a waiting
// Poll fetches for itself (callerFetchLocked): rows arrive once each and in
// order, a Poll returns soon after an arrival, the engine goes back to
// consuming in the background when nobody polls, and Close ends a Poll
// waiting inside a fetch.
func TestLiveLingerZero(t *testing.T) {
	parts := []PartitionInfo{{Topic: "t0", Partition: 0}, {Topic: "t0", Partition: 1}, {Topic: "t0", Partition: 2}}
	newLive := func(t *testing.T) (*Manager, *fakeSource) {
		src := newFakeSource(7, scripted{parts: parts, records: make([][]source.Msg, len(parts))})
		m := startManager(testOpts(t, Options{Topics: []TopicSpec{{Name: "t0", Policy: Latest}}, LingerMs: ip(0)}), parts, src)
		deadline := time.Now().Add(5 * time.Second)
		for live, _ := m.IsLive(); !live; live, _ = m.IsLive() {
			if time.Now().After(deadline) {
				t.Fatal("not live after 5 s with empty partitions")
			}
			time.Sleep(5 * time.Millisecond)
		}
		return m, src
	}
	const n = 3000
	for _, pollers := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d poller(s): every row once, offsets in order", pollers), func(t *testing.T) {
			m, src := newLive(t)
			defer m.Close()
			var mu sync.Mutex
			seen := map[[2]int64]int{}
			total := 0
			var wg sync.WaitGroup
			stop := make(chan struct{})
			for g := 0; g < pollers; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					last := make([]int64, len(parts)) // live rows go out as they arrive: order within a partition
					for i := range last {
						last[i] = -1
					}
					for {
						select {
						case <-stop:
							return
						default:
						}
						rec, err := m.Poll(20 * time.Millisecond)
						if err != nil {
							t.Error(err)
							return
						}
						if rec == nil {
							continue
						}
						ps := rec.Column(3).(*array.Int32)
						offs := rec.Column(4).(*array.Int64)
						mu.Lock()
						for i := 0; i < int(rec.NumRows()); i++ {
							p, off := ps.Value(i), offs.Value(i)
							if off <= last[p] {
								t.Errorf("partition %d: offset %d after %d", p, off, last[p])
							}
							last[p] = off
							seen[[2]int64{int64(ps.Value(i)), offs.Value(i)}]++
							total++
						}
						mu.Unlock()
						rec.Release()
					}
				}()
			}
			for i := 0; i < n; i++ {
				src.push(int32(i%len(parts)), int64(i), []byte("v"))
				if i%100 == 0 {
					time.Sleep(time.Millisecond)
				}
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				mu.Lock()
				got := total
				mu.Unlock()
				if got >= n || time.Now().After(deadline) {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			close(stop)
			wg.Wait()
			if total != n || len(seen) != n {
				t.Fatalf("got %d rows, %d distinct, want %d", total, len(seen), n)
			}
			if met, _ := m.Metrics(); met.FetchCallsByPoll == 0 {
				t.Fatalf("no fetch by a poll (%d fetches): the linger_ms=0 path was not taken", met.FetchCalls)
			}
		})
	}

	t.Run("a poll returns soon after an arrival", func(t *testing.T) {
		m, src := newLive(t)
		defer m.Close()
		for i := 0; i < 20; i++ {
			go func() {
				time.Sleep(30 * time.Millisecond)
				src.push(0, int64(i), []byte("v"))
			}()
			t0 := time.Now()
			rec, err := m.Poll(5 * time.Second)
			if err != nil || rec == nil {
				t.Fatalf("rec=%v err=%v", rec, err)
			}
			rec.Release()
			if el := time.Since(t0); el > time.Second {
				t.Fatalf("poll returned %v after it started, the row arrived after 30 ms", el)
			}
		}
	})

	t.Run("without polls the engine consumes in the background", func(t *testing.T) {
		m, src := newLive(t)
		defer m.Close()
		if rec, _ := m.Poll(10 * time.Millisecond); rec != nil {
			rec.Release()
		}
		time.Sleep(3 * callerGrace)
		for i := 0; i < 10; i++ {
			src.push(1, int64(i), []byte("v"))
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			met, err := m.Metrics()
			if err != nil {
				t.Fatal(err)
			}
			if met.RecordsConsumed == 10 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("engine consumed %d of 10 records without polls", met.RecordsConsumed)
			}
			time.Sleep(5 * time.Millisecond)
		}
	})

	t.Run("close ends a poll waiting in a fetch", func(t *testing.T) {
		m, _ := newLive(t)
		closeEndsBlockedPoll(t, m)
	})
}

// closeEndsBlockedPoll closes m (twice: idempotent) while a Poll with a
// long timeout waits, and checks the Poll returns ErrClosed promptly.
func closeEndsBlockedPoll(t *testing.T, m *Manager) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		_, err := m.Poll(30 * time.Second)
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	t0 := time.Now()
	m.Close()
	m.Close() // idempotent
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("err = %v, want ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("poll still blocked 2s after close")
	}
	if el := time.Since(t0); el > time.Second {
		t.Fatalf("close took %v", el)
	}
}

// testAllocator is a checked Go allocator: at the end of the test every
// buffer handed out must have been released.
func testAllocator(t *testing.T) *memory.CheckedAllocator {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}
