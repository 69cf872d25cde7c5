// Command bench-batch is the throughput ceiling of the benchmark harness
// (bench/): the least a Go program can do to read a topic from its
// beginning to its end through librdkafka's batch API.
//
// It assigns every partition of one topic at its low watermark, calls
// rd_kafka_consume_batch_queue (batches of -batch messages, one cgo call per
// batch), adds up key and value lengths, and throws the messages away. It
// stops once every partition has delivered the offset just below the high
// watermark it saw at start. It links the same librdkafka.so.1 as kafkars
// (build.sh: pkg-config rdkafka, -tags dynamic, rpath), so the comparison
// isolates what kafkars adds on top of librdkafka.
//
//	bench-batch -b HOST:PORT -t TOPIC [-X key=value ...] [-batch 10000]
//
// It prints one JSON object on stdout: records, bytes (keys + values),
// open_ns/first_ns/last_ns (CLOCK_MONOTONIC before the consumer is created,
// at the first and at the last record), the
// CPU seconds this process used between them, its peak RSS (VmHWM) and
// librdkafka's version.
package main

/*
#cgo pkg-config: rdkafka
#cgo CFLAGS: -O2 -Wall
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <librdkafka/rdkafka.h>

typedef struct bb_stats {
	int64_t records;
	int64_t bytes;
	int64_t first_ns;  // monotonic clock at the first record, 0 before
	int64_t last_ns;   // monotonic clock at the last record
	int32_t done;      // partitions that reached their end
	int32_t err;       // first consume error, 0 if none
	char errstr[256];
} bb_stats;

static int64_t bb_now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// bb_consume takes one batch from q and accounts for it. end[p] is the
// offset partition p must reach (high watermark - 1); reached[p] becomes 1
// once it has. Everything stays in C: one cgo call per batch.
static ssize_t bb_consume(rd_kafka_queue_t *q, int timeout_ms,
                          rd_kafka_message_t **msgs, size_t cap,
                          const int64_t *end, char *reached, int32_t nparts,
                          bb_stats *st) {
	ssize_t n = rd_kafka_consume_batch_queue(q, timeout_ms, msgs, cap);
	if (n < 0) {
		st->err = rd_kafka_last_error();
		snprintf(st->errstr, sizeof(st->errstr), "%s", rd_kafka_err2str(st->err));
		return n;
	}
	for (ssize_t i = 0; i < n; i++) {
		rd_kafka_message_t *m = msgs[i];
		if (m->err) {
			if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF && !st->err) {
				st->err = m->err;
				snprintf(st->errstr, sizeof(st->errstr), "%s", rd_kafka_message_errstr(m));
			}
			rd_kafka_message_destroy(m);
			continue;
		}
		st->records++;
		st->bytes += (int64_t)m->len + (int64_t)m->key_len;
		int32_t p = m->partition;
		if (p >= 0 && p < nparts && !reached[p] && m->offset >= end[p]) {
			reached[p] = 1;
			st->done++;
		}
		rd_kafka_message_destroy(m);
	}
	if (n > 0) {
		int64_t now = bb_now();
		if (!st->first_ns)
			st->first_ns = now;
		st->last_ns = now;
	}
	return n;
}
*/
import "C"

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"
	"unsafe"

	"github.com/kafkars/kafkars/bench/gostat"
)

func main() {
	bootstrap := flag.String("b", "", "bootstrap servers")
	topic := flag.String("t", "", "topic")
	batch := flag.Int("batch", 10000, "messages per rd_kafka_consume_batch_queue call")
	var props gostat.KV
	flag.Var(&props, "X", "librdkafka property key=value (repeatable)")
	flag.Parse()
	if *bootstrap == "" || *topic == "" {
		fmt.Fprintln(os.Stderr, "usage: bench-batch -b HOST:PORT -t TOPIC [-X key=value ...]")
		os.Exit(2)
	}
	if err := run(*bootstrap, *topic, *batch, props); err != nil {
		fmt.Fprintln(os.Stderr, "bench-batch:", err)
		os.Exit(1)
	}
}

func cstr(s string) *C.char { return C.CString(s) }

