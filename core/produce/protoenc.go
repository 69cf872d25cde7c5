package produce

// protoenc.go: Arrow values as Protobuf messages (the binary wire format),
// written into a message type the user gives: a FileDescriptorSet, or the
// latest schema of a registry subject. Unlike Avro, no schema is derived
// from the Arrow type: Protobuf readers match fields by number, and the
// numbers are the user's.
//
// The column is a struct; its fields are matched to the message's fields
// by name, at any depth. A struct field the message does not have fails
// the plan (naming it and the message's fields): nothing is dropped
// silently. Message fields the struct does not have are not written
// (absent: null or the default when read back).
//
// Which Arrow types each field kind takes (dictionary arrays are read
// through their dictionary):
//
//	int32, sint32, sfixed32, int64, sint64,   any integer type (a value
//	sfixed64, uint32, fixed32, uint64, fixed64  out of the field's range
//	                                          fails its row)
//	bool                                      bool
//	float, double                             float16, float32, float64
//	string                                    utf8, large_utf8, utf8_view
//	bytes                                     binary (any layout),
//	                                          fixed_size_binary, strings
//	enum                                      strings (value names, or
//	                                          numbers in decimal, as
//	                                          kafkars reads unknown ones)
//	                                          or integers (value numbers;
//	                                          a closed enum's must exist)
//	message, group                            struct
//	google.protobuf.Timestamp                 timestamp (any unit, zone)
//	google.protobuf.Duration                  duration (any unit)
//	google.protobuf.*Value (wrappers)         the wrapped type's
//	repeated T                                list, large_list,
//	                                          fixed_size_list of T
//	map<K, V>                                 map<K, V>
//
// Nulls: a null field with presence (optional, proto2, message, oneof
// member, wrapper) is not written. A null in a field without presence
// (a proto3 scalar without optional) fails its row: it would read back
// as 0 or "", not null. A null list or map is written as empty (the wire
// format cannot tell them apart); a null list item or map value fails its
// row. Two members of one oneof set in a row fail it.
//
// Output is canonical, as protobuf-go writes it: fields in number order,
// repeated scalars packed unless a proto2 field says otherwise, default
// values of fields without presence left out, both key and value of
// every map entry written.

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// wkt is a well-known message type written from a non-struct column.
type wkt uint8

const (
	wktNone wkt = iota
	wktTimestamp
	wktDuration
	wktWrapper
)

var protoWrappers = map[protoreflect.FullName]bool{
	"google.protobuf.DoubleValue": true, "google.protobuf.FloatValue": true,
	"google.protobuf.Int64Value": true, "google.protobuf.UInt64Value": true,
	"google.protobuf.Int32Value": true, "google.protobuf.UInt32Value": true,
	"google.protobuf.BoolValue": true, "google.protobuf.StringValue": true,
	"google.protobuf.BytesValue": true,
}

// protoVal says how one value (a singular field, a list item, a map key or
// value) is written.
type protoVal struct {
	kind  protoreflect.Kind
	wkt   wkt
	inner *protoVal // wktWrapper: the wrapped value (field 1)
	msg   *protoMsg // message and group kinds written from a struct
	enum  protoreflect.EnumDescriptor
}

type protoCard uint8

const (
	cardSingle protoCard = iota
	cardList
	cardMap
)

// protoField is one struct child written to one message field.
type protoField struct {
	name     string
	child    int // index of the struct child
	num      protowire.Number
	card     protoCard
	presence bool
	packed   bool
	oneof    int // index among the message's oneofs, -1 if none
	val      protoVal
	key      protoVal // cardMap
}

// protoMsg is a message type written from a struct type.
type protoMsg struct {
	name   protoreflect.FullName
	fields []protoField // in field-number order
	oneofs []string     // names of the oneofs with members in the struct
}

// ProtoEncoder writes rows of a struct column as messages of one type.
type ProtoEncoder struct {
	root *protoMsg
}

// NewProtoEncoder plans writing columns of type dt as messages md. It
// fails naming the first field that has no counterpart or whose type the
// field's kind does not take.
func NewProtoEncoder(dt arrow.DataType, md protoreflect.MessageDescriptor) (*ProtoEncoder, error) {
	if d, ok := dt.(*arrow.DictionaryType); ok {
		dt = d.ValueType
	}
	st, ok := dt.(*arrow.StructType)
	if !ok {
		return nil, fmt.Errorf("a Protobuf message is written from a struct column (one field per message field), got %s", dt)
	}
	m, err := planProtoMsg(st, md, "", 0)
	if err != nil {
		return nil, err
	}
	return &ProtoEncoder{root: m}, nil
}

