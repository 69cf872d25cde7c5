package protodec

import (
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// A plan is the reader schema compiled for decoding: one msgPlan per place
// a message type occurs in the Arrow type (a tree, not a graph: a message
// type used by two fields gets two plans, because each place has its own
// Arrow builders). Plans are built once in New; Append only reads them,
// apart from the builder pointers that bind refreshes when the caller
// hands in a different StructBuilder.

// kind says how one value is appended to its Arrow builder. The wire-level
// work of pass 1 only needs the wire type; the kind decides the conversion
// in pass 2.
type kind uint8

const (
	kBool kind = iota
	kInt32
	kSint32
	kUint32
	kInt64
	kSint64
	kUint64
	kSfixed32
	kFixed32
	kFloat
	kSfixed64
	kFixed64
	kDouble
	kString
	kBytes
	kEnum
	kMessage   // a struct column
	kTimestamp // google.protobuf.Timestamp: a timestamp column
	kDuration  // google.protobuf.Duration: a duration column
	kWrapper   // google.protobuf.Int64Value & co.: the wrapped scalar's column
)

// cardinality of a field.
type card uint8

const (
	single card = iota
	list
	mapping
)

// valuePlan describes one value: a singular field, a list element, a map
// key or value.
type valuePlan struct {
	kind     kind
	wire     protowire.Type // wire type of one value (StartGroupType for groups)
	packable bool           // numeric: a repeated field may also arrive packed
	check    bool           // pass 1.5 must validate it (time types inside)
	defEnum  int32          // kEnum: the number written when the field is absent
	enum     *enumPlan
	msg      *msgPlan // kMessage, kTimestamp, kDuration, kWrapper (map: the entry)
	bld      array.Builder
}

// fieldPlan is one field of a message and one child of its struct column.
type fieldPlan struct {
	name     string
	num      protowire.Number
	card     card
	nullable bool  // the field has presence: null when absent
	oneof    int32 // index into msgPlan.oneofs, -1 if not in a (real) oneof
	val      valuePlan
	bld      array.Builder // the field's column: val.bld, or the list/map builder
}

// msgPlan is one message type at one place in the Arrow type.
type msgPlan struct {
	name   protoreflect.FullName
	fields []fieldPlan // declaration order = Arrow child order
	dense  []int32     // field number -> index in fields, -1 if unknown
	sparse []numIndex  // instead of dense when field numbers are spread out
	oneofs [][]int32   // members of each oneof, as indexes in fields
	st     *arrow.StructType
	check  bool // some field needs pass 1.5
}

type numIndex struct {
	num protowire.Number
	idx int32
}

// maxDense bounds the dense field-number table (entries of 4 bytes).
const maxDense = 4096

// lookup returns the index of the field numbered num, or -1.
func (m *msgPlan) lookup(num protowire.Number) int {
	if uint64(num) < uint64(len(m.dense)) {
		return int(m.dense[num])
	}
	return m.lookupSparse(num)
}

func (m *msgPlan) lookupSparse(num protowire.Number) int {
	lo, hi := 0, len(m.sparse)
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		if m.sparse[h].num < num {
			lo = h + 1
		} else {
			hi = h
		}
	}
	if lo < len(m.sparse) && m.sparse[lo].num == num {
		return int(m.sparse[lo].idx)
	}
	return -1
}

// enumPlan holds the value names of an enum, precomputed as bytes so that
// appending them does not allocate.
type enumPlan struct {
	min    int32
	dense  [][]byte // by number-min; nil entries are gaps
	sparse map[int32][]byte
}

func newEnumPlan(ed protoreflect.EnumDescriptor) *enumPlan {
	vals := ed.Values()
	e := &enumPlan{}
	if vals.Len() == 0 {
		return e
	}
	lo, hi := int64(vals.Get(0).Number()), int64(vals.Get(0).Number())
	for i := 0; i < vals.Len(); i++ {
		n := int64(vals.Get(i).Number())
		lo, hi = min(lo, n), max(hi, n)
	}
	if hi-lo < 1024 {
		e.min = int32(lo)
		e.dense = make([][]byte, hi-lo+1)
	} else {
		e.sparse = make(map[int32][]byte, vals.Len())
	}
	// The first declared name wins for aliases (allow_alias), as in
	// EnumValueDescriptors.ByNumber.
	for i := 0; i < vals.Len(); i++ {
		v := vals.Get(i)
		n, name := int32(v.Number()), []byte(v.Name())
		if e.dense != nil {
			if e.dense[n-e.min] == nil {
				e.dense[n-e.min] = name
			}
		} else if _, ok := e.sparse[n]; !ok {
			e.sparse[n] = name
		}
	}
	return e
}

