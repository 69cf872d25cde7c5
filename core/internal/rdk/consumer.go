// Package rdk is the Kafka adapter: a small cgo layer over librdkafka's
// consumer that owns the handle and implements source.Source with the batch
// API (rd_kafka_consume_batch_queue), one cgo call per batch.
//
// Why not confluent-kafka-go's Consumer: its Poll returns one message per
// cgo call and allocates Go memory for key, value and the message; measured
// here at a fifth of the batch API's rate (see docs/benchmarks.md). We link
// the same librdkafka.so.1 (built by build.sh from the archive vendored in
// confluent-kafka-go) and use confluent-kafka-go only where no per-message
// cost is paid (admin and producing in tools and tests).
//
// Waiting: the consumer queue's IO event is enabled on a pipe, so a wait
// wakes on the first arrival instead of sleeping out a batch timeout (the
// batch call itself waits its whole timeout unless the batch fills).
package rdk

/*
#cgo pkg-config: rdkafka
#cgo CFLAGS: -O2 -Wall
#include <stdlib.h>
#include "rdk.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/kafkars/kafkars/core/source"
)

// FixMmapThreshold fixes glibc's mmap threshold at bytes. glibc raises the
// threshold dynamically up to 32 MiB after a large block is freed; from
// then on librdkafka's multi-megabyte fetch buffers come from malloc arenas
// and their memory is not returned: a replay of 1 KiB records peaked at
// 340-380 MB of RSS, about 200 MB with the threshold fixed at 16 MiB (at
// 128 KiB, page faults cost a third of the CPU). It is process-wide, so
// kafkars calls it once, unless the user set MALLOC_MMAP_THRESHOLD_ or
// KAFKARS_MALLOPT=0.
func FixMmapThreshold(bytes int) bool { return C.kr_fix_mmap_threshold(C.int(bytes)) == 1 }

// FixTrimThreshold fixes glibc's trim threshold at bytes: free memory at
// the top of a heap is kept up to that much before it goes back to the
// kernel. Fixing the mmap threshold also fixes this one at its 128 KiB
// default, and then each freed fetch buffer at a heap's top is returned and
// the next one faults its pages in again (about half the page faults of a
// 1 KiB replay). At 16 MiB, the mmap threshold, blocks below it are reused
// instead: on 500 000 x 1 KiB records, alternating runs, median of 6, 1.92
// -> 1.72 CPU s per million with binary columns (peak RSS unchanged, 253
// MB median, 287 max) and 1.94 -> 1.52 with views (164 -> 189 MB median,
// 195 max). 64 MiB saved more CPU but reached 383 MB with binary columns.
func FixTrimThreshold(bytes int) bool { return C.kr_fix_trim_threshold(C.int(bytes)) == 1 }

// Version returns librdkafka's version string.
func Version() string { return C.GoString(C.rd_kafka_version_str()) }

// ErrName returns librdkafka's name for an error code, e.g. "_TRANSPORT".
func ErrName(code int32) string {
	return C.GoString(C.rd_kafka_err2name(C.rd_kafka_resp_err_t(code)))
}

// ErrString returns librdkafka's description of an error code.
func ErrString(code int32) string {
	return C.GoString(C.rd_kafka_err2str(C.rd_kafka_resp_err_t(code)))
}

// Common librdkafka error codes the engine tells apart.
const (
	ErrTimedOut        int32 = C.RD_KAFKA_RESP_ERR__TIMED_OUT
	ErrTransport       int32 = C.RD_KAFKA_RESP_ERR__TRANSPORT
	ErrAllBrokersDown  int32 = C.RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN
	ErrUnknownTopic    int32 = C.RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC
	ErrUnknownTopicOrP int32 = C.RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
	ErrUnknownPart     int32 = C.RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION
	ErrFatal           int32 = C.RD_KAFKA_RESP_ERR__FATAL
	ErrResolve         int32 = C.RD_KAFKA_RESP_ERR__RESOLVE
	ErrAuthentication  int32 = C.RD_KAFKA_RESP_ERR__AUTHENTICATION
	ErrOffsetOutOfRng  int32 = C.RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE
	ErrTopicAuthFailed int32 = C.RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED
	ErrStaleEpoch      int32 = C.RD_KAFKA_RESP_ERR_STALE_MEMBER_EPOCH
	ErrRebalancing     int32 = C.RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS

	errLeaderNotAvailable  int32 = C.RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE
	errNotLeader           int32 = C.RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION
	errReplicaNotAvailable int32 = C.RD_KAFKA_RESP_ERR_REPLICA_NOT_AVAILABLE
	errFencedLeaderEpoch   int32 = C.RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH
	errUnknownLeaderEpoch  int32 = C.RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH
	errOffsetNotAvailable  int32 = C.RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE
	ErrInvalidArg          int32 = C.RD_KAFKA_RESP_ERR__INVALID_ARG
	ErrMsgSizeTooLarge     int32 = C.RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE
	ErrMsgTimedOut         int32 = C.RD_KAFKA_RESP_ERR__MSG_TIMED_OUT
)

// Transient reports errors a request may get while a partition's
// leadership or a group's coordinator settles (after a restart, a leader
// election, or while the coordinator loads the group): asking again
// shortly works.
func Transient(err error) bool {
	var ke *KafkaError
	if !errors.As(err, &ke) {
		return false
	}
	switch ke.Code {
	case C.RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, C.RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
		C.RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, C.RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
		return true
	}
	return LeaderInTransition(ke.Code)
}

// LeaderInTransition reports the partition errors a broker answers while
// a partition's leadership is moving or still loading (for a moment after
// a broker restart, during a leader election): asking again shortly works.
func LeaderInTransition(code int32) bool {
	switch code {
	case errLeaderNotAvailable, errNotLeader, errReplicaNotAvailable,
		errFencedLeaderEpoch, errUnknownLeaderEpoch, errOffsetNotAvailable:
		return true
	}
	return false
}

// Logical offsets understood by OffsetsForTimes.
const (
	OffsetBeginning int64 = C.RD_KAFKA_OFFSET_BEGINNING // -2
	OffsetEnd       int64 = C.RD_KAFKA_OFFSET_END       // -1
)

// Prop is one librdkafka property to set. User marks a property the caller
// gave (its errors name it as the user's); others are kafkars defaults.
type Prop struct {
	Key, Value string
	User       bool
}

// CheckProps applies props to a fresh librdkafka configuration and discards
// it: the same validation New does, without creating a client (fuzzed).
func CheckProps(props []Prop) error {
	conf := C.rd_kafka_conf_new()
	defer C.rd_kafka_conf_destroy(conf)
	return setProps(conf, props)
}

// setProps applies props to conf in order; the first one librdkafka rejects
// is a *ConfigError naming it (and saying so when it is a kafkars default,
// not the user's).
func setProps(conf *C.rd_kafka_conf_t, props []Prop) error {
	errbuf := (*C.char)(C.malloc(512))
	defer C.free(unsafe.Pointer(errbuf))
	for _, p := range props {
		ck, cv := C.CString(p.Key), C.CString(p.Value)
		res := C.rd_kafka_conf_set(conf, ck, cv, errbuf, 512)
		C.free(unsafe.Pointer(ck))
		C.free(unsafe.Pointer(cv))
		if res != C.RD_KAFKA_CONF_OK {
			msg := C.GoString(errbuf)
			if !p.User {
				msg = fmt.Sprintf("kafkars default %s=%q rejected: %s", p.Key, p.Value, msg)
			}
			return &ConfigError{Property: p.Key, Value: p.Value, Unknown: res == C.RD_KAFKA_CONF_UNKNOWN, Msg: msg}
		}
	}
	return nil
}

// ConfigError reports a property librdkafka rejected.
type ConfigError struct {
	Property string
	Value    string
	Unknown  bool
	Msg      string
}

func (e *ConfigError) Error() string { return e.Msg }

// KafkaError is an error librdkafka returned, for an operation or as an
// event while consuming. It unwraps to the source error kind of its code
// (source.ErrBrokerDown, source.ErrTopicNotFound, ...), so the engine
// judges it with errors.Is while the message keeps librdkafka's own name
// and text.
type KafkaError struct {
	Code int32
	Op   string // the operation that failed; empty for a consume event
	Msg  string
}

func (e *KafkaError) Error() string {
	if e.Op == "" {
		return fmt.Sprintf("%s: %s", ErrName(e.Code), e.Msg)
	}
	return fmt.Sprintf("%s: %s (%s)", e.Op, e.Msg, ErrName(e.Code))
}

// Name is librdkafka's name of the code, e.g. "_TRANSPORT".
func (e *KafkaError) Name() string { return ErrName(e.Code) }

// Unwrap returns the error kind of the code, nil for codes the engine
// does not tell apart.
func (e *KafkaError) Unwrap() error { return Classify(e.Code) }

// Classify maps a librdkafka error code onto a source error kind (nil when
// none applies).
func Classify(code int32) error {
	switch code {
	case ErrTransport, ErrAllBrokersDown, ErrResolve:
		return source.ErrBrokerDown
	case ErrTimedOut:
		return source.ErrTimedOut
	case ErrUnknownTopicOrP, ErrUnknownTopic, ErrUnknownPart:
		return source.ErrTopicNotFound
	case ErrAuthentication, ErrTopicAuthFailed:
		return source.ErrAuth
	case ErrFatal:
		return source.ErrFatal
	case ErrStaleEpoch, ErrRebalancing:
		return source.ErrRebalancing
	}
	return nil
}

// TopicPartition names one partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// Consumer owns a librdkafka consumer handle. Fetch, Pause, Resume and
// Positions are called by one goroutine (the engine's); Wake may be called
// from any goroutine.
type Consumer struct {
	c     *C.kr_consumer
	parts []TopicPartition // index = engine partition index
	msgs  []source.Msg     // reused for every Fetch
	close sync.Once
	mu    sync.Mutex // serialises Wake against Close
	dead  bool

	// io is a dup of the arrival pipe's read end, registered with Go's
	// netpoller: Fetch waits on it as a parked goroutine instead of inside
	// a blocking cgo call (see rdk.h for the cost of the latter).
	io    *os.File
	ioRaw syscall.RawConn
	woken atomic.Bool // Wake was called: the next wait returns at once
	last  int         // messages described by the last Fetch (Done clears them)

	spans map[string]span2 // topic -> its partition indexes (SetPartitions)

	// life lets calls from any goroutine (commits, lag) run against a
	// live handle: they hold it shared; Close takes it exclusively.
	life  sync.RWMutex
	ended bool // guarded by life
}

// span2 is the engine partition indexes of one topic.
type span2 struct{ base, nparts int32 }

// New creates a consumer with the given properties, applied in order.
// batchCap is the largest batch Fetch will return. librdkafka's log lines
// are kept (RecentLogs) rather than printed, unless logStderr. With group,
// a rebalance callback records assignment changes (see Subscribe).
func New(props []Prop, batchCap int, logStderr, group bool) (*Consumer, error) {
	conf := C.rd_kafka_conf_new()
	if err := setProps(conf, props); err != nil {
		C.rd_kafka_conf_destroy(conf)
		return nil, err
	}
	errbuf := (*C.char)(C.malloc(512))
	defer C.free(unsafe.Pointer(errbuf))
	if batchCap < 1 {
		batchCap = 1
	}
	ls := C.int(0)
	if logStderr {
		ls = 1
	}
	grp := C.int(0)
	if group {
		grp = 1
	}
	c := C.kr_new(conf, C.int(batchCap), ls, grp, errbuf, 512)
	if c == nil {
		C.rd_kafka_conf_destroy(conf)
		return nil, &ConfigError{Msg: C.GoString(errbuf)}
	}
	k := &Consumer{c: c, msgs: make([]source.Msg, batchCap+1)}
	if err := k.openIO(); err != nil {
		C.kr_destroy(c)
		return nil, err
	}
	// one extra slot: Fetch appends an error reported by the error callback
	return k, nil
}

// openIO wraps a close-on-exec dup of the arrival pipe (non-blocking, so
// os.NewFile makes it pollable) for waiting in the netpoller.
func (k *Consumer) openIO() error {
	fd, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(k.c.io_pipe[0]), syscall.F_DUPFD_CLOEXEC, 0)
	if errno != 0 {
		return fmt.Errorf("kafkars: dup of the consumer's event pipe: %w", errno)
	}
	k.io = os.NewFile(fd, "kafkars-consumer-events")
	rc, err := k.io.SyscallConn()
	if err != nil {
		k.io.Close()
		return fmt.Errorf("kafkars: consumer event pipe: %w", err)
	}
	k.ioRaw = rc
	return nil
}

// waitIO waits up to d for the arrival pipe to become readable (a record
// arrived, an error event, or Wake), draining it. The drain cannot lose a
// wake-up: kr_fetch drains again and then looks at the queue, and
// librdkafka writes whenever the queue goes from empty to non-empty.
func (k *Consumer) waitIO(d time.Duration) {
	if err := k.io.SetReadDeadline(time.Now().Add(d)); err != nil {
		return
	}
	defer k.woken.Store(false)
	var buf [64]byte
	_ = k.ioRaw.Read(func(fd uintptr) bool {
		got := false
		for {
			n, err := syscall.Read(int(fd), buf[:])
			if n > 0 {
				got = true
				continue
			}
			if err == syscall.EINTR {
				continue
			}
			// EAGAIN: nothing yet, park until readable, unless Wake was
			// called (its byte may have gone in kr_fetch's drain)
			return got || k.woken.Load()
		}
	})
}

// Partitions asks the cluster how many partitions topic has. It returns a
// *KafkaError with ErrUnknownTopicOrP when the topic does not exist.
func (k *Consumer) Partitions(topic string, timeout time.Duration) (int, error) {
	ct := C.CString(topic)
	defer C.free(unsafe.Pointer(ct))
	rkt := C.rd_kafka_topic_new(k.c.rk, ct, nil)
	if rkt == nil {
		return 0, &KafkaError{Code: int32(C.rd_kafka_last_error()), Op: "topic " + topic, Msg: "cannot create topic handle"}
	}
	defer C.rd_kafka_topic_destroy(rkt)
	var md *C.struct_rd_kafka_metadata
	err := C.rd_kafka_metadata(k.c.rk, 0, rkt, &md, C.int(timeout.Milliseconds()))
	if err != C.RD_KAFKA_RESP_ERR_NO_ERROR {
		return 0, &KafkaError{Code: int32(err), Op: "metadata for topic " + topic, Msg: ErrString(int32(err))}
	}
	defer C.rd_kafka_metadata_destroy(md)
	if md.topic_cnt < 1 {
		return 0, &KafkaError{Code: ErrUnknownTopicOrP, Op: "metadata for topic " + topic, Msg: "topic not in metadata"}
	}
	t := (*C.rd_kafka_metadata_topic_t)(unsafe.Pointer(md.topics))
	if t.err != C.RD_KAFKA_RESP_ERR_NO_ERROR {
		return 0, &KafkaError{Code: int32(t.err), Op: "metadata for topic " + topic, Msg: ErrString(int32(t.err))}
	}
	return int(t.partition_cnt), nil
}

// PartitionCounts asks the cluster, in one metadata request, how many
// partitions each topic has. A missing topic gets a *KafkaError with
// ErrUnknownTopicOrP in errs; err is for the request as a whole (no broker).
func (k *Consumer) PartitionCounts(topics []string, timeout time.Duration) (counts map[string]int, errs map[string]error, err error) {
	// Topic handles make the topics "locally known": one request covers them.
	for _, t := range topics {
		ct := C.CString(t)
		rkt := C.rd_kafka_topic_new(k.c.rk, ct, nil)
		C.free(unsafe.Pointer(ct))
		if rkt == nil {
			return nil, nil, &KafkaError{Code: int32(C.rd_kafka_last_error()), Op: "topic " + t, Msg: "cannot create topic handle"}
		}
		defer C.rd_kafka_topic_destroy(rkt)
	}
	var md *C.struct_rd_kafka_metadata
	rc := C.rd_kafka_metadata(k.c.rk, 0, nil, &md, C.int(timeout.Milliseconds()))
	if rc != C.RD_KAFKA_RESP_ERR_NO_ERROR {
		return nil, nil, &KafkaError{Code: int32(rc), Op: "metadata", Msg: ErrString(int32(rc))}
	}
	defer C.rd_kafka_metadata_destroy(md)
	counts, errs = map[string]int{}, map[string]error{}
	for _, t := range unsafe.Slice(md.topics, int(md.topic_cnt)) {
		name := C.GoString(t.topic)
		if t.err != C.RD_KAFKA_RESP_ERR_NO_ERROR {
			errs[name] = &KafkaError{Code: int32(t.err), Op: "metadata for topic " + name, Msg: ErrString(int32(t.err))}
			continue
		}
		counts[name] = int(t.partition_cnt)
	}
	for _, t := range topics {
		if _, ok := counts[t]; !ok && errs[t] == nil {
			errs[t] = &KafkaError{Code: ErrUnknownTopicOrP, Op: "metadata for topic " + t, Msg: "topic not in metadata"}
		}
	}
	return counts, errs, nil
}

// ExistingTopics returns the names of all topics in the cluster (one
// metadata request). It fails, rather than returning an empty set, when no
// broker answers.
func (k *Consumer) ExistingTopics(timeout time.Duration) (map[string]bool, error) {
	var md *C.struct_rd_kafka_metadata
	err := C.rd_kafka_metadata(k.c.rk, 1, nil, &md, C.int(timeout.Milliseconds()))
	if err != C.RD_KAFKA_RESP_ERR_NO_ERROR {
		return nil, &KafkaError{Code: int32(err), Op: "metadata", Msg: ErrString(int32(err))}
	}
	defer C.rd_kafka_metadata_destroy(md)
	if md.broker_cnt == 0 {
		return nil, &KafkaError{Code: ErrTransport, Op: "metadata", Msg: "no broker in metadata"}
	}
	out := map[string]bool{}
	for _, t := range unsafe.Slice(md.topics, int(md.topic_cnt)) {
		if t.err == C.RD_KAFKA_RESP_ERR_NO_ERROR {
			out[C.GoString(t.topic)] = true
		}
	}
	return out, nil
}

// SetPartitions declares the engine's partitions: parts[i] is partition
// index i. Partitions of one topic must be contiguous and in partition
// order starting at 0.
func (k *Consumer) SetPartitions(parts []TopicPartition) error {
	k.parts = parts
	type span struct {
		name         string
		base, nparts int32
	}
	var spans []span
	defer func() {
		k.spans = make(map[string]span2, len(spans))
		for _, s := range spans {
			k.spans[s.name] = span2{s.base, s.nparts}
		}
	}()
	for i, tp := range parts {
		if len(spans) > 0 && spans[len(spans)-1].name == tp.Topic {
			s := &spans[len(spans)-1]
			if tp.Partition != s.nparts {
				return fmt.Errorf("rdk: partitions of %s not dense", tp.Topic)
			}
			s.nparts++
			continue
		}
		if tp.Partition != 0 {
			return fmt.Errorf("rdk: partitions of %s must start at 0", tp.Topic)
		}
		spans = append(spans, span{tp.Topic, int32(i), 1})
	}
	if C.kr_set_topics(k.c, C.int(len(spans))) != 0 {
		return fmt.Errorf("rdk: out of memory")
	}
	for i, s := range spans {
		cn := C.CString(s.name)
		C.kr_set_topic(k.c, C.int(i), cn, C.int32_t(s.base), C.int32_t(s.nparts))
		C.free(unsafe.Pointer(cn))
	}
	return nil
}

// SetWantHeaders makes Fetch report record headers.
func (k *Consumer) SetWantHeaders(on bool) {
	if on {
		k.c.want_headers = 1
	} else {
		k.c.want_headers = 0
	}
}

// list builds a C partition list for the given partition indexes, with
// offsets when given.
func (k *Consumer) list(parts []int32, offsets []int64) *C.rd_kafka_topic_partition_list_t {
	l := C.rd_kafka_topic_partition_list_new(C.int(len(parts)))
	for i, p := range parts {
		tp := k.parts[p]
		ct := C.CString(tp.Topic)
		e := C.rd_kafka_topic_partition_list_add(l, ct, C.int32_t(tp.Partition))
		C.free(unsafe.Pointer(ct))
		if offsets != nil {
			e.offset = C.int64_t(offsets[i])
		}
	}
	return l
}

func listElems(l *C.rd_kafka_topic_partition_list_t) []C.rd_kafka_topic_partition_t {
	return unsafe.Slice((*C.rd_kafka_topic_partition_t)(unsafe.Pointer(l.elems)), int(l.cnt))
}

// OffsetsForTimes resolves, for each partition, the first offset whose
// timestamp is >= ts[i], or the end offset when there is none. ts[i] may
// be OffsetBeginning or OffsetEnd. The end offset honours isolation.level
// (the last stable offset under read_committed).
func (k *Consumer) OffsetsForTimes(parts []int32, ts []int64, timeout time.Duration) ([]int64, error) {
	if len(parts) == 0 {
		return nil, nil
	}
	l := k.list(parts, ts)
	defer C.rd_kafka_topic_partition_list_destroy(l)
	err := C.rd_kafka_offsets_for_times(k.c.rk, l, C.int(timeout.Milliseconds()))
	if err != C.RD_KAFKA_RESP_ERR_NO_ERROR {
		return nil, &KafkaError{Code: int32(err), Op: "list offsets", Msg: ErrString(int32(err))}
	}
	// The list is in our order (offsets_for_times works on a copy).
	out := make([]int64, len(parts))
	for i, e := range listElems(l) {
		if e.err != C.RD_KAFKA_RESP_ERR_NO_ERROR {
			tp := k.parts[parts[i]]
			return nil, &KafkaError{Code: int32(e.err), Op: fmt.Sprintf("list offsets for %s [%d]", tp.Topic, tp.Partition), Msg: ErrString(int32(e.err))}
		}
		out[i] = int64(e.offset)
	}
	return out, nil
}

// Assign starts fetching every partition at the given offsets.
func (k *Consumer) Assign(parts []int32, offsets []int64) error {
	l := k.list(parts, offsets)
	defer C.rd_kafka_topic_partition_list_destroy(l)
	if err := C.rd_kafka_assign(k.c.rk, l); err != C.RD_KAFKA_RESP_ERR_NO_ERROR {
		return &KafkaError{Code: int32(err), Op: "assign", Msg: ErrString(int32(err))}
	}
	return nil
}

// Fetch implements source.Source.
func (k *Consumer) Fetch(wait time.Duration, max int) ([]source.Msg, error) {
	return k.fetch(wait, max, k.waitIO)
}

// FetchBlocking is Fetch waiting in a blocking poll(2) on the calling
// thread instead of parking the goroutine: for a goroutine locked to a
// foreign thread (a Python thread calling in), the netpoller's wake-up is
// two thread hand-offs, the kernel's is none.
func (k *Consumer) FetchBlocking(wait time.Duration, max int) ([]source.Msg, error) {
	return k.fetch(wait, max, k.waitBlocking)
}

// waitBlocking waits up to d in poll(2) for the arrival pipe (see waitIO).
func (k *Consumer) waitBlocking(d time.Duration) {
	defer k.woken.Store(false)
	if k.woken.Load() {
		return
	}
	pfd := struct {
		fd      int32
		events  int16
		revents int16
	}{fd: int32(k.c.io_pipe[0]), events: 0x1 /* POLLIN */}
	ts := syscall.NsecToTimespec(int64(d))
	syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
}

