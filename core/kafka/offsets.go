package kafka

// offsets.go: planning lookups without a manager (docs/design.md, "Replay
// at scale"). A planner that splits a replay into time slices needs, per
// partition, the first and end offsets and the offsets for the slices'
// times; the C ABI's kafkars_offsets answers that with one short-lived
// consumer that never fetches a record.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/kafkars/kafkars/core"
	"github.com/kafkars/kafkars/core/internal/rdk"
	"github.com/kafkars/kafkars/core/source"
)

// OffsetsQuery is what Offsets looks up.
type OffsetsQuery struct {
	Config map[string]string
	Topics []string
	// TimesMs: for each time, every partition's first offset whose
	// record has a timestamp >= it (the end offset when there is none).
	TimesMs []int64
	// MaxTimestamps: also the largest timestamp in each partition's log
	// (transaction markers included), found by bisection over
	// offsets-for-times: about 45 requests.
	MaxTimestamps bool
	// Timeout bounds the whole call (default DefaultOffsetsTimeoutMs).
	Timeout time.Duration
}

// DefaultOffsetsTimeoutMs bounds a kafkars_offsets call without timeout_ms.
const DefaultOffsetsTimeoutMs = 30_000

// PartitionOffsets are one partition's offsets.
type PartitionOffsets struct {
	Partition int32 `json:"partition"`
	// Low is the first offset in the log, High the end offset a consumer
	// with this config reads up to (the high watermark, or the last
	// stable offset under isolation.level=read_committed).
	Low     int64   `json:"low"`
	High    int64   `json:"high"`
	Offsets []int64 `json:"offsets"` // one per time, each within [Low, High]
	// MaxTimestampMs: with MaxTimestamps, the largest record timestamp in
	// the log, null when the partition holds no record.
	MaxTimestampMs *int64 `json:"max_timestamp_ms,omitempty"`
}

// TopicOffsets are the offsets of every partition of one topic.
type TopicOffsets struct {
	Name       string             `json:"name"`
	Partitions []PartitionOffsets `json:"partitions"`
}

type offsetsJSON struct {
	Config        map[string]string `json:"config"`
	Topics        []string          `json:"topics"`
	TimesMs       []int64           `json:"times_ms"`
	MaxTimestamps bool              `json:"max_timestamps"`
	TimeoutMs     *int              `json:"timeout_ms"`
}

func queryErr(format string, args ...any) error {
	return &core.Error{Kind: core.KindConfig, Msg: fmt.Sprintf(format, args...)}
}

