// Command kafkatool is the developers' Kafka helper used by the tests, the
// demo and the benchmarks: it creates and deletes topics and produces
// records, through confluent-kafka-go (admin client and producer: no
// per-message cost that matters here). It is not shipped in the wheel.
//
//	kafkatool create-topic -b HOST:PORT -t NAME -p N [-c key=value ...]
//	kafkatool delete-topic -b HOST:PORT -t NAME
//	kafkatool produce      -b HOST:PORT [--transactional-id ID] < records.jsonl
//	kafkatool gen          -b HOST:PORT -t NAME -p N -n COUNT [--value-size B] ...
//	kafkatool offsets      -b HOST:PORT -t NAME
//
// produce reads one JSON object per line:
//
//	{"topic": "t", "partition": 0, "key": "<base64>"|null, "value": "<base64>"|null,
//	 "ts": 1700000000000, "headers": [["name", "<base64>"|null], ...]}
//	{"txn": "begin"|"commit"|"abort"}           (with --transactional-id)
//
// and prints a JSON summary {"produced": N, "errors": 0} on stdout. Any
// delivery error makes it exit 1.
package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"strings"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "create-topic":
		err = createTopic(os.Args[2:])
	case "delete-topic":
		err = deleteTopic(os.Args[2:])
	case "produce":
		err = produce(os.Args[2:])
	case "gen":
		err = gen(os.Args[2:])
	case "offsets":
		err = offsets(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kafkatool:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: kafkatool create-topic|delete-topic|produce|gen|offsets [flags] (see source)")
	os.Exit(2)
}

type kvFlags []string

func (k *kvFlags) String() string     { return strings.Join(*k, ",") }
func (k *kvFlags) Set(v string) error { *k = append(*k, v); return nil }

func kv(list kvFlags) (map[string]string, error) {
	m := map[string]string{}
	for _, s := range list {
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return nil, fmt.Errorf("expected key=value, got %q", s)
		}
		m[k] = v
	}
	return m, nil
}

