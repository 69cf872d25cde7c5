// Package gostat holds the measuring helpers shared by the Go programs of
// the benchmark harness (bench/cmd/bench-*): process CPU time, peak RSS read the
// way that survives exec, latency percentiles computed exactly like the
// Python clients do (bench/clients/_common.py), repeatable key=value flags,
// and a stdin watcher the harness uses to stop a live consumer.
package gostat

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"
	"syscall"
)

// CPUSeconds is user+sys CPU of this process (all threads) so far.
func CPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// VmHWMKB is this process's peak resident set size in kB, read from
// /proc/self/status. Unlike ru_maxrss it starts from zero at exec, so a
// child forked from a large parent does not report the parent's peak.
// -1 when unavailable.
func VmHWMKB() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d", &kb); err == nil {
				return kb
			}
		}
	}
	return -1
}

// KV is a repeatable key=value flag (-X fetch.queue.backoff.ms=0).
type KV []string

func (k *KV) String() string     { return strings.Join(*k, ",") }
func (k *KV) Set(v string) error { *k = append(*k, v); return nil }

// Pairs splits the flags into keys and values, in order.
func (k KV) Pairs() ([][2]string, error) {
	out := make([][2]string, 0, len(k))
	for _, s := range k {
		key, val, ok := strings.Cut(s, "=")
		if !ok || key == "" {
			return nil, fmt.Errorf("expected key=value, got %q", s)
		}
		out = append(out, [2]string{key, val})
	}
	return out, nil
}

// Percentile is the nearest-rank percentile (q in [0, 1]) of sorted
// values: the smallest value with at least q of the samples at or below it.
// NaN for no samples.
func Percentile(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(q*float64(n))) - 1
	if i < 0 {
		i = 0
	}
	if i >= n {
		i = n - 1
	}
	return sorted[i]
}

// LatencySummary summarises latencies in milliseconds (sorts them in place)
// with the keys every latency client of the harness reports.
func LatencySummary(ms []float64) map[string]any {
	sort.Float64s(ms)
	sum := 0.0
	for _, v := range ms {
		sum += v
	}
	out := map[string]any{"samples": len(ms)}
	if len(ms) == 0 {
		return out
	}
	out["p50_ms"] = Percentile(ms, 0.50)
	out["p90_ms"] = Percentile(ms, 0.90)
	out["p99_ms"] = Percentile(ms, 0.99)
	out["p999_ms"] = Percentile(ms, 0.999)
	out["max_ms"] = ms[len(ms)-1]
	out["mean_ms"] = sum / float64(len(ms))
	return out
}

// StdinClosed returns a channel closed when standard input reaches EOF:
// the harness stops a live consumer by closing its stdin.
func StdinClosed() <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(ch)
	}()
	return ch
}