func (k *Consumer) fetch(wait time.Duration, max int, waitFn func(time.Duration)) ([]source.Msg, error) {
	if max <= 0 || max > len(k.msgs)-1 {
		max = len(k.msgs) - 1
	}
	n := int(C.kr_fetch(k.c, C.int(max)))
	if n == 0 && wait > 0 && k.c.last_error_code == 0 {
		waitFn(wait)
		n = int(C.kr_fetch(k.c, C.int(max)))
	}
	k.last = n
	out := k.msgs[:n]
	if k.c.last_error_code != 0 {
		code, text, _ := k.TakeError()
		out = append(out, source.Msg{Kind: source.Error, Partition: -1, Err: &KafkaError{Code: code, Msg: text},
			KeyNull: true, ValueNull: true})
	}
	if n == 0 {
		return out, nil
	}
	descs := unsafe.Slice(k.c.msgs, n)
	var hdr unsafe.Pointer = unsafe.Pointer(k.c.hdr)
	for i := range descs {
		d := &descs[i]
		m := &out[i]
		m.Partition = int32(d.pidx)
		m.Offset = int64(d.offset)
		m.Timestamp = int64(d.ts)
		m.Kind = source.Kind(d.kind)
		m.Err = nil
		m.Headers = nil
		if m.Kind != source.Record {
			m.Key, m.Value, m.KeyNull, m.ValueNull = nil, nil, true, true
			if m.Kind == source.Error {
				text := ""
				if d.errstr != nil {
					text = C.GoString(d.errstr)
				}
				m.Err = &KafkaError{Code: int32(d.err), Msg: text}
			}
			continue
		}
		if d.key_len < 0 {
			m.Key, m.KeyNull = nil, true
		} else {
			m.Key, m.KeyNull = bytesAt(unsafe.Pointer(d.key), int(d.key_len)), false
		}
		if d.val_len < 0 {
			m.Value, m.ValueNull = nil, true
		} else {
			m.Value, m.ValueNull = bytesAt(unsafe.Pointer(d.val), int(d.val_len)), false
		}
		if d.hdr_len > 0 {
			m.Headers = unsafe.Slice((*byte)(unsafe.Add(hdr, d.hdr_off)), int(d.hdr_len))
		}
	}
	return out, nil
}

