package jsondec

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"

	"github.com/kafkars/kafkars/core/decode"
)

// BinaryEncoding says how a JSON string becomes the bytes of a binary,
// large_binary or fixed_size_binary field.
type BinaryEncoding uint8

const (
	// Base64 decodes the string as base64 (standard or URL-safe
	// alphabet, with or without padding). This is how JSON producers
	// carry bytes: Jackson, Go's encoding/json, the Protobuf JSON
	// mapping and Kafka Connect's JsonConverter all write base64.
	Base64 BinaryEncoding = iota
	// RawString stores the UTF-8 bytes of the string itself.
	RawString
)

// DefaultMaxDepth is the nesting limit used when Options.MaxDepth is 0.
const DefaultMaxDepth = 128

// Options tune a Decoder. The zero value is the strict default.
type Options struct {
	// DisallowUnknownMembers makes a member whose name is not a field of
	// its struct malformed. Default false: unknown members are checked
	// to be well-formed JSON and otherwise ignored, so producers can add
	// members before consumers know about them.
	DisallowUnknownMembers bool

	// ZeroForMissing gives a non-nullable field whose member is missing
	// or null the zero value of its type (0, false, "", empty list, a
	// struct of zero values, the epoch). Default false: such a record is
	// malformed. Nullable fields always become null.
	ZeroForMissing bool

	// QuotedNumbers also accepts integer and floating-point fields
	// written as JSON strings ("42", "1.5", and "NaN", "Infinity",
	// "-Infinity" for floats), as the Protobuf JSON mapping writes 64-bit
	// integers. Default false: those fields take JSON numbers only.
	// Decimal fields always accept numeric strings.
	QuotedNumbers bool

	// Binary is how strings become binary fields. Default Base64.
	Binary BinaryEncoding

	// TruncateTimestamps drops fraction-of-second digits finer than a
	// timestamp column's unit ("12:00:00.123456Z" into timestamp[ms]
	// becomes .123). Default false: a timestamp string with non-zero
	// digits the column cannot hold is malformed, because silently
	// losing them would make the value inexact.
	TruncateTimestamps bool

	// MaxDepth bounds the nesting of JSON objects and arrays in a record
	// (the record's own object is depth 1), including inside ignored
	// members. Deeper input is malformed instead of exhausting the stack.
	// Default (0): DefaultMaxDepth. New fails if the schema itself nests
	// deeper.
	MaxDepth int
}

// Decoder decodes JSON records into rows of one Arrow struct column. It
// implements decode.Decoder. A Decoder keeps scratch space between calls
// and must be used by one goroutine at a time.
type Decoder struct {
	typ      *arrow.StructType
	opts     Options
	root     *node
	maxDepth int

	bound *array.StructBuilder // the builder the plan is bound to

	// Per-record scratch, reused: the tape of values to append, the bytes
	// of strings that had to be unescaped or base64-decoded, the 256-bit
	// decimals, and the key of a member whose name had escapes.
	tape  []slot
	buf   []byte
	d256  []decimal256.Num
	keyb  []byte
	seen  []uint64 // field marks of structs wider than 64 fields
	field int      // the field found by member
	fail  failure
}

var _ decode.Decoder = (*Decoder)(nil)

// New makes a decoder of records into rows of type t. It fails, naming the
// field, if any field's type is not supported.
func New(t *arrow.StructType, opts Options) (*Decoder, error) {
	if t == nil {
		return nil, errors.New("jsondec: nil struct type")
	}
	if opts.MaxDepth < 0 {
		return nil, fmt.Errorf("jsondec: MaxDepth %d is negative", opts.MaxDepth)
	}
	if opts.Binary > RawString {
		return nil, fmt.Errorf("jsondec: unknown binary encoding %d", opts.Binary)
	}
	maxDepth := opts.MaxDepth
	if maxDepth == 0 {
		maxDepth = DefaultMaxDepth
	}
	root, depth, err := planStruct(t, "", "", false, 1)
	if err != nil {
		return nil, err
	}
	if depth > maxDepth {
		return nil, fmt.Errorf("jsondec: the schema nests %d levels deep, more than MaxDepth (%d)", depth, maxDepth)
	}
	return &Decoder{typ: t, opts: opts, root: root, maxDepth: maxDepth}, nil
}

// Type is the struct type of decoded rows.
func (d *Decoder) Type() *arrow.StructType { return d.typ }

