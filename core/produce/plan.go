// Package produce is the pure part of producing Arrow data to Kafka: which
// columns become the key, value, timestamp, partition and headers of each
// record, checked against the input's schema before anything is sent; the
// preparation of each record batch into buffers the librdkafka loop reads
// (raw bytes columns as they are, typed columns encoded as JSON or Avro,
// timestamps converted to milliseconds); and the JSON and Avro encoders
// for Arrow values.
//
// The loop over rows and the delivery reports live in core/internal/rdk
// (cgo); core/kafka wires the two. Nothing here touches Kafka.
package produce

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/kafkars/kafkars/core/decode"
	"github.com/kafkars/kafkars/core/decode/avrodec"
	"github.com/kafkars/kafkars/core/decode/protodec"
)

// Spec says where each part of a record comes from. Empty column names
// mean "none": no key (null keys), no value (null values), the producer's
// clock, the partitioner, no headers.
type Spec struct {
	Topic     string `json:"topic"`
	Key       string `json:"key"`
	Value     string `json:"value"`
	Timestamp string `json:"timestamp"`
	Partition string `json:"partition"`
	Headers   string `json:"headers"`

	// KeyFormat and ValueFormat encode a typed (not binary or string) key
	// or value column; nil: JSON.
	KeyFormat   *Format `json:"key_format"`
	ValueFormat *Format `json:"value_format"`
}

// Format is how a typed key or value column is encoded: "json" (the
// default), "avro" or "protobuf".
//
// Avro: the writer schema is Schema when given (see avrowrite.go), else
// derived from the column's Arrow type (see avroenc.go); with a Registry
// it is registered under Subject.
//
// Protobuf: the message type is the user's (see protoenc.go): Message in
// Descriptors (a serialized FileDescriptorSet), or in the latest schema
// of Subject in Registry ("" Message: its first message).
//
// Records are Confluent-framed (magic byte 0, the 4-byte schema id, for
// Protobuf the message-index path) when there is a registry, unless
// Framing is "raw"; without a registry they are raw.
type Format struct {
	Format      string          `json:"format"`
	Registry    json.RawMessage `json:"registry"`    // read by the caller (core/kafka)
	Subject     string          `json:"subject"`     // default "<topic>-value" / "<topic>-key"
	Framing     string          `json:"framing"`     // "confluent" or "raw"
	Schema      string          `json:"schema"`      // avro: the writer schema, JSON ("": derived)
	Message     string          `json:"message"`     // protobuf
	Descriptors []byte          `json:"descriptors"` // protobuf, base64 in JSON
}

// Target is a key or value column encoded with an Avro or Protobuf
// format: what core/kafka must settle with the registry before the first
// record is sent, then the encoder and the framing every record gets.
type Target struct {
	Role, Column string
	Format       string // "avro" or "protobuf"
	Subject      string
	Registry     json.RawMessage // nil: none (Protobuf with Descriptors)
	Confluent    bool

	// Schema is the Avro writer schema (JSON) to register.
	Schema string
	avro   *AvroWriter // Avro with a given schema; nil: derived (AppendAvro)
	// Message is the Protobuf message name ("" the first of the schema).
	Message string

	dt     arrow.DataType
	proto  *ProtoEncoder // Protobuf: set with the plan (Descriptors) or by BindProto
	prefix []byte
}

// SetSchemaID sets the schema id written in front of every Avro datum.
func (t *Target) SetSchemaID(id int32) {
	if t.Confluent {
		t.prefix = []byte{0, byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)}
	}
}

// GivenSchema reports whether an Avro column is written with a schema the
// user gave (rather than one derived from its type).
func (t *Target) GivenSchema() bool { return t.avro != nil }

// NeedsMessage reports whether a Protobuf column still needs its message
// type from the registry (BindProto).
func (t *Target) NeedsMessage() bool { return t.Format == "protobuf" && t.proto == nil }