// Done implements source.Source: destroys the last batch's messages.
func (k *Consumer) Done() {
	C.kr_release(k.c)
	// Only the slots the last Fetch filled (clearing all of them cost 6% of
	// the CPU when tailing one record per fetch); +1 for an appended error.
	last := min(k.last+1, len(k.msgs))
	for i := range k.msgs[:last] {
		k.msgs[i].Key, k.msgs[i].Value, k.msgs[i].Headers = nil, nil, nil
	}
	k.last = 0
}

// emptyByte gives non-null empty values a non-nil slice.
var emptyByte = [1]byte{}

func bytesAt(p unsafe.Pointer, n int) []byte {
	if n == 0 || p == nil {
		return emptyByte[:0]
	}
	return unsafe.Slice((*byte)(p), n)
}

// TakeError returns the last error the error callback reported, if any.
func (k *Consumer) TakeError() (code int32, text string, fatal bool) {
	var buf [512]C.char
	var f C.int32_t
	code = int32(C.kr_take_error(k.c, &buf[0], 512, &f))
	if code == 0 {
		return 0, "", false
	}
	return code, C.GoString(&buf[0]), f != 0
}

// RecentLogs returns librdkafka's recent warning and error log lines.
func (k *Consumer) RecentLogs() string {
	buf := (*C.char)(C.malloc(KRLogBytes))
	defer C.free(unsafe.Pointer(buf))
	n := C.kr_recent_logs(k.c, buf, KRLogBytes)
	return C.GoStringN(buf, C.int(n))
}

