package avrodec

import (
	"encoding/hex"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
)

// rkind is what the second phase appends for a reader schema node: one
// case per Arrow column kind it produces.
type rkind uint8

const (
	rNull rkind = iota
	rBool
	rInt32
	rDate32
	rTime32
	rInt64
	rTime64
	rTimestamp
	rFloat32
	rFloat64
	rString // string, uuid string, and (through bytes->string) bytes
	rBinary
	rFixed
	rUUIDFixed // fixed(16) uuid, appended as its canonical text
	rEnum      // appended as the symbol text
	rDecimal128
	rDecimal256
	rRecord
	rList
	rMap
	rOptional // [null, T]: nullable T
	rUnion    // several non-null branches: struct with one field per branch
)

// rnode is one node of the reader schema with its Arrow type and, once
// bound, its builder. Every occurrence of a named type gets its own rnode
// because each has its own builder.
//
// The tape (see parse.go) holds, per rnode kind:
//
//	scalars, enum (reader symbol index)   1 slot
//	string, bytes, fixed                   1 slot: a span (see span)
//	decimal128 / decimal256                2 / 4 slots, low word first
//	null                                   nothing
//	record                                 its fields in reader order
//	list                                   item count, then the items
//	map                                    entry count, then key span and value per entry
//	optional, union                        tag (0 null, i+1 the i-th non-null branch), then the branch
type rnode struct {
	kind rkind
	s    *snode // the reader schema node (the union, for optional and union)
	dt   arrow.DataType
	// nullable: the Arrow field holding this node is nullable (a union
	// with a null branch).
	nullable bool

	fields []*rnode // record fields, union branches (non-null, in order)
	names  []string // record field names, union branch field names
	elem   *rnode   // list item, map value, optional value
	alts   []*rnode // optional: {elem}; union: fields. The non-null branches.
	altS   []*snode // the reader schema of each alt

	symbols [][]byte // enum symbols

	// defaults holds, per record field, the tape slots of its default
	// value, made the first time a writer schema lacks the field.
	defaults    [][]uint64
	defaultsErr []error

	b   array.Builder // bound builder
	key *array.StringBuilder
}

const maxDecimalPrecision = 76 // decimal256

// buildReader makes the reader tree for schema node s.
func buildReader(s *snode, path string) (*rnode, error) {
	r := &rnode{s: s}
	switch s.kind {
	case kNull:
		r.kind, r.dt, r.nullable = rNull, arrow.Null, true
	case kBoolean:
		r.kind, r.dt = rBool, arrow.FixedWidthTypes.Boolean
	case kInt:
		switch s.logical {
		case "date":
			r.kind, r.dt = rDate32, arrow.FixedWidthTypes.Date32
		case "time-millis":
			r.kind, r.dt = rTime32, arrow.FixedWidthTypes.Time32ms
		default:
			r.kind, r.dt = rInt32, arrow.PrimitiveTypes.Int32
		}
	case kLong:
		r.kind = rTimestamp
		switch s.logical {
		case "time-micros":
			r.kind, r.dt = rTime64, arrow.FixedWidthTypes.Time64us
		case "timestamp-millis":
			r.dt = &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}
		case "timestamp-micros":
			r.dt = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
		case "timestamp-nanos":
			r.dt = &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}
		case "local-timestamp-millis":
			r.dt = &arrow.TimestampType{Unit: arrow.Millisecond}
		case "local-timestamp-micros":
			r.dt = &arrow.TimestampType{Unit: arrow.Microsecond}
		case "local-timestamp-nanos":
			r.dt = &arrow.TimestampType{Unit: arrow.Nanosecond}
		default:
			r.kind, r.dt = rInt64, arrow.PrimitiveTypes.Int64
		}
	case kFloat:
		r.kind, r.dt = rFloat32, arrow.PrimitiveTypes.Float32
	case kDouble:
		r.kind, r.dt = rFloat64, arrow.PrimitiveTypes.Float64
	case kString:
		r.kind, r.dt = rString, arrow.BinaryTypes.String
	case kBytes, kFixed:
		switch {
		case s.logical == "decimal":
			if err := r.setDecimal(s, path); err != nil {
				return nil, err
			}
		case s.logical == "uuid":
			r.kind, r.dt = rUUIDFixed, arrow.BinaryTypes.String
		case s.kind == kFixed:
			r.kind, r.dt = rFixed, &arrow.FixedSizeBinaryType{ByteWidth: s.size}
		default:
			r.kind, r.dt = rBinary, arrow.BinaryTypes.Binary
		}
	case kEnum:
		r.kind, r.dt = rEnum, arrow.BinaryTypes.String
		for _, sym := range s.symbols {
			r.symbols = append(r.symbols, []byte(sym))
		}
	case kRecord:
		r.kind = rRecord
		fields := make([]arrow.Field, len(s.fields))
		for i, f := range s.fields {
			c, err := buildReader(f.typ, joinPath(path, f.name))
			if err != nil {
				return nil, err
			}
			r.fields = append(r.fields, c)
			r.names = append(r.names, f.name)
			fields[i] = arrow.Field{Name: f.name, Type: c.dt, Nullable: c.nullable}
		}
		r.dt = arrow.StructOf(fields...)
		r.defaults = make([][]uint64, len(s.fields))
		r.defaultsErr = make([]error, len(s.fields))
	case kArray:
		c, err := buildReader(s.items, path+"[]")
		if err != nil {
			return nil, err
		}
		r.kind, r.elem = rList, c
		r.dt = arrow.ListOfField(arrow.Field{Name: "item", Type: c.dt, Nullable: c.nullable})
	case kMap:
		c, err := buildReader(s.values, path+"{}")
		if err != nil {
			return nil, err
		}
		r.kind, r.elem = rMap, c
		mt := arrow.MapOf(arrow.BinaryTypes.String, c.dt)
		mt.SetItemNullable(c.nullable)
		r.dt = mt
	case kUnion:
		return buildUnion(s, path)
	}
	return r, nil
}

