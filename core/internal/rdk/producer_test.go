package rdk

import (
	"runtime"
	"strings"
	"testing"
	"unsafe"
)

// Without a broker the producer only queues: enough to exercise the row
// loop over the buffers and its refusals, which name the row.
func TestProduceLoop(t *testing.T) {
	p, err := NewProducer([]Prop{{Key: "bootstrap.servers", Value: "127.0.0.1:1"}, {Key: "message.max.bytes", Value: "1000"},
		{Key: "enable.idempotence", Value: "true"}}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Begin("t", 4); err != nil {
		t.Fatal(err)
	}
	// five rows: values "a", "", null, "dd", 2000 bytes
	big := strings.Repeat("x", 2000)
	data := []byte("a" + "dd" + big)
	offs := []int32{0, 1, 1, 1, 3, 3 + 2000}
	valid := []byte{0b11011}
	ts := []int64{1, 2, 3, 4, 5}
	parts := []int32{0, 1, 2, 3, 0}
	var pn runtime.Pinner
	defer pn.Unpin()
	pin := func(ptr unsafe.Pointer) unsafe.Pointer { pn.Pin(ptr); return ptr }
	b := &Batch{Rows: 5, BaseRow: 100,
		Value: Bytes{Kind: BytesOff32, Offsets: pin(unsafe.Pointer(&offs[0])), Data: pin(unsafe.Pointer(&data[0])), Valid: pin(unsafe.Pointer(&valid[0]))},
		TS:    pin(unsafe.Pointer(&ts[0])), Part: pin(unsafe.Pointer(&parts[0])),
	}
	next, refused := p.Produce(b, 0, 0)
	if next != 4 || refused == nil || refused.Code != ErrMsgSizeTooLarge {
		t.Fatalf("next=%d refused=%v, want row 4 refused with MSG_SIZE_TOO_LARGE", next, refused)
	}
	if c := p.Counts(false); c.Enqueued != 4 {
		t.Fatalf("enqueued %d, want 4", c.Enqueued)
	}

	// a negative timestamp and a partition out of range are refused too
	ts[1] = -1
	next, refused = p.Produce(b, 0, 0)
	if next != 1 || refused == nil || !strings.Contains(refused.Msg, "negative timestamp -1") {
		t.Fatalf("next=%d refused=%v", next, refused)
	}
	ts[1] = 2
	parts[0] = -3
	next, refused = p.Produce(b, 0, 0)
	if next != 0 || refused == nil || !strings.Contains(refused.Msg, "negative partition -3") {
		t.Fatalf("next=%d refused=%v", next, refused)
	}

	// headers: a null entry name is refused
	names := []byte("ab")
	noffs := []int32{0, 1, 2}
	nvalid := []byte{0b01}
	hoffs := []int32{0, 0, 2, 2, 2, 2}
	b.Part = nil
	b.Headers = Headers{Present: true, Offsets: pin(unsafe.Pointer(&hoffs[0])),
		Name:  Bytes{Kind: BytesOff32, Offsets: pin(unsafe.Pointer(&noffs[0])), Data: pin(unsafe.Pointer(&names[0])), Valid: pin(unsafe.Pointer(&nvalid[0]))},
		Value: Bytes{Kind: BytesOff32, Offsets: pin(unsafe.Pointer(&noffs[0])), Data: pin(unsafe.Pointer(&names[0]))}}
	next, refused = p.Produce(b, 0, 0)
	if next != 1 || refused == nil || !strings.Contains(refused.Msg, "a header with a null name") {
		t.Fatalf("next=%d refused=%v", next, refused)
	}
	// nothing was delivered: the queued records fail once purged
	p.Purge()
	for p.Serve(50, false) > 0 {
	}
	c := p.Counts(true)
	if c.Acked != 0 || c.Failed != c.Enqueued || c.FailRow != 100 {
		t.Fatalf("counts %+v", c)
	}
}

// Without a broker the metadata request fails with librdkafka's own
// (negative) codes, never a partition count.
func TestPartitionsNoBroker(t *testing.T) {
	p, err := NewProducer([]Prop{{Key: "bootstrap.servers", Value: "127.0.0.1:1"}}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	n, err := p.Partitions("t", 300)
	if err == nil || n != 0 {
		t.Fatalf("n=%d err=%v, want an error", n, err)
	}
}