func createTopic(args []string) error {
	fs := flag.NewFlagSet("create-topic", flag.ExitOnError)
	b := fs.String("b", "", "bootstrap servers")
	t := fs.String("t", "", "topic")
	p := fs.Int("p", 1, "partitions")
	var cfg kvFlags
	fs.Var(&cfg, "c", "topic config key=value (repeatable)")
	fs.Parse(args)
	conf, err := kv(cfg)
	if err != nil {
		return err
	}
	ad, err := kafka.NewAdminClient(&kafka.ConfigMap{"bootstrap.servers": *b})
	if err != nil {
		return err
	}
	defer ad.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := ad.CreateTopics(ctx, []kafka.TopicSpecification{{
		Topic: *t, NumPartitions: *p, ReplicationFactor: 1, Config: conf,
	}}, kafka.SetAdminOperationTimeout(30*time.Second))
	if err != nil {
		return err
	}
	for _, r := range res {
		if r.Error.Code() != kafka.ErrNoError {
			return fmt.Errorf("create topic %s: %v", r.Topic, r.Error)
		}
	}
	// Wait until every partition has a leader, so producers do not race.
	deadline := time.Now().Add(30 * time.Second)
	for {
		md, err := ad.GetMetadata(t, false, 5000)
		if err == nil {
			if tm, ok := md.Topics[*t]; ok && tm.Error.Code() == kafka.ErrNoError && len(tm.Partitions) == *p {
				ready := true
				for _, pm := range tm.Partitions {
					if pm.Leader < 0 || pm.Error.Code() != kafka.ErrNoError {
						ready = false
					}
				}
				if ready {
					return nil
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("topic %s: partitions have no leader after 30s", *t)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func deleteTopic(args []string) error {
	fs := flag.NewFlagSet("delete-topic", flag.ExitOnError)
	b := fs.String("b", "", "bootstrap servers")
	t := fs.String("t", "", "topic")
	fs.Parse(args)
	ad, err := kafka.NewAdminClient(&kafka.ConfigMap{"bootstrap.servers": *b})
	if err != nil {
		return err
	}
	defer ad.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := ad.DeleteTopics(ctx, []string{*t}, kafka.SetAdminOperationTimeout(30*time.Second))
	if err != nil {
		return err
	}
	for _, r := range res {
		if r.Error.Code() != kafka.ErrNoError {
			return fmt.Errorf("delete topic %s: %v", r.Topic, r.Error)
		}
	}
	return nil
}

func offsets(args []string) error {
	fs := flag.NewFlagSet("offsets", flag.ExitOnError)
	b := fs.String("b", "", "bootstrap servers")
	t := fs.String("t", "", "topic")
	fs.Parse(args)
	c, err := kafka.NewConsumer(&kafka.ConfigMap{"bootstrap.servers": *b, "group.id": "kafkatool"})
	if err != nil {
		return err
	}
	defer c.Close()
	md, err := c.GetMetadata(t, false, 10000)
	if err != nil {
		return err
	}
	out := map[string][2]int64{}
	for _, p := range md.Topics[*t].Partitions {
		lo, hi, err := c.QueryWatermarkOffsets(*t, p.ID, 10000)
		if err != nil {
			return err
		}
		out[fmt.Sprint(p.ID)] = [2]int64{lo, hi}
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

type record struct {
	Txn       string       `json:"txn"`
	Topic     string       `json:"topic"`
	Partition *int32       `json:"partition"`
	Key       *string      `json:"key"`
	Value     *string      `json:"value"`
	Ts        *int64       `json:"ts"`
	Headers   [][2]*string `json:"headers"`
}

func producerConfig(b string, extra map[string]string) *kafka.ConfigMap {
	cm := &kafka.ConfigMap{
		"bootstrap.servers":            b,
		"linger.ms":                    5,
		"batch.num.messages":           10000,
		"queue.buffering.max.messages": 1000000,
		"queue.buffering.max.kbytes":   1048576,
		"enable.idempotence":           true,
		"acks":                         "all",
		"compression.type":             "none",
		"message.max.bytes":            16 << 20,
	}
	for k, v := range extra {
		cm.SetKey(k, v)
	}
	return cm
}

// deliveries counts delivery reports and remembers the first error.
func deliveries(p *kafka.Producer, done chan<- error, counter *int64) {
	var first error
	for ev := range p.Events() {
		switch e := ev.(type) {
		case *kafka.Message:
			if e.TopicPartition.Error != nil && first == nil {
				first = fmt.Errorf("delivery to %v: %w", e.TopicPartition, e.TopicPartition.Error)
			}
			*counter++
		case kafka.Error:
			if e.IsFatal() && first == nil {
				first = e
			}
		}
	}
	done <- first
}

func produce(args []string) error {
	fs := flag.NewFlagSet("produce", flag.ExitOnError)
	b := fs.String("b", "", "bootstrap servers")
	txid := fs.String("transactional-id", "", "use a transactional producer")
	var cfg kvFlags
	fs.Var(&cfg, "X", "producer property key=value (repeatable)")
	fs.Parse(args)
	extra, err := kv(cfg)
	if err != nil {
		return err
	}
	if *txid != "" {
		extra["transactional.id"] = *txid
	}
	p, err := kafka.NewProducer(producerConfig(*b, extra))
	if err != nil {
		return err
	}
	var delivered int64
	done := make(chan error, 1)
	go deliveries(p, done, &delivered)
	ctx := context.Background()
	if *txid != "" {
		if err := p.InitTransactions(ctx); err != nil {
			return fmt.Errorf("init transactions: %w", err)
		}
	}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	produced := 0
	line := 0
	for sc.Scan() {
		line++
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		switch r.Txn {
		case "begin":
			if err := p.BeginTransaction(); err != nil {
				return fmt.Errorf("line %d: begin: %w", line, err)
			}
			continue
		case "commit":
			if err := p.CommitTransaction(ctx); err != nil {
				return fmt.Errorf("line %d: commit: %w", line, err)
			}
			continue
		case "abort":
			// Flush first: the aborted records must reach the log (a test
			// of read_committed needs them there), not be purged locally.
			for p.Flush(1000) > 0 {
			}
			if err := p.AbortTransaction(ctx); err != nil {
				return fmt.Errorf("line %d: abort: %w", line, err)
			}
			continue
		case "":
		default:
			return fmt.Errorf("line %d: unknown txn %q", line, r.Txn)
		}
		m := &kafka.Message{TopicPartition: kafka.TopicPartition{Topic: &r.Topic, Partition: kafka.PartitionAny}}
		if r.Partition != nil {
			m.TopicPartition.Partition = *r.Partition
		}
		if m.Key, err = b64(r.Key); err != nil {
			return fmt.Errorf("line %d: key: %w", line, err)
		}
		if m.Value, err = b64(r.Value); err != nil {
			return fmt.Errorf("line %d: value: %w", line, err)
		}
		if r.Ts != nil {
			m.Timestamp = time.UnixMilli(*r.Ts)
		}
		for _, h := range r.Headers {
			if h[0] == nil {
				return fmt.Errorf("line %d: header without a name", line)
			}
			v, err := b64(h[1])
			if err != nil {
				return fmt.Errorf("line %d: header %s: %w", line, *h[0], err)
			}
			m.Headers = append(m.Headers, kafka.Header{Key: *h[0], Value: v})
		}
		for {
			err := p.Produce(m, nil)
			if err == nil {
				break
			}
			if ke, ok := err.(kafka.Error); ok && ke.Code() == kafka.ErrQueueFull {
				p.Flush(100)
				continue
			}
			return fmt.Errorf("line %d: produce: %w", line, err)
		}
		produced++
	}
	if err := sc.Err(); err != nil {
		return err
	}
	for p.Flush(1000) > 0 {
	}
	p.Close()
	if err := <-done; err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]int{"produced": produced, "errors": 0})
}

// b64 decodes a base64 value; nil stays nil (a null key or value), "" is
// an empty non-null value.
func b64(s *string) ([]byte, error) {
	if s == nil {
		return nil, nil
	}
	v, err := base64.StdEncoding.DecodeString(*s)
	if err != nil {
		return nil, err
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// gen produces synthetic records fast (benchmarks, demo): keys
// "<prefix>-<i % keys>" and values of a fixed size whose first 8 bytes
// are the record's sequence number; timestamps from --ts-start stepping
// by --ts-step ms per record (per partition), round-robin over partitions.
func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	b := fs.String("b", "", "bootstrap servers")
	t := fs.String("t", "", "topic")
	parts := fs.Int("p", 1, "partitions to write (0..p-1)")
	n := fs.Int64("n", 1000, "records in total")
	vsize := fs.Int("value-size", 100, "value bytes")
	keys := fs.Int("keys", 10000, "distinct keys")
	prefix := fs.String("key-prefix", "key", "key prefix")
	tsStart := fs.Int64("ts-start", 0, "first timestamp (ms); 0: now - n*step")
	tsStep := fs.Int64("ts-step", 1, "ms between consecutive records of a partition")
	seed := fs.Int64("seed", 1, "random seed for values")
	var cfg kvFlags
	fs.Var(&cfg, "X", "producer property key=value (repeatable)")
	fs.Parse(args)
	extra, err := kv(cfg)
	if err != nil {
		return err
	}
	// Idempotent (the producerConfig default): retries must not reorder a
	// partition, or the generated timestamps would not be monotonic.
	if _, ok := extra["linger.ms"]; !ok {
		extra["linger.ms"] = "20"
	}
	p, err := kafka.NewProducer(producerConfig(*b, extra))
	if err != nil {
		return err
	}
	var delivered int64
	done := make(chan error, 1)
	go deliveries(p, done, &delivered)
	rng := rand.New(rand.NewSource(*seed))
	perPart := (*n + int64(*parts) - 1) / int64(*parts)
	start := *tsStart
	if start == 0 {
		start = time.Now().UnixMilli() - perPart**tsStep - 60_000
	}
	val := make([]byte, *vsize)
	rng.Read(val)
	t0 := time.Now()
	for i := int64(0); i < *n; i++ {
		part := int32(i % int64(*parts))
		seq := i / int64(*parts)
		v := make([]byte, *vsize)
		copy(v, val)
		if *vsize >= 8 {
			binary.BigEndian.PutUint64(v, uint64(i))
		}
		m := &kafka.Message{
			TopicPartition: kafka.TopicPartition{Topic: t, Partition: part},
			Key:            []byte(fmt.Sprintf("%s-%06d", *prefix, i%int64(*keys))),
			Value:          v,
			Timestamp:      time.UnixMilli(start + seq**tsStep),
		}
		for {
			err := p.Produce(m, nil)
			if err == nil {
				break
			}
			if ke, ok := err.(kafka.Error); ok && ke.Code() == kafka.ErrQueueFull {
				p.Flush(50)
				continue
			}
			return err
		}
	}
	for p.Flush(1000) > 0 {
	}
	p.Close()
	if err := <-done; err != nil {
		return err
	}
	el := time.Since(t0).Seconds()
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"produced": *n, "seconds": el, "rate": float64(*n) / el})
}