// BindProto sets a Protobuf column's message type, the id of the schema
// that defines it and its message-index path in that schema, and checks
// the column against it.
func (t *Target) BindProto(md protoreflect.MessageDescriptor, id int32, path []int) error {
	enc, err := NewProtoEncoder(t.dt, md)
	if err != nil {
		return &ColumnError{Role: t.Role, Column: t.Column, Msg: fmt.Sprintf("cannot be written as Protobuf message %s: %v", md.FullName(), err)}
	}
	t.proto = enc
	if t.Confluent {
		t.SetSchemaID(id)
		t.prefix = decode.AppendMessageIndexes(t.prefix, path)
	}
	return nil
}

func (t *Target) appendRow(buf []byte, col arrow.Array, i int) ([]byte, error) {
	buf = append(buf, t.prefix...)
	switch {
	case t.proto != nil:
		return t.proto.Append(buf, col, i)
	case t.avro != nil:
		return t.avro.Append(buf, col, i)
	}
	return AppendAvro(buf, col, i)
}

// DecodeSpec reads a Spec from JSON strictly: unknown members and a
// missing topic are errors.
func DecodeSpec(b []byte) (Spec, error) {
	var s Spec
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("produce spec: %w", err)
	}
	if s.Topic == "" {
		return s, fmt.Errorf("produce spec: topic must not be empty")
	}
	return s, nil
}

// How a key or value column becomes bytes.
type bytesMode int

const (
	modeNone  bytesMode = iota
	modeRaw             // binary/utf8 in any offset layout: the bytes as they are
	modeFixed           // fixed_size_binary: the bytes, copied into offsets
	modeJSON            // anything else: one JSON document per row
	modeTyped           // a typed column with an Avro or Protobuf format: one datum per row
)

// Plan is a Spec checked against a schema.
type Plan struct {
	Spec   Spec
	Schema *arrow.Schema

	key, value         colRef
	keyMode, valueMode bytesMode
	keyEnc, valueEnc   *Target
	ts                 colRef
	tsUnit             arrow.TimeUnit
	tsPlainInt         bool // int64 milliseconds
	part               colRef
	hdr                colRef
}

type colRef struct {
	name string
	idx  int // -1: none
}

// ColumnError is a column that cannot play the role asked of it.
type ColumnError struct {
	Role, Column, Msg string
}

func (e *ColumnError) Error() string {
	return fmt.Sprintf("%s column %q: %s", e.Role, e.Column, e.Msg)
}

// NewPlan checks spec against schema: every named column exists and has a
// type its role accepts. Errors name the role, the column and its type.
func NewPlan(spec Spec, schema *arrow.Schema) (*Plan, error) {
	p := &Plan{Spec: spec, Schema: schema}
	var err error
	find := func(role, name string) (colRef, arrow.DataType, error) {
		if name == "" {
			return colRef{idx: -1}, nil, nil
		}
		idx := schema.FieldIndices(name)
		switch len(idx) {
		case 0:
			return colRef{}, nil, &ColumnError{Role: role, Column: name, Msg: "no such column; the input has " + columnList(schema)}
		case 1:
		default:
			return colRef{}, nil, &ColumnError{Role: role, Column: name, Msg: "the input has several columns of that name"}
		}
		return colRef{name: name, idx: idx[0]}, schema.Field(idx[0]).Type, nil
	}
	var dt arrow.DataType
	if p.key, dt, err = find("key", spec.Key); err != nil {
		return nil, err
	}
	if p.keyMode, err = bytesModeOf("key", spec.Key, dt); err != nil && jsonFormat(spec.KeyFormat) {
		return nil, err
	}
	if p.keyEnc, err = formatOf("key", spec.Key, spec.Topic, dt, spec.KeyFormat, &p.keyMode); err != nil {
		return nil, err
	}
	if p.value, dt, err = find("value", spec.Value); err != nil {
		return nil, err
	}
	if p.valueMode, err = bytesModeOf("value", spec.Value, dt); err != nil && jsonFormat(spec.ValueFormat) {
		return nil, err
	}
	if p.valueEnc, err = formatOf("value", spec.Value, spec.Topic, dt, spec.ValueFormat, &p.valueMode); err != nil {
		return nil, err
	}
	if p.ts, dt, err = find("timestamp", spec.Timestamp); err != nil {
		return nil, err
	}
	if dt != nil {
		switch t := dt.(type) {
		case *arrow.TimestampType:
			p.tsUnit = t.Unit
		case *arrow.Int64Type:
			p.tsPlainInt = true
		default:
			return nil, &ColumnError{Role: "timestamp", Column: spec.Timestamp, Msg: fmt.Sprintf(
				"type %s: want a timestamp, or int64 epoch milliseconds", dt)}
		}
	}
	if p.part, dt, err = find("partition", spec.Partition); err != nil {
		return nil, err
	}
	if dt != nil && !arrow.IsInteger(dt.ID()) {
		return nil, &ColumnError{Role: "partition", Column: spec.Partition, Msg: fmt.Sprintf("type %s: want int32 (or another integer type)", dt)}
	}
	if p.hdr, dt, err = find("headers", spec.Headers); err != nil {
		return nil, err
	}
	if dt != nil {
		if err := checkHeaders(dt); err != nil {
			return nil, &ColumnError{Role: "headers", Column: spec.Headers, Msg: fmt.Sprintf("type %s: %v", dt, err)}
		}
	}
	return p, nil
}

