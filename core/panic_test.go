package core

import (
	"errors"
	"math/rand"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kafkars/kafkars/core/source"
)

// panickySource panics in Fetch once armed: a bug in a source (or in the
// engine code it calls into) on the engine goroutine.
type panickySource struct {
	*fakeSource
	armed atomic.Bool
}

func (p *panickySource) Fetch(wait time.Duration, max int) ([]source.Msg, error) {
	if p.armed.Load() {
		panic("injected fault in Fetch")
	}
	return p.fakeSource.Fetch(wait, max)
}

// TestPanicFailsManager: a panic on the engine goroutine or inside a call
// does not take the process down; the manager fails, every later call
// returns the same internal error, and Close still works.
func TestPanicFailsManager(t *testing.T) {
	s := genReplay(rand.New(rand.NewSource(5)), genOpts{maxParts: 3, maxRecs: 200, tsRange: 50})
	tests := []struct {
		name  string
		start func(t *testing.T) *Manager
		where string
	}{
		{"engine goroutine", func(t *testing.T) *Manager {
			src := &panickySource{fakeSource: newFakeSource(1, s)}
			m := startManager(testOpts(t, Options{Topics: topicsOf(s.parts)}), s.parts, src)
			src.armed.Store(true)
			return m
		}, "the engine goroutine"},
		{"building a batch in poll", func(t *testing.T) *Manager {
			m := startManager(testOpts(t, Options{Topics: topicsOf(s.parts), BatchSize: ip(1 << 20)}), s.parts, newFakeSource(1, s))
			m.mu.Lock()
			m.hooks = &testHooks{beforeBuild: func() { panic("injected fault in build") }}
			m.mu.Unlock()
			return m
		}, "poll"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.start(t)
			var err error
			deadline := time.Now().Add(5 * time.Second)
			for err == nil && time.Now().Before(deadline) {
				var rec interface{ Release() }
				r, e := m.Poll(100 * time.Millisecond)
				if r != nil {
					rec = r
					rec.Release()
				}
				err = e
			}
			if KindOf(err) != KindInternal || !strings.Contains(err.Error(), "injected fault") ||
				!strings.Contains(err.Error(), tt.where) {
				t.Fatalf("poll error = %v, want an internal error naming %q and the panic", err, tt.where)
			}
			// every later call reports the same failure
			if _, e := m.Poll(10 * time.Millisecond); !errors.Is(e, err) {
				t.Errorf("second poll: %v", e)
			}
			if _, e := m.IsLive(); !errors.Is(e, err) {
				t.Errorf("is_live: %v", e)
			}
			if _, e := m.Metrics(); !errors.Is(e, err) {
				t.Errorf("metrics: %v", e)
			}
			if _, e := m.StateRows(); !errors.Is(e, err) {
				t.Errorf("state: %v", e)
			}
			done := make(chan struct{})
			go func() { m.Close(); close(done) }()
			select {
			case <-done:
			case <-time.After(2 * time.Second):
				t.Fatal("close hung after a panic")
			}
			if _, e := m.Poll(0); !errors.Is(e, ErrClosed) {
				t.Errorf("after close: %v, want ErrClosed", e)
			}
		})
	}
}

func topicsOf(parts []PartitionInfo) []TopicSpec {
	var ts []TopicSpec
	seen := map[string]bool{}
	for _, p := range parts {
		if !seen[p.Topic] {
			seen[p.Topic] = true
			ts = append(ts, TopicSpec{Name: p.Topic, Policy: Earliest})
		}
	}
	return ts
}
