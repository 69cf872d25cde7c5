package core

// layout.go: what a batch holds beyond the message columns, fixed for the
// life of a manager: the headers layout, the ordering timestamp, the late
// record policy, and typed (decoded) key and value columns.

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/kafkars/kafkars/core/decode"
)

// LatePolicy is what happens to late records: records whose timestamp is
// below the running maximum of their partition (docs/design.md, "Order
// key").
type LatePolicy string

const (
	// LateKeep keeps them in place with their own timestamp (the default):
	// the timestamp column can go backwards at a late record.
	LateKeep LatePolicy = "keep"
	// LateRewrite keeps them in place but writes the ordering timestamp to
	// the timestamp column, and the record's own timestamp to
	// original_timestamp: the timestamp column never goes backwards.
	LateRewrite LatePolicy = "rewrite"
	// LateDrop drops them; they are counted (late_messages).
	LateDrop LatePolicy = "drop"
)

// HeadersLayout is the type of the headers column.
type HeadersLayout string

const (
	HeadersNone HeadersLayout = ""     // no headers column
	HeadersList HeadersLayout = "list" // list<struct<key: utf8, value: binary>>: order and duplicates kept
	HeadersMap  HeadersLayout = "map"  // map<utf8, binary>: the same entries, as Arrow's map type
)

// ErrorPolicy is what happens to a record whose key or value does not
// decode (docs/design.md, "Typed values").
type ErrorPolicy string

const (
	// OnErrorRaise fails the manager at the record: the rows before it
	// are returned, then the next poll raises an error that names the
	// topic, partition, offset and cause. The default.
	OnErrorRaise ErrorPolicy = "raise"
	// OnErrorNull keeps the row with a null typed column and the error
	// text in the decode_error column.
	OnErrorNull ErrorPolicy = "null"
	// OnErrorSkip drops the row; it is counted (malformed_records).
	OnErrorSkip ErrorPolicy = "skip"
)

// Format declares how one topic's keys or values are encoded and where the
// decoded rows go. The engine only needs the column name and the policies;
// the format parameters are read by the decoder factory of the wiring
// layer (core/kafka).
type Format struct {
	Format string `json:"format"` // "json", "avro" or "protobuf"
	// Column is the name of the struct column of decoded rows. Default:
	// the topic name for values, "<topic>_key" for keys.
	Column  string      `json:"column"`
	OnError ErrorPolicy `json:"on_error"` // default raise
	// KeepRaw keeps the raw bytes in the key or value column (default
	// true); false leaves them null for this topic's rows, saving memory.
	KeepRaw *bool `json:"keep_raw"`

	// JSON: the Arrow schema of the rows, IPC-serialised (base64 in JSON).
	ArrowSchema []byte `json:"arrow_schema"`
	// Avro: the schema (reader schema; with raw framing also the writer's).
	Schema string `json:"schema"`
	// Avro and Protobuf: "raw" or "confluent" (magic byte, schema id).
	// Default: confluent with a registry, raw without.
	Framing string `json:"framing"`
	// Registry is the schema registry of Confluent-framed records.
	Registry *RegistrySpec `json:"registry"`
	// Subject whose latest schema is the reader schema (default
	// "<topic>-value" or "<topic>-key" when a registry is given and no
	// schema).
	Subject string `json:"subject"`
	// Protobuf: the full name of the message type, and a serialised
	// FileDescriptorSet (base64 in JSON) when no registry is used.
	Message     string `json:"message"`
	Descriptors []byte `json:"descriptors"`
}

// RegistrySpec locates a Confluent-compatible schema registry.
type RegistrySpec struct {
	URL         string `json:"url"`          // comma-separated list, tried in order
	BasicAuth   string `json:"basic_auth"`   // "user:password"
	BearerToken string `json:"bearer_token"` //
	TimeoutMs   int    `json:"timeout_ms"`   // per request; 0: the client's default (10 s)
	CAFile      string `json:"ca_file"`      // PEM file added to the system roots
}