func columnList(s *arrow.Schema) string {
	names := make([]string, 0, s.NumFields())
	for _, f := range s.Fields() {
		names = append(names, fmt.Sprintf("%q", f.Name))
	}
	if len(names) == 0 {
		return "no columns"
	}
	return strings.Join(names, ", ")
}

// Targets are the Avro and Protobuf columns, whose schemas core/kafka
// settles with the registry before sending (none with JSON only).
func (p *Plan) Targets() []*Target {
	var out []*Target
	for _, t := range []*Target{p.keyEnc, p.valueEnc} {
		if t != nil {
			out = append(out, t)
		}
	}
	return out
}

func jsonFormat(f *Format) bool { return f == nil || f.Format == "json" }

func hasRegistry(f *Format) bool { return len(f.Registry) > 0 && string(f.Registry) != "null" }

// formatOf applies a key or value format to the column's mode.
func formatOf(role, name, topic string, dt arrow.DataType, f *Format, mode *bytesMode) (*Target, error) {
	if f == nil || f.Format == "json" {
		return nil, nil
	}
	colErr := func(format string, args ...any) error {
		return &ColumnError{Role: role, Column: name, Msg: fmt.Sprintf(format, args...)}
	}
	if f.Format != "avro" && f.Format != "protobuf" {
		return nil, colErr("unknown format %q: want \"json\", \"avro\" or \"protobuf\"", f.Format)
	}
	if dt == nil {
		return nil, fmt.Errorf("%s format %q: no %s column is given", role, f.Format, role)
	}
	switch *mode {
	case modeRaw, modeFixed:
		return nil, colErr("type %s is sent as it is; %s format needs a typed column (a struct, say)", dt, aFormat(f.Format))
	}
	framing := f.Framing
	if framing != "" && framing != "confluent" && framing != "raw" {
		return nil, colErr("framing %q: want \"confluent\" or \"raw\"", framing)
	}
	subject := f.Subject
	if subject == "" {
		subject = topic + "-" + role // TopicNameStrategy, as the serializers do
	}
	t := &Target{Role: role, Column: name, Format: f.Format, Subject: subject, Confluent: framing != "raw", dt: dt}
	if hasRegistry(f) {
		t.Registry = f.Registry
	}
	if f.Format == "avro" && f.Schema != "" {
		if t.Registry == nil {
			if framing == "confluent" {
				return nil, colErr("Confluent framing needs a schema id: give a registry to register the schema in, or framing \"raw\"")
			}
			t.Confluent = false
		}
		node, err := avrodec.ParseWriter(f.Schema)
		if err != nil {
			return nil, colErr("the Avro schema given: %v", err)
		}
		if t.avro, err = NewAvroWriter(node, dt); err != nil {
			return nil, colErr("cannot be written with the Avro schema given: %v", err)
		}
		t.Schema = f.Schema
		*mode = modeTyped
		return t, nil
	}
	if f.Format == "avro" {
		if t.Registry == nil {
			return nil, colErr("an Avro format needs a registry to register the writer schema in (or a schema for raw datums)")
		}
		schema, err := AvroSchema(dt, AvroRecordName(topic+"_"+role))
		if err != nil {
			return nil, colErr("type %s cannot be encoded as Avro: %v", dt, err)
		}
		t.Schema = schema
		*mode = modeTyped
		return t, nil
	}
	t.Message = f.Message
	switch {
	case len(f.Descriptors) > 0 && t.Registry != nil:
		return nil, colErr("a Protobuf format takes its message type from descriptors (raw records) or from a registry " +
			"(the subject's latest schema), not both")
	case len(f.Descriptors) > 0:
		if framing == "confluent" {
			return nil, colErr("Confluent framing needs a schema id: give a registry instead of descriptors, or framing \"raw\"")
		}
		t.Confluent = false
		md, path, err := protodec.MessageFromDescriptors(f.Descriptors, f.Message)
		if err != nil {
			return nil, colErr("%v", err)
		}
		if err := t.BindProto(md, 0, path); err != nil {
			return nil, err
		}
	case t.Registry == nil:
		return nil, colErr("a Protobuf format needs descriptors (a FileDescriptorSet) or a registry holding the message's schema")
	}
	*mode = modeTyped
	return t, nil
}

