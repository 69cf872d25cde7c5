package jsondec

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// kind is what the parser does for one Arrow type. The plan is a tree of
// nodes that mirrors the struct type; parsing walks it to know what each
// JSON value must be, and the tape slots point at the node whose builder
// gets the value.
type kind uint8

const (
	kBool kind = iota
	kInt8
	kInt16
	kInt32
	kInt64
	kUint8
	kUint16
	kUint32
	kUint64
	kFloat32
	kFloat64
	kString      // utf8, large_utf8
	kBinary      // binary, large_binary
	kFixedBinary // fixed_size_binary
	kTimestamp
	kDate32
	kDate64
	kDecimal32
	kDecimal64
	kDecimal128
	kDecimal256
	kList // list, large_list
	kFixedList
	kStruct
	kMap
)

// node is one position in the schema.
type node struct {
	kind     kind
	nullable bool
	large    bool // large_list (the builder type differs)
	plain    bool // name is written in JSON without escapes
	name     string
	pos      int // the position in the parent struct
	// keyWords is name + `":` as little-endian words, the last one masked by
	// keyMask, for matching a plain member name with one or two loads.
	keyWords []uint64
	keyMask  uint64
	keyLen   int
	typ      arrow.DataType

	// Integer ranges (kInt*, kUint*).
	min int64
	max uint64

	// Timestamps: ticks per second and the number of fraction digits
	// one tick holds (0, 3, 6, 9).
	perSec     int64
	unitDigits int

	// Decimals.
	prec, scale int32

	// Fixed-size lists and binaries.
	size int

	// Structs: children in schema order, their names, and a name index
	// for structs too wide for a linear scan.
	fields []*node
	names  []string
	index  map[string]int
	all    uint64 // the seen-mask of a struct with every field present (up to 64)

	// Lists (element) and maps (item, key).
	elem *node
	key  *node

	// Bound builders (see Decoder.bind).
	bld array.Builder
	bin *array.BinaryBuilder // kString, kBinary, map keys
}

// linearLookup is the widest struct whose member names are matched by a
// linear scan rather than a map lookup (after the in-order guess failed).
const linearLookup = 12

// lookup returns the index of the field named key, or -1. guess is the
// index after the previously matched field: producers almost always
// write members in schema order, so the first comparison usually hits.
func (n *node) lookup(key []byte, guess int) int {
	if guess < len(n.names) && string(key) == n.names[guess] {
		return guess
	}
	if n.index == nil {
		for i, name := range n.names {
			if string(key) == name {
				return i
			}
		}
		return -1
	}
	if i, ok := n.index[string(key)]; ok {
		return i
	}
	return -1
}