// maxProtoDepth bounds nesting; Arrow types are finite, this only guards
// against absurd inputs.
const maxProtoDepth = 100

func planProtoMsg(st *arrow.StructType, md protoreflect.MessageDescriptor, path string, depth int) (*protoMsg, error) {
	if depth > maxProtoDepth {
		return nil, fmt.Errorf("%s: nested more than %d deep", orColumn(path, st), maxProtoDepth)
	}
	m := &protoMsg{name: md.FullName()}
	oneofs := map[protoreflect.FullName]int{}
	for j, f := range st.Fields() {
		fd := md.Fields().ByName(protoreflect.Name(f.Name))
		fpath := joinField(path, f.Name)
		if fd == nil {
			return nil, fmt.Errorf("field %s: message %s has no field %q; its fields are %s", fpath, md.FullName(), f.Name, protoFieldList(md))
		}
		pf := protoField{name: f.Name, child: j, num: fd.Number(), presence: fd.HasPresence(), oneof: -1}
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
			k, ok := oneofs[od.FullName()]
			if !ok {
				k = len(m.oneofs)
				oneofs[od.FullName()] = k
				m.oneofs = append(m.oneofs, string(od.Name()))
			}
			pf.oneof = k
		}
		ft := unDict(f.Type)
		var err error
		switch {
		case fd.IsMap():
			pf.card = cardMap
			mt, ok := ft.(*arrow.MapType)
			if !ok {
				return nil, protoTypeErr(fpath, ft, fd, "a map")
			}
			if pf.key, err = planProtoVal(mt.KeyType(), fd.MapKey(), fpath+"{key}", depth); err != nil {
				return nil, err
			}
			if pf.val, err = planProtoVal(mt.ItemType(), fd.MapValue(), fpath+"{}", depth); err != nil {
				return nil, err
			}
		case fd.IsList():
			pf.card = cardList
			pf.packed = fd.IsPacked()
			var elem arrow.DataType = arrow.Null // an all-null column: every row empty
			if ef, ok := listElemOf(ft); ok {
				elem = ef.Type
			} else if ft.ID() != arrow.NULL {
				return nil, protoTypeErr(fpath, ft, fd, "a list")
			}
			if elem.ID() != arrow.NULL {
				if pf.val, err = planProtoVal(elem, fd, fpath+"[]", depth); err != nil {
					return nil, err
				}
			}
		default:
			if ft.ID() == arrow.NULL {
				if !pf.presence {
					return nil, fmt.Errorf("field %s: the column is all null, but field %s of %s has no presence (declare it optional)", fpath, fd.Name(), md.FullName())
				}
				pf.val = protoVal{kind: fd.Kind()}
				break
			}
			if pf.val, err = planProtoVal(ft, fd, fpath, depth); err != nil {
				return nil, err
			}
		}
		m.fields = append(m.fields, pf)
	}
	sort.SliceStable(m.fields, func(a, b int) bool { return m.fields[a].num < m.fields[b].num })
	return m, nil
}

func protoFieldList(md protoreflect.MessageDescriptor) string {
	fs := md.Fields()
	if fs.Len() == 0 {
		return "none"
	}
	names := make([]string, fs.Len())
	for i := range names {
		names[i] = fmt.Sprintf("%q", fs.Get(i).Name())
	}
	return strings.Join(names, ", ")
}

func protoKindName(fd protoreflect.FieldDescriptor) string {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return string(fd.Message().FullName())
	case protoreflect.EnumKind:
		return "enum " + string(fd.Enum().FullName())
	}
	return fd.Kind().String()
}

func protoTypeErr(path string, dt arrow.DataType, fd protoreflect.FieldDescriptor, want string) error {
	what := protoKindName(fd)
	if fd.IsMap() {
		what = "map"
	} else if fd.IsList() {
		what = "repeated " + what
	}
	return fmt.Errorf("field %s: type %s cannot be written to Protobuf field %s (%s): want %s", path, dt, fd.Name(), what, want)
}

