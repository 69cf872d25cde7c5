// Command capi is built with -buildmode=c-shared into libkafkars.so; it
// exports the C ABI declared in kafkars.h.
//
// Ownership at this boundary (the arrow-go cdata model): Go objects stay
// behind integer handles in a registry, never as pointers in C; every
// exported function recovers panics into KAFKARS_ERR_INTERNAL; batches are
// exported into caller-provided, zero-initialised structs and their buffers
// are C memory released by the Arrow release callback.
//
// This is also the process wiring: settings that belong to the Go runtime
// of the library as a whole (garbage collection) are made here, not in the
// engine packages.
package main

/*
#define KAFKARS_NO_PROTOTYPES
#include <stdlib.h>
#include "kafkars.h"
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/cdata"
	"github.com/kafkars/kafkars/core"
	"github.com/kafkars/kafkars/core/kafka"
	"github.com/kafkars/kafkars/core/produce"
)

func init() {
	// The Go heap of the library is almost all long-lived record chunks
	// held for ordering; collecting at 50% growth instead of 100% keeps it
	// near what is held, for little CPU (the engine allocates little:
	// chunks are pooled). This is the library's own Go runtime: the host
	// process is not affected.
	debug.SetGCPercent(50)
}

// Version is the library version, set at build time by build.sh
// (-ldflags -X main.Version=...).
var Version = "0.1.0"

func main() {}

// registry maps handles to managers. Handles are never reused, so a stale
// handle is reported as closed rather than reaching another manager.
var registry = struct {
	sync.Mutex
	next uint64
	m    map[uint64]*core.Manager
}{next: 1, m: map[uint64]*core.Manager{}}

func lookup(h C.kafkars_handle) (*core.Manager, error) {
	registry.Lock()
	defer registry.Unlock()
	m, ok := registry.m[uint64(h)]
	if !ok {
		return nil, &core.Error{Kind: core.KindClosed, Msg: fmt.Sprintf(
			"manager handle %d is closed or invalid", uint64(h))}
	}
	return m, nil
}

func liveHandles() int {
	registry.Lock()
	defer registry.Unlock()
	return len(registry.m)
}

// status turns an error into a status code and, if errOut is not NULL, a
// C string the caller frees.
func status(err error, errOut **C.char) C.int32_t {
	if err == nil {
		return C.KAFKARS_OK
	}
	if errOut != nil {
		*errOut = C.CString(err.Error())
	}
	return C.int32_t(core.KindOf(err))
}

// nullArg reports output (or required input) pointers that are NULL.
func nullArg(what string, errOut **C.char) C.int32_t {
	return status(&core.Error{Kind: core.KindConfig, Msg: what + " must not be NULL"}, errOut)
}

// guard recovers a panic into KAFKARS_ERR_INTERNAL. Use as
// `defer guard(&rc, errOut)` with a named result.
func guard(rc *C.int32_t, errOut **C.char) {
	if r := recover(); r != nil {
		*rc = status(&core.Error{Kind: core.KindInternal, Msg: fmt.Sprintf(
			"internal error (please report): %v\n%s", r, debug.Stack())}, errOut)
	}
}

//export kafkars_abi_version
func kafkars_abi_version() C.int32_t { return C.KAFKARS_ABI_VERSION }

var (
	versionC   = C.CString(Version)
	rdkVersion *C.char
	rdkOnce    sync.Once
)

//export kafkars_version
func kafkars_version() *C.char { return versionC }

//export kafkars_librdkafka_version
func kafkars_librdkafka_version() *C.char {
	rdkOnce.Do(func() { rdkVersion = C.CString(kafka.LibrdkafkaVersion()) })
	return rdkVersion
}

//export kafkars_manager_new
func kafkars_manager_new(spec *C.char, n C.size_t, out *C.kafkars_handle, errOut **C.char) (rc C.int32_t) {
	defer guard(&rc, errOut)
	if spec == nil || out == nil {
		return nullArg("spec and out", errOut)
	}
	opts, err := core.DecodeOptions(C.GoBytes(unsafe.Pointer(spec), C.int(n)))
	if err != nil {
		return status(err, errOut)
	}
	m, err := kafka.Open(opts)
	if err != nil {
		return status(err, errOut)
	}
	registry.Lock()
	h := registry.next
	registry.next++
	registry.m[h] = m
	registry.Unlock()
	*out = C.kafkars_handle(h)
	return C.KAFKARS_OK
}

//export kafkars_manager_poll
func kafkars_manager_poll(h C.kafkars_handle, timeoutMs C.int32_t, maxWaitMs C.int32_t, untilMs C.int64_t, mode C.uint32_t,
	outArray *C.struct_ArrowArray, outRows *C.int64_t, outFlags *C.uint32_t, errOut **C.char) (rc C.int32_t) {
	defer guard(&rc, errOut)
	if outArray == nil || outRows == nil {
		return nullArg("out_array and out_rows", errOut)
	}
	*outRows = 0
	if outFlags != nil {
		*outFlags = 0
	}
	if timeoutMs < 0 || maxWaitMs < 0 {
		return status(&core.Error{Kind: core.KindConfig, Msg: fmt.Sprintf("timeout_ms and max_wait_ms must be >= 0, got %d and %d", int32(timeoutMs), int32(maxWaitMs))}, errOut)
	}
	if untilMs < C.KAFKARS_UNTIL_NONE {
		return status(&core.Error{Kind: core.KindConfig, Msg: fmt.Sprintf("until_ms must be KAFKARS_UNTIL_NONE, KAFKARS_UNTIL_LIVE or >= 0, got %d", int64(untilMs))}, errOut)
	}
	m, err := lookup(h)
	if err != nil {
		return status(err, errOut)
	}
	rec, flags, err := m.Next(time.Duration(timeoutMs)*time.Millisecond, time.Duration(maxWaitMs)*time.Millisecond, int64(untilMs), core.PollMode(mode))
	if outFlags != nil {
		*outFlags = C.uint32_t(flags)
	}
	if err != nil {
		return status(err, errOut)
	}
	if rec == nil {
		return C.KAFKARS_OK
	}
	defer rec.Release()
	exportRecord(rec, (*cdata.CArrowArray)(unsafe.Pointer(outArray)))
	*outRows = C.int64_t(rec.NumRows())
	return C.KAFKARS_OK
}

//export kafkars_manager_is_live
func kafkars_manager_is_live(h C.kafkars_handle, out *C.int32_t, errOut **C.char) (rc C.int32_t) {
	defer guard(&rc, errOut)
	if out == nil {
		return nullArg("out", errOut)
	}
	m, err := lookup(h)
	if err != nil {
		return status(err, errOut)
	}
	live, err := m.IsLive()
	if err != nil {
		return status(err, errOut)
	}
	*out = 0
	if live {
		*out = 1
	}
	return C.KAFKARS_OK
}

//export kafkars_manager_stream
func kafkars_manager_stream(h C.kafkars_handle, untilMs C.int64_t, mode C.uint32_t, idleMs C.int32_t, out *C.struct_ArrowArrayStream, errOut **C.char) (rc C.int32_t) {
	defer guard(&rc, errOut)
	if out == nil {
		return nullArg("out", errOut)
	}
	if untilMs < C.KAFKARS_UNTIL_LIVE {
		return status(&core.Error{Kind: core.KindConfig, Msg: fmt.Sprintf("until_ms must be KAFKARS_UNTIL_LIVE or >= 0, got %d", int64(untilMs))}, errOut)
	}
	m, err := lookup(h)
	if err != nil {
		return status(err, errOut)
	}
	s := m.NewStream(int64(untilMs), core.PollMode(mode), time.Duration(idleMs)*time.Millisecond)
	err = exportStream(s, (*cdata.CArrowArrayStream)(unsafe.Pointer(out)))
	s.Release() // the export holds its own reference
	if err != nil {
		return status(err, errOut)
	}
	return C.KAFKARS_OK
}

//export kafkars_manager_schema
func kafkars_manager_schema(h C.kafkars_handle, out *C.struct_ArrowSchema, errOut **C.char) (rc C.int32_t) {
	defer guard(&rc, errOut)
	if out == nil {
		return nullArg("out", errOut)
	}
	m, err := lookup(h)
	if err != nil {
		return status(err, errOut)
	}
	cdata.ExportArrowSchema(m.Schema(), (*cdata.CArrowSchema)(unsafe.Pointer(out)))
	return C.KAFKARS_OK
}

//export kafkars_manager_state
func kafkars_manager_state(h C.kafkars_handle, outArray *C.struct_ArrowArray, outSchema *C.struct_ArrowSchema, errOut **C.char) (rc C.int32_t) {
	defer guard(&rc, errOut)
	return exportBatch(h, (*core.Manager).State, outArray, outSchema, errOut)
}

//export kafkars_manager_stats
func kafkars_manager_stats(h C.kafkars_handle, outArray *C.struct_ArrowArray, outSchema *C.struct_ArrowSchema, errOut **C.char) (rc C.int32_t) {
	defer guard(&rc, errOut)
	return exportBatch(h, (*core.Manager).Stats, outArray, outSchema, errOut)
}

// exportBatch exports the batch get returns for the manager h, with its schema.
func exportBatch(h C.kafkars_handle, get func(*core.Manager) (arrow.RecordBatch, error),
	outArray *C.struct_ArrowArray, outSchema *C.struct_ArrowSchema, errOut **C.char) C.int32_t {
	if outArray == nil || outSchema == nil {
		return nullArg("out_array and out_schema", errOut)
	}
	m, err := lookup(h)
	if err != nil {
		return status(err, errOut)
	}
	rec, err := get(m)
	if err != nil {
		return status(err, errOut)
	}
	defer rec.Release()
	cdata.ExportArrowSchema(rec.Schema(), (*cdata.CArrowSchema)(unsafe.Pointer(outSchema)))
	exportRecord(rec, (*cdata.CArrowArray)(unsafe.Pointer(outArray)))
	return C.KAFKARS_OK
}

//export kafkars_manager_metrics
func kafkars_manager_metrics(h C.kafkars_handle, outJSON **C.char, errOut **C.char) (rc C.int32_t) {
	defer guard(&rc, errOut)
	if outJSON == nil {
		return nullArg("out_json", errOut)
	}
	m, err := lookup(h)
	if err != nil {
		return status(err, errOut)
	}
	met, err := m.Metrics()
	if err != nil {
		return status(err, errOut)
	}
	b, err := json.Marshal(met)
	if err != nil {
		return status(err, errOut)
	}
	*outJSON = C.CString(string(b))
	return C.KAFKARS_OK
}

//export kafkars_manager_commit
func kafkars_manager_commit(h C.kafkars_handle, flags C.uint32_t, timeoutMs C.int32_t, outJSON **C.char, errOut **C.char) (rc C.int32_t) {
	defer guard(&rc, errOut)
	if outJSON == nil {
		return nullArg("out_json", errOut)
	}
	if timeoutMs < 0 {
		return status(&core.Error{Kind: core.KindConfig, Msg: fmt.Sprintf("timeout_ms must be >= 0, got %d", int32(timeoutMs))}, errOut)
	}
	m, err := lookup(h)
	if err != nil {
		return status(err, errOut)
	}
	done, err := m.Commit(flags&C.KAFKARS_COMMIT_ASYNC != 0, time.Duration(timeoutMs)*time.Millisecond)
	if err != nil {
		return status(err, errOut)
	}
	type entry struct {
		Topic     string `json:"topic"`
		Partition int32  `json:"partition"`
		Offset    int64  `json:"offset"`
	}
	out := make([]entry, len(done))
	for i, c := range done {
		out[i] = entry{c.Topic, c.Partition, c.Offset}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return status(err, errOut)
	}
	*outJSON = C.CString(string(b))
	return C.KAFKARS_OK
}

//export kafkars_manager_lag
func kafkars_manager_lag(h C.kafkars_handle, outArray *C.struct_ArrowArray, outSchema *C.struct_ArrowSchema, errOut **C.char) (rc C.int32_t) {
	defer guard(&rc, errOut)
	return exportBatch(h, (*core.Manager).Lag, outArray, outSchema, errOut)
}

//export kafkars_manager_events
func kafkars_manager_events(h C.kafkars_handle, outJSON **C.char, errOut **C.char) (rc C.int32_t) {
	defer guard(&rc, errOut)
	if outJSON == nil {
		return nullArg("out_json", errOut)
	}
	m, err := lookup(h)
	if err != nil {
		return status(err, errOut)
	}
	evs, err := m.TakeEvents()
	if err != nil {
		return status(err, errOut)
	}
	type entry struct {
		TimeMs  int64  `json:"time_ms"`
		Level   string `json:"level"`
		Message string `json:"message"`
	}
	out := make([]entry, len(evs))
	for i, ev := range evs {
		out[i] = entry{ev.Time.UnixMilli(), ev.Level, ev.Msg}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return status(err, errOut)
	}
	*outJSON = C.CString(string(b))
	return C.KAFKARS_OK
}

//export kafkars_manager_close
func kafkars_manager_close(h C.kafkars_handle, errOut **C.char) (rc C.int32_t) {
	defer guard(&rc, errOut)
	registry.Lock()
	m, ok := registry.m[uint64(h)]
	registry.Unlock()
	if !ok {
		return C.KAFKARS_OK // closed already: idempotent
	}
	err := m.Close()
	registry.Lock()
	delete(registry.m, uint64(h))
	registry.Unlock()
	return status(err, errOut)
}

//export kafkars_schema
func kafkars_schema(which C.int32_t, out *C.struct_ArrowSchema, errOut **C.char) (rc C.int32_t) {
	defer guard(&rc, errOut)
	if out == nil {
		return nullArg("out", errOut)
	}
	switch which {
	case C.KAFKARS_SCHEMA_MESSAGE:
		cdata.ExportArrowSchema(core.MessageSchema(false), (*cdata.CArrowSchema)(unsafe.Pointer(out)))
	case C.KAFKARS_SCHEMA_MESSAGE_WITH_HEADERS:
		cdata.ExportArrowSchema(core.MessageSchema(true), (*cdata.CArrowSchema)(unsafe.Pointer(out)))
	case C.KAFKARS_SCHEMA_PARTITION_STATE:
		cdata.ExportArrowSchema(core.PartitionStateSchema, (*cdata.CArrowSchema)(unsafe.Pointer(out)))
	case C.KAFKARS_SCHEMA_PARTITION_STATS:
		cdata.ExportArrowSchema(core.PartitionStatsSchema, (*cdata.CArrowSchema)(unsafe.Pointer(out)))
	case C.KAFKARS_SCHEMA_PARTITION_LAG:
		cdata.ExportArrowSchema(core.PartitionLagSchema, (*cdata.CArrowSchema)(unsafe.Pointer(out)))
	default:
		return status(&core.Error{Kind: core.KindConfig, Msg: fmt.Sprintf("unknown schema %d", int32(which))}, errOut)
	}
	return C.KAFKARS_OK
}

//export kafkars_validate
func kafkars_validate(spec *C.char, n C.size_t, errOut **C.char) (rc C.int32_t) {
	defer guard(&rc, errOut)
	if spec == nil {
		return nullArg("spec", errOut)
	}
	opts, err := core.DecodeOptions(C.GoBytes(unsafe.Pointer(spec), C.int(n)))
	if err != nil {
		return status(err, errOut)
	}
	return status(opts.Validate(), errOut)
}

//export kafkars_offsets
func kafkars_offsets(query *C.char, n C.size_t, outJSON **C.char, errOut **C.char) (rc C.int32_t) {
	defer guard(&rc, errOut)
	if query == nil || outJSON == nil {
		return nullArg("query_json and out_json", errOut)
	}
	q, err := kafka.DecodeOffsetsQuery(C.GoBytes(unsafe.Pointer(query), C.int(n)))
	if err != nil {
		return status(err, errOut)
	}
	topics, err := kafka.Offsets(q)
	if err != nil {
		return status(err, errOut)
	}
	b, err := json.Marshal(map[string]any{"topics": topics})
	if err != nil {
		return status(err, errOut)
	}
	*outJSON = C.CString(string(b))
	return C.KAFKARS_OK
}

//export kafkars_debug_counters
func kafkars_debug_counters(outJSON **C.char, errOut **C.char) (rc C.int32_t) {
	defer guard(&rc, errOut)
	if outJSON == nil {
		return nullArg("out_json", errOut)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms) // a short stop-the-world: debugging only
	live, allocs, cached := kafka.ArrowMemory()
	b, err := json.Marshal(map[string]int64{
		"go_heap_inuse_bytes":    int64(ms.HeapInuse),
		"go_sys_bytes":           int64(ms.Sys),
		"live_handles":           int64(liveHandles()),
		"live_managers":          core.LiveManagers(),
		"goroutines":             int64(core.Goroutines()),
		"arrow_live_bytes":       live,
		"arrow_live_allocations": allocs,
		"arrow_cached_bytes":     cached,
	})
	if err != nil {
		return status(err, errOut)
	}
	*outJSON = C.CString(string(b))
	return C.KAFKARS_OK
}

//export kafkars_free_string
func kafkars_free_string(s *C.char) {
	if s != nil {
		C.free(unsafe.Pointer(s))
	}
}

// Producers and their sends live in registries of their own; their
// handles come from the managers' counter, so no handle is ever reused
// across the three kinds.
var producers = struct {
	sync.Mutex
	p map[uint64]*kafka.Producer
	s map[uint64]*kafka.Send
}{p: map[uint64]*kafka.Producer{}, s: map[uint64]*kafka.Send{}}

func newHandle() uint64 {
	registry.Lock()
	defer registry.Unlock()
	h := registry.next
	registry.next++
	return h
}

func closedErr(what string, h C.kafkars_handle) error {
	return &core.Error{Kind: core.KindClosed, Msg: fmt.Sprintf("%s handle %d is closed or invalid", what, uint64(h))}
}

//export kafkars_producer_new
func kafkars_producer_new(spec *C.char, n C.size_t, out *C.kafkars_handle, errOut **C.char) (rc C.int32_t) {
	defer guard(&rc, errOut)
	if spec == nil || out == nil {
		return nullArg("config_json and out", errOut)
	}
	o, err := kafka.DecodeProducerOptions(C.GoBytes(unsafe.Pointer(spec), C.int(n)))
	if err != nil {
		return status(err, errOut)
	}
	p, err := kafka.NewProducer(o)
	if err != nil {
		return status(err, errOut)
	}
	h := newHandle()
	producers.Lock()
	producers.p[h] = p
	producers.Unlock()
	*out = C.kafkars_handle(h)
	return C.KAFKARS_OK
}

//export kafkars_producer_send
func kafkars_producer_send(ph C.kafkars_handle, spec *C.char, n C.size_t, data *C.struct_ArrowArrayStream,
	out *C.kafkars_handle, errOut **C.char) (rc C.int32_t) {
	defer guard(&rc, errOut)
	if data == nil {
		return nullArg("data", errOut)
	}
	if data.release == nil {
		return status(&core.Error{Kind: core.KindConfig, Msg: "data: the stream was already released"}, errOut)
	}
	// the stream is ours from here on, whatever happens
	rr, err := cdata.ImportCRecordReader((*cdata.CArrowArrayStream)(unsafe.Pointer(data)), nil)
	if err != nil {
		return status(&core.Error{Kind: core.KindConfig, Msg: "data: cannot import the Arrow stream: " + err.Error(), Cause: err}, errOut)
	}
	input, ok := rr.(array.RecordReader)
	if !ok {
		rr.(interface{ Release() }).Release()
		return status(&core.Error{Kind: core.KindInternal, Msg: "data: the imported stream is not a record reader"}, errOut)
	}
	if spec == nil || out == nil {
		input.Release()
		return nullArg("spec_json and out_send", errOut)
	}
	spc, err := produce.DecodeSpec(C.GoBytes(unsafe.Pointer(spec), C.int(n)))
	if err != nil {
		input.Release()
		return status(&core.Error{Kind: core.KindConfig, Msg: err.Error(), Cause: err}, errOut)
	}
	producers.Lock()
	p, ok := producers.p[uint64(ph)]
	producers.Unlock()
	if !ok {
		input.Release()
		return status(closedErr("producer", ph), errOut)
	}
	s, err := p.Send(spc, input)
	if err != nil {
		return status(err, errOut)
	}
	h := newHandle()
	producers.Lock()
	producers.s[h] = s
	producers.Unlock()
	*out = C.kafkars_handle(h)
	return C.KAFKARS_OK
}

//export kafkars_send_wait
func kafkars_send_wait(sh C.kafkars_handle, maxWaitMs C.int32_t, outAcked *C.int64_t, outResult **C.char, errOut **C.char) (rc C.int32_t) {
	defer guard(&rc, errOut)
	if outAcked == nil || outResult == nil {
		return nullArg("out_acked and out_result", errOut)
	}
	*outAcked = 0
	*outResult = nil
	if maxWaitMs < 0 {
		return status(&core.Error{Kind: core.KindConfig, Msg: fmt.Sprintf("max_wait_ms must be >= 0, got %d", int32(maxWaitMs))}, errOut)
	}
	producers.Lock()
	s, ok := producers.s[uint64(sh)]
	producers.Unlock()
	if !ok {
		return status(closedErr("send", sh), errOut)
	}
	acked, finished, res, err := s.Wait(time.Duration(maxWaitMs) * time.Millisecond)
	*outAcked = C.int64_t(acked)
	if !finished {
		return C.KAFKARS_OK
	}
	b, jerr := json.Marshal(res)
	if jerr != nil {
		return status(jerr, errOut)
	}
	*outResult = C.CString(string(b))
	return status(err, errOut)
}

//export kafkars_send_close
func kafkars_send_close(sh C.kafkars_handle, errOut **C.char) (rc C.int32_t) {
	defer guard(&rc, errOut)
	producers.Lock()
	s, ok := producers.s[uint64(sh)]
	delete(producers.s, uint64(sh))
	producers.Unlock()
	if ok {
		s.Abort()
	}
	return C.KAFKARS_OK
}

//export kafkars_producer_close
func kafkars_producer_close(ph C.kafkars_handle, errOut **C.char) (rc C.int32_t) {
	defer guard(&rc, errOut)
	producers.Lock()
	p, ok := producers.p[uint64(ph)]
	delete(producers.p, uint64(ph))
	producers.Unlock()
	if !ok {
		return C.KAFKARS_OK
	}
	return status(p.Close(), errOut)
}