// planError is returned by New for a schema the decoder cannot handle.
func planError(path string, format string, args ...any) error {
	if path == "" {
		return fmt.Errorf("jsondec: "+format, args...)
	}
	return fmt.Errorf("jsondec: field %q: "+format, append([]any{path}, args...)...)
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// planStruct builds the node of a struct type.
func planStruct(t *arrow.StructType, name, path string, nullable bool, depth int) (*node, int, error) {
	n := &node{kind: kStruct, name: name, typ: t, nullable: nullable}
	fields := t.Fields()
	if len(fields) == 0 {
		return nil, 0, planError(path, "struct with no fields is not supported")
	}
	deepest := depth
	seen := make(map[string]bool, len(fields))
	for _, f := range fields {
		fp := join(path, f.Name)
		if seen[f.Name] {
			return nil, 0, planError(fp, "appears twice in the struct: JSON members could not be told apart")
		}
		seen[f.Name] = true
		c, d, err := plan(f.Type, f.Name, fp, f.Nullable, depth)
		if err != nil {
			return nil, 0, err
		}
		deepest = max(deepest, d)
		n.fields = append(n.fields, c)
		n.names = append(n.names, f.Name)
		c.plain, c.pos = isPlain(f.Name), len(n.fields)-1
		c.setKey()
	}
	if len(fields) <= 64 {
		n.all = 1<<len(fields) - 1
	}
	if len(fields) > linearLookup {
		n.index = make(map[string]int, len(fields))
		for i, f := range fields {
			n.index[f.Name] = i
		}
	}
	return n, deepest, nil
}

// plan builds the node for a value of type t at depth (the number of JSON
// containers around it). It returns the deepest container nesting the
// type needs, so that New can check it against MaxDepth.
func plan(t arrow.DataType, name, path string, nullable bool, depth int) (*node, int, error) {
	n := &node{name: name, typ: t, nullable: nullable}
	switch t := t.(type) {
	case *arrow.BooleanType:
		n.kind = kBool
	case *arrow.Int8Type:
		n.kind, n.min, n.max = kInt8, -1<<7, 1<<7-1
	case *arrow.Int16Type:
		n.kind, n.min, n.max = kInt16, -1<<15, 1<<15-1
	case *arrow.Int32Type:
		n.kind, n.min, n.max = kInt32, -1<<31, 1<<31-1
	case *arrow.Int64Type:
		n.kind, n.min, n.max = kInt64, -1<<63, 1<<63-1
	case *arrow.Uint8Type:
		n.kind, n.max = kUint8, 1<<8-1
	case *arrow.Uint16Type:
		n.kind, n.max = kUint16, 1<<16-1
	case *arrow.Uint32Type:
		n.kind, n.max = kUint32, 1<<32-1
	case *arrow.Uint64Type:
		n.kind, n.max = kUint64, 1<<64-1
	case *arrow.Float32Type:
		n.kind = kFloat32
	case *arrow.Float64Type:
		n.kind = kFloat64
	case *arrow.StringType, *arrow.LargeStringType:
		n.kind = kString
	case *arrow.BinaryType, *arrow.LargeBinaryType:
		n.kind = kBinary
	case *arrow.FixedSizeBinaryType:
		n.kind, n.size = kFixedBinary, t.ByteWidth
	case *arrow.TimestampType:
		n.kind = kTimestamp
		switch t.Unit {
		case arrow.Second:
			n.perSec, n.unitDigits = 1, 0
		case arrow.Millisecond:
			n.perSec, n.unitDigits = 1e3, 3
		case arrow.Microsecond:
			n.perSec, n.unitDigits = 1e6, 6
		case arrow.Nanosecond:
			n.perSec, n.unitDigits = 1e9, 9
		default:
			return nil, 0, planError(path, "timestamp unit %v is not supported", t.Unit)
		}
	case *arrow.Date32Type:
		n.kind = kDate32
	case *arrow.Date64Type:
		n.kind = kDate64
	case *arrow.Decimal32Type:
		n.kind, n.prec, n.scale = kDecimal32, t.Precision, t.Scale
		if t.Precision < 1 || t.Precision > 9 {
			return nil, 0, planError(path, "%s: precision must be 1 to 9", t)
		}
	case *arrow.Decimal64Type:
		n.kind, n.prec, n.scale = kDecimal64, t.Precision, t.Scale
		if t.Precision < 1 || t.Precision > 18 {
			return nil, 0, planError(path, "%s: precision must be 1 to 18", t)
		}
	case *arrow.Decimal128Type:
		n.kind, n.prec, n.scale = kDecimal128, t.Precision, t.Scale
		if t.Precision < 1 || t.Precision > 38 {
			return nil, 0, planError(path, "%s: precision must be 1 to 38", t)
		}
	case *arrow.Decimal256Type:
		n.kind, n.prec, n.scale = kDecimal256, t.Precision, t.Scale
		if t.Precision < 1 || t.Precision > 76 {
			return nil, 0, planError(path, "%s: precision must be 1 to 76", t)
		}
	case *arrow.ListType:
		return planList(n, kList, false, t.ElemField(), path, depth)
	case *arrow.LargeListType:
		return planList(n, kList, true, t.ElemField(), path, depth)
	case *arrow.FixedSizeListType:
		n.size = int(t.Len())
		return planList(n, kFixedList, false, t.ElemField(), path, depth)
	case *arrow.StructType:
		return planStruct(t, name, path, nullable, depth+1)
	case *arrow.MapType:
		if t.KeysSorted {
			return nil, 0, planError(path, "%s: maps with sorted keys are not supported (JSON objects are not sorted)", t)
		}
		kf := t.KeyField()
		switch kf.Type.(type) {
		case *arrow.StringType, *arrow.LargeStringType:
		default:
			return nil, 0, planError(path, "%s: map keys must be utf8 or large_utf8 (JSON member names), not %s", t, kf.Type)
		}
		n.kind = kMap
		n.key = &node{kind: kString, name: kf.Name, typ: kf.Type}
		itf := t.ItemField()
		item, d, err := plan(itf.Type, itf.Name, path+"{}", itf.Nullable, depth+1)
		if err != nil {
			return nil, 0, err
		}
		n.elem = item
		return n, max(d, depth+1), nil
	default:
		return nil, 0, planError(path, "type %s is not supported", t)
	}
	return n, depth, nil
}

func planList(n *node, k kind, large bool, ef arrow.Field, path string, depth int) (*node, int, error) {
	n.kind, n.large = k, large
	elem, d, err := plan(ef.Type, ef.Name, path+"[]", ef.Nullable, depth+1)
	if err != nil {
		return nil, 0, err
	}
	n.elem = elem
	return n, max(d, depth+1), nil
}

// bind points every node at its builder inside b. It checks the concrete
// builder types so that the commit step's type assertions cannot fail.
func bind(n *node, b array.Builder) error {
	n.bld, n.bin = b, nil
	ok := true
	switch n.kind {
	case kBool:
		_, ok = b.(*array.BooleanBuilder)
	case kInt8:
		_, ok = b.(*array.Int8Builder)
	case kInt16:
		_, ok = b.(*array.Int16Builder)
	case kInt32:
		_, ok = b.(*array.Int32Builder)
	case kInt64:
		_, ok = b.(*array.Int64Builder)
	case kUint8:
		_, ok = b.(*array.Uint8Builder)
	case kUint16:
		_, ok = b.(*array.Uint16Builder)
	case kUint32:
		_, ok = b.(*array.Uint32Builder)
	case kUint64:
		_, ok = b.(*array.Uint64Builder)
	case kFloat32:
		_, ok = b.(*array.Float32Builder)
	case kFloat64:
		_, ok = b.(*array.Float64Builder)
	case kString, kBinary:
		switch b := b.(type) {
		case *array.StringBuilder:
			n.bin = b.BinaryBuilder
		case *array.LargeStringBuilder:
			n.bin = b.BinaryBuilder
		case *array.BinaryBuilder:
			n.bin = b
		default:
			ok = false
		}
	case kFixedBinary:
		_, ok = b.(*array.FixedSizeBinaryBuilder)
	case kTimestamp:
		_, ok = b.(*array.TimestampBuilder)
	case kDate32:
		_, ok = b.(*array.Date32Builder)
	case kDate64:
		_, ok = b.(*array.Date64Builder)
	case kDecimal32:
		_, ok = b.(*array.Decimal32Builder)
	case kDecimal64:
		_, ok = b.(*array.Decimal64Builder)
	case kDecimal128:
		_, ok = b.(*array.Decimal128Builder)
	case kDecimal256:
		_, ok = b.(*array.Decimal256Builder)
	case kList:
		var vb array.Builder
		if n.large {
			var lb *array.LargeListBuilder
			if lb, ok = b.(*array.LargeListBuilder); ok {
				vb = lb.ValueBuilder()
			}
		} else {
			var lb *array.ListBuilder
			if lb, ok = b.(*array.ListBuilder); ok {
				vb = lb.ValueBuilder()
			}
		}
		if ok {
			return bind(n.elem, vb)
		}
	case kFixedList:
		var lb *array.FixedSizeListBuilder
		if lb, ok = b.(*array.FixedSizeListBuilder); ok {
			return bind(n.elem, lb.ValueBuilder())
		}
	case kStruct:
		var sb *array.StructBuilder
		if sb, ok = b.(*array.StructBuilder); ok && sb.NumField() == len(n.fields) {
			for i, f := range n.fields {
				if err := bind(f, sb.FieldBuilder(i)); err != nil {
					return err
				}
			}
			return nil
		}
		ok = false
	case kMap:
		var mb *array.MapBuilder
		if mb, ok = b.(*array.MapBuilder); ok {
			if err := bind(n.key, mb.KeyBuilder()); err != nil {
				return err
			}
			return bind(n.elem, mb.ItemBuilder())
		}
	}
	if !ok {
		return fmt.Errorf("jsondec: builder %T for %q cannot hold %s", b, n.name, n.typ)
	}
	return nil
}

// isPlain reports whether name appears in JSON exactly as its bytes: valid
// UTF-8 with nothing that must be escaped.
func isPlain(name string) bool {
	if !utf8.ValidString(name) {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func (n *node) setKey() {
	pat := append([]byte(n.name), '"', ':')
	n.keyLen = len(pat)
	for len(pat)%8 != 0 {
		pat = append(pat, 0)
	}
	n.keyWords = nil
	for k := 0; k < len(pat); k += 8 {
		n.keyWords = append(n.keyWords, binary.LittleEndian.Uint64(pat[k:]))
	}
	n.keyMask = ^uint64(0) >> (8 * ((8 - n.keyLen%8) % 8))
}

// matchKey reports whether s[i:] starts with the plain name of n, its
// closing quote and a colon.
func (n *node) matchKey(s []byte, i int) bool {
	last := len(n.keyWords) - 1
	if i+8*len(n.keyWords) > len(s) {
		return i+n.keyLen <= len(s) && string(s[i:i+n.keyLen-2]) == n.name && s[i+n.keyLen-2] == '"' && s[i+n.keyLen-1] == ':'
	}
	for k := 0; k < last; k++ {
		if binary.LittleEndian.Uint64(s[i+8*k:]) != n.keyWords[k] {
			return false
		}
	}
	return binary.LittleEndian.Uint64(s[i+8*last:])&n.keyMask == n.keyWords[last]
}
