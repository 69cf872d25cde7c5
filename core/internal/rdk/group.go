package rdk

// group.go: consumer-group membership and offset commits. The rebalance
// callback (rdk.c) runs inside kr_fetch and only records what changed; the
// engine takes the events right after Fetch (Rebalances), decides (start
// offsets, commits) and calls Apply. Commits go through the event API on a
// queue of their own, so a synchronous commit waits at most its timeout.

/*
#include <stdlib.h>
#include "rdk.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"time"
	"unsafe"

	"github.com/kafkars/kafkars/core/source"
)

// rebalanceRef is what a source.Rebalance keeps of the C event: the event
// and, per engine partition of the event, its element in the C list.
type rebalanceRef struct {
	rb   *C.kr_rebalance
	elem []int // elem[i]: index in rb.parts of Rebalance.Parts[i]
}

// Subscribe joins the consumer group (config's group.id) for the topics.
func (k *Consumer) Subscribe(topics []string) error {
	cs := make([]*C.char, len(topics))
	for i, t := range topics {
		cs[i] = C.CString(t)
	}
	defer func() {
		for _, c := range cs {
			C.free(unsafe.Pointer(c))
		}
	}()
	arr := (**C.char)(C.malloc(C.size_t(len(cs)) * C.size_t(unsafe.Sizeof(cs[0]))))
	defer C.free(unsafe.Pointer(arr))
	copy(unsafe.Slice(arr, len(cs)), cs)
	if err := C.kr_subscribe(k.c, arr, C.int(len(cs))); err != C.RD_KAFKA_RESP_ERR_NO_ERROR {
		return &KafkaError{Code: int32(err), Op: "subscribe", Msg: ErrString(int32(err))}
	}
	return nil
}

// index maps a topic partition onto its engine index.
func (k *Consumer) index(topic string, partition int32) (int32, bool) {
	s, ok := k.spans[topic]
	if !ok || partition < 0 || partition >= s.nparts {
		return -1, false
	}
	return s.base + partition, true
}

// Rebalances implements source.Group: the events the rebalance callback
// recorded, oldest first. Called by the goroutine that fetched.
func (k *Consumer) Rebalances() []*source.Rebalance {
	if k.c == nil || k.c.rb_head == nil {
		return nil
	}
	var out []*source.Rebalance
	for rb := C.kr_take_rebalances(k.c); rb != nil; {
		next := rb.next
		rb.next = nil
		ev := &source.Rebalance{Kind: source.RebalanceKind(rb.kind), At: time.UnixMilli(int64(rb.ts_ms))}
		ref := &rebalanceRef{rb: rb}
		if rb.parts != nil {
			for j, e := range listElems(rb.parts) {
				topic := C.GoString(e.topic)
				if i, ok := k.index(topic, int32(e.partition)); ok {
					ev.Parts = append(ev.Parts, i)
					ref.elem = append(ref.elem, j)
				} else {
					ev.Unknown = append(ev.Unknown, fmt.Sprintf("%s [%d]", topic, int32(e.partition)))
				}
			}
		}
		if ev.Kind == source.RebalanceFailed {
			ev.Err = &KafkaError{Code: int32(rb.err), Op: "rebalance", Msg: ErrString(int32(rb.err))}
		}
		ev.Ref = ref
		out = append(out, ev)
		rb = next
	}
	return out
}

// Apply implements source.Group.
func (k *Consumer) Apply(ev *source.Rebalance, offsets []int64) error {
	ref, ok := ev.Ref.(*rebalanceRef)
	if !ok || ref.rb == nil {
		return errors.New("rdk: rebalance event already released")
	}
	if ev.Kind == source.Assigned && offsets != nil {
		elems := listElems(ref.rb.parts)
		for i, j := range ref.elem {
			elems[j].offset = C.int64_t(offsets[i])
		}
	}
	var buf [512]C.char
	if err := C.kr_apply(k.c, ref.rb, &buf[0], 512); err != 0 {
		op := "incremental assign"
		if ev.Kind == source.Revoked {
			op = "incremental unassign"
		}
		return &KafkaError{Code: int32(err), Op: op, Msg: C.GoString(&buf[0])}
	}
	return nil
}

// Release implements source.Group.
func (k *Consumer) Release(ev *source.Rebalance) {
	if ref, ok := ev.Ref.(*rebalanceRef); ok && ref.rb != nil {
		C.kr_rebalance_free(ref.rb)
		ref.rb = nil
	}
}

// results maps a commit result list back onto parts: errs[i] for parts[i]
// (an error for a partition missing from the list).
func (k *Consumer) results(l *C.rd_kafka_topic_partition_list_t, parts []int32) []error {
	errs := make([]error, len(parts))
	got := map[int32]error{}
	seen := map[int32]bool{}
	if l != nil {
		for _, e := range listElems(l) {
			i, ok := k.index(C.GoString(e.topic), int32(e.partition))
			if !ok {
				continue
			}
			seen[i] = true
			if e.err != C.RD_KAFKA_RESP_ERR_NO_ERROR {
				got[i] = &KafkaError{Code: int32(e.err), Op: fmt.Sprintf("commit %s [%d]", k.parts[i].Topic, k.parts[i].Partition), Msg: ErrString(int32(e.err))}
			}
		}
	}
	for n, p := range parts {
		if !seen[p] {
			errs[n] = &KafkaError{Code: int32(C.RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION), Op: fmt.Sprintf("commit %s [%d]", k.parts[p].Topic, k.parts[p].Partition), Msg: "no result for this partition"}
			continue
		}
		errs[n] = got[p]
	}
	return errs
}

// errEnded is what calls on a closed consumer return.
var errEnded = &KafkaError{Code: int32(C.RD_KAFKA_RESP_ERR__DESTROY), Op: "commit", Msg: "the consumer is closed"}

// live holds the consumer open for the caller: call the returned
// function when done. ok is false once it is closed.
func (k *Consumer) live() (done func(), ok bool) {
	k.life.RLock()
	if k.ended {
		k.life.RUnlock()
		return nil, false
	}
	return k.life.RUnlock, true
}

// Commit implements source.Committer.
func (k *Consumer) Commit(parts []int32, offsets []int64, timeout time.Duration) ([]error, error) {
	if len(parts) == 0 {
		return nil, nil
	}
	done, ok := k.live()
	if !ok {
		return nil, errEnded
	}
	defer done()
	l := k.list(parts, offsets)
	defer C.rd_kafka_topic_partition_list_destroy(l)
	var res *C.rd_kafka_topic_partition_list_t
	ms := timeout.Milliseconds()
	if ms < 1 {
		ms = 1
	}
	rc := C.kr_commit(k.c, l, 0, C.int(ms), &res)
	if res != nil {
		defer C.rd_kafka_topic_partition_list_destroy(res)
	}
	var err error
	if rc != C.RD_KAFKA_RESP_ERR_NO_ERROR {
		err = &KafkaError{Code: int32(rc), Op: "commit", Msg: ErrString(int32(rc))}
		if rc == C.RD_KAFKA_RESP_ERR__TIMED_OUT && res == nil {
			err = &KafkaError{Code: int32(rc), Op: "commit", Msg: fmt.Sprintf("no answer from the group coordinator within %s", timeout)}
		}
	}
	if res == nil {
		return nil, err
	}
	return k.results(res, parts), err
}

// CommitAsync implements source.Committer.
func (k *Consumer) CommitAsync(parts []int32, offsets []int64) error {
	if len(parts) == 0 {
		return nil
	}
	done, ok := k.live()
	if !ok {
		return errEnded
	}
	defer done()
	l := k.list(parts, offsets)
	defer C.rd_kafka_topic_partition_list_destroy(l)
	var res *C.rd_kafka_topic_partition_list_t
	if rc := C.kr_commit(k.c, l, 1, 0, &res); rc != C.RD_KAFKA_RESP_ERR_NO_ERROR {
		return &KafkaError{Code: int32(rc), Op: "commit", Msg: ErrString(int32(rc))}
	}
	return nil
}

// CommitResults implements source.Committer.
func (k *Consumer) CommitResults() []source.CommitResult {
	done, ok := k.live()
	if !ok {
		return nil
	}
	defer done()
	var out []source.CommitResult
	for {
		var code C.int32_t
		var res *C.rd_kafka_topic_partition_list_t
		if C.kr_commit_result(k.c, &code, &res) == 0 {
			return out
		}
		var r source.CommitResult
		if code != C.RD_KAFKA_RESP_ERR_NO_ERROR {
			r.Err = &KafkaError{Code: int32(code), Op: "commit", Msg: ErrString(int32(code))}
		}
		if res != nil {
			for _, e := range listElems(res) {
				i, ok := k.index(C.GoString(e.topic), int32(e.partition))
				if !ok {
					continue
				}
				r.Parts = append(r.Parts, i)
				r.Offsets = append(r.Offsets, int64(e.offset))
				var pe error
				if e.err != C.RD_KAFKA_RESP_ERR_NO_ERROR {
					pe = &KafkaError{Code: int32(e.err), Op: fmt.Sprintf("commit %s [%d]", k.parts[i].Topic, k.parts[i].Partition), Msg: ErrString(int32(e.err))}
				}
				r.Errs = append(r.Errs, pe)
			}
			C.rd_kafka_topic_partition_list_destroy(res)
		}
		out = append(out, r)
	}
}

// Committed implements source.Committer.
func (k *Consumer) Committed(parts []int32, timeout time.Duration) ([]int64, error) {
	if len(parts) == 0 {
		return nil, nil
	}
	done, ok := k.live()
	if !ok {
		return nil, errEnded
	}
	defer done()
	l := k.list(parts, nil)
	defer C.rd_kafka_topic_partition_list_destroy(l)
	if err := C.rd_kafka_committed(k.c.rk, l, C.int(timeout.Milliseconds())); err != C.RD_KAFKA_RESP_ERR_NO_ERROR {
		return nil, &KafkaError{Code: int32(err), Op: "read committed offsets", Msg: ErrString(int32(err))}
	}
	out := make([]int64, len(parts))
	for i, e := range listElems(l) {
		if e.err != C.RD_KAFKA_RESP_ERR_NO_ERROR {
			tp := k.parts[parts[i]]
			return nil, &KafkaError{Code: int32(e.err), Op: fmt.Sprintf("read committed offset of %s [%d]", tp.Topic, tp.Partition), Msg: ErrString(int32(e.err))}
		}
		out[i] = int64(e.offset)
		if out[i] < 0 {
			out[i] = -1 // RD_KAFKA_OFFSET_INVALID: nothing committed
		}
	}
	return out, nil
}

// EndOffsets implements source.Committer: the high watermarks librdkafka
// cached from its last fetch responses (no request). Safe from any
// goroutine while the consumer is open; -1 once it is closed.
func (k *Consumer) EndOffsets(parts []int32, out []int64) {
	for i := range out[:len(parts)] {
		out[i] = -1
	}
	done, ok := k.live()
	if !ok {
		return
	}
	defer done()
	for i, p := range parts {
		tp := k.parts[p]
		ct := C.CString(tp.Topic)
		var lo, hi C.int64_t
		rc := C.rd_kafka_get_watermark_offsets(k.c.rk, ct, C.int32_t(tp.Partition), &lo, &hi)
		C.free(unsafe.Pointer(ct))
		if rc == C.RD_KAFKA_RESP_ERR_NO_ERROR && hi >= 0 {
			out[i] = int64(hi)
		}
	}
}