// DecodeOffsetsQuery parses the JSON of kafkars_offsets (kafkars.h),
// strictly: unknown members are errors.
func DecodeOffsetsQuery(data []byte) (OffsetsQuery, error) {
	var q OffsetsQuery
	if !utf8.Valid(data) {
		return q, queryErr("offsets query is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var j offsetsJSON
	if err := dec.Decode(&j); err != nil {
		return q, queryErr("bad offsets query: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return q, queryErr("bad offsets query: trailing data after the JSON object")
	}
	q.Config, q.Topics, q.TimesMs, q.MaxTimestamps = j.Config, j.Topics, j.TimesMs, j.MaxTimestamps
	q.Timeout = DefaultOffsetsTimeoutMs * time.Millisecond
	if j.TimeoutMs != nil {
		if *j.TimeoutMs < 1 {
			return q, queryErr("timeout_ms must be >= 1, got %d", *j.TimeoutMs)
		}
		q.Timeout = time.Duration(*j.TimeoutMs) * time.Millisecond
	}
	for i, t := range q.TimesMs {
		if t < 0 {
			return q, queryErr("times_ms[%d] must be >= 0 (epoch milliseconds), got %d", i, t)
		}
	}
	return q, nil
}

// lookupConcurrency is how many offsets-for-times requests run at once:
// each is one round trip per partition leader, and a planner asks for
// hundreds of times.
const lookupConcurrency = 8

// Offsets looks up the offsets of every partition of q.Topics.
func Offsets(q OffsetsQuery) ([]TopicOffsets, error) {
	tuneMalloc()
	now := time.Now()
	o := core.Options{Config: q.Config}
	for _, name := range q.Topics {
		o.Topics = append(o.Topics, core.TopicSpec{Name: name, Policy: core.Earliest})
	}
	r, err := o.Resolve(now)
	if err != nil {
		return nil, err
	}
	r.Startup = q.Timeout
	// librdkafka's log on stderr as for a manager: a debug property, or
	// KAFKARS_LOG=stderr.
	_, userDebug := r.Config["debug"]
	kc, err := rdk.New(props(r), 1, userDebug || os.Getenv("KAFKARS_LOG") == "stderr", false)
	if err != nil {
		var ce *rdk.ConfigError
		if errors.As(err, &ce) {
			return nil, &core.Error{Kind: core.KindConfig, Msg: "invalid config: " + ce.Msg, Cause: err}
		}
		return nil, &core.Error{Kind: core.KindInternal, Msg: err.Error(), Cause: err}
	}
	defer kc.Close()
	deadline := now.Add(q.Timeout)
	fail := func(what string, err error) error {
		msg := fmt.Sprintf("%s: %v", what, err)
		if errors.Is(err, source.ErrBrokerDown) || errors.Is(err, source.ErrTimedOut) {
			msg = fmt.Sprintf("cannot reach Kafka at bootstrap.servers=%q within timeout_ms=%d (%s)", r.Servers(), q.Timeout.Milliseconds(), what)
			if l := lastLine(kc.RecentLogs()); l != "" {
				msg += "; librdkafka says: " + l
			}
			return &core.Error{Kind: core.KindBrokerUnavailable, Msg: msg, Cause: err}
		}
		return &core.Error{Kind: core.KindKafka, Msg: msg, Cause: err}
	}
	counts, topicErrs, err := kc.PartitionCounts(q.Topics, time.Until(deadline))
	if err != nil {
		return nil, fail("metadata for topics "+strings.Join(q.Topics, ", "), err)
	}
	var tps []rdk.TopicPartition
	for _, name := range q.Topics {
		if err := topicErrs[name]; err != nil || counts[name] == 0 {
			if err == nil || errors.Is(err, source.ErrTopicNotFound) {
				return nil, &core.Error{Kind: core.KindTopicNotFound, Cause: err,
					Msg: fmt.Sprintf("topic %q does not exist on %s", name, r.Servers())}
			}
			return nil, fail(fmt.Sprintf("metadata for topic %q", name), err)
		}
		for p := 0; p < counts[name]; p++ {
			tps = append(tps, rdk.TopicPartition{Topic: name, Partition: int32(p)})
		}
	}
	if err := kc.SetPartitions(tps); err != nil {
		return nil, &core.Error{Kind: core.KindInternal, Msg: err.Error(), Cause: err}
	}
	all := make([]int32, len(tps))
	for i := range all {
		all[i] = int32(i)
	}
	at := func(t int64) ([]int64, error) {
		ts := make([]int64, len(all))
		for i := range ts {
			ts[i] = t
		}
		return offsetsForTimes(kc, all, ts, deadline)
	}
	lows, err := at(rdk.OffsetBeginning)
	if err != nil {
		return nil, fail("looking up first offsets", err)
	}
	highs, err := at(rdk.OffsetEnd)
	if err != nil {
		return nil, fail("looking up end offsets", err)
	}
	clamp := func(i int, o int64) int64 {
		if o < 0 || o > highs[i] { // no record at or after the time
			return highs[i]
		}
		return max(o, lows[i])
	}
	byTime := make([][]int64, len(q.TimesMs))
	errs := make([]error, len(q.TimesMs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, lookupConcurrency)
	for k, t := range q.TimesMs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			byTime[k], errs[k] = at(t)
		}()
	}
	wg.Wait()
	for k, err := range errs {
		if err != nil {
			return nil, fail(fmt.Sprintf("looking up offsets for time %d", q.TimesMs[k]), err)
		}
	}
	var maxTs []*int64
	if q.MaxTimestamps {
		if maxTs, err = maxTimestamps(kc, all, lows, highs, deadline); err != nil {
			return nil, fail("looking up the largest timestamps", err)
		}
	}
	var out []TopicOffsets
	for i, tp := range tps {
		if len(out) == 0 || out[len(out)-1].Name != tp.Topic {
			out = append(out, TopicOffsets{Name: tp.Topic})
		}
		po := PartitionOffsets{Partition: tp.Partition, Low: lows[i], High: highs[i], Offsets: make([]int64, len(q.TimesMs))}
		for k := range q.TimesMs {
			po.Offsets[k] = clamp(i, byTime[k][i])
		}
		if maxTs != nil {
			po.MaxTimestampMs = maxTs[i]
		}
		t := &out[len(out)-1]
		t.Partitions = append(t.Partitions, po)
	}
	for _, t := range out {
		sort.Slice(t.Partitions, func(a, b int) bool { return t.Partitions[a].Partition < t.Partitions[b].Partition })
	}
	return out, nil
}

// maxTimestamps finds each partition's largest record timestamp: the
// largest t for which offsets-for-times still finds a record, bisected
// for all partitions at once (one request per step, each partition asking
// for its own t). Nil for a partition without records.
func maxTimestamps(kc *rdk.Consumer, all []int32, lows, highs []int64, deadline time.Time) ([]*int64, error) {
	out := make([]*int64, len(all))
	var ps []int32
	var lo, hi []int64 // lo: a record has ts >= lo; hi: none has
	for i := range all {
		if lows[i] < highs[i] {
			ps = append(ps, int32(i))
			lo, hi = append(lo, 0), append(hi, 1<<62)
		}
	}
	found := func(ts []int64) ([]bool, error) {
		offs, err := offsetsForTimes(kc, ps, ts, deadline)
		if err != nil {
			return nil, err
		}
		ok := make([]bool, len(ps))
		for k, o := range offs {
			ok[k] = o >= 0 && o < highs[ps[k]]
		}
		return ok, nil
	}
	if len(ps) == 0 {
		return out, nil
	}
	// Records normally carry a time near the clock: start the bracket
	// there (two days ahead) rather than at 2^62, a third fewer steps.
	guess := make([]int64, len(ps))
	for k := range guess {
		guess[k] = time.Now().UnixMilli() + 2*86_400_000
	}
	ok, err := found(guess)
	if err != nil {
		return nil, err
	}
	for k := range ps {
		if !ok[k] {
			hi[k] = guess[k]
		}
	}
	if ok, err = found(lo); err != nil { // timestamps below 0 (none): no maximum
		return nil, err
	}
	valid := ok
	mid := make([]int64, len(ps))
	for {
		more := false
		for k := range ps {
			mid[k] = lo[k]
			if valid[k] && hi[k]-lo[k] > 1 {
				mid[k] = lo[k] + (hi[k]-lo[k])/2
				more = true
			}
		}
		if !more {
			break
		}
		ok, err := found(mid)
		if err != nil {
			return nil, err
		}
		for k := range ps {
			if !valid[k] || hi[k]-lo[k] <= 1 {
				continue
			}
			if ok[k] {
				lo[k] = mid[k]
			} else {
				hi[k] = mid[k]
			}
		}
	}
	for k, i := range ps {
		if valid[k] {
			v := lo[k]
			out[i] = &v
		}
	}
	return out, nil
}