// planProtoVal checks that values of type dt can be written as fd's kind
// (one value: a list's item, a map's key or value) and plans how.
func planProtoVal(dt arrow.DataType, fd protoreflect.FieldDescriptor, path string, depth int) (protoVal, error) {
	dt = unDict(dt)
	v := protoVal{kind: fd.Kind()}
	ok := false
	want := ""
	switch fd.Kind() {
	case protoreflect.BoolKind:
		ok, want = dt.ID() == arrow.BOOL, "bool"
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind,
		protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		ok, want = isInteger(dt), "an integer type"
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		ok, want = arrow.IsFloating(dt.ID()), "a floating-point type"
	case protoreflect.StringKind:
		ok, want = isString(dt), "a string type"
	case protoreflect.BytesKind:
		ok, want = isBinary(dt), "a binary or string type"
	case protoreflect.EnumKind:
		v.enum = fd.Enum()
		ok, want = isString(dt) || isInteger(dt), "strings (value names) or integers (value numbers)"
	case protoreflect.MessageKind, protoreflect.GroupKind:
		md := fd.Message()
		if st, isStruct := dt.(*arrow.StructType); isStruct {
			m, err := planProtoMsg(st, md, path, depth+1)
			if err != nil {
				return v, err
			}
			v.msg = m
			return v, nil
		}
		switch {
		case md.FullName() == "google.protobuf.Timestamp":
			v.wkt = wktTimestamp
			ok, want = dt.ID() == arrow.TIMESTAMP, "a timestamp (or a struct of seconds and nanos)"
		case md.FullName() == "google.protobuf.Duration":
			v.wkt = wktDuration
			ok, want = dt.ID() == arrow.DURATION, "a duration (or a struct of seconds and nanos)"
		case protoWrappers[md.FullName()]:
			inner, err := planProtoVal(dt, md.Fields().ByNumber(1), path, depth+1)
			if err != nil {
				return v, err
			}
			v.wkt, v.inner = wktWrapper, &inner
			return v, nil
		default:
			want = "a struct"
		}
	}
	if !ok {
		return v, protoTypeErr(path, dt, fd, want)
	}
	return v, nil
}

// Append appends the message of row i of arr (not null) to buf.
func (e *ProtoEncoder) Append(buf []byte, arr arrow.Array, i int) ([]byte, error) {
	if d, ok := arr.(*array.Dictionary); ok {
		arr, i = d.Dictionary(), d.GetValueIndex(i)
	}
	out, err := e.root.append(buf, arr.(*array.Struct), i)
	if err != nil {
		if err.path == "" {
			err.msg = "the column: " + err.msg
		}
		return out, err
	}
	return out, nil
}

func (m *protoMsg) append(buf []byte, a *array.Struct, i int) ([]byte, *valueFail) {
	// oneof members written so far, by oneof: the struct child index + 1
	var seenArr [4]int
	var seen []int
	if n := len(m.oneofs); n > 0 {
		if n <= len(seenArr) {
			seen = seenArr[:n]
		} else {
			seen = make([]int, n)
		}
	}
	for k := range m.fields {
		f := &m.fields[k]
		col := a.Field(f.child)
		if col.IsNull(i) {
			if f.card == cardSingle && !f.presence {
				return buf, fail("null, but field %s of %s has no presence (a proto3 field without optional): it would read back as its default, not null", f.name, m.name).in(f.name)
			}
			continue
		}
		var err *valueFail
		switch f.card {
		case cardSingle:
			if f.oneof >= 0 {
				if prev := seen[f.oneof]; prev != 0 {
					other := a.DataType().(*arrow.StructType).Field(prev - 1).Name
					return buf, fail("fields %s and %s are both set, but they are members of oneof %s of %s: set one per row",
						other, f.name, m.oneofs[f.oneof], m.name)
				}
				seen[f.oneof] = f.child + 1
			}
			buf, err = f.appendSingle(buf, col, i)
		case cardList:
			lc, li := deref(col, i)
			buf, err = f.appendList(buf, lc, li)
		case cardMap:
			mc, mi := deref(col, i)
			buf, err = f.appendMap(buf, mc.(*array.Map), mi)
		}
		if err != nil {
			return buf, err.in(f.name)
		}
	}
	return buf, nil
}

