package rdk

// producer.go: the producing half of the adapter. Producer owns a
// librdkafka producer; Produce hands the rows of one Arrow batch to
// librdkafka in one cgo call (produce.c loops over the buffers and calls
// rd_kafka_produceva per row); Serve runs delivery reports. Why not
// confluent-kafka-go's Producer: Produce() is one cgo call per message and
// allocates the message, its key and value copies and a delivery event in
// Go (measured: docs/benchmarks.md, "Producing").

/*
#include <stdlib.h>
#include "produce.h"
*/
import "C"

import (
	"unsafe"
)

// Bytes describes a bytes column for Produce. Pointers are to C memory
// (imported Arrow buffers) or to Go memory the caller pins with a
// runtime.Pinner for the duration of Produce.
type Bytes struct {
	Kind    BytesKind
	Offset  int64
	Valid   unsafe.Pointer // validity bitmap, nil: no nulls
	Offsets unsafe.Pointer // int32 or int64 offsets, or 16-byte views
	Data    unsafe.Pointer
	VData   []unsafe.Pointer // view data buffers
}

// BytesKind is the layout of a Bytes column.
type BytesKind int32

// Layouts of a Bytes column.
const (
	BytesNone  BytesKind = C.KR_B_NONE
	BytesOff32 BytesKind = C.KR_B_OFF32
	BytesOff64 BytesKind = C.KR_B_OFF64
	BytesView  BytesKind = C.KR_B_VIEW
)

// Headers describes a headers column (list<struct<name, value>> or a map):
// list level, entry (struct) level and the two entry fields.
type Headers struct {
	Large       bool // int64 list offsets
	Present     bool
	Offset      int64
	Valid       unsafe.Pointer
	Offsets     unsafe.Pointer
	EntryOffset int64
	EntryValid  unsafe.Pointer
	Name, Value Bytes
}

// Batch is one record batch to produce, described by its buffers.
type Batch struct {
	Rows, BaseRow int64
	Key, Value    Bytes
	TS            unsafe.Pointer // int64 epoch ms, nil: none
	TSOffset      int64
	TSValid       unsafe.Pointer
	Part          unsafe.Pointer // int32, nil: none
	PartOffset    int64
	PartValid     unsafe.Pointer
	Headers       Headers
}

// Producer owns a librdkafka producer. Its methods are called by one
// goroutine at a time.
type Producer struct {
	p     *C.kr_producer
	batch *C.kr_batch        // C memory: it holds pointers into pinned Go memory
	vdata [4]*unsafe.Pointer // view buffer lists: key, value, header name, header value
	vcap  [4]int
	err   *C.char
}

// NewProducer creates a producer with the given properties, applied in
// order. librdkafka's log lines are kept (RecentLogs) rather than printed,
// unless logStderr.
func NewProducer(props []Prop, logStderr bool) (*Producer, error) {
	conf := C.rd_kafka_conf_new()
	if err := setProps(conf, props); err != nil {
		C.rd_kafka_conf_destroy(conf)
		return nil, err
	}
	errbuf := (*C.char)(C.malloc(512))
	defer C.free(unsafe.Pointer(errbuf))
	ls := C.int(0)
	if logStderr {
		ls = 1
	}
	p := C.kr_producer_new(conf, ls, errbuf, 512)
	if p == nil {
		C.rd_kafka_conf_destroy(conf)
		return nil, &ConfigError{Msg: C.GoString(errbuf)}
	}
	return &Producer{
		p:     p,
		batch: (*C.kr_batch)(C.calloc(1, C.sizeof_kr_batch)),
		err:   (*C.char)(C.malloc(512)),
	}, nil
}

// Partitions asks the cluster how many partitions topic has (one metadata
// request, blocking up to timeoutMs). A missing topic is a *KafkaError
// with ErrUnknownTopicOrP.
func (k *Producer) Partitions(topic string, timeoutMs int) (int, error) {
	ct := C.CString(topic)
	defer C.free(unsafe.Pointer(ct))
	var n C.int32_t
	if code := int32(C.kr_producer_partitions(k.p, ct, C.int(timeoutMs), &n)); code != 0 {
		return 0, &KafkaError{Code: code, Op: "metadata for topic " + topic, Msg: ErrString(code)}
	}
	return int(n), nil
}

// Begin starts a send to topic: counters reset, partitions 0..nparts-1
// counted.
func (k *Producer) Begin(topic string, nparts int) error {
	ct := C.CString(topic)
	defer C.free(unsafe.Pointer(ct))
	if C.kr_send_begin(k.p, ct, C.int32_t(nparts), k.err, 512) != 0 {
		return &KafkaError{Code: ErrUnknownTopic, Op: "topic " + topic, Msg: C.GoString(k.err)}
	}
	return nil
}

func (k *Producer) setBytes(dst *C.kr_bytes, src *Bytes, slot int) {
	dst.kind = C.int32_t(src.Kind)
	dst.off = C.int64_t(src.Offset)
	dst.valid = (*C.uint8_t)(src.Valid)
	dst.offsets = src.Offsets
	dst.data = (*C.uint8_t)(src.Data)
	dst.vdata = nil
	if src.Kind == BytesView && len(src.VData) > 0 {
		// the buffer list lives in C memory, reused across batches
		if k.vcap[slot] < len(src.VData) {
			C.free(unsafe.Pointer(k.vdata[slot]))
			k.vdata[slot] = (*unsafe.Pointer)(C.malloc(C.size_t(len(src.VData)) * C.size_t(unsafe.Sizeof(uintptr(0)))))
			k.vcap[slot] = len(src.VData)
		}
		copy(unsafe.Slice(k.vdata[slot], len(src.VData)), src.VData)
		dst.vdata = (**C.uint8_t)(unsafe.Pointer(k.vdata[slot]))
	}
}