// name returns the name of number n, nil if n is not a value of the enum.
func (e *enumPlan) name(n int32) []byte {
	if e.dense != nil {
		i := int64(n) - int64(e.min)
		if i >= 0 && i < int64(len(e.dense)) {
			return e.dense[i]
		}
		return nil
	}
	return e.sparse[n]
}

// Limits of the schemas New accepts.
const (
	// maxDepth bounds message nesting, in the schema and in records
	// (groups of unknown fields can nest without a schema).
	maxDepth = 100
	// maxFields bounds the number of fields after expanding every use of
	// a message type into its own struct column.
	maxFields = 1 << 16
)

// planner builds plans from descriptors.
type planner struct {
	unit   TimeUnit
	stack  []protoreflect.FullName // messages being planned, for recursion
	fields int
}

// Names of the well-known types with a mapping of their own.
const (
	wktTimestamp = "google.protobuf.Timestamp"
	wktDuration  = "google.protobuf.Duration"
)

var wrappers = map[protoreflect.FullName]bool{
	"google.protobuf.DoubleValue": true,
	"google.protobuf.FloatValue":  true,
	"google.protobuf.Int64Value":  true,
	"google.protobuf.UInt64Value": true,
	"google.protobuf.Int32Value":  true,
	"google.protobuf.UInt32Value": true,
	"google.protobuf.BoolValue":   true,
	"google.protobuf.StringValue": true,
	"google.protobuf.BytesValue":  true,
}

// message plans md; path names the place for errors ("shop.v1.Order.items").
func (p *planner) message(md protoreflect.MessageDescriptor, path string) (*msgPlan, error) {
	for _, n := range p.stack {
		if n == md.FullName() {
			return nil, fmt.Errorf("protodec: message %s is recursive (%s refers back to it): an Arrow type cannot recurse, so recursive messages are not supported", md.FullName(), path)
		}
	}
	if len(p.stack) >= maxDepth {
		return nil, fmt.Errorf("protodec: %s nests messages more than %d deep", path, maxDepth)
	}
	p.stack = append(p.stack, md.FullName())
	defer func() { p.stack = p.stack[:len(p.stack)-1] }()

	fds := md.Fields()
	m := &msgPlan{name: md.FullName(), fields: make([]fieldPlan, fds.Len())}
	p.fields += fds.Len()
	if p.fields > maxFields {
		return nil, fmt.Errorf("protodec: the schema expands to more than %d fields (each use of a message type is a struct column of its own)", maxFields)
	}
	oneofs := map[protoreflect.FullName]int32{}
	maxNum := protowire.Number(0)
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		f := &m.fields[i]
		f.name = string(fd.Name())
		f.num = fd.Number()
		f.oneof = -1
		maxNum = max(maxNum, f.num)
		fpath := path + "." + f.name
		var err error
		switch {
		case fd.IsMap():
			f.card = mapping
			err = p.mapValue(fd, &f.val, fpath)
		case fd.IsList():
			f.card = list
			err = p.value(fd, &f.val, fpath)
		default:
			f.card = single
			f.nullable = fd.HasPresence()
			err = p.value(fd, &f.val, fpath)
		}
		if err != nil {
			return nil, err
		}
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
			k, ok := oneofs[od.FullName()]
			if !ok {
				k = int32(len(m.oneofs))
				oneofs[od.FullName()] = k
				m.oneofs = append(m.oneofs, nil)
			}
			f.oneof = k
			m.oneofs[k] = append(m.oneofs[k], int32(i))
		}
		m.check = m.check || f.val.check
	}
	if int(maxNum) < maxDense {
		m.dense = make([]int32, int(maxNum)+1)
		for i := range m.dense {
			m.dense[i] = -1
		}
		for i := range m.fields {
			m.dense[m.fields[i].num] = int32(i)
		}
	} else {
		m.sparse = make([]numIndex, len(m.fields))
		for i := range m.fields {
			m.sparse[i] = numIndex{m.fields[i].num, int32(i)}
		}
		sortNumIndex(m.sparse)
	}
	arrowFields := make([]arrow.Field, len(m.fields))
	for i := range m.fields {
		arrowFields[i] = arrowField(&m.fields[i], p.unit)
	}
	m.st = arrow.StructOf(arrowFields...)
	return m, nil
}