func (f *protoField) appendSingle(buf []byte, col arrow.Array, i int) ([]byte, *valueFail) {
	col, i = deref(col, i)
	v := &f.val
	if !f.presence && v.msg == nil && v.wkt == wktNone {
		if v.kind == protoreflect.EnumKind {
			n, err := v.enumNumber(col, i)
			if err != nil {
				return buf, err
			}
			if n == 0 {
				return buf, nil
			}
			buf = protowire.AppendTag(buf, f.num, protowire.VarintType)
			return protowire.AppendVarint(buf, uint64(int64(n))), nil
		}
		if isDefault(col, i) {
			return buf, nil // proto3 implicit presence: the default is not written
		}
	}
	return v.appendTagged(buf, f.num, col, i)
}

// isDefault reports whether row i of col is the zero value of a scalar
// (what a field without presence leaves out; -0.0 is not, as in
// protobuf-go).
func isDefault(col arrow.Array, i int) bool {
	switch a := col.(type) {
	case *array.Boolean:
		return !a.Value(i)
	case *array.Float16, *array.Float32, *array.Float64:
		return math.Float64bits(floatValue(a, i)) == 0
	}
	if isBinary(col.DataType()) { // fixed_size_binary too: it has no ValueLen
		return len(bytesValue(col, i)) == 0
	}
	n, u := intValue(col, i)
	return n == 0 && u == 0
}

// appendTagged writes one value with its tag.
func (v *protoVal) appendTagged(buf []byte, num protowire.Number, col arrow.Array, i int) ([]byte, *valueFail) {
	col, i = deref(col, i)
	switch {
	case v.kind == protoreflect.GroupKind:
		buf = protowire.AppendTag(buf, num, protowire.StartGroupType)
		buf, err := v.msg.append(buf, col.(*array.Struct), i)
		if err != nil {
			return buf, err
		}
		return protowire.AppendTag(buf, num, protowire.EndGroupType), nil
	case v.kind == protoreflect.MessageKind:
		buf = protowire.AppendTag(buf, num, protowire.BytesType)
		return appendDelimited(buf, func(b []byte) ([]byte, *valueFail) { return v.appendMessage(b, col, i) })
	}
	buf = protowire.AppendTag(buf, num, wireType(v.kind))
	return v.appendScalar(buf, col, i)
}

// appendMessage writes the body of a message value (no tag, no length).
func (v *protoVal) appendMessage(buf []byte, col arrow.Array, i int) ([]byte, *valueFail) {
	if d, ok := col.(*array.Dictionary); ok {
		col, i = d.Dictionary(), d.GetValueIndex(i)
	}
	switch v.wkt {
	case wktTimestamp:
		a := col.(*array.Timestamp)
		sec, nanos := splitUnit(int64(a.Value(i)), a.DataType().(*arrow.TimestampType).Unit, true)
		if sec < -62135596800 || sec > 253402300799 {
			return buf, fail("timestamp %s is outside google.protobuf.Timestamp's range (years 1 to 9999)", a.ValueStr(i))
		}
		return appendSecondsNanos(buf, sec, nanos), nil
	case wktDuration:
		a := col.(*array.Duration)
		sec, nanos := splitUnit(int64(a.Value(i)), a.DataType().(*arrow.DurationType).Unit, false)
		if sec < -315576000000 || sec > 315576000000 {
			return buf, fail("duration %s is outside google.protobuf.Duration's range (10 000 years)", a.ValueStr(i))
		}
		return appendSecondsNanos(buf, sec, nanos), nil
	case wktWrapper:
		if isDefault(col, i) {
			return buf, nil // a present wrapper holding the default
		}
		return v.inner.appendTagged(buf, 1, col, i)
	}
	return v.msg.append(buf, col.(*array.Struct), i)
}

// splitUnit splits a count of unit into seconds and nanoseconds: for a
// timestamp nanos is in [0, 1e9); for a duration it has the sign of the
// seconds, as google.protobuf.Duration requires.
func splitUnit(x int64, unit arrow.TimeUnit, floor bool) (int64, int32) {
	per := int64(1)
	switch unit {
	case arrow.Millisecond:
		per = 1_000
	case arrow.Microsecond:
		per = 1_000_000
	case arrow.Nanosecond:
		per = 1_000_000_000
	}
	sec, rem := x/per, x%per
	if floor && rem < 0 {
		sec, rem = sec-1, rem+per
	}
	return sec, int32(rem * (1_000_000_000 / per))
}