// KRLogBytes bounds RecentLogs.
const KRLogBytes = C.KR_LOG_LINES * (C.KR_LOG_LEN + 1)

// Pause implements source.Source.
func (k *Consumer) Pause(parts []int32) error {
	if len(parts) == 0 {
		return nil
	}
	l := k.list(parts, nil)
	defer C.rd_kafka_topic_partition_list_destroy(l)
	if err := C.rd_kafka_pause_partitions(k.c.rk, l); err != C.RD_KAFKA_RESP_ERR_NO_ERROR {
		return &KafkaError{Code: int32(err), Op: "pause", Msg: ErrString(int32(err))}
	}
	return nil
}

// Resume implements source.Source.
func (k *Consumer) Resume(parts []int32) error {
	if len(parts) == 0 {
		return nil
	}
	l := k.list(parts, nil)
	defer C.rd_kafka_topic_partition_list_destroy(l)
	if err := C.rd_kafka_resume_partitions(k.c.rk, l); err != C.RD_KAFKA_RESP_ERR_NO_ERROR {
		return &KafkaError{Code: int32(err), Op: "resume", Msg: ErrString(int32(err))}
	}
	return nil
}

// Rewind implements source.Rewinder with a seek of each partition, waiting
// for librdkafka to take it. A seek bumps the partition's version, so
// records fetched before it and still queued are discarded; it also
// forgets the application's position, so a paused partition resumes at
// the seek's offset rather than after the last record returned.
func (k *Consumer) Rewind(parts []int32, offsets []int64) error {
	if len(parts) == 0 {
		return nil
	}
	l := k.list(parts, offsets)
	defer C.rd_kafka_topic_partition_list_destroy(l)
	if e := C.rd_kafka_seek_partitions(k.c.rk, l, C.int(rewindTimeout.Milliseconds())); e != nil {
		defer C.rd_kafka_error_destroy(e)
		return &KafkaError{Code: int32(C.rd_kafka_error_code(e)), Op: "seek", Msg: C.GoString(C.rd_kafka_error_string(e))}
	}
	for i, e := range listElems(l) {
		if e.err != C.RD_KAFKA_RESP_ERR_NO_ERROR {
			tp := k.parts[parts[i]]
			return &KafkaError{Code: int32(e.err), Op: fmt.Sprintf("seek %s [%d] to %d", tp.Topic, tp.Partition, offsets[i]), Msg: ErrString(int32(e.err))}
		}
	}
	return nil
}

