package kafka

// produce.go: producing Arrow record batches. A Producer owns one
// librdkafka producer (core/internal/rdk) and runs one Send at a time:
// a goroutine that looks the topic up, reads the input batch by batch,
// prepares each batch (core/produce) and hands its rows to librdkafka in
// one cgo call, serving delivery reports as it goes, then waits until
// every record handed over is acknowledged or failed. The caller waits on
// the Send in slices (Wait) and may abort it.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/kafkars/kafkars/core"
	"github.com/kafkars/kafkars/core/decode/avrodec"
	"github.com/kafkars/kafkars/core/decode/protodec"
	"github.com/kafkars/kafkars/core/decode/registry"
	"github.com/kafkars/kafkars/core/internal/rdk"
	"github.com/kafkars/kafkars/core/produce"
	"github.com/kafkars/kafkars/core/source"
)

// ProducerOptions is the JSON accepted by kafkars_producer_new.
type ProducerOptions struct {
	Config           map[string]string `json:"config"`
	StartupTimeoutMs *int              `json:"startup_timeout_ms"`
}

// DecodeProducerOptions reads ProducerOptions strictly.
func DecodeProducerOptions(b []byte) (ProducerOptions, error) {
	var o ProducerOptions
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		return o, &core.Error{Kind: core.KindConfig, Msg: "producer options: " + err.Error(), Cause: err}
	}
	if o.Config["bootstrap.servers"] == "" && o.Config["metadata.broker.list"] == "" {
		return o, &core.Error{Kind: core.KindConfig, Msg: "producer config: bootstrap.servers is required"}
	}
	if o.StartupTimeoutMs != nil && *o.StartupTimeoutMs <= 0 {
		return o, &core.Error{Kind: core.KindConfig, Msg: fmt.Sprintf("startup_timeout_ms must be > 0, got %d", *o.StartupTimeoutMs)}
	}
	return o, nil
}

// producerDefaults are the producer properties kafkars sets unless the
// user set them:
//
//   - enable.idempotence=true: retries after a broker failure neither
//     duplicate nor reorder records, and acks=all is implied (librdkafka
//     rejects a weaker acks with it). A user who sets acks=1 or 0 must also
//     set enable.idempotence=false.
//
// Everything else keeps librdkafka's defaults (linger.ms=5,
// compression.type=none, message.timeout.ms=300000, ...).
var producerDefaults = []rdk.Prop{
	{Key: "enable.idempotence", Value: "true"},
}

func producerProps(cfg map[string]string) []rdk.Prop {
	var out []rdk.Prop
	for _, d := range producerDefaults {
		if _, user := cfg[d.Key]; !user {
			out = append(out, d)
		}
	}
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, rdk.Prop{Key: k, Value: cfg[k], User: true})
	}
	return out
}

// Producer produces Arrow data to Kafka, one Send at a time.
type Producer struct {
	kp      *rdk.Producer
	servers string
	startup time.Duration

	mu     sync.Mutex
	cur    *Send // the running send, nil when idle
	closed bool
}

// NewProducer creates the librdkafka producer (no network yet).
func NewProducer(o ProducerOptions) (*Producer, error) {
	tuneMalloc()
	_, userDebug := o.Config["debug"]
	kp, err := rdk.NewProducer(producerProps(o.Config), userDebug || os.Getenv("KAFKARS_LOG") == "stderr")
	if err != nil {
		var ce *rdk.ConfigError
		if errors.As(err, &ce) {
			msg := ce.Msg
			if ce.Property != "" && !strings.Contains(msg, ce.Property) {
				msg = fmt.Sprintf("config property %q: %s", ce.Property, msg)
			}
			return nil, &core.Error{Kind: core.KindConfig, Msg: "invalid producer config: " + msg, Cause: err}
		}
		return nil, &core.Error{Kind: core.KindInternal, Msg: err.Error(), Cause: err}
	}
	startup := 15 * time.Second
	if o.StartupTimeoutMs != nil {
		startup = time.Duration(*o.StartupTimeoutMs) * time.Millisecond
	}
	servers := o.Config["bootstrap.servers"]
	if servers == "" {
		servers = o.Config["metadata.broker.list"]
	}
	return &Producer{kp: kp, servers: servers, startup: startup}, nil
}

