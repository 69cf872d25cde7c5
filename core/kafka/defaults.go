package kafka

// defaults.go: the librdkafka properties kafkars sets, and why.

import (
	"crypto/rand"
	"encoding/hex"
	"sort"
	"strconv"

	"github.com/kafkars/kafkars/core"
	"github.com/kafkars/kafkars/core/internal/rdk"
)

// librdkafkaDefaults are the consumer properties kafkars sets unless the
// user set them. Each one, and why:
//
//   - group.id: a random "kafkars-<hex>". librdkafka wants one; kafkars
//     assigns partitions itself and never joins or commits to the group.
//   - enable.auto.commit=false, enable.auto.offset.store=false: a replay
//     tool must not move a group's offsets.
//   - enable.partition.eof=true (always, internal): end-of-partition events
//     end a replay even when the last records are control records.
//   - fetch.queue.backoff.ms=1: librdkafka's default (1000 ms) makes a
//     partition whose local queue is full wait a whole second before its
//     next fetch, idling a fast consumer (measured here: 4x slower). 0 makes the
//     fetcher spin on a full queue: measured here, 100% of a core while the
//     application is busy, against 1.8% with 1 ms.
//   - fetch.wait.max.ms=100 (librdkafka: 500): librdkafka keeps one fetch
//     per broker in flight. When the partition that holds the frontier
//     reaches its end under backpressure, that fetch long-polls for this
//     long before a just-resumed partition can be fetched: measured as a
//     0.5 s stall per partition at the end of a replay with the default.
//     A long poll still returns as soon as data arrives, so live latency
//     does not change; idle, it costs ten empty fetches a second.
//   - queued.min.messages=20000 (librdkafka: 100000) and
//     queued.max.messages.kbytes = max_buffered_bytes / 4 (at least 1 MiB):
//     librdkafka's prefetch is part of the memory budget (see
//     docs/design.md, "Backpressure"). With
//     assign() every partition's fetch queue forwards to the one consumer
//     queue, and librdkafka measures that shared queue, so this bounds
//     the prefetch of all partitions together, not one each. Measured
//     here: librdkafka's resident memory is about three times the payload
//     it holds (fetch buffers stay alive while any record of theirs is
//     queued, plus a per-message op), so 100 000 small records or 32 MiB
//     of prefetch cost over 100 MB; 20 000 records / 16 MiB keep a replay
//     of 100-byte records near 200 MB of process RSS, at the same speed.
func librdkafkaDefaults(r *core.Settings) []rdk.Prop {
	gid := make([]byte, 8)
	_, _ = rand.Read(gid)
	qkb := r.MaxBufferedBytes / 4 / 1024
	if qkb < 1024 {
		qkb = 1024
	}
	if qkb > 2097151 {
		qkb = 2097151
	}
	return []rdk.Prop{
		{Key: "group.id", Value: "kafkars-" + hex.EncodeToString(gid)},
		{Key: "enable.auto.commit", Value: "false"},
		{Key: "enable.auto.offset.store", Value: "false"},
		{Key: "fetch.queue.backoff.ms", Value: "1"},
		{Key: "fetch.wait.max.ms", Value: "100"},
		{Key: "queued.min.messages", Value: "20000"},
		{Key: "queued.max.messages.kbytes", Value: strconv.FormatInt(qkb, 10)},
	}
}

// props returns the properties to apply: kafkars defaults the user did not
// override, then the user's (sorted, for reproducible errors), then the
// ones kafkars needs whatever the user said.
func props(r *core.Settings) []rdk.Prop {
	var out []rdk.Prop
	for _, d := range librdkafkaDefaults(r) {
		if _, user := r.Config[d.Key]; !user {
			out = append(out, d)
		}
	}
	// Subscribe mode: the consumer-group protocol of KIP-848 (brokers 4.0
	// and later), which rebalances incrementally without stopping the
	// group. group.protocol=classic selects the classic protocol; kafkars
	// then asks for its cooperative assignor, which also rebalances
	// incrementally.
	if r.Subscribe {
		proto, userProto := r.Config["group.protocol"]
		if !userProto {
			out = append(out, rdk.Prop{Key: "group.protocol", Value: "consumer"})
		} else if _, userStrategy := r.Config["partition.assignment.strategy"]; !userStrategy && proto == "classic" {
			out = append(out, rdk.Prop{Key: "partition.assignment.strategy", Value: "cooperative-sticky"})
		}
	}
	keys := make([]string, 0, len(r.Config))
	for k := range r.Config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, rdk.Prop{Key: k, Value: r.Config[k], User: true})
	}
	out = append(out, rdk.Prop{Key: "enable.partition.eof", Value: "true"})
	return out
}