func (r *rnode) setDecimal(s *snode, path string) error {
	if s.precision > maxDecimalPrecision {
		return fmt.Errorf("%s: decimal precision %d is more than Arrow's decimal256 holds (%d)", orTop(path), s.precision, maxDecimalPrecision)
	}
	if s.precision > 38 {
		r.kind, r.dt = rDecimal256, &arrow.Decimal256Type{Precision: int32(s.precision), Scale: int32(s.scale)}
	} else {
		r.kind, r.dt = rDecimal128, &arrow.Decimal128Type{Precision: int32(s.precision), Scale: int32(s.scale)}
	}
	return nil
}

func orTop(path string) string {
	if path == "" {
		return "the top level"
	}
	return path
}

// buildUnion maps a union: [null] is a null column, [T] is T, [null, T]
// (either order) is a nullable T, and a union with several non-null
// branches is a struct with one nullable field per non-null branch, named
// after the branch type, of which only the chosen one is set (the struct
// itself is null when the null branch is chosen).
//
// That struct, rather than an Arrow union, because it is what the tools
// downstream can query: polars has no union type, pandas turns unions into
// Python objects, while every one of them (and DuckDB) reads struct
// fields, and `col.branch IS NOT NULL` tells which branch was written.
func buildUnion(s *snode, path string) (*rnode, error) {
	r := &rnode{s: s}
	hasNull := false
	for _, b := range s.branches {
		if b.kind == kNull {
			hasNull = true
			continue
		}
		c, err := buildReader(b, path)
		if err != nil {
			return nil, err
		}
		r.alts = append(r.alts, c)
		r.altS = append(r.altS, b)
	}
	switch {
	case len(r.alts) == 0: // [null]
		r.kind, r.dt, r.nullable = rOptional, arrow.Null, true
		r.elem = &rnode{kind: rNull, dt: arrow.Null, nullable: true, s: s.branches[0]}
		return r, nil
	case len(r.alts) == 1 && !hasNull: // [T]
		r.kind, r.elem, r.dt = rOptional, r.alts[0], r.alts[0].dt
		return r, nil
	case len(r.alts) == 1:
		r.kind, r.elem, r.dt, r.nullable = rOptional, r.alts[0], r.alts[0].dt, true
		return r, nil
	}
	r.kind, r.nullable, r.fields = rUnion, hasNull, r.alts
	r.names = branchNames(r.altS)
	fields := make([]arrow.Field, len(r.alts))
	for i, c := range r.alts {
		fields[i] = arrow.Field{Name: r.names[i], Type: c.dt, Nullable: true}
	}
	r.dt = arrow.StructOf(fields...)
	return r, nil
}

// branchNames names union branches: the Avro type name of unnamed types
// (Avro allows one of each in a union), the short name of named types,
// the full name where two short names collide.
func branchNames(bs []*snode) []string {
	names := make([]string, len(bs))
	count := map[string]int{}
	for i, b := range bs {
		switch b.kind {
		case kRecord, kEnum, kFixed:
			names[i] = shortName(b.name)
		default:
			names[i] = b.kind.String()
		}
		count[names[i]]++
	}
	for i, b := range bs {
		if count[names[i]] > 1 && b.name != "" {
			names[i] = b.name
		}
	}
	return names
}

// bind points every rnode at its builder under b (a builder of r.dt).
func (r *rnode) bind(b array.Builder) {
	r.b = b
	switch r.kind {
	case rRecord, rUnion:
		sb := b.(*array.StructBuilder)
		for i, f := range r.fields {
			f.bind(sb.FieldBuilder(i))
		}
	case rList:
		r.elem.bind(b.(*array.ListBuilder).ValueBuilder())
	case rMap:
		mb := b.(*array.MapBuilder)
		r.key = mb.KeyBuilder().(*array.StringBuilder)
		r.elem.bind(mb.ItemBuilder())
	case rOptional:
		r.elem.bind(b)
	}
}

