package core

import (
	"math"
	"math/rand"
	"sort"
	"testing"
)

// TestLoserTreeMerge merges sorted runs with the tree (winner, replay and
// the runner-up shortcut, as selectRows uses them) and checks the result
// against sorting everything by (key, run).
func TestLoserTreeMerge(t *testing.T) {
	type item struct {
		eff int64
		run int
	}
	cases := []struct {
		name   string
		runs   int
		length int
		keys   int64 // keys drawn from [0, keys): small means many ties
	}{
		{"one run", 1, 50, 10},
		{"two runs", 2, 100, 1000},
		{"odd count, ties", 7, 60, 5},
		{"power of two", 8, 40, 1 << 40},
		{"many runs", 100, 30, 50},
		{"empty runs among", 13, 0, 100},
		{"maximum keys", 5, 20, 2},
	}
	rng := rand.New(rand.NewSource(7))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			runs := make([][]int64, tc.runs)
			var want []item
			for r := range runs {
				n := tc.length
				if tc.length == 0 {
					n = rng.Intn(20) * (r % 2) // every other run empty
				}
				for range n {
					k := rng.Int63n(tc.keys)
					if tc.name == "maximum keys" {
						k = math.MaxInt64 - k // heads equal to the exhausted key
					}
					runs[r] = append(runs[r], k)
				}
				sort.Slice(runs[r], func(i, j int) bool { return runs[r][i] < runs[r][j] })
				for _, k := range runs[r] {
					want = append(want, item{k, r})
				}
			}
			sort.SliceStable(want, func(i, j int) bool {
				if want[i].eff != want[j].eff {
					return want[i].eff < want[j].eff
				}
				return want[i].run < want[j].run
			})
			var tr loserTree
			tr.reset(tc.runs)
			pos := make([]int, tc.runs)
			for r, run := range runs {
				if len(run) > 0 {
					tr.set(r, run[0])
				}
			}
			tr.build()
			var got []item
			ru := int32(-1)
			for {
				w, ok := tr.winner()
				if !ok {
					break
				}
				got = append(got, item{runs[w][pos[w]], int(w)})
				pos[w]++
				if pos[w] == len(runs[w]) {
					tr.exhaust(int(w))
					tr.replay(w)
					ru = -1
					continue
				}
				tr.set(int(w), runs[w][pos[w]])
				if ru >= 0 && tr.less(w, ru) {
					continue
				}
				tr.replay(w)
				if tr.node[0] == w {
					ru = tr.runnerUp()
				} else {
					ru = -1
				}
			}
			if len(got) != len(want) {
				t.Fatalf("merged %d items, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("item %d: got %+v, want %+v", i, got[i], want[i])
				}
			}
		})
	}
}