// keepRaw reports whether raw bytes stay in the message column.
func (f *Format) keepRaw() bool { return f == nil || f.KeepRaw == nil || *f.KeepRaw }

// validate checks a format declaration without building a decoder.
func (f *Format) validate(topic, which string) error {
	where := fmt.Sprintf("topic %q: %s format", topic, which)
	switch f.OnError {
	case "", OnErrorRaise, OnErrorNull, OnErrorSkip:
	default:
		return errInvalid("%s: on_error must be 'raise', 'null' or 'skip', got %q", where, string(f.OnError))
	}
	switch f.Framing {
	case "", "raw", "confluent":
	default:
		return errInvalid("%s: framing must be 'raw' or 'confluent', got %q", where, f.Framing)
	}
	// members that do not apply to the format are errors, not silently
	// ignored: a typo'd format must not drop the user's schema
	type member struct {
		name string
		set  bool
		ok   []string // formats it applies to
	}
	members := []member{
		{"arrow_schema", len(f.ArrowSchema) > 0, []string{"json"}},
		{"schema", f.Schema != "", []string{"avro"}},
		{"framing", f.Framing != "", []string{"avro", "protobuf"}},
		{"registry", f.Registry != nil, []string{"avro", "protobuf"}},
		{"subject", f.Subject != "", []string{"avro", "protobuf"}},
		{"message", f.Message != "", []string{"protobuf"}},
		{"descriptors", len(f.Descriptors) > 0, []string{"protobuf"}},
	}
	switch f.Format {
	case "json", "avro", "protobuf":
	default:
		return errInvalid("%s: unknown format %q (expected json, avro or protobuf)", where, f.Format)
	}
	for _, m := range members {
		if !m.set {
			continue
		}
		ok := false
		for _, g := range m.ok {
			ok = ok || g == f.Format
		}
		if !ok {
			return errInvalid("%s: %q does not apply to %s (it is for %s)", where, m.name, f.Format, strings.Join(m.ok, ", "))
		}
	}
	if f.Registry != nil && strings.TrimSpace(f.Registry.URL) == "" {
		return errInvalid("%s: registry.url is empty", where)
	}
	switch f.Format {
	case "json":
		if len(f.ArrowSchema) == 0 {
			return errInvalid("%s: json needs an Arrow schema (arrow_schema)", where)
		}
	case "avro":
		if f.Schema == "" && f.Registry == nil {
			return errInvalid("%s: avro needs a schema, a registry, or both", where)
		}
		if f.Framing == "confluent" && f.Registry == nil {
			return errInvalid("%s: Confluent framing needs a registry to look writer schemas up", where)
		}
	case "protobuf":
		if len(f.Descriptors) == 0 && f.Registry == nil {
			return errInvalid("%s: protobuf needs descriptors (a FileDescriptorSet) or a registry", where)
		}
		if len(f.Descriptors) > 0 && f.Message == "" {
			return errInvalid("%s: protobuf with descriptors needs the message type's full name (message)", where)
		}
	}
	return nil
}

// TypedColumn is one column of decoded keys or values.
type TypedColumn struct {
	Name    string
	Topic   int32 // rank of the topic whose records it decodes
	Key     bool  // decodes keys (else values)
	OnError ErrorPolicy
	KeepRaw bool
	Decoder decode.Decoder
}

// baseColumns are the names of the message columns (and the optional ones
// kafkars adds), which typed columns may not take.
var baseColumns = []string{"key", "value", "topic", "partition", "offset", "timestamp",
	"headers", "ordering_timestamp", "original_timestamp", "decode_error"}

// ColumnName is the typed column name of a topic's key or value format.
func ColumnName(topic string, key bool, f *Format) string {
	if f.Column != "" {
		return f.Column
	}
	if key {
		return topic + "_key"
	}
	return topic
}