// Produce hands rows [from, b.Rows) of b to librdkafka, for at most
// budgetMs (0: no limit). It returns the first row not enqueued; refused
// is non-nil when that row was refused (not for a full queue: Produce
// waits for room), with librdkafka's code and reason. Go memory that b
// points to must be pinned by the caller for the duration of the call.
func (k *Producer) Produce(b *Batch, from int64, budgetMs int) (next int64, refused *KafkaError) {
	cb := k.batch
	cb.rows = C.int64_t(b.Rows)
	cb.base_row = C.int64_t(b.BaseRow)
	k.setBytes(&cb.key, &b.Key, 0)
	k.setBytes(&cb.value, &b.Value, 1)
	cb.ts = (*C.int64_t)(b.TS)
	cb.ts_off = C.int64_t(b.TSOffset)
	cb.ts_valid = (*C.uint8_t)(b.TSValid)
	cb.part = (*C.int32_t)(b.Part)
	cb.part_off = C.int64_t(b.PartOffset)
	cb.part_valid = (*C.uint8_t)(b.PartValid)
	h := &b.Headers
	cb.hdr.kind = C.KR_H_NONE
	if h.Present {
		cb.hdr.kind = C.KR_H_LIST
		if h.Large {
			cb.hdr.kind = C.KR_H_LARGE
		}
		cb.hdr.off = C.int64_t(h.Offset)
		cb.hdr.valid = (*C.uint8_t)(h.Valid)
		cb.hdr.offsets = h.Offsets
		cb.hdr.soff = C.int64_t(h.EntryOffset)
		cb.hdr.svalid = (*C.uint8_t)(h.EntryValid)
		k.setBytes(&cb.hdr.name, &h.Name, 2)
		k.setBytes(&cb.hdr.value, &h.Value, 3)
	}
	var code C.int32_t
	n := int64(C.kr_produce(k.p, cb, C.int64_t(from), C.int(budgetMs), &code, k.err, 512))
	// drop the pointers: nothing in C keeps them past the call
	*cb = C.kr_batch{}
	if code != 0 {
		return n, &KafkaError{Code: int32(code), Msg: C.GoString(k.err)}
	}
	return n, nil
}

// Serve runs delivery reports for up to timeoutMs (flushing the linger
// when flush is set) and returns the records still outstanding.
func (k *Producer) Serve(timeoutMs int, flush bool) int64 {
	f := C.int(0)
	if flush {
		f = 1
	}
	return int64(C.kr_serve(k.p, C.int(timeoutMs), f))
}

// Purge drops records not yet acknowledged (queued or in flight); their
// delivery reports fail at once. For an aborted send.
func (k *Producer) Purge() { C.kr_purge(k.p) }

// Counts are the counters of the current send.
type Counts struct {
	Enqueued, Acked, AckedBytes, Failed int64
	// FailRow is the lowest row index whose delivery failed (-1: none),
	// with its partition and librdkafka's code and reason.
	FailRow  int64
	FailPart int32
	FailErr  *KafkaError
	// Partitions: acknowledged records and offsets per partition.
	PartAcked, PartFirst, PartLast []int64
}

// Counts reads the counters of the current send (the per-partition
// slices only when withParts).
func (k *Producer) Counts(withParts bool) Counts {
	p := k.p
	c := Counts{Enqueued: int64(p.enqueued), Acked: int64(p.acked), AckedBytes: int64(p.acked_bytes),
		Failed: int64(p.failed), FailRow: int64(p.fail_row), FailPart: int32(p.fail_part)}
	if c.FailRow >= 0 {
		c.FailErr = &KafkaError{Code: int32(p.fail_code), Msg: C.GoString(&p.fail_str[0])}
	}
	if withParts && p.nparts > 0 {
		n := int(p.nparts)
		c.PartAcked = append([]int64(nil), unsafe.Slice((*int64)(unsafe.Pointer(p.part_acked)), n)...)
		c.PartFirst = append([]int64(nil), unsafe.Slice((*int64)(unsafe.Pointer(p.part_first)), n)...)
		c.PartLast = append([]int64(nil), unsafe.Slice((*int64)(unsafe.Pointer(p.part_last)), n)...)
	}
	return c
}

// TakeError returns the last error the error callback reported, if any.
func (k *Producer) TakeError() (code int32, text string, fatal bool) {
	var buf [512]C.char
	var f C.int32_t
	code = int32(C.kr_producer_take_error(k.p, &buf[0], 512, &f))
	if code == 0 {
		return 0, "", false
	}
	return code, C.GoString(&buf[0]), f != 0
}

// Fatal returns the producer's fatal error (idempotence can no longer be
// guaranteed), nil if none.
func (k *Producer) Fatal() *KafkaError {
	var buf [512]C.char
	code := int32(C.kr_producer_fatal(k.p, &buf[0], 512))
	if code == 0 {
		return nil
	}
	return &KafkaError{Code: code, Msg: C.GoString(&buf[0])}
}

// RecentLogs returns librdkafka's recent warning and error log lines.
func (k *Producer) RecentLogs() string {
	buf := (*C.char)(C.malloc(KRLogBytes))
	defer C.free(unsafe.Pointer(buf))
	n := C.kr_producer_logs(k.p, buf, KRLogBytes)
	return C.GoStringN(buf, C.int(n))
}

// Close destroys the producer; records still queued fail.
func (k *Producer) Close() {
	if k.p == nil {
		return
	}
	C.kr_producer_destroy(k.p)
	k.p = nil
	C.free(unsafe.Pointer(k.batch))
	C.free(unsafe.Pointer(k.err))
	for _, v := range k.vdata {
		C.free(unsafe.Pointer(v))
	}
}