// rewindTimeout bounds the wait for librdkafka's own thread to take a seek
// (no request is sent).
const rewindTimeout = 10 * time.Second

// Positions implements source.Source.
func (k *Consumer) Positions(parts []int32, out []int64) error {
	if len(parts) == 0 {
		return nil
	}
	l := k.list(parts, nil)
	defer C.rd_kafka_topic_partition_list_destroy(l)
	if err := C.rd_kafka_position(k.c.rk, l); err != C.RD_KAFKA_RESP_ERR_NO_ERROR {
		return &KafkaError{Code: int32(err), Op: "position", Msg: ErrString(int32(err))}
	}
	for i, e := range listElems(l) {
		out[i] = int64(e.offset)
	}
	return nil
}

// Watermarks returns the cached low and high offsets of a partition from
// the last fetch (no request). -1001 (invalid) when unknown.
func (k *Consumer) Watermarks(p int32) (low, high int64) {
	tp := k.parts[p]
	ct := C.CString(tp.Topic)
	defer C.free(unsafe.Pointer(ct))
	var lo, hi C.int64_t
	C.rd_kafka_get_watermark_offsets(k.c.rk, ct, C.int32_t(tp.Partition), &lo, &hi)
	return int64(lo), int64(hi)
}

// Wake implements source.Source.
func (k *Consumer) Wake() {
	k.mu.Lock()
	if !k.dead {
		k.woken.Store(true) // before the byte: see waitIO
		C.kr_wake(k.c)
	}
	k.mu.Unlock()
}

// Close implements source.Source.
func (k *Consumer) Close() error {
	k.close.Do(func() {
		k.mu.Lock()
		k.dead = true
		k.mu.Unlock()
		k.life.Lock() // waits for a commit in flight (bounded by its timeout)
		k.ended = true
		k.life.Unlock()
		if k.io != nil {
			k.io.Close()
		}
		C.kr_destroy(k.c)
		k.c = nil
	})
	return nil
}