// PartitionResult counts the acknowledged records of one partition.
type PartitionResult struct {
	Partition   int32 `json:"partition"`
	Records     int64 `json:"records"`
	FirstOffset int64 `json:"first_offset"`
	LastOffset  int64 `json:"last_offset"`
}

// Result is the outcome of a Send: only acknowledged records are counted
// as written.
type Result struct {
	Topic      string            `json:"topic"`
	Rows       int64             `json:"rows"`     // rows read from the input
	Records    int64             `json:"records"`  // acknowledged by the broker
	Bytes      int64             `json:"bytes"`    // their key + value bytes
	Failed     int64             `json:"failed"`   // delivery reports with an error
	NotSent    int64             `json:"not_sent"` // rows read but never handed to librdkafka
	Partitions []PartitionResult `json:"partitions"`
	Seconds    float64           `json:"seconds"`
	FailedRow  *int64            `json:"failed_row"` // the first row that failed, null if none
	ErrorCode  *string           `json:"error_code"` // librdkafka's name of its error, e.g. MSG_SIZE_TOO_LARGE
	Error      *string           `json:"error"`      // the error message, null on success
	Schemas    []SchemaInfo      `json:"schemas"`    // Avro schemas registered for this send
}

// SchemaInfo is a writer schema registered for a send: its role (key or
// value), subject and id.
type SchemaInfo struct {
	Role    string `json:"role"`
	Subject string `json:"subject"`
	ID      int32  `json:"id"`
}

// Send is one input being produced.
type Send struct {
	p     *Producer
	plan  *produce.Plan
	input array.RecordReader
	t0    time.Time

	acked atomic.Int64
	abort atomic.Bool
	done  chan struct{}

	// set by the goroutine before done is closed
	result Result
	err    error
}

// Send validates the input's schema against spec and starts producing it
// in the background. The Send owns input (it releases it).
func (p *Producer) Send(spec produce.Spec, input array.RecordReader) (*Send, error) {
	plan, err := produce.NewPlan(spec, input.Schema())
	if err != nil {
		input.Release()
		return nil, &core.Error{Kind: core.KindConfig, Msg: err.Error(), Cause: err}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		input.Release()
		return nil, &core.Error{Kind: core.KindClosed, Msg: "the producer is closed"}
	}
	if p.cur != nil {
		input.Release()
		return nil, &core.Error{Kind: core.KindConfig, Msg: "the producer is busy with another send (one at a time); wait for it or close it"}
	}
	s := &Send{p: p, plan: plan, input: input, t0: time.Now(), done: make(chan struct{})}
	s.result.Topic = spec.Topic
	p.cur = s
	go s.run()
	return s, nil
}

// Wait waits up to d for the send to finish. It returns the records
// acknowledged so far, and once finished the result and error.
func (s *Send) Wait(d time.Duration) (acked int64, finished bool, res *Result, err error) {
	if d > 0 {
		t := time.NewTimer(d)
		select {
		case <-s.done:
		case <-t.C:
		}
		t.Stop()
	}
	select {
	case <-s.done:
		return s.result.Records, true, &s.result, s.err
	default:
		return s.acked.Load(), false, nil, nil
	}
}

// Abort stops the send without waiting: nothing more is read, records not
// yet sent are purged. Their outcome is not reported.
func (s *Send) Abort() { s.abort.Store(true) }

// Done is closed when the send has finished.
func (s *Send) Done() <-chan struct{} { return s.done }

// Close aborts any running send, waits for it, and destroys the producer.
func (p *Producer) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	cur := p.cur
	p.mu.Unlock()
	if cur != nil {
		cur.Abort()
		<-cur.done
	}
	p.kp.Close()
	return nil
}

