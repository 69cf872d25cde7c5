package core

import (
	"math/rand"
	"sort"
	"testing"
)

// rewindingSource is a fakeSource that can fetch a partition again
// (source.Rewinder), like the Kafka adapter's seek.
type rewindingSource struct {
	*fakeSource
	rewinds int
}

func (r *rewindingSource) Rewind(parts []int32, offsets []int64) error {
	f := r.fakeSource
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, p := range parts {
		recs := f.records[p]
		f.next[p] = sort.Search(len(recs), func(k int) bool { return recs[k].Offset >= offsets[i] })
		f.eofSent[p] = false
		r.rewinds++
	}
	return nil
}

// replayRewinding replays s from a rewindingSource whose every fetch hands
// out a partition's whole content, with the given batch size and byte
// budget, until live; it checks order and exactly once, and returns the
// manager's final metrics and the source.
func replayRewinding(t *testing.T, seed int64, s scripted, batch int, budget int64) (Metrics, *rewindingSource) {
	t.Helper()
	src := &rewindingSource{fakeSource: newFakeSource(seed, s)}
	src.whole = true
	opts := testOpts(t, Options{BatchSize: ip(batch), LingerMs: ip(0), MaxBufferedBytes: &budget})
	m := startManager(opts, s.parts, src)
	got := pollUntilLive(t, m, s.parts, batch, seed)
	met, err := m.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	checkReplay(t, s, got, m.m)
	m.mu.Unlock()
	m.Close()
	return met, src
}

// TestEngineReplayCapped replays many partitions whose every fetch hands
// out a partition's whole content (as Kafka's first fetch of a small
// partition does), with a small byte budget: the merger drops records over
// its cap and the source delivers them again. Order, exactly once and
// liveness hold, and the bytes held stay within three budgets instead of
// reaching the whole replay.
func TestEngineReplayCapped(t *testing.T) {
	seeds := 20
	if testing.Short() || raceEnabled {
		seeds = 6
	}
	const budget = int64(200 * 85) // about 200 records: 64 bytes of overhead each, keys and values up to 30
	var refetched int64
	for seed := int64(0); seed < int64(seeds); seed++ {
		rng := rand.New(rand.NewSource(seed))
		s := genReplay(rng, genOpts{maxParts: 30, maxRecs: 300, tsRange: 1000, lateProb: 0.05,
			gapProb: 0.1, tailGapProb: 0.3, emptyProb: 0.05})
		total := 0
		for _, r := range s.records {
			total += len(r)
		}
		met, src := replayRewinding(t, seed, s, 1+int(seed)*7%97, budget)
		// Held: the cap (capFactor budgets), plus a share per partition
		// (the budget in all, or minShareBytes each), plus one record per
		// partition.
		n := int64(len(s.parts))
		bound := capFactor*budget + n*shareOf(budget, len(s.parts)) + n*(recordOverhead+40)
		if met.PeakHeldBytes > bound {
			t.Fatalf("seed %d: peak held %d bytes (%d records in all), bound %d; %d refetched, %d rewinds",
				seed, met.PeakHeldBytes, total, bound, met.RecordsRefetched, met.Rewinds)
		}
		if met.RecordsRefetched > 0 && met.Rewinds == 0 {
			t.Fatalf("seed %d: %d records refetched without a rewind", seed, met.RecordsRefetched)
		}
		if met.Rewinds != int64(src.rewinds) {
			t.Fatalf("seed %d: metrics say %d rewinds, the source saw %d", seed, met.Rewinds, src.rewinds)
		}
		refetched += met.RecordsRefetched
		if t.Failed() {
			t.Fatalf("seed %d", seed)
		}
	}
	if refetched == 0 {
		t.Fatal("no record was ever dropped over the budget: the cap was not exercised")
	}
	t.Logf("%d records fetched again over %d seeds", refetched, seeds)
}

// TestCapShareFloor replays partitions of a few small records each with a
// byte budget far below a record per partition: every partition's share
// is then minShareBytes, which holds its whole content, so nothing is
// dropped and fetched again (below the floor, each partition kept one
// record per fetch and was rewound for the next: a fetch round trip per
// record against Kafka).
func TestCapShareFloor(t *testing.T) {
	for seed := int64(0); seed < 6; seed++ {
		rng := rand.New(rand.NewSource(seed))
		s := genReplay(rng, genOpts{maxParts: 60, maxRecs: 8, tsRange: 1000})
		var most int64 // the largest partition's bytes as held
		for _, recs := range s.records {
			var b int64
			for _, r := range recs {
				b += int64(len(r.Key)+len(r.Value)) + recordOverhead
			}
			most = max(most, b)
		}
		if most >= minShareBytes {
			t.Fatalf("seed %d: a partition holds %d bytes, not within the floor", seed, most)
		}
		met, src := replayRewinding(t, seed, s, 7, 1024)
		if met.RecordsRefetched != 0 || src.rewinds != 0 {
			t.Fatalf("seed %d (%d partitions): %d records fetched again over %d rewinds, want none",
				seed, len(s.parts), met.RecordsRefetched, src.rewinds)
		}
	}
}