// checkColumns rejects typed column names that collide.
func checkColumns(topics []TopicSpec) error {
	owner := map[string]string{}
	for _, b := range baseColumns {
		owner[b] = "kafkars' own column"
	}
	for _, t := range topics {
		for _, kf := range []struct {
			f   *Format
			key bool
		}{{t.Value, false}, {t.Key, true}} {
			if kf.f == nil {
				continue
			}
			name := ColumnName(t.Name, kf.key, kf.f)
			what := fmt.Sprintf("topic %q's %s", t.Name, map[bool]string{true: "key", false: "value"}[kf.key])
			if o, taken := owner[name]; taken {
				return errInvalid("%s column %q is already %s: choose another name with column=...", what, name, o)
			}
			owner[name] = what + " column"
		}
	}
	return nil
}

// Layout is the shape of a manager's batches.
type Layout struct {
	Headers           HeadersLayout
	OrderingTimestamp bool // an ordering_timestamp column
	Late              LatePolicy
	Typed             []TypedColumn
	ErrorColumn       bool // a decode_error column (some typed column has on_error=null)
	// BinaryView makes key and value binary_view columns that point into
	// the merger's queue memory instead of copies (the merger must be set
	// up with SetViews).
	BinaryView bool
}

// HeadersMapType is map<utf8, binary>, the map layout of headers.
var HeadersMapType = arrow.MapOf(arrow.BinaryTypes.String, arrow.BinaryTypes.Binary)

// Schema returns the batch schema of the layout: the message columns, then
// headers, ordering_timestamp, original_timestamp, the typed columns and
// decode_error, each only when the layout has it.
func (l *Layout) Schema() *arrow.Schema {
	fs := append([]arrow.Field(nil), messageFields...)
	if l.BinaryView {
		fs[0].Type = arrow.BinaryTypes.BinaryView
		fs[1].Type = arrow.BinaryTypes.BinaryView
	}
	switch l.Headers {
	case HeadersList:
		fs = append(fs, arrow.Field{Name: "headers", Type: HeadersType})
	case HeadersMap:
		fs = append(fs, arrow.Field{Name: "headers", Type: HeadersMapType})
	}
	if l.OrderingTimestamp {
		fs = append(fs, arrow.Field{Name: "ordering_timestamp", Type: TimestampType})
	}
	if l.Late == LateRewrite {
		fs = append(fs, arrow.Field{Name: "original_timestamp", Type: TimestampType})
	}
	for _, c := range l.Typed {
		fs = append(fs, arrow.Field{Name: c.Name, Type: relaxed(c.Decoder.Type()), Nullable: true})
	}
	if l.ErrorColumn {
		fs = append(fs, arrow.Field{Name: "decode_error", Type: arrow.BinaryTypes.String, Nullable: true})
	}
	return arrow.NewSchema(fs, nil)
}

// relaxed is t with every field reachable through structs nullable. A
// typed column is null on the rows of other topics (and where a record did
// not decode), and a null struct row holds nulls in its struct children:
// a field a format declares required (an Avro field outside a union) must
// not say "not null" in the batch schema, or writers such as Parquet's
// reject the column. List elements and map keys keep their nullability: a
// null list has no elements.
func relaxed(t arrow.DataType) arrow.DataType {
	st, ok := t.(*arrow.StructType)
	if !ok {
		return t
	}
	fs := make([]arrow.Field, st.NumFields())
	for i, f := range st.Fields() {
		f.Nullable = true
		f.Type = relaxed(f.Type)
		fs[i] = f
	}
	return arrow.StructOf(fs...)
}

// retyped gives the data of a typed column the relaxed type (the same
// buffers: nullability is only in the type).
func retyped(d arrow.ArrayData, t arrow.DataType) arrow.ArrayData {
	st, ok := t.(*arrow.StructType)
	if !ok {
		d.Retain()
		return d
	}
	children := make([]arrow.ArrayData, len(d.Children()))
	for i, c := range d.Children() {
		children[i] = retyped(c, st.Field(i).Type)
	}
	out := array.NewData(t, d.Len(), d.Buffers(), children, d.NullN(), d.Offset())
	for _, c := range children {
		c.Release()
	}
	return out
}