func (s *Send) finish() {
	s.p.mu.Lock()
	s.p.cur = nil
	s.p.mu.Unlock()
	close(s.done)
}

func (s *Send) run() {
	defer s.finish()
	defer s.input.Release()
	defer func() {
		if r := recover(); r != nil {
			s.err = &core.Error{Kind: core.KindInternal, Msg: fmt.Sprintf("internal error while producing (please report): %v", r)}
		}
	}()
	kp := s.p.kp
	topic := s.plan.Spec.Topic
	nparts, err := s.partitions()
	if err != nil {
		s.err = err
		s.result.Error = ptr(err.Error())
		return
	}
	if err := s.registerSchemas(); err != nil {
		s.err = err
		s.result.Error = ptr(err.Error())
		return
	}
	if err := kp.Begin(topic, nparts); err != nil {
		s.err = &core.Error{Kind: core.KindKafka, Msg: err.Error(), Cause: err}
		return
	}

	var (
		row       int64 // rows read so far
		stopped   error // why nothing more is handed over
		failRow   int64 = -1
		failCode  int32
		failPart  int32 = -1
		pn        runtime.Pinner
		prep      = produce.NewPreparer(s.plan)
		interrupt bool
	)
	defer pn.Unpin()
	// send hands one record batch over; false: hand nothing more over.
	send := func(rec arrow.RecordBatch) bool {
		n := rec.NumRows()
		defer func() { row += n }()
		b, err := prep.Prepare(rec, row)
		if err != nil {
			var re *produce.RowError
			if errors.As(err, &re) {
				failRow = re.Row
			}
			stopped = err
			return false
		}
		rb := toRdk(b, row, &pn)
		defer pn.Unpin()
		for from := int64(0); from < n; {
			if s.abort.Load() {
				interrupt = true
				return false
			}
			next, refused := kp.Produce(rb, from, 100)
			c := kp.Counts(false)
			s.acked.Store(c.Acked)
			if refused != nil {
				failRow, failCode = row+next, refused.Code
				if rb.Part != nil {
					failPart = partAt(rb, next)
				}
				stopped = refused
				return false
			}
			if c.FailRow >= 0 || kp.Fatal() != nil {
				return false // a delivery failed: hand nothing more over
			}
			from = next
		}
		return true
	}
read:
	for s.input.Next() {
		rec := s.input.RecordBatch()
		total := rec.NumRows()
		if total <= prepareRows {
			if !send(rec) {
				break
			}
			continue
		}
		// a large batch in slices (zero-copy): encoded columns are prepared
		// into scratch buffers that stay small, warm and reused
		for off := int64(0); off < total; off += prepareRows {
			part := rec.NewSlice(off, min(off+prepareRows, total))
			ok := send(part)
			part.Release()
			if !ok {
				break read
			}
		}
	}
	if stopped == nil && !interrupt && s.input.Err() != nil {
		stopped = fmt.Errorf("reading the input after row %d: %w", row, s.input.Err())
		failRow = row
	}
	s.result.Rows = row

	// wait for every record handed over to be acknowledged or failed
	for {
		if s.abort.Load() && !interrupt {
			interrupt = true
		}
		if interrupt {
			kp.Purge()
		}
		out := kp.Serve(50, true)
		s.acked.Store(kp.Counts(false).Acked)
		if out <= 0 {
			break
		}
	}
	c := kp.Counts(true)
	s.result.Records = c.Acked
	s.result.Bytes = c.AckedBytes
	s.result.Failed = c.Failed
	s.result.NotSent = row - c.Enqueued
	s.result.Seconds = time.Since(s.t0).Seconds()
	s.result.Partitions = []PartitionResult{}
	for i, n := range c.PartAcked {
		if n > 0 {
			s.result.Partitions = append(s.result.Partitions, PartitionResult{Partition: int32(i), Records: n,
				FirstOffset: c.PartFirst[i], LastOffset: c.PartLast[i]})
		}
	}
	if interrupt {
		s.err = &core.Error{Kind: core.KindClosed, Msg: fmt.Sprintf("the send to %q was aborted", topic)}
		s.result.Error = ptr(s.err.Error())
		return
	}
	// the first failure by row: a refused row, or the lowest failed delivery
	var reason error = stopped
	if c.FailRow >= 0 && (failRow < 0 || c.FailRow < failRow) {
		failRow, failCode, failPart, reason = c.FailRow, c.FailErr.Code, c.FailPart, c.FailErr
	}
	if fe := kp.Fatal(); fe != nil && reason == nil {
		reason, failCode = fe, fe.Code
	}
	if reason == nil {
		return
	}
	s.err = s.failure(reason, failRow, failCode, failPart, c)
	s.result.Error = ptr(s.err.Error())
	if failRow >= 0 {
		s.result.FailedRow = ptr(failRow)
	}
	if failCode != 0 {
		s.result.ErrorCode = ptr(rdk.ErrName(failCode))
	}
}

