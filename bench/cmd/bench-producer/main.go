// Command bench-producer feeds the live-latency benchmark of the harness
// (bench/): a rate-limited producer that writes its send time into every
// value, so that any consumer can compute produce -> row latency.
//
// Record i is sent at start + i/rate (an absolute schedule, so late wake-ups
// do not lower the rate), to partition i % P, with producer linger.ms=0 so
// that nothing waits in the producer. Its value (-value-size bytes, >= 16)
// is
//
//	bytes 0..7   wall clock (Unix ns, big endian) just before Produce()
//	bytes 8..15  i, the record's sequence number (big endian)
//	bytes 16..   filler
//
// and its key "SYM-%06d" (i % 10000). Consumers skip the first records
// (sequence below their -skip) to leave out connection warm-up.
//
//	bench-producer -b HOST:PORT -t TOPIC -p 8 -rate 5000 -duration 10s
//
// It prints one JSON object: records produced, delivery errors, the
// achieved rate and the largest lag behind the schedule.
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/kafkars/kafkars/bench/internal/gostat"
	"github.com/kafkars/kafkars/bench/internal/rdkbench"
)

func main() {
	parts := flag.Int("p", 8, "partitions to write round-robin (0..p-1)")
	rate := flag.Float64("rate", 5000, "records per second")
	duration := flag.Duration("duration", 10*time.Second, "how long to produce")
	vsize := flag.Int("value-size", 100, "value bytes (>= 16)")
	f := rdkbench.Parse("bench-producer -b HOST:PORT -t TOPIC [-p 8] [-rate 5000] [-duration 10s] [-value-size 100] [-X key=value ...]",
		func() bool { return *vsize >= 16 && *rate > 0 && *parts >= 1 })
	if err := run(f.Bootstrap, f.Topic, *parts, *rate, *duration, *vsize, f.Props); err != nil {
		rdkbench.Fail("bench-producer", err)
	}
}

func run(bootstrap, topic string, parts int, rate float64, duration time.Duration, vsize int, props gostat.KV) error {
	pairs, err := props.Pairs()
	if err != nil {
		return err
	}
	cm := kafka.ConfigMap{
		"bootstrap.servers": bootstrap,
		"linger.ms":         0, // send each record at once: latency, not throughput
		"acks":              "1",
	}
	for _, kv := range pairs {
		if err := cm.SetKey(kv[0], kv[1]); err != nil {
			return err
		}
	}
	p, err := kafka.NewProducer(&cm)
	if err != nil {
		return err
	}
	var failed int64
	var firstErr error
	events := make(chan struct{})
	go func() {
		for ev := range p.Events() {
			switch e := ev.(type) {
			case *kafka.Message:
				if e.TopicPartition.Error != nil {
					failed++
					if firstErr == nil {
						firstErr = e.TopicPartition.Error
					}
				}
			case kafka.Error:
				if e.IsFatal() && firstErr == nil {
					firstErr = e
				}
			}
		}
		close(events)
	}()

	interval := time.Duration(float64(time.Second) / rate)
	n := int64(duration / interval)
	filler := make([]byte, vsize)
	for i := range filler {
		filler[i] = byte('a' + i%26)
	}
	var maxLag time.Duration
	start := time.Now()
	for i := int64(0); i < n; i++ {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		} else if -d > maxLag {
			maxLag = -d
		}
		v := make([]byte, vsize)
		copy(v, filler)
		binary.BigEndian.PutUint64(v[8:], uint64(i))
		m := &kafka.Message{
			TopicPartition: kafka.TopicPartition{Topic: &topic, Partition: int32(i % int64(parts))},
			Key:            []byte(fmt.Sprintf("SYM-%06d", i%10000)),
			Value:          v,
		}
		now := time.Now()
		binary.BigEndian.PutUint64(v[0:], uint64(now.UnixNano()))
		m.Timestamp = now
		for {
			err := p.Produce(m, nil)
			if err == nil {
				break
			}
			if ke, ok := err.(kafka.Error); ok && ke.Code() == kafka.ErrQueueFull {
				p.Flush(10)
				continue
			}
			return err
		}
	}
	elapsed := time.Since(start)
	for p.Flush(1000) > 0 {
	}
	p.Close()
	<-events
	if firstErr != nil {
		return fmt.Errorf("%d delivery errors, first: %w", failed, firstErr)
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"produced":   n,
		"errors":     failed,
		"rate":       float64(n) / elapsed.Seconds(),
		"max_lag_ms": float64(maxLag.Microseconds()) / 1000,
	})
}
