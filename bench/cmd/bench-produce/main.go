// Command bench-produce is the producing ceiling of the benchmark harness
// (bench/produce.py): the least a Go program can do to write N records
// through librdkafka and wait for the last acknowledgement.
//
// Mode "c" (the ceiling) builds every key and value in C and hands them to
// rd_kafka_producev (RD_KAFKA_MSG_F_COPY, a topic handle, the default
// partitioner) in one cgo call per 10 000 records, serving delivery
// reports when the queue is full, then flushes. Mode "ckg" does the same
// through confluent-kafka-go's Producer.Produce: one cgo call and several
// Go allocations per record (the message, its key and value copies and a
// delivery event on the Events channel), which is why kafkars does not
// use it on its hot path.
//
//	bench-produce -b HOST:PORT -t TOPIC [-n 1000000] [-value-size 100] [-mode c|ckg] [-X key=value ...]
//
// Records: key "SYM-%06d" (i % 10000), value -value-size bytes. The
// properties are enable.idempotence=true (acks=all) unless -X says
// otherwise, then the -X ones. It prints one JSON object: records
// acknowledged, failures, seconds from the first produce call to the last
// acknowledgement, CPU seconds of the process in that time, and its peak
// RSS (VmHWM).
package main

/*
#cgo pkg-config: rdkafka
#cgo CFLAGS: -O2 -Wall
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <librdkafka/rdkafka.h>

typedef struct bp_stats {
	long long acked, failed;
	int first_err;
	char errstr[256];
} bp_stats;

static void bp_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
	bp_stats *st = (bp_stats *)opaque;
	if (m->err) {
		if (!st->failed++) {
			st->first_err = m->err;
			snprintf(st->errstr, sizeof(st->errstr), "%s", rd_kafka_err2str(m->err));
		}
	} else {
		st->acked++;
	}
}

static void bp_set_dr(rd_kafka_conf_t *conf, bp_stats *st) {
	rd_kafka_conf_set_opaque(conf, st);
	rd_kafka_conf_set_dr_msg_cb(conf, bp_dr);
}

// bp_produce hands records [from, to) to librdkafka; -1 on a refusal.
static int bp_produce(rd_kafka_t *rk, rd_kafka_topic_t *rkt, long long from,
                      long long to, int vsize, char *val) {
	char key[16];
	for (long long i = from; i < to;) {
		int kl = snprintf(key, sizeof(key), "SYM-%06lld", i % 10000);
		memcpy(val, &i, sizeof(i) < (size_t)vsize ? sizeof(i) : (size_t)vsize);
		rd_kafka_resp_err_t err = rd_kafka_producev(
		    rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		    RD_KAFKA_V_KEY(key, (size_t)kl), RD_KAFKA_V_VALUE(val, (size_t)vsize),
		    RD_KAFKA_V_END);
		if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
			rd_kafka_poll(rk, 5);
			continue;
		}
		if (err)
			return -1;
		i++;
		if ((i & 1023) == 0)
			rd_kafka_poll(rk, 0);
	}
	return 0;
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

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/kafkars/kafkars/bench/internal/gostat"
	"github.com/kafkars/kafkars/bench/internal/rdkbench"
)

type result struct {
	Mode       string  `json:"mode"`
	Records    int64   `json:"records"`
	Failed     int64   `json:"failed"`
	Seconds    float64 `json:"seconds"`
	CPUSeconds float64 `json:"cpu_seconds"`
	PeakRSSKB  int64   `json:"peak_rss_kb"`
	Librdkafka string  `json:"librdkafka"`
}

func main() {
	n := flag.Int64("n", 1_000_000, "records")
	vsize := flag.Int("value-size", 100, "value bytes")
	mode := flag.String("mode", "c", "c (librdkafka from C) or ckg (confluent-kafka-go Produce)")
	f := rdkbench.Parse("bench-produce -b HOST:PORT -t TOPIC [-n 1000000] [-value-size 100] [-mode c|ckg] [-X key=value ...]",
		func() bool { return *n > 0 && *vsize >= 8 })
	pairs, err := f.Props.Pairs()
	if err != nil {
		rdkbench.Fail("bench-produce", err)
	}
	props := append([][2]string{{"bootstrap.servers", f.Bootstrap}, {"enable.idempotence", "true"}}, pairs...)
	var res result
	switch *mode {
	case "c":
		res, err = runC(f.Topic, *n, *vsize, props)
	case "ckg":
		res, err = runCKG(f.Topic, *n, *vsize, props)
	default:
		err = fmt.Errorf("unknown -mode %q", *mode)
	}
	if err != nil {
		rdkbench.Fail("bench-produce", err)
	}
	res.PeakRSSKB = gostat.VmHWMKB()
	res.Librdkafka = rdkbench.Version()
	_ = json.NewEncoder(os.Stdout).Encode(res)
}

func runC(topic string, n int64, vsize int, props [][2]string) (result, error) {
	errbuf := (*C.char)(C.malloc(512))
	defer C.free(unsafe.Pointer(errbuf))
	conf := C.rd_kafka_conf_new()
	for _, kv := range props {
		ck, cv := C.CString(kv[0]), C.CString(kv[1])
		rc := C.rd_kafka_conf_set(conf, ck, cv, errbuf, 512)
		C.free(unsafe.Pointer(ck))
		C.free(unsafe.Pointer(cv))
		if rc != C.RD_KAFKA_CONF_OK {
			return result{}, fmt.Errorf("property %s=%s: %s", kv[0], kv[1], C.GoString(errbuf))
		}
	}
	st := (*C.bp_stats)(C.calloc(1, C.sizeof_bp_stats))
	defer C.free(unsafe.Pointer(st))
	C.bp_set_dr(conf, st)
	rk := C.rd_kafka_new(C.RD_KAFKA_PRODUCER, conf, errbuf, 512)
	if rk == nil {
		return result{}, fmt.Errorf("rd_kafka_new: %s", C.GoString(errbuf))
	}
	defer C.rd_kafka_destroy(rk)
	ct := C.CString(topic)
	rkt := C.rd_kafka_topic_new(rk, ct, nil)
	C.free(unsafe.Pointer(ct))
	defer C.rd_kafka_topic_destroy(rkt)
	val := (*C.char)(C.calloc(1, C.size_t(vsize)))
	defer C.free(unsafe.Pointer(val))

	cpu0, t0 := gostat.CPUSeconds(), time.Now()
	for from := int64(0); from < n; from += 10_000 {
		to := min(from+10_000, n)
		if C.bp_produce(rk, rkt, C.longlong(from), C.longlong(to), C.int(vsize), val) != 0 {
			return result{}, fmt.Errorf("produce refused: %s", C.GoString(C.rd_kafka_err2str(C.rd_kafka_last_error())))
		}
	}
	for int64(st.acked+st.failed) < n {
		C.rd_kafka_flush(rk, 100)
	}
	res := result{Mode: "c", Records: int64(st.acked), Failed: int64(st.failed),
		Seconds: time.Since(t0).Seconds(), CPUSeconds: gostat.CPUSeconds() - cpu0}
	if st.failed > 0 {
		return res, fmt.Errorf("%d deliveries failed, the first: %s", int64(st.failed), C.GoString(&st.errstr[0]))
	}
	return res, nil
}

func runCKG(topic string, n int64, vsize int, props [][2]string) (result, error) {
	cm := kafka.ConfigMap{}
	for _, kv := range props {
		if err := cm.SetKey(kv[0], kv[1]); err != nil {
			return result{}, err
		}
	}
	p, err := kafka.NewProducer(&cm)
	if err != nil {
		return result{}, err
	}
	defer p.Close()
	var acked, failed int64
	var firstErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range p.Events() {
			if m, ok := ev.(*kafka.Message); ok {
				if m.TopicPartition.Error != nil {
					if failed == 0 {
						firstErr = m.TopicPartition.Error
					}
					failed++
				} else {
					acked++
				}
				if acked+failed == n {
					return
				}
			}
		}
	}()
	val := make([]byte, vsize)
	cpu0, t0 := gostat.CPUSeconds(), time.Now()
	tp := kafka.TopicPartition{Topic: &topic, Partition: kafka.PartitionAny}
	for i := int64(0); i < n; {
		for b := 0; b < 8; b++ {
			val[b] = byte(i >> (8 * b))
		}
		m := &kafka.Message{TopicPartition: tp, Key: []byte(fmt.Sprintf("SYM-%06d", i%10000)), Value: val}
		if err := p.Produce(m, nil); err != nil {
			if ke, ok := err.(kafka.Error); ok && ke.Code() == kafka.ErrQueueFull {
				time.Sleep(time.Millisecond)
				continue
			}
			return result{}, err
		}
		i++
	}
	<-done
	res := result{Mode: "ckg", Records: acked, Failed: failed, Seconds: time.Since(t0).Seconds(), CPUSeconds: gostat.CPUSeconds() - cpu0}
	if firstErr != nil {
		return res, fmt.Errorf("%d deliveries failed, the first: %v", failed, firstErr)
	}
	return res, nil
}