func (s *Send) failure(reason error, row int64, code int32, part int32, c rdk.Counts) error {
	topic := s.plan.Spec.Topic
	var b strings.Builder
	fmt.Fprintf(&b, "producing to topic %q: ", topic)
	if row >= 0 {
		fmt.Fprintf(&b, "row %d", row)
		if part >= 0 {
			fmt.Fprintf(&b, " (partition %d)", part)
		}
		b.WriteString(" failed: ")
	}
	var re *produce.RowError
	var ke *rdk.KafkaError
	switch {
	case errors.As(reason, &re):
		fmt.Fprintf(&b, "column %q: %s", re.Column, re.Msg)
	case errors.As(reason, &ke):
		b.WriteString(ke.Msg)
		if ke.Code != rdk.ErrInvalidArg {
			fmt.Fprintf(&b, " (%s)", ke.Name())
		}
		if ke.Code == rdk.ErrMsgSizeTooLarge {
			b.WriteString("; the record is larger than message.max.bytes allows")
		}
	default:
		b.WriteString(reason.Error())
	}
	fmt.Fprintf(&b, ". %d of the %d records read were acknowledged (see the per-partition counts); the others are not",
		c.Acked, s.result.Rows)
	if code == rdk.ErrMsgTimedOut {
		b.WriteString(" (a record whose delivery timed out may still have been written)")
	}
	kind := core.KindProduce
	if fe := s.p.kp.Fatal(); fe != nil {
		fmt.Fprintf(&b, "; the producer has a fatal error and cannot be used again: %s", fe.Msg)
	}
	if logs := lastLine(s.p.kp.RecentLogs()); logs != "" && ke != nil && ke.Code == rdk.ErrMsgTimedOut {
		fmt.Fprintf(&b, "; librdkafka says: %s", logs)
	}
	return &core.Error{Kind: kind, Msg: b.String(), Cause: reason}
}

// prepareRows is the most rows prepared and handed over at a time. A
// 200 000-row table in one record batch, encoded as JSON in one go, grew
// its scratch buffer to tens of MB, page by page, and the Go collector ran
// while it did: 3.3 CPU s per million records against 1.0 for Protobuf.
const prepareRows = 16384