func sortNumIndex(s []numIndex) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].num < s[j-1].num; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// value plans one value of field fd (the element type for a list).
func (p *planner) value(fd protoreflect.FieldDescriptor, v *valuePlan, path string) error {
	v.packable = true
	switch fd.Kind() {
	case protoreflect.BoolKind:
		v.kind, v.wire = kBool, protowire.VarintType
	case protoreflect.EnumKind:
		v.kind, v.wire = kEnum, protowire.VarintType
		v.enum = newEnumPlan(fd.Enum())
		if dv := fd.DefaultEnumValue(); dv != nil {
			v.defEnum = int32(dv.Number())
		} else if fd.Enum().Values().Len() > 0 {
			v.defEnum = int32(fd.Enum().Values().Get(0).Number())
		}
	case protoreflect.Int32Kind:
		v.kind, v.wire = kInt32, protowire.VarintType
	case protoreflect.Sint32Kind:
		v.kind, v.wire = kSint32, protowire.VarintType
	case protoreflect.Uint32Kind:
		v.kind, v.wire = kUint32, protowire.VarintType
	case protoreflect.Int64Kind:
		v.kind, v.wire = kInt64, protowire.VarintType
	case protoreflect.Sint64Kind:
		v.kind, v.wire = kSint64, protowire.VarintType
	case protoreflect.Uint64Kind:
		v.kind, v.wire = kUint64, protowire.VarintType
	case protoreflect.Sfixed32Kind:
		v.kind, v.wire = kSfixed32, protowire.Fixed32Type
	case protoreflect.Fixed32Kind:
		v.kind, v.wire = kFixed32, protowire.Fixed32Type
	case protoreflect.FloatKind:
		v.kind, v.wire = kFloat, protowire.Fixed32Type
	case protoreflect.Sfixed64Kind:
		v.kind, v.wire = kSfixed64, protowire.Fixed64Type
	case protoreflect.Fixed64Kind:
		v.kind, v.wire = kFixed64, protowire.Fixed64Type
	case protoreflect.DoubleKind:
		v.kind, v.wire = kDouble, protowire.Fixed64Type
	case protoreflect.StringKind:
		v.kind, v.wire, v.packable = kString, protowire.BytesType, false
	case protoreflect.BytesKind:
		v.kind, v.wire, v.packable = kBytes, protowire.BytesType, false
	case protoreflect.MessageKind, protoreflect.GroupKind:
		v.packable = false
		v.wire = protowire.BytesType
		if fd.Kind() == protoreflect.GroupKind {
			v.wire = protowire.StartGroupType
		}
		md := fd.Message()
		m, err := p.message(md, path)
		if err != nil {
			return err
		}
		v.msg = m
		switch name := md.FullName(); {
		case (name == wktTimestamp || name == wktDuration) && isSecondsNanos(m):
			v.kind = kTimestamp
			if name == wktDuration {
				v.kind = kDuration
			}
			v.check = true
		case wrappers[name] && len(m.fields) == 1 && m.fields[0].num == 1 && m.fields[0].card == single:
			v.kind = kWrapper
			m.fields[0].nullable = false // an empty wrapper holds the default
		default:
			v.kind = kMessage
			v.check = m.check
		}
	default:
		return fmt.Errorf("protodec: %s has unsupported kind %v", path, fd.Kind())
	}
	return nil
}

// isSecondsNanos tells whether m looks like Timestamp and Duration:
// int64 seconds = 1; int32 nanos = 2.
func isSecondsNanos(m *msgPlan) bool {
	return len(m.fields) == 2 &&
		m.fields[0].num == 1 && m.fields[0].val.kind == kInt64 && m.fields[0].card == single &&
		m.fields[1].num == 2 && m.fields[1].val.kind == kInt32 && m.fields[1].card == single
}