func appendSecondsNanos(buf []byte, sec int64, nanos int32) []byte {
	if sec != 0 {
		buf = protowire.AppendTag(buf, 1, protowire.VarintType)
		buf = protowire.AppendVarint(buf, uint64(sec))
	}
	if nanos != 0 {
		buf = protowire.AppendTag(buf, 2, protowire.VarintType)
		buf = protowire.AppendVarint(buf, uint64(int64(nanos)))
	}
	return buf
}

// appendDelimited writes a length-prefixed body: one byte is reserved for
// the length, and the body moved when its length needs more.
func appendDelimited(buf []byte, body func([]byte) ([]byte, *valueFail)) ([]byte, *valueFail) {
	at := len(buf)
	buf = append(buf, 0)
	buf, err := body(buf)
	if err != nil {
		return buf, err
	}
	n := len(buf) - at - 1
	if n < 0x80 {
		buf[at] = byte(n)
		return buf, nil
	}
	k := protowire.SizeVarint(uint64(n))
	buf = append(buf, make([]byte, k-1)...)
	copy(buf[at+k:], buf[at+1:at+1+n])
	protowire.AppendVarint(buf[at:at], uint64(n))
	return buf, nil
}

func wireType(k protoreflect.Kind) protowire.Type {
	switch k {
	case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind, protoreflect.FloatKind:
		return protowire.Fixed32Type
	case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind, protoreflect.DoubleKind:
		return protowire.Fixed64Type
	case protoreflect.StringKind, protoreflect.BytesKind, protoreflect.MessageKind:
		return protowire.BytesType
	case protoreflect.GroupKind:
		return protowire.StartGroupType
	}
	return protowire.VarintType
}

// appendScalar writes one scalar value without its tag.
func (v *protoVal) appendScalar(buf []byte, col arrow.Array, i int) ([]byte, *valueFail) {
	if d, ok := col.(*array.Dictionary); ok {
		col, i = d.Dictionary(), d.GetValueIndex(i)
	}
	switch v.kind {
	case protoreflect.BoolKind:
		if col.(*array.Boolean).Value(i) {
			return append(buf, 1), nil
		}
		return append(buf, 0), nil
	case protoreflect.FloatKind:
		x := floatValue(col, i)
		if math.Abs(x) > math.MaxFloat32 && !math.IsInf(x, 0) {
			return buf, fail("%g does not fit Protobuf's float", x)
		}
		return binary.LittleEndian.AppendUint32(buf, math.Float32bits(float32(x))), nil
	case protoreflect.DoubleKind:
		return binary.LittleEndian.AppendUint64(buf, math.Float64bits(floatValue(col, i))), nil
	case protoreflect.StringKind, protoreflect.BytesKind:
		b := bytesValue(col, i)
		buf = protowire.AppendVarint(buf, uint64(len(b)))
		return append(buf, b...), nil
	case protoreflect.EnumKind:
		n, err := v.enumNumber(col, i)
		if err != nil {
			return buf, err
		}
		return protowire.AppendVarint(buf, uint64(int64(n))), nil
	}
	n, u := intValue(col, i)
	lo, hi, name := intRange(v.kind)
	if u != 0 {
		if v.kind != protoreflect.Uint64Kind && v.kind != protoreflect.Fixed64Kind {
			return buf, fail("%d does not fit Protobuf's %s", u, name)
		}
	} else if n < lo || n > hi {
		return buf, fail("%d does not fit Protobuf's %s", n, name)
	}
	switch v.kind {
	case protoreflect.Sint32Kind, protoreflect.Sint64Kind:
		return protowire.AppendVarint(buf, protowire.EncodeZigZag(n)), nil
	case protoreflect.Sfixed32Kind, protoreflect.Fixed32Kind:
		return binary.LittleEndian.AppendUint32(buf, uint32(n)), nil
	case protoreflect.Sfixed64Kind:
		return binary.LittleEndian.AppendUint64(buf, uint64(n)), nil
	case protoreflect.Fixed64Kind:
		if u != 0 {
			return binary.LittleEndian.AppendUint64(buf, u), nil
		}
		return binary.LittleEndian.AppendUint64(buf, uint64(n)), nil
	case protoreflect.Uint64Kind:
		if u != 0 {
			return protowire.AppendVarint(buf, u), nil
		}
	}
	return protowire.AppendVarint(buf, uint64(n)), nil // int32 negatives: sign-extended, as the encoding says
}