// registerSchemas settles each Avro or Protobuf column with its registry
// before any record is sent: an Avro column's writer schema is registered
// and its id set; a Protobuf column's message type is taken from the
// subject's latest schema, with that schema's id.
func (s *Send) registerSchemas() error {
	for _, t := range s.plan.Targets() {
		if t.Registry == nil {
			continue // Protobuf with descriptors: settled with the plan
		}
		var rs core.RegistrySpec
		if err := json.Unmarshal(t.Registry, &rs); err != nil {
			return &core.Error{Kind: core.KindConfig, Msg: fmt.Sprintf("%s format %s: registry: %v", t.Role, t.Format, err)}
		}
		c, err := registry.New(registry.Config{
			URL: rs.URL, BasicAuthUserInfo: rs.BasicAuth, BearerToken: rs.BearerToken,
			RequestTimeout: time.Duration(rs.TimeoutMs) * time.Millisecond, CAFile: rs.CAFile,
		})
		if err != nil {
			return &core.Error{Kind: core.KindConfig, Msg: fmt.Sprintf("%s format %s: %v", t.Role, t.Format, err)}
		}
		var id int32
		if t.Format == "protobuf" {
			md, sid, path, err := protodec.MessageFromRegistry(c, t.Subject, t.Message)
			c.Close()
			if err != nil {
				return &core.Error{Kind: core.KindProduce, Msg: fmt.Sprintf(
					"producing to topic %q: the Protobuf message type of the %s column %q: %v; nothing was sent",
					s.plan.Spec.Topic, t.Role, t.Column, err)}
			}
			if err := t.BindProto(md, sid, path); err != nil {
				return &core.Error{Kind: core.KindConfig, Msg: fmt.Sprintf(
					"producing to topic %q: %v (schema id %d of subject %q); nothing was sent", s.plan.Spec.Topic, err, sid, t.Subject)}
			}
			id = sid
		} else if sid, ok := s.latestSameAvro(c, t); ok {
			// The subject's latest schema encodes the same datums (a
			// registry that compares texts, not parsed schemas, would
			// register ours as a new version): write with its id.
			c.Close()
			id = sid
			t.SetSchemaID(id)
		} else {
			id, err = c.Register(t.Subject, t.Schema)
			if err != nil {
				hint := ""
				if _, lerr := c.Latest(t.Subject); lerr == nil && !t.GivenSchema() {
					hint = " (the subject has a schema already, and the one derived from the column's type is not it: " +
						"to write with the subject's schema, pass it: Avro(schema=..., registry=...))"
				}
				c.Close()
				return &core.Error{Kind: core.KindProduce, Msg: fmt.Sprintf(
					"producing to topic %q: registering the %s schema of column %q under subject %q: %v%s; nothing was sent",
					s.plan.Spec.Topic, t.Role, t.Column, t.Subject, err, hint)}
			}
			c.Close()
			t.SetSchemaID(id)
		}
		s.result.Schemas = append(s.result.Schemas, SchemaInfo{Role: t.Role, Subject: t.Subject, ID: id})
	}
	return nil
}

// latestSameAvro returns the id of the subject's latest schema when the
// user gave an Avro schema with the same encoding.
func (s *Send) latestSameAvro(c *registry.Client, t *produce.Target) (int32, bool) {
	if !t.GivenSchema() {
		return 0, false
	}
	latest, err := c.Latest(t.Subject)
	if err != nil || (latest.Type != "" && latest.Type != "AVRO") || !avrodec.SameEncoding(latest.Text, t.Schema) {
		return 0, false
	}
	return latest.ID, true
}