// Append decodes one JSON record and appends it to b as one valid row. On
// error b is unchanged; errors caused by data wrap decode.ErrMalformed.
//
// The decoder binds itself to b's child builders on the first call with b
// and keeps the binding while b stays the same (a builder keeps its
// children across NewArray), so a decoder should serve one builder at a
// time: alternating builders re-binds on every switch.
func (d *Decoder) Append(b *array.StructBuilder, data []byte) error {
	if b != d.bound {
		if err := d.bind(b); err != nil {
			return err
		}
	}
	d.tape = d.tape[:0]
	d.buf = d.buf[:0]
	d.d256 = d.d256[:0]
	d.seen = d.seen[:0]
	d.fail.path = d.fail.path[:0]

	i := skipWS(data, 0)
	if i == len(data) {
		return decode.Malformed("empty record: expected a JSON object")
	}
	if data[i] != '{' {
		d.failf("expected a JSON object, got %s", describe(data, i))
		return d.error()
	}
	if i = d.parseStruct(d.root, data, i, 1); i < 0 {
		return d.error()
	}
	if i = skipWS(data, i); i != len(data) {
		d.syntax(i, "data after the JSON object")
		return d.error()
	}
	d.commit(data)
	return nil
}

func (d *Decoder) bind(b *array.StructBuilder) error {
	if b == nil {
		return errors.New("jsondec: nil builder")
	}
	if !arrow.TypeEqual(b.Type(), d.typ) {
		return fmt.Errorf("jsondec: builder type %s is not the decoder's type %s", b.Type(), d.typ)
	}
	if err := bind(d.root, b); err != nil {
		d.bound = nil
		return err
	}
	d.bound = b
	return nil
}

// slot is one entry of the tape: what to append to which node's builder.
// Parsing writes the whole record to the tape before anything touches a
// builder, so a record that fails halfway leaves no trace.
type slot struct {
	n  *node
	a  uint64 // the value; or the start of a string, or a d256 index
	b  uint64 // the length of a string; the high half of a decimal128
	op op
}

type op uint8

const (
	opValue op = iota // append the value in a (and b)
	opBuf             // a string whose bytes are in Decoder.buf
	opBegin           // begin a valid struct, list or map row
	opNull            // append null
	opZero            // append the type's zero value
)

// commit appends the tape to the builders. It cannot fail: every value was
// converted and checked while parsing.
func (d *Decoder) commit(data []byte) {
	tape := d.tape // a local, so the loop need not reload it after calls
	for i := range tape {
		s := &tape[i]
		n := s.n
		switch s.op {
		case opValue:
			switch n.kind {
			// The builders' Unsafe appends skip a reservation check
			// (with an indirect call) per value: use them when the
			// engine's up-front Reserve left room.
			case kString, kBinary:
				v, bb := data[s.a:s.a+s.b], n.bin
				if bb.Len() < bb.Cap() && bb.DataLen()+len(v) <= bb.DataCap() {
					bb.UnsafeAppend(v)
				} else {
					bb.Append(v)
				}
			case kFloat64:
				if bb := n.bld.(*array.Float64Builder); bb.Len() < bb.Cap() {
					bb.UnsafeAppend(math.Float64frombits(s.a))
				} else {
					bb.Append(math.Float64frombits(s.a))
				}
			case kInt64:
				if bb := n.bld.(*array.Int64Builder); bb.Len() < bb.Cap() {
					bb.UnsafeAppend(int64(s.a))
				} else {
					bb.Append(int64(s.a))
				}
			case kTimestamp:
				if bb := n.bld.(*array.TimestampBuilder); bb.Len() < bb.Cap() {
					bb.UnsafeAppend(arrow.Timestamp(s.a))
				} else {
					bb.Append(arrow.Timestamp(s.a))
				}
			case kBool:
				n.bld.(*array.BooleanBuilder).Append(s.a != 0)
			case kInt8:
				n.bld.(*array.Int8Builder).Append(int8(s.a))
			case kInt16:
				n.bld.(*array.Int16Builder).Append(int16(s.a))
			case kInt32:
				n.bld.(*array.Int32Builder).Append(int32(s.a))
			case kUint8:
				n.bld.(*array.Uint8Builder).Append(uint8(s.a))
			case kUint16:
				n.bld.(*array.Uint16Builder).Append(uint16(s.a))
			case kUint32:
				n.bld.(*array.Uint32Builder).Append(uint32(s.a))
			case kUint64:
				n.bld.(*array.Uint64Builder).Append(s.a)
			case kFloat32:
				n.bld.(*array.Float32Builder).Append(math.Float32frombits(uint32(s.a)))
			case kDate32:
				n.bld.(*array.Date32Builder).Append(arrow.Date32(s.a))
			case kDate64:
				n.bld.(*array.Date64Builder).Append(arrow.Date64(s.a))
			case kDecimal32:
				n.bld.(*array.Decimal32Builder).Append(decimal.Decimal32(s.a))
			case kDecimal64:
				n.bld.(*array.Decimal64Builder).Append(decimal.Decimal64(s.a))
			case kDecimal128:
				n.bld.(*array.Decimal128Builder).Append(decimal128.New(int64(s.b), s.a))
			case kDecimal256:
				n.bld.(*array.Decimal256Builder).Append(d.d256[s.a])
			case kFixedBinary:
				n.bld.(*array.FixedSizeBinaryBuilder).Append(data[s.a : s.a+s.b])
			}
		case opBuf:
			v := d.buf[s.a : s.a+s.b]
			if n.kind == kFixedBinary {
				n.bld.(*array.FixedSizeBinaryBuilder).Append(v)
			} else {
				n.bin.Append(v)
			}
		case opBegin:
			switch n.kind {
			case kStruct:
				n.bld.(*array.StructBuilder).Append(true)
			case kList:
				if n.large {
					n.bld.(*array.LargeListBuilder).Append(true)
				} else {
					n.bld.(*array.ListBuilder).Append(true)
				}
			case kFixedList:
				n.bld.(*array.FixedSizeListBuilder).Append(true)
			case kMap:
				n.bld.(*array.MapBuilder).Append(true)
			}
		case opNull:
			n.bld.AppendNull()
		case opZero:
			n.bld.AppendEmptyValue()
		}
	}
}