// mapValue plans a map field: its value is the entry message (key = 1,
// value = 2), scanned like any repeated message so that an entry's fields
// follow the usual rules (last key wins, value messages merge).
func (p *planner) mapValue(fd protoreflect.FieldDescriptor, v *valuePlan, path string) error {
	m, err := p.message(fd.Message(), path)
	if err != nil {
		return err
	}
	if len(m.fields) != 2 || m.fields[0].num != 1 || m.fields[1].num != 2 {
		return fmt.Errorf("protodec: %s: map entry %s is not {key = 1; value = 2}", path, fd.Message().FullName())
	}
	// An entry always has a key and a value: absent ones are the
	// defaults (an empty message for message values).
	m.fields[0].nullable = false
	m.fields[1].nullable = false
	m.st = nil // the entry is not a struct column of its own
	v.kind, v.wire, v.msg, v.check = kMessage, protowire.BytesType, m, m.check
	return nil
}

// arrowType is the Arrow type of one value.
func arrowType(v *valuePlan, unit TimeUnit) arrow.DataType {
	switch v.kind {
	case kBool:
		return arrow.FixedWidthTypes.Boolean
	case kInt32, kSint32, kSfixed32:
		return arrow.PrimitiveTypes.Int32
	case kUint32, kFixed32:
		return arrow.PrimitiveTypes.Uint32
	case kInt64, kSint64, kSfixed64:
		return arrow.PrimitiveTypes.Int64
	case kUint64, kFixed64:
		return arrow.PrimitiveTypes.Uint64
	case kFloat:
		return arrow.PrimitiveTypes.Float32
	case kDouble:
		return arrow.PrimitiveTypes.Float64
	case kString, kEnum:
		return arrow.BinaryTypes.String
	case kBytes:
		return arrow.BinaryTypes.Binary
	case kTimestamp:
		return &arrow.TimestampType{Unit: unit.arrow(), TimeZone: "UTC"}
	case kDuration:
		return &arrow.DurationType{Unit: unit.arrow()}
	case kWrapper:
		return arrowType(&v.msg.fields[0].val, unit)
	default: // kMessage
		return v.msg.st
	}
}

// arrowField is the Arrow child of field f.
func arrowField(f *fieldPlan, unit TimeUnit) arrow.Field {
	switch f.card {
	case list:
		return arrow.Field{Name: f.name, Type: arrow.ListOfNonNullable(arrowType(&f.val, unit))}
	case mapping:
		e := f.val.msg
		return arrow.Field{Name: f.name, Type: arrow.MapOfFields(
			arrow.Field{Type: arrowType(&e.fields[0].val, unit)},
			arrow.Field{Type: arrowType(&e.fields[1].val, unit)})}
	default:
		return arrow.Field{Name: f.name, Type: arrowType(&f.val, unit), Nullable: f.nullable}
	}
}

// bindMsg points the plan at the builders of sb (made from m.st).
func bindMsg(m *msgPlan, sb *array.StructBuilder) {
	for i := range m.fields {
		f := &m.fields[i]
		b := sb.FieldBuilder(i)
		f.bld = b
		switch f.card {
		case single:
			bindValue(&f.val, b)
		case list:
			bindValue(&f.val, b.(*array.ListBuilder).ValueBuilder())
		case mapping:
			mb := b.(*array.MapBuilder)
			bindValue(&f.val.msg.fields[0].val, mb.KeyBuilder())
			bindValue(&f.val.msg.fields[1].val, mb.ItemBuilder())
		}
	}
}

func bindValue(v *valuePlan, b array.Builder) {
	v.bld = b
	switch v.kind {
	case kMessage:
		bindMsg(v.msg, b.(*array.StructBuilder))
	case kWrapper:
		v.msg.fields[0].val.bld = b
	}
}

// TimeUnit is the unit of Timestamp and Duration columns.
type TimeUnit int

const (
	// Nanoseconds keeps every digit a Timestamp or Duration can carry and
	// is what pandas and most Arrow consumers use, at the price of range:
	// instants between 1677-09-21 and 2262-04-11, durations up to about
	// 292 years. Values outside are malformed.
	Nanoseconds TimeUnit = iota
	// Microseconds covers the whole range of Timestamp (years 1 to 9999)
	// and Duration, truncating sub-microsecond digits toward minus
	// infinity for timestamps and toward zero for durations.
	Microseconds
)

func (u TimeUnit) arrow() arrow.TimeUnit {
	if u == Microseconds {
		return arrow.Microsecond
	}
	return arrow.Nanosecond
}

func (u TimeUnit) String() string {
	switch u {
	case Nanoseconds:
		return "ns"
	case Microseconds:
		return "us"
	}
	return "TimeUnit(" + strconv.Itoa(int(u)) + ")"
}