// appendBinary is b.Append(v), minus the Reserve calls when b has room
// for one more value of len(v) bytes (UnsafeAppend still grows offsets).
func appendBinary(b *array.BinaryBuilder, v []byte) {
	if b.Len() < b.Cap() && b.DataCap()-b.DataLen() >= len(v) {
		b.UnsafeAppend(v)
	} else {
		b.Append(v)
	}
}

// emit appends the value whose slots start at tape[t] and returns the
// index after them. It cannot fail: the first phase checked everything.
func (d *Decoder) emit(r *rnode, t int) int {
	tape := d.tape
	switch r.kind {
	case rNull:
		r.b.AppendNull()
		return t
	// Where the builder has room (reserved up front, or grown by an
	// earlier append) the Unsafe appends skip a Reserve call per value.
	case rBool:
		r.b.(*array.BooleanBuilder).Append(tape[t] != 0)
	case rInt32:
		b := r.b.(*array.Int32Builder)
		if b.Len() < b.Cap() {
			b.UnsafeAppend(int32(tape[t]))
		} else {
			b.Append(int32(tape[t]))
		}
	case rDate32:
		r.b.(*array.Date32Builder).Append(arrow.Date32(int32(tape[t])))
	case rTime32:
		r.b.(*array.Time32Builder).Append(arrow.Time32(int32(tape[t])))
	case rInt64:
		b := r.b.(*array.Int64Builder)
		if b.Len() < b.Cap() {
			b.UnsafeAppend(int64(tape[t]))
		} else {
			b.Append(int64(tape[t]))
		}
	case rTime64:
		r.b.(*array.Time64Builder).Append(arrow.Time64(int64(tape[t])))
	case rTimestamp:
		b := r.b.(*array.TimestampBuilder)
		if b.Len() < b.Cap() {
			b.UnsafeAppend(arrow.Timestamp(int64(tape[t])))
		} else {
			b.Append(arrow.Timestamp(int64(tape[t])))
		}
	case rFloat32:
		r.b.(*array.Float32Builder).Append(f32frombits(tape[t]))
	case rFloat64:
		b := r.b.(*array.Float64Builder)
		if b.Len() < b.Cap() {
			b.UnsafeAppend(f64frombits(tape[t]))
		} else {
			b.Append(f64frombits(tape[t]))
		}
	case rString:
		appendBinary(r.b.(*array.StringBuilder).BinaryBuilder, d.span(tape[t]))
	case rBinary:
		appendBinary(r.b.(*array.BinaryBuilder), d.span(tape[t]))
	case rFixed:
		r.b.(*array.FixedSizeBinaryBuilder).Append(d.span(tape[t]))
	case rUUIDFixed:
		u := d.span(tape[t])
		buf := d.uuid[:]
		hex.Encode(buf[0:8], u[0:4])
		buf[8] = '-'
		hex.Encode(buf[9:13], u[4:6])
		buf[13] = '-'
		hex.Encode(buf[14:18], u[6:8])
		buf[18] = '-'
		hex.Encode(buf[19:23], u[8:10])
		buf[23] = '-'
		hex.Encode(buf[24:36], u[10:16])
		r.b.(*array.StringBuilder).BinaryBuilder.Append(buf)
	case rEnum:
		appendBinary(r.b.(*array.StringBuilder).BinaryBuilder, r.symbols[tape[t]])
	case rDecimal128:
		r.b.(*array.Decimal128Builder).Append(decimal128.New(int64(tape[t+1]), tape[t]))
		return t + 2
	case rDecimal256:
		r.b.(*array.Decimal256Builder).Append(decimal256.New(tape[t+3], tape[t+2], tape[t+1], tape[t]))
		return t + 4
	case rRecord:
		r.b.(*array.StructBuilder).Append(true)
		for _, f := range r.fields {
			t = d.emit(f, t)
		}
		return t
	case rList:
		n := int(tape[t])
		t++
		r.b.(*array.ListBuilder).Append(true)
		for range n {
			t = d.emit(r.elem, t)
		}
		return t
	case rMap:
		n := int(tape[t])
		t++
		r.b.(*array.MapBuilder).Append(true)
		for range n {
			r.key.BinaryBuilder.Append(d.span(tape[t]))
			t = d.emit(r.elem, t+1)
		}
		return t
	case rOptional:
		if tape[t] == 0 {
			r.b.AppendNull()
			return t + 1
		}
		return d.emit(r.elem, t+1)
	case rUnion:
		tag := int(tape[t])
		t++
		sb := r.b.(*array.StructBuilder)
		if tag == 0 {
			sb.AppendNull()
			return t
		}
		sb.Append(true)
		for i, f := range r.fields {
			if i+1 == tag {
				t = d.emit(f, t)
			} else {
				f.b.AppendNull()
			}
		}
		return t
	}
	return t + 1
}