// partitions looks the topic up, asking again while the cluster is not
// reachable or leadership settles, until the startup timeout.
func (s *Send) partitions() (int, error) {
	topic := s.plan.Spec.Topic
	deadline := time.Now().Add(s.p.startup)
	for {
		if s.abort.Load() {
			return 0, &core.Error{Kind: core.KindClosed, Msg: fmt.Sprintf("the send to %q was aborted", topic)}
		}
		left := time.Until(deadline)
		slice := min(left, time.Second)
		if slice < 50*time.Millisecond {
			slice = 50 * time.Millisecond
		}
		n, err := s.p.kp.Partitions(topic, int(slice.Milliseconds()))
		if err == nil && n > 0 {
			return n, nil
		}
		if err != nil && errors.Is(err, source.ErrTopicNotFound) {
			return 0, &core.Error{Kind: core.KindTopicNotFound, Cause: err,
				Msg: fmt.Sprintf("topic %q does not exist on %s", topic, s.p.servers)}
		}
		retry := err == nil || errors.Is(err, source.ErrBrokerDown) || errors.Is(err, source.ErrTimedOut) || leaderInTransition(err)
		if !retry {
			return 0, &core.Error{Kind: core.KindKafka, Cause: err, Msg: fmt.Sprintf("metadata for topic %q on %s: %v", topic, s.p.servers, err)}
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("the topic has no partitions yet")
			}
			msg := fmt.Sprintf("cannot reach Kafka at bootstrap.servers=%q within startup_timeout_ms=%d (metadata for topic %q: %v)",
				s.p.servers, s.p.startup.Milliseconds(), topic, err)
			if logs := lastLine(s.p.kp.RecentLogs()); logs != "" {
				msg += "; librdkafka says: " + logs
			}
			return 0, &core.Error{Kind: core.KindBrokerUnavailable, Msg: msg, Cause: err}
		}
		time.Sleep(min(100*time.Millisecond, max(time.Until(deadline), time.Millisecond)))
	}
}

func ptr[T any](v T) *T { return &v }

func partAt(b *rdk.Batch, i int64) int32 {
	if b.PartValid != nil {
		bits := unsafe.Slice((*byte)(b.PartValid), (b.PartOffset+i)/8+1)
		j := b.PartOffset + i
		if bits[j/8]&(1<<(j%8)) == 0 {
			return -1
		}
	}
	return unsafe.Slice((*int32)(b.Part), b.PartOffset+i+1)[b.PartOffset+i]
}

// toRdk describes a prepared batch by its buffers, pinning Go memory.
func toRdk(b *produce.Batch, baseRow int64, pn *runtime.Pinner) *rdk.Batch {
	out := &rdk.Batch{Rows: int64(b.Rows), BaseRow: baseRow}
	out.Key = bytesDesc(b.Key, pn)
	out.Value = bytesDesc(b.Value, pn)
	switch {
	case b.TSArr != nil:
		d := b.TSArr.Data()
		out.TS = bufPtr(d.Buffers()[1], pn)
		out.TSOffset = int64(d.Offset())
		out.TSValid = validPtr(b.TSArr, pn)
		if out.TS == nil && b.Rows > 0 {
			out.TS = zeroPtr
		}
	case b.TS != nil:
		out.TS = slicePtr(b.TS, pn)
		out.TSValid = slicePtr(b.TSValid, pn)
	}
	switch {
	case b.PartArr != nil:
		d := b.PartArr.Data()
		out.Part = bufPtr(d.Buffers()[1], pn)
		out.PartOffset = int64(d.Offset())
		out.PartValid = validPtr(b.PartArr, pn)
		if out.Part == nil && b.Rows > 0 {
			out.Part = zeroPtr
		}
	case b.Part != nil:
		out.Part = slicePtr(b.Part, pn)
		out.PartValid = slicePtr(b.PartValid, pn)
	}
	if b.Headers != nil {
		out.Headers = headersDesc(b.Headers, pn)
	}
	return out
}

// zeroPtr stands for the values buffer of a column whose rows are all
// null (never read: the validity says so).
var zeroPtr = unsafe.Pointer(&zeroBuf[0])
var zeroBuf [8]byte

func slicePtr[T any](s []T, pn *runtime.Pinner) unsafe.Pointer {
	if len(s) == 0 {
		return nil
	}
	p := unsafe.Pointer(&s[0])
	pn.Pin(p)
	return p
}

func bufPtr(b *memory.Buffer, pn *runtime.Pinner) unsafe.Pointer {
	if b == nil || b.Len() == 0 {
		return nil
	}
	p := unsafe.Pointer(&b.Bytes()[0])
	pn.Pin(p)
	return p
}