func aFormat(f string) string {
	if f == "avro" {
		return "an Avro"
	}
	return "a Protobuf"
}

func bytesModeOf(role, name string, dt arrow.DataType) (bytesMode, error) {
	if dt == nil {
		return modeNone, nil
	}
	switch dt.ID() {
	case arrow.BINARY, arrow.STRING, arrow.LARGE_BINARY, arrow.LARGE_STRING, arrow.BINARY_VIEW, arrow.STRING_VIEW:
		return modeRaw, nil
	case arrow.FIXED_SIZE_BINARY:
		return modeFixed, nil
	}
	if err := jsonSupported(dt); err != nil {
		return modeNone, &ColumnError{Role: role, Column: name, Msg: fmt.Sprintf(
			"type %s cannot be encoded as JSON: %v (binary and string columns are sent as they are)", dt, err)}
	}
	return modeJSON, nil
}

// checkHeaders accepts list<struct<name, value>> (any field names, the
// first a string, the second binary or string), its large_list form, and
// map<string, binary|string>.
func checkHeaders(dt arrow.DataType) error {
	var elem arrow.DataType
	switch t := dt.(type) {
	case *arrow.MapType:
		elem = t.Elem()
	case *arrow.ListType:
		elem = t.Elem()
	case *arrow.LargeListType:
		elem = t.Elem()
	default:
		return fmt.Errorf("want list<struct<key: string, value: binary>> or map<string, binary>")
	}
	st, ok := elem.(*arrow.StructType)
	if !ok || st.NumFields() != 2 {
		return fmt.Errorf("want list elements struct<key: string, value: binary>, got %s", elem)
	}
	switch st.Field(0).Type.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW, arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW:
	default:
		return fmt.Errorf("header names must be strings, got %s", st.Field(0).Type)
	}
	switch st.Field(1).Type.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW, arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW, arrow.NULL:
	default:
		return fmt.Errorf("header values must be binary or strings, got %s", st.Field(1).Type)
	}
	return nil
}

// Columns lists the roles and the columns that fill them, for messages.
func (p *Plan) Columns() string {
	var out []string
	for _, r := range []struct {
		role string
		c    colRef
	}{{"key", p.key}, {"value", p.value}, {"timestamp", p.ts}, {"partition", p.part}, {"headers", p.hdr}} {
		if r.c.idx >= 0 {
			out = append(out, fmt.Sprintf("%s=%q", r.role, r.c.name))
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}
