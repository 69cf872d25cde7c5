// Package rdkbench is what the Go programs of the benchmark harness
// (bench/cmd/bench-*) share: their command line (-b, -t, -X) and, for the
// two that call librdkafka directly, creating a consumer, finding a
// topic's partitions and watermarks, and assigning them.
//
// The handle crosses into the programs as an unsafe.Pointer: cgo types are
// local to a package, so each program converts it to its own
// *C.rd_kafka_t for the C it keeps (the part being measured).
package rdkbench

/*
#cgo pkg-config: rdkafka
#cgo CFLAGS: -O2 -Wall
#include <stdlib.h>
#include <librdkafka/rdkafka.h>
*/
import "C"

import (
	"flag"
	"fmt"
	"os"
	"time"
	"unsafe"

	"github.com/kafkars/kafkars/bench/internal/gostat"
)

// Flags are the arguments every bench program takes.
type Flags struct {
	Bootstrap string
	Topic     string
	Props     gostat.KV // -X key=value, repeatable, applied after the program's own
}

// Parse registers -b, -t and -X, parses the command line and exits with
// status 2 and usage when -b or -t is missing or valid(), if given, fails.
func Parse(usage string, valid func() bool) Flags {
	var f Flags
	flag.StringVar(&f.Bootstrap, "b", "", "bootstrap servers")
	flag.StringVar(&f.Topic, "t", "", "topic")
	flag.Var(&f.Props, "X", "librdkafka property key=value (repeatable)")
	flag.Parse()
	if f.Bootstrap == "" || f.Topic == "" || (valid != nil && !valid()) {
		fmt.Fprintln(os.Stderr, "usage:", usage)
		os.Exit(2)
	}
	return f
}

// Fail prints err prefixed with the program name and exits with status 1.
func Fail(program string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", program, err)
	os.Exit(1)
}

// Consumer is a librdkafka consumer of a bench program.
type Consumer struct {
	rk *C.rd_kafka_t
}

// NewConsumer creates a consumer for f: bootstrap servers, a throwaway
// group.id (rd_kafka_assign needs a group handle; one that never commits
// changes nothing), no auto commit, then f's -X properties.
func NewConsumer(program string, f Flags) (*Consumer, error) {
	pairs, err := f.Props.Pairs()
	if err != nil {
		return nil, err
	}
	errbuf := (*C.char)(C.malloc(512))
	defer C.free(unsafe.Pointer(errbuf))
	conf := C.rd_kafka_conf_new()
	base := [][2]string{
		{"bootstrap.servers", f.Bootstrap},
		{"group.id", fmt.Sprintf("%s-%d", program, time.Now().UnixNano())},
		{"enable.auto.commit", "false"},
	}
	for _, kv := range append(base, pairs...) {
		ck, cv := C.CString(kv[0]), C.CString(kv[1])
		res := C.rd_kafka_conf_set(conf, ck, cv, errbuf, 512)
		C.free(unsafe.Pointer(ck))
		C.free(unsafe.Pointer(cv))
		if res != C.RD_KAFKA_CONF_OK {
			C.rd_kafka_conf_destroy(conf)
			return nil, fmt.Errorf("property %s=%s: %s", kv[0], kv[1], C.GoString(errbuf))
		}
	}
	rk := C.rd_kafka_new(C.RD_KAFKA_CONSUMER, conf, errbuf, 512)
	if rk == nil {
		C.rd_kafka_conf_destroy(conf)
		return nil, fmt.Errorf("rd_kafka_new: %s", C.GoString(errbuf))
	}
	C.rd_kafka_poll_set_consumer(rk)
	return &Consumer{rk: rk}, nil
}

// Handle is the rd_kafka_t, for the program's own C.
func (c *Consumer) Handle() unsafe.Pointer { return unsafe.Pointer(c.rk) }

// Close leaves the (never joined) group and destroys the handle.
func (c *Consumer) Close() {
	C.rd_kafka_consumer_close(c.rk)
	C.rd_kafka_destroy(c.rk)
}

// Version is librdkafka's version string.
func Version() string { return C.GoString(C.rd_kafka_version_str()) }

// ErrString is librdkafka's text for an error code.
func ErrString(code int32) string {
	return C.GoString(C.rd_kafka_err2str(C.rd_kafka_resp_err_t(code)))
}

// PartitionCount asks the cluster how many partitions topic has.
func (c *Consumer) PartitionCount(topic string) (int, error) {
	ct := C.CString(topic)
	defer C.free(unsafe.Pointer(ct))
	rkt := C.rd_kafka_topic_new(c.rk, ct, nil)
	if rkt == nil {
		return 0, fmt.Errorf("topic handle: %s", ErrString(int32(C.rd_kafka_last_error())))
	}
	defer C.rd_kafka_topic_destroy(rkt)
	var md *C.struct_rd_kafka_metadata
	if e := C.rd_kafka_metadata(c.rk, 0, rkt, &md, 10000); e != 0 {
		return 0, fmt.Errorf("metadata: %s", ErrString(int32(e)))
	}
	defer C.rd_kafka_metadata_destroy(md)
	if md.topic_cnt < 1 {
		return 0, fmt.Errorf("topic %s not in metadata", topic)
	}
	t := (*C.rd_kafka_metadata_topic_t)(unsafe.Pointer(md.topics))
	if t.err != 0 {
		return 0, fmt.Errorf("topic %s: %s", topic, ErrString(int32(t.err)))
	}
	return int(t.partition_cnt), nil
}

// Watermarks asks the leader for a partition's low and high offsets,
// retrying for a while: right after a topic is created its leaders may
// still answer NOT_LEADER_FOR_PARTITION.
func (c *Consumer) Watermarks(topic string, p int32) (lo, hi int64, err error) {
	ct := C.CString(topic)
	defer C.free(unsafe.Pointer(ct))
	deadline := time.Now().Add(20 * time.Second)
	for {
		var clo, chi C.int64_t
		e := C.rd_kafka_query_watermark_offsets(c.rk, ct, C.int32_t(p), &clo, &chi, 10000)
		if e == 0 {
			return int64(clo), int64(chi), nil
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("watermarks of %s [%d]: %s", topic, p, ErrString(int32(e)))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Assign starts consuming partition p of topic at offsets[p], for every p.
func (c *Consumer) Assign(topic string, offsets []int64) error {
	ct := C.CString(topic)
	defer C.free(unsafe.Pointer(ct))
	list := C.rd_kafka_topic_partition_list_new(C.int(len(offsets)))
	defer C.rd_kafka_topic_partition_list_destroy(list)
	for p, off := range offsets {
		C.rd_kafka_topic_partition_list_add(list, ct, C.int32_t(p)).offset = C.int64_t(off)
	}
	if e := C.rd_kafka_assign(c.rk, list); e != 0 {
		return fmt.Errorf("assign: %s", ErrString(int32(e)))
	}
	return nil
}
