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

	"github.com/kafkars/kafkars/bench/internal/gostat"
	"github.com/kafkars/kafkars/bench/internal/rdkbench"
)

var batch = flag.Int("batch", 10000, "messages per rd_kafka_consume_batch_queue call")

func main() {
	f := rdkbench.Parse("bench-batch -b HOST:PORT -t TOPIC [-X key=value ...] [-batch 10000]", func() bool { return *batch > 0 })
	if err := run(f, *batch); err != nil {
		rdkbench.Fail("bench-batch", err)
	}
}

func run(f rdkbench.Flags, batch int) error {
	openNs := int64(C.bb_now())
	c, err := rdkbench.NewConsumer("bench-batch", f)
	if err != nil {
		return err
	}
	rk := (*C.rd_kafka_t)(c.Handle())
	nparts, err := c.PartitionCount(f.Topic)
	if err != nil {
		c.Close()
		return err
	}
	// Start at the low watermark, stop at the high watermark seen now.
	end := make([]C.int64_t, nparts)
	reached := make([]C.char, nparts)
	starts := make([]int64, nparts)
	target := C.int32_t(0)
	var expected int64
	for p := 0; p < nparts; p++ {
		lo, hi, err := c.Watermarks(f.Topic, int32(p))
		if err != nil {
			c.Close()
			return err
		}
		end[p] = C.int64_t(hi - 1)
		starts[p] = lo
		expected += hi - lo
		if hi > lo {
			target++
		} else {
			reached[p] = 1 // empty partition: nothing to wait for
		}
	}
	if err := c.Assign(f.Topic, starts); err != nil {
		c.Close()
		return err
	}
	q := C.rd_kafka_queue_get_consumer(rk)

	msgs := (**C.rd_kafka_message_t)(C.calloc(C.size_t(batch), C.size_t(unsafe.Sizeof(uintptr(0)))))
	defer C.free(unsafe.Pointer(msgs))
	var st C.bb_stats
	var cpuFirst float64
	deadline := time.Now().Add(30 * time.Minute)
	for st.done < target {
		C.bb_consume(q, 1000, msgs, C.size_t(batch), &end[0], &reached[0], C.int32_t(nparts), &st)
		if st.err != 0 {
			C.rd_kafka_queue_destroy(q)
			c.Close()
			return fmt.Errorf("consume: %s", C.GoString(&st.errstr[0]))
		}
		if cpuFirst == 0 && st.first_ns != 0 {
			cpuFirst = gostat.CPUSeconds()
		}
		if time.Now().After(deadline) {
			C.rd_kafka_queue_destroy(q)
			c.Close()
			return fmt.Errorf("gave up after 30 minutes: %d of %d records", st.records, expected)
		}
	}
	cpuLast := gostat.CPUSeconds()
	C.rd_kafka_queue_destroy(q)
	c.Close()
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"records":     int64(st.records),
		"expected":    expected,
		"bytes":       int64(st.bytes),
		"open_ns":     openNs,
		"first_ns":    int64(st.first_ns),
		"last_ns":     int64(st.last_ns),
		"cpu_window":  cpuLast - cpuFirst,
		"vmhwm_kb":    gostat.VmHWMKB(),
		"librdkafka":  rdkbench.Version(),
		"batch_size":  batch,
		"partitions":  nparts,
		"description": "rd_kafka_consume_batch_queue, discard",
	})
}