// validPtr is arr's validity bitmap, nil when it has no nulls.
func validPtr(arr arrow.Array, pn *runtime.Pinner) unsafe.Pointer {
	if arr.NullN() == 0 {
		return nil
	}
	if arr.DataType().ID() == arrow.NULL {
		return nil // handled by the callers: a null-typed column is not read in place
	}
	return bufPtr(arr.Data().Buffers()[0], pn)
}

func bytesDesc(b *produce.Bytes, pn *runtime.Pinner) rdk.Bytes {
	if b == nil {
		return rdk.Bytes{Kind: rdk.BytesNone}
	}
	if b.Arr == nil {
		return rdk.Bytes{Kind: rdk.BytesOff64, Offsets: slicePtr(b.Offsets, pn), Data: slicePtr(b.Data, pn), Valid: slicePtr(b.Valid, pn)}
	}
	return arrayBytes(b.Arr, pn)
}

// arrayBytes describes a binary, utf8 (any offset width) or view array.
func arrayBytes(arr arrow.Array, pn *runtime.Pinner) rdk.Bytes {
	d := arr.Data()
	bufs := d.Buffers()
	out := rdk.Bytes{Offset: int64(d.Offset()), Valid: validPtr(arr, pn)}
	switch arr.DataType().ID() {
	case arrow.BINARY, arrow.STRING:
		out.Kind = rdk.BytesOff32
	case arrow.LARGE_BINARY, arrow.LARGE_STRING:
		out.Kind = rdk.BytesOff64
	case arrow.BINARY_VIEW, arrow.STRING_VIEW:
		out.Kind = rdk.BytesView
		out.Offsets = bufPtr(bufs[1], pn)
		for _, vb := range bufs[2:] {
			out.VData = append(out.VData, bufPtr(vb, pn))
		}
		if out.Offsets == nil && arr.Len() > 0 {
			out.Kind = rdk.BytesNone // unreachable for valid arrays
		}
		return out
	default: // a null-typed header value column: every value null
		return rdk.Bytes{Kind: rdk.BytesOff64, Offsets: zeroOffsets(arr.Len(), pn), Valid: slicePtr(make([]byte, (arr.Len()+7)/8+1), pn)}
	}
	out.Offsets = bufPtr(bufs[1], pn)
	out.Data = bufPtr(bufs[2], pn)
	if out.Offsets == nil && arr.Len() > 0 {
		out.Offsets = slicePtr(make([]int64, arr.Len()+1), pn)
		out.Kind = rdk.BytesOff64
		out.Offset = 0
	}
	return out
}

func zeroOffsets(n int, pn *runtime.Pinner) unsafe.Pointer {
	return slicePtr(make([]int64, n+1), pn)
}

// headersDesc describes a list<struct<name, value>>, large_list or map.
func headersDesc(arr arrow.Array, pn *runtime.Pinner) rdk.Headers {
	d := arr.Data()
	h := rdk.Headers{Present: true, Offset: int64(d.Offset()), Valid: validPtr(arr, pn), Offsets: bufPtr(d.Buffers()[1], pn)}
	var entries *array.Struct
	switch a := arr.(type) {
	case *array.Map:
		entries = a.ListValues().(*array.Struct)
	case *array.List:
		entries = a.ListValues().(*array.Struct)
	case *array.LargeList:
		entries = a.ListValues().(*array.Struct)
		h.Large = true
	}
	if h.Offsets == nil {
		// an empty (or all-null) column may have no offsets buffer
		h.Offsets = slicePtr(make([]int64, arr.Len()+d.Offset()+1), pn)
		h.Large = true
	}
	h.EntryOffset = int64(entries.Data().Offset())
	h.EntryValid = validPtr(entries, pn)
	h.Name = arrayBytes(entries.Field(0), pn)
	h.Value = arrayBytes(entries.Field(1), pn)
	return h
}

// leaderInTransition: a lookup answered while a partition's leadership is
// moving; asking again shortly works.
func leaderInTransition(err error) bool {
	var ke *rdk.KafkaError
	return errors.As(err, &ke) && rdk.LeaderInTransition(ke.Code)
}
