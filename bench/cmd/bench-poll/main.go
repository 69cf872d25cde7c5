// Command bench-poll is a reference point of the benchmark harness (bench/):
// confluent-kafka-go's Consumer.Poll(), one message per call, discarding.
// It is what a Go program built on confluent-kafka-go does today, and the
// reason kafkars calls librdkafka's batch API itself (confluent-kafka-go
// has no batch API).
//
// It assigns every partition of one topic at its low watermark and stops
// once every partition has delivered the offset just below the high
// watermark it saw at start.
//
//	bench-poll -b HOST:PORT -t TOPIC [-X key=value ...]
//
// It prints one JSON object on stdout, with the same keys as bench-batch.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/kafkars/kafkars/bench/internal/gostat"
	"github.com/kafkars/kafkars/bench/internal/rdkbench"
)

func main() {
	f := rdkbench.Parse("bench-poll -b HOST:PORT -t TOPIC [-X key=value ...]", nil)
	if err := run(f.Bootstrap, f.Topic, f.Props); err != nil {
		rdkbench.Fail("bench-poll", err)
	}
}

func run(bootstrap, topic string, props gostat.KV) error {
	opened := time.Now() // carries Go's monotonic clock reading
	pairs, err := props.Pairs()
	if err != nil {
		return err
	}
	// confluent-kafka-go refuses a consumer without group.id even when it
	// only assigns; a throwaway one that never commits changes nothing.
	cm := kafka.ConfigMap{
		"bootstrap.servers":  bootstrap,
		"group.id":           "bench-poll-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		"enable.auto.commit": false,
	}
	for _, kv := range pairs {
		if err := cm.SetKey(kv[0], kv[1]); err != nil {
			return err
		}
	}
	c, err := kafka.NewConsumer(&cm)
	if err != nil {
		return err
	}
	defer c.Close()
	md, err := c.GetMetadata(&topic, false, 10000)
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	tm, ok := md.Topics[topic]
	if !ok || tm.Error.Code() != kafka.ErrNoError {
		return fmt.Errorf("topic %s not found: %v", topic, tm.Error)
	}
	nparts := len(tm.Partitions)
	end := make([]int64, nparts)
	reached := make([]bool, nparts)
	var expected int64
	target := 0
	var assign []kafka.TopicPartition
	for p := 0; p < nparts; p++ {
		lo, hi, err := c.QueryWatermarkOffsets(topic, int32(p), 10000)
		if err != nil {
			return fmt.Errorf("watermarks of %s [%d]: %w", topic, p, err)
		}
		end[p] = hi - 1
		expected += hi - lo
		if hi > lo {
			target++
		} else {
			reached[p] = true
		}
		assign = append(assign, kafka.TopicPartition{Topic: &topic, Partition: int32(p), Offset: kafka.Offset(lo)})
	}
	if err := c.Assign(assign); err != nil {
		return fmt.Errorf("assign: %w", err)
	}

	var records, nbytes int64
	var first, last time.Time
	var cpuFirst float64
	done := 0
	deadline := time.Now().Add(30 * time.Minute)
	for done < target {
		switch e := c.Poll(100).(type) {
		case *kafka.Message:
			if e.TopicPartition.Error != nil {
				return fmt.Errorf("message error: %w", e.TopicPartition.Error)
			}
			now := time.Now()
			if records == 0 {
				first = now
				cpuFirst = gostat.CPUSeconds()
			}
			last = now
			records++
			nbytes += int64(len(e.Key) + len(e.Value))
			p := e.TopicPartition.Partition
			if int(p) < nparts && !reached[p] && int64(e.TopicPartition.Offset) >= end[p] {
				reached[p] = true
				done++
			}
		case kafka.Error:
			if e.IsFatal() || e.Code() == kafka.ErrAllBrokersDown {
				return e
			}
		case nil:
			if time.Now().After(deadline) {
				return fmt.Errorf("gave up after 30 minutes: %d of %d records", records, expected)
			}
		}
	}
	cpuLast := gostat.CPUSeconds()
	// Nanoseconds since the consumer was opened, on the monotonic clock.
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"records":     records,
		"expected":    expected,
		"bytes":       nbytes,
		"open_ns":     int64(0),
		"first_ns":    first.Sub(opened).Nanoseconds(),
		"last_ns":     last.Sub(opened).Nanoseconds(),
		"cpu_window":  cpuLast - cpuFirst,
		"vmhwm_kb":    gostat.VmHWMKB(),
		"librdkafka":  libVersion(),
		"partitions":  nparts,
		"description": "confluent-kafka-go Poll(), one message per call, discard",
	})
}

func libVersion() string {
	_, s := kafka.LibraryVersion()
	return s
}