// intRange is the range of an integer kind (uint64's upper half is
// checked apart).
func intRange(k protoreflect.Kind) (lo, hi int64, name string) {
	switch k {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return math.MinInt32, math.MaxInt32, k.String()
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return 0, math.MaxUint32, k.String()
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return 0, math.MaxInt64, k.String()
	}
	return math.MinInt64, math.MaxInt64, k.String()
}

// enumNumber is the number of an enum value given by name or number.
func (v *protoVal) enumNumber(col arrow.Array, i int) (int32, *valueFail) {
	vals := v.enum.Values()
	if isString(col.DataType()) {
		name := bytesValue(col, i)
		if ev := vals.ByName(protoreflect.Name(name)); ev != nil {
			return int32(ev.Number()), nil
		}
		// a number the reader's enum did not know, as kafkars reads it
		if n, err := strconv.ParseInt(string(name), 10, 32); err == nil {
			if !v.enum.IsClosed() || vals.ByNumber(protoreflect.EnumNumber(n)) != nil {
				return int32(n), nil
			}
		}
		return 0, fail("%q is not a value of enum %s (%s)", name, v.enum.FullName(), enumNames(v.enum))
	}
	n, u := intValue(col, i)
	if u != 0 || n < math.MinInt32 || n > math.MaxInt32 {
		return 0, fail("%s does not fit an enum number (int32)", col.ValueStr(i))
	}
	if v.enum.IsClosed() && vals.ByNumber(protoreflect.EnumNumber(n)) == nil {
		return 0, fail("%d is not a value of closed enum %s (%s)", n, v.enum.FullName(), enumNames(v.enum))
	}
	return int32(n), nil
}

func enumNames(ed protoreflect.EnumDescriptor) string {
	vals := ed.Values()
	names := make([]string, 0, min(vals.Len(), 10))
	for i := 0; i < vals.Len() && i < 10; i++ {
		names = append(names, fmt.Sprintf("%s=%d", vals.Get(i).Name(), vals.Get(i).Number()))
	}
	if vals.Len() > 10 {
		names = append(names, "...")
	}
	return strings.Join(names, ", ")
}

func (f *protoField) appendList(buf []byte, col arrow.Array, i int) ([]byte, *valueFail) {
	if col.DataType().ID() == arrow.NULL {
		return buf, nil
	}
	l := col.(array.ListLike)
	start, end := l.ValueOffsets(i)
	if end <= start {
		return buf, nil
	}
	vals := l.ListValues()
	for j := int(start); j < int(end); j++ {
		if vals.IsNull(j) {
			return buf, fail("item %d is null, but Protobuf repeated fields cannot hold nulls", j-int(start)).in("[]")
		}
	}
	if f.packed && wireType(f.val.kind) != protowire.BytesType && f.val.kind != protoreflect.GroupKind {
		buf = protowire.AppendTag(buf, f.num, protowire.BytesType)
		return appendDelimited(buf, func(b []byte) ([]byte, *valueFail) {
			var err *valueFail
			for j := int(start); j < int(end); j++ {
				if b, err = f.val.appendScalar(b, vals, j); err != nil {
					return b, err.in("[]")
				}
			}
			return b, nil
		})
	}
	var err *valueFail
	for j := int(start); j < int(end); j++ {
		if buf, err = f.val.appendTagged(buf, f.num, vals, j); err != nil {
			return buf, err.in("[]")
		}
	}
	return buf, nil
}

func (f *protoField) appendMap(buf []byte, a *array.Map, i int) ([]byte, *valueFail) {
	start, end := a.ValueOffsets(i)
	keys, items := a.Keys(), a.Items()
	for j := int(start); j < int(end); j++ {
		if items.IsNull(j) {
			return buf, fail("the value of entry %d is null, but Protobuf map values cannot be null", j-int(start)).in("{}")
		}
		buf = protowire.AppendTag(buf, f.num, protowire.BytesType)
		var err *valueFail
		buf, err = appendDelimited(buf, func(b []byte) ([]byte, *valueFail) {
			var err *valueFail
			if b, err = f.key.appendTagged(b, 1, keys, j); err != nil {
				return b, err.in("{key}")
			}
			if b, err = f.val.appendTagged(b, 2, items, j); err != nil {
				return b, err.in("{}")
			}
			return b, nil
		})
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}