func run(bootstrap, topic string, batch int, props gostat.KV) error {
	openNs := int64(C.bb_now())
	errbuf := (*C.char)(C.malloc(512))
	defer C.free(unsafe.Pointer(errbuf))
	conf := C.rd_kafka_conf_new()
	set := func(k, v string) error {
		ck, cv := cstr(k), cstr(v)
		defer C.free(unsafe.Pointer(ck))
		defer C.free(unsafe.Pointer(cv))
		if C.rd_kafka_conf_set(conf, ck, cv, errbuf, 512) != C.RD_KAFKA_CONF_OK {
			return fmt.Errorf("property %s=%s: %s", k, v, C.GoString(errbuf))
		}
		return nil
	}
	// rd_kafka_assign needs a group handle, hence a group.id; a throwaway
	// one that never commits (assign only, no subscribe) changes nothing.
	for _, kv := range [][2]string{
		{"bootstrap.servers", bootstrap},
		{"group.id", fmt.Sprintf("bench-batch-%d", time.Now().UnixNano())},
		{"enable.auto.commit", "false"},
	} {
		if err := set(kv[0], kv[1]); err != nil {
			return err
		}
	}
	pairs, err := props.Pairs()
	if err != nil {
		return err
	}
	for _, kv := range pairs {
		if err := set(kv[0], kv[1]); err != nil {
			return err
		}
	}
	rk := C.rd_kafka_new(C.RD_KAFKA_CONSUMER, conf, errbuf, 512)
	if rk == nil {
		return fmt.Errorf("rd_kafka_new: %s", C.GoString(errbuf))
	}
	defer C.rd_kafka_destroy(rk)
	C.rd_kafka_poll_set_consumer(rk)

	ctopic := cstr(topic)
	defer C.free(unsafe.Pointer(ctopic))
	nparts, err := partitionCount(rk, ctopic)
	if err != nil {
		return err
	}
	// Start at the low watermark, stop at the high watermark seen now.
	end := make([]C.int64_t, nparts)
	reached := make([]C.char, nparts)
	target := C.int32_t(0)
	list := C.rd_kafka_topic_partition_list_new(C.int(nparts))
	defer C.rd_kafka_topic_partition_list_destroy(list)
	var expected int64
	for p := 0; p < nparts; p++ {
		lo, hi, err := watermarks(rk, ctopic, int32(p))
		if err != nil {
			return fmt.Errorf("watermarks of %s [%d]: %w", topic, p, err)
		}
		end[p] = hi - 1
		expected += int64(hi - lo)
		if hi > lo {
			target++
		} else {
			reached[p] = 1 // empty partition: nothing to wait for
		}
		el := C.rd_kafka_topic_partition_list_add(list, ctopic, C.int32_t(p))
		el.offset = lo
	}
	if e := C.rd_kafka_assign(rk, list); e != 0 {
		return fmt.Errorf("assign: %s", C.GoString(C.rd_kafka_err2str(e)))
	}
	q := C.rd_kafka_queue_get_consumer(rk)
	defer C.rd_kafka_queue_destroy(q)

	msgs := (**C.rd_kafka_message_t)(C.calloc(C.size_t(batch), C.size_t(unsafe.Sizeof(uintptr(0)))))
	defer C.free(unsafe.Pointer(msgs))
	var st C.bb_stats
	var cpuFirst float64
	deadline := time.Now().Add(30 * time.Minute)
	for st.done < target {
		C.bb_consume(q, 1000, msgs, C.size_t(batch), &end[0], &reached[0], C.int32_t(nparts), &st)
		if st.err != 0 {
			return fmt.Errorf("consume: %s", C.GoString(&st.errstr[0]))
		}
		if cpuFirst == 0 && st.first_ns != 0 {
			cpuFirst = gostat.CPUSeconds()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("gave up after 30 minutes: %d of %d records", st.records, expected)
		}
	}
	cpuLast := gostat.CPUSeconds()
	C.rd_kafka_consumer_close(rk)
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"records":     int64(st.records),
		"expected":    expected,
		"bytes":       int64(st.bytes),
		"open_ns":     openNs,
		"first_ns":    int64(st.first_ns),
		"last_ns":     int64(st.last_ns),
		"cpu_window":  cpuLast - cpuFirst,
		"vmhwm_kb":    gostat.VmHWMKB(),
		"librdkafka":  C.GoString(C.rd_kafka_version_str()),
		"batch_size":  batch,
		"partitions":  nparts,
		"description": "rd_kafka_consume_batch_queue, discard",
	})
}

func partitionCount(rk *C.rd_kafka_t, ctopic *C.char) (int, error) {
	rkt := C.rd_kafka_topic_new(rk, ctopic, nil)
	if rkt == nil {
		return 0, fmt.Errorf("topic handle: %s", C.GoString(C.rd_kafka_err2str(C.rd_kafka_last_error())))
	}
	defer C.rd_kafka_topic_destroy(rkt)
	var md *C.struct_rd_kafka_metadata
	if e := C.rd_kafka_metadata(rk, 0, rkt, &md, 10000); e != 0 {
		return 0, fmt.Errorf("metadata: %s", C.GoString(C.rd_kafka_err2str(e)))
	}
	defer C.rd_kafka_metadata_destroy(md)
	if md.topic_cnt < 1 {
		return 0, fmt.Errorf("topic %s not in metadata", C.GoString(ctopic))
	}
	t := (*C.rd_kafka_metadata_topic_t)(unsafe.Pointer(md.topics))
	if t.err != 0 {
		return 0, fmt.Errorf("topic %s: %s", C.GoString(ctopic), C.GoString(C.rd_kafka_err2str(t.err)))
	}
	return int(t.partition_cnt), nil
}

// watermarks asks the leader for a partition's low and high offsets,
// retrying for a while: right after a topic is created its leaders may
// still answer NOT_LEADER_FOR_PARTITION.
func watermarks(rk *C.rd_kafka_t, ctopic *C.char, p int32) (lo, hi C.int64_t, err error) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		e := C.rd_kafka_query_watermark_offsets(rk, ctopic, C.int32_t(p), &lo, &hi, 10000)
		if e == 0 {
			return lo, hi, nil
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("%s", C.GoString(C.rd_kafka_err2str(e)))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
