// Command bench-floor is the latency floor of the benchmark harness
// (bench/): the quickest a librdkafka consumer can hand over a record that
// cmd/bench-producer just sent.
//
// It assigns every partition of a topic at its current high watermark,
// enables the consumer queue's IO event on a pipe
// (rd_kafka_queue_io_event_enable: librdkafka writes a byte when the queue
// goes from empty to non-empty), sleeps in poll(2) on that pipe, and on
// wake-up drains the queue with rd_kafka_consume_batch_queue and timeout 0.
// Latency of a record = wall clock when its batch is drained - the send
// time the producer wrote into the value's first 8 bytes. This is the
// floor kafkars' live path is compared with, in the same run on the same
// producer.
//
//	bench-floor -b HOST:PORT -t TOPIC [-skip N] [-X key=value ...]
//
// Protocol with the harness: prints "READY" once assigned, consumes until
// its stdin is closed, then prints one JSON object (latency percentiles in
// ms over records whose sequence number is >= skip).
package main

/*
#cgo pkg-config: rdkafka
#cgo CFLAGS: -O2 -Wall
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <librdkafka/rdkafka.h>

static int64_t fl_wall_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t fl_be64(const unsigned char *p) {
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return (int64_t)v;
}

static int fl_pipe(int fds[2]) {
	if (pipe(fds) != 0)
		return -1;
	for (int i = 0; i < 2; i++)
		fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
	return 0;
}

// fl_wait sleeps until the IO event pipe or stdin (fd 0) is readable, or
// timeout_ms passes. Returns 1 when stdin is readable (EOF or data).
static int fl_wait(int io_fd, int timeout_ms) {
	struct pollfd pfd[2] = {{io_fd, POLLIN, 0}, {0, POLLIN, 0}};
	int r = poll(pfd, 2, timeout_ms);
	if (r > 0 && (pfd[1].revents & (POLLIN | POLLHUP)))
		return 1;
	return 0;
}

// fl_drain empties the arrival pipe, then the queue (timeout 0), writing
// one latency (ns) per record with sequence >= skip into lat (at most
// cap). The wall clock is read once per batch, when the batch is in hand.
// Returns the number of latencies written; *records counts every record.
static int fl_drain(int io_fd, rd_kafka_queue_t *q, rd_kafka_message_t **msgs,
                    size_t mcap, int64_t skip, int64_t *lat, int cap,
                    int64_t *records, int32_t *err) {
	char buf[256];
	while (read(io_fd, buf, sizeof(buf)) > 0)
		;
	int nlat = 0;
	for (;;) {
		ssize_t n = rd_kafka_consume_batch_queue(q, 0, msgs, mcap);
		if (n <= 0)
			break;
		int64_t now = fl_wall_ns();
		for (ssize_t i = 0; i < n; i++) {
			rd_kafka_message_t *m = msgs[i];
			if (m->err) {
				if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF && !*err)
					*err = m->err;
			} else if (m->len >= 16) {
				(*records)++;
				const unsigned char *v = m->payload;
				if (fl_be64(v + 8) >= skip && nlat < cap)
					lat[nlat++] = now - fl_be64(v);
			}
			rd_kafka_message_destroy(m);
		}
	}
	return nlat;
}
*/
import "C"

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"unsafe"

	"github.com/kafkars/kafkars/bench/internal/gostat"
	"github.com/kafkars/kafkars/bench/internal/rdkbench"
)

var skip = flag.Int64("skip", 0, "leave out records whose sequence number is below this (warm-up)")

func main() {
	f := rdkbench.Parse("bench-floor -b HOST:PORT -t TOPIC [-skip N] [-X key=value ...]", nil)
	if err := run(f, *skip); err != nil {
		rdkbench.Fail("bench-floor", err)
	}
}

func run(f rdkbench.Flags, skip int64) error {
	c, err := rdkbench.NewConsumer("bench-floor", f)
	if err != nil {
		return err
	}
	defer c.Close()
	rk := (*C.rd_kafka_t)(c.Handle())
	q := C.rd_kafka_queue_get_consumer(rk)
	defer C.rd_kafka_queue_destroy(q)

	var fds [2]C.int
	if C.fl_pipe(&fds[0]) != 0 {
		return fmt.Errorf("pipe failed")
	}
	defer C.close(fds[0])
	defer C.close(fds[1])
	one := C.CString("1")
	defer C.free(unsafe.Pointer(one))
	C.rd_kafka_queue_io_event_enable(q, fds[1], unsafe.Pointer(one), 1)
	defer C.rd_kafka_queue_io_event_enable(q, -1, nil, 0)

	// Assign at the current end: every record produced from now on counts.
	nparts, err := c.PartitionCount(f.Topic)
	if err != nil {
		return err
	}
	ends := make([]int64, nparts)
	for p := range ends {
		if _, ends[p], err = c.Watermarks(f.Topic, int32(p)); err != nil {
			return err
		}
	}
	if err := c.Assign(f.Topic, ends); err != nil {
		return err
	}
	fmt.Println("READY")

	const mcap = 1024
	msgs := (**C.rd_kafka_message_t)(C.calloc(mcap, C.size_t(unsafe.Sizeof(uintptr(0)))))
	defer C.free(unsafe.Pointer(msgs))
	buf := make([]int64, 1<<16)
	var lats []float64
	var records C.int64_t
	var cerr C.int32_t
	for {
		stop := C.fl_wait(fds[0], 100) != 0
		n := C.fl_drain(fds[0], q, msgs, mcap, C.int64_t(skip), (*C.int64_t)(unsafe.Pointer(&buf[0])),
			C.int(len(buf)), &records, &cerr)
		for _, ns := range buf[:n] {
			lats = append(lats, float64(ns)/1e6)
		}
		if cerr != 0 {
			return fmt.Errorf("consume: %s", C.GoString(C.rd_kafka_err2str(C.rd_kafka_resp_err_t(cerr))))
		}
		if stop {
			break
		}
	}
	out := gostat.LatencySummary(lats)
	out["records"] = int64(records)
	out["vmhwm_kb"] = gostat.VmHWMKB()
	out["librdkafka"] = rdkbench.Version()
	out["description"] = "librdkafka IO event fd + consume_batch_queue(timeout 0)"
	return json.NewEncoder(os.Stdout).Encode(out)
}