// failure is the error of the record being parsed: a message and the
// path to the value, innermost element first (it is collected while the
// parser unwinds, so the successful path pays nothing for it).
type failure struct {
	msg  string
	path []pathElem
}

type pathElem struct {
	name  string // a struct field, or a map key
	index int    // a list index, when name is empty and !key
	key   bool   // name is a map key
}

func (d *Decoder) failf(format string, args ...any) int {
	d.fail.msg = fmt.Sprintf(format, args...)
	return -1
}

// syntax records invalid JSON at offset i.
func (d *Decoder) syntax(i int, what string) int {
	return d.failf("invalid JSON at offset %d: %s", i, what)
}

// eof records input that ended inside the record.
func (d *Decoder) eof(i int) int {
	return d.failf("invalid JSON at offset %d: unexpected end of input", i)
}

func (d *Decoder) inField(name string) { d.fail.path = append(d.fail.path, pathElem{name: name}) }
func (d *Decoder) inIndex(i int)       { d.fail.path = append(d.fail.path, pathElem{index: i}) }
func (d *Decoder) inKey(k []byte) {
	const max = 40
	key := string(k)
	if len(key) > max {
		key = key[:max] + "..."
	}
	d.fail.path = append(d.fail.path, pathElem{name: key, key: true})
}

// error makes the malformed-record error of the current failure.
func (d *Decoder) error() error {
	if len(d.fail.path) == 0 {
		return decode.Malformed(d.fail.msg)
	}
	var sb strings.Builder
	sb.WriteString(`field "`)
	for i := len(d.fail.path) - 1; i >= 0; i-- {
		e := d.fail.path[i]
		switch {
		case e.key:
			sb.WriteString("[")
			sb.WriteString(strconv.Quote(e.name))
			sb.WriteString("]")
		case e.name != "":
			if i != len(d.fail.path)-1 {
				sb.WriteString(".")
			}
			sb.WriteString(e.name)
		default:
			sb.WriteString("[")
			sb.WriteString(strconv.Itoa(e.index))
			sb.WriteString("]")
		}
	}
	sb.WriteString(`": `)
	sb.WriteString(d.fail.msg)
	return decode.Malformed(sb.String())
}

// describe names the kind of JSON value that starts at s[i], for "expected
// X, got Y" messages.
func describe(s []byte, i int) string {
	if i >= len(s) {
		return "end of input"
	}
	switch c := s[i]; {
	case c == '"':
		return "a string"
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "a number"
	default:
		return fmt.Sprintf("invalid JSON %q at offset %d", c, i)
	}
}

// snippet quotes a value for a message, shortened if long.
func snippet(v []byte) string {
	const max = 40
	if len(v) > max {
		return string(v[:max]) + "..."
	}
	return string(v)
}
