package produce

// avrowrite.go: Arrow values as Avro datums of a schema the user gives
// (the topic's existing schema, say), where avroenc.go derives one from
// the Arrow type. The plan is made once per column and fails, naming the
// field, when a column cannot be written as the schema says.
//
// Records take structs, fields matched by name: a struct field the record
// does not have fails the plan (nothing is dropped silently); a record
// field the struct does not have is written with its default (no default:
// the plan fails). Unions take nulls on their null branch (no null branch:
// a null fails its row) and other values on the first branch their Arrow
// type fits. Otherwise:
//
//	boolean                     bool
//	int, long                   any integer type (range checked per row)
//	float, double               floats and integers
//	string                      utf8 (any layout)
//	bytes                       binary (any layout), fixed_size_binary, utf8
//	fixed(n)                    fixed_size_binary[n], binary of n bytes
//	enum                        utf8: a symbol
//	array                       list, large_list, fixed_size_list
//	map                         map<utf8, V>
//	decimal (bytes, fixed)      decimal of the same scale
//	date                        date32, date64
//	time-millis, time-micros    time32, time64 (converted, floored)
//	timestamp-*, local-*        timestamp of any unit (converted, floored)
//	null                        an all-null column
//
// A logical type whose Arrow counterpart is not given falls back to its
// underlying type: an int64 column writes a timestamp-millis long as is.
// Dictionary columns are read through their dictionary.

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/kafkars/kafkars/core/decode/avrodec"
)

// avroEnc writes one value of a column (row i) as its Avro node says.
type avroEnc func(buf []byte, col arrow.Array, i int) ([]byte, *valueFail)

// AvroWriter writes rows of a column as datums of a given schema.
type AvroWriter struct {
	enc avroEnc
}

// NewAvroWriter plans writing columns of type dt as datums of schema.
func NewAvroWriter(schema *avrodec.Node, dt arrow.DataType) (*AvroWriter, error) {
	enc, err := planAvro(schema, dt, "")
	if err != nil {
		return nil, err
	}
	return &AvroWriter{enc: enc}, nil
}

// Append appends the datum of row i of col (not null) to buf.
func (w *AvroWriter) Append(buf []byte, col arrow.Array, i int) ([]byte, error) {
	out, err := w.enc(buf, col, i)
	if err != nil {
		if err.path == "" {
			err.msg = "the column: " + err.msg
		}
		return out, err
	}
	return out, nil
}

func avroTypeName(n *avrodec.Node) string {
	switch {
	case n.Logical != "":
		return n.Type + " (" + n.Logical + ")"
	case n.Name != "":
		return n.Type + " " + n.Name
	case n.Type == "union":
		names := make([]string, len(n.Branches))
		for i, b := range n.Branches {
			names[i] = avroTypeName(b)
		}
		return "union [" + strings.Join(names, ", ") + "]"
	}
	return n.Type
}

func planErr(path string, dt arrow.DataType, n *avrodec.Node, want string) error {
	return fmt.Errorf("%s: type %s cannot be written as Avro %s: want %s", orColumn(path, dt), dt, avroTypeName(n), want)
}

// planAvro plans writing values of type dt as node n.
func planAvro(n *avrodec.Node, dt arrow.DataType, path string) (avroEnc, error) {
	if d, ok := dt.(*arrow.DictionaryType); ok {
		inner, err := planAvro(n, d.ValueType, path)
		if err != nil {
			return nil, err
		}
		return func(buf []byte, col arrow.Array, i int) ([]byte, *valueFail) {
			if col.IsNull(i) {
				return inner(buf, col, i) // the null handling is the value plan's
			}
			c, j := deref(col, i)
			return inner(buf, c, j)
		}, nil
	}
	if n.Type == "union" {
		return planUnion(n, dt, path)
	}
	enc, err := planValue(n, dt, path)
	if err != nil {
		return nil, err
	}
	if n.Type == "null" {
		return enc, nil
	}
	what := avroTypeName(n)
	return func(buf []byte, col arrow.Array, i int) ([]byte, *valueFail) {
		if col.IsNull(i) {
			return buf, fail("null, but the schema's type here is %s, not a union with null", what)
		}
		return enc(buf, col, i)
	}, nil
}

func planUnion(n *avrodec.Node, dt arrow.DataType, path string) (avroEnc, error) {
	nullAt := -1
	for k, b := range n.Branches {
		if b.Type == "null" {
			nullAt = k
			break
		}
	}
	branch, enc := -1, avroEnc(nil)
	if dt.ID() == arrow.NULL {
		if nullAt < 0 {
			return nil, planErr(path, dt, n, "a union with a null branch")
		}
	} else {
		var first error
		for k, b := range n.Branches {
			if b.Type == "null" || b.Type == "union" {
				continue
			}
			e, err := planValue(b, dt, path)
			if err == nil {
				branch, enc = k, e
				break
			}
			if first == nil {
				first = err
			}
		}
		if branch < 0 {
			if first == nil {
				return nil, planErr(path, dt, n, "a non-null branch")
			}
			return nil, fmt.Errorf("%s: type %s fits no branch of Avro %s (the first non-null branch: %v)", orColumn(path, dt), dt, avroTypeName(n), first)
		}
	}
	what := avroTypeName(n)
	nullIdx, idx := int64(nullAt), int64(branch)
	return func(buf []byte, col arrow.Array, i int) ([]byte, *valueFail) {
		if col.IsNull(i) {
			if nullIdx < 0 {
				return buf, fail("null, but the schema's %s has no null branch", what)
			}
			return appendLong(buf, nullIdx), nil
		}
		return enc(appendLong(buf, idx), col, i)
	}, nil
}

// planValue plans a non-union node for non-null values.
func planValue(n *avrodec.Node, dt arrow.DataType, path string) (avroEnc, error) {
	if enc, ok, err := planLogical(n, dt, path); ok || err != nil {
		return enc, err
	}
	id := dt.ID()
	switch n.Type {
	case "null":
		if id != arrow.NULL {
			return nil, planErr(path, dt, n, "an all-null column")
		}
		return func(buf []byte, _ arrow.Array, _ int) ([]byte, *valueFail) { return buf, nil }, nil
	case "boolean":
		if id == arrow.BOOL {
			return func(buf []byte, col arrow.Array, i int) ([]byte, *valueFail) {
				if col.(*array.Boolean).Value(i) {
					return append(buf, 1), nil
				}
				return append(buf, 0), nil
			}, nil
		}
		return nil, planErr(path, dt, n, "bool")
	case "int", "long":
		if !arrow.IsInteger(id) {
			return nil, planErr(path, dt, n, "an integer type")
		}
		lo, hi := int64(math.MinInt32), int64(math.MaxInt32)
		if n.Type == "long" {
			lo, hi = math.MinInt64, math.MaxInt64
		}
		typ := n.Type
		return func(buf []byte, col arrow.Array, i int) ([]byte, *valueFail) {
			v, u := intValue(col, i)
			if u != 0 || v < lo || v > hi {
				return buf, fail("%s does not fit Avro's %s", col.ValueStr(i), typ)
			}
			return appendLong(buf, v), nil
		}, nil
	case "float", "double":
		isInt := arrow.IsInteger(id)
		if !arrow.IsFloating(id) && !isInt {
			return nil, planErr(path, dt, n, "a floating-point or integer type")
		}
		get := func(col arrow.Array, i int) float64 {
			if isInt {
				v, u := intValue(col, i)
				if u != 0 {
					return float64(u)
				}
				return float64(v)
			}
			return floatValue(col, i)
		}
		if n.Type == "double" {
			return func(buf []byte, col arrow.Array, i int) ([]byte, *valueFail) {
				return binary.LittleEndian.AppendUint64(buf, math.Float64bits(get(col, i))), nil
			}, nil
		}
		return func(buf []byte, col arrow.Array, i int) ([]byte, *valueFail) {
			x := get(col, i)
			if math.Abs(x) > math.MaxFloat32 && !math.IsInf(x, 0) {
				return buf, fail("%g does not fit Avro's float", x)
			}
			return binary.LittleEndian.AppendUint32(buf, math.Float32bits(float32(x))), nil
		}, nil
	case "string":
		if !isString(dt) {
			return nil, planErr(path, dt, n, "a string type")
		}
		return appendBinaryValue, nil
	case "bytes":
		if !isBinary(dt) {
			return nil, planErr(path, dt, n, "a binary or string type")
		}
		return appendBinaryValue, nil
	case "fixed":
		if fs, ok := dt.(*arrow.FixedSizeBinaryType); ok && fs.ByteWidth != n.Size {
			return nil, planErr(path, dt, n, fmt.Sprintf("fixed_size_binary[%d] or binary of %d bytes", n.Size, n.Size))
		}
		if !isBinary(dt) {
			return nil, planErr(path, dt, n, fmt.Sprintf("fixed_size_binary[%d] or binary of %d bytes", n.Size, n.Size))
		}
		size := n.Size
		return func(buf []byte, col arrow.Array, i int) ([]byte, *valueFail) {
			b := bytesValue(col, i)
			if len(b) != size {
				return buf, fail("%d bytes, but the schema's fixed takes %d", len(b), size)
			}
			return append(buf, b...), nil
		}, nil
	case "enum":
		if !isString(dt) {
			return nil, planErr(path, dt, n, "a string type (the symbols)")
		}
		index := make(map[string]int64, len(n.Symbols))
		for k, s := range n.Symbols {
			index[s] = int64(k)
		}
		name, symbols := n.Name, n.Symbols
		return func(buf []byte, col arrow.Array, i int) ([]byte, *valueFail) {
			s := bytesValue(col, i)
			k, ok := index[string(s)]
			if !ok {
				return buf, fail("%q is not a symbol of enum %s (%s)", s, name, strings.Join(symbols, ", "))
			}
			return appendLong(buf, k), nil
		}, nil
	case "array":
		elem, ok := listElemOf(dt)
		if !ok {
			return nil, planErr(path, dt, n, "a list")
		}
		items, err := planAvro(n.Items, elem.Type, path+"[]")
		if err != nil {
			return nil, err
		}
		return func(buf []byte, col arrow.Array, i int) ([]byte, *valueFail) {
			l := col.(array.ListLike)
			start, end := l.ValueOffsets(i)
			if end > start {
				buf = appendLong(buf, end-start)
				vals := l.ListValues()
				var err *valueFail
				for j := int(start); j < int(end); j++ {
					if buf, err = items(buf, vals, j); err != nil {
						return buf, err.in("[]")
					}
				}
			}
			return append(buf, 0), nil
		}, nil
	case "map":
		mt, ok := dt.(*arrow.MapType)
		if !ok || !isString(mt.KeyType()) {
			return nil, planErr(path, dt, n, "a map with string keys")
		}
		values, err := planAvro(n.Values, mt.ItemType(), path+"{}")
		if err != nil {
			return nil, err
		}
		return func(buf []byte, col arrow.Array, i int) ([]byte, *valueFail) {
			m := col.(*array.Map)
			start, end := m.ValueOffsets(i)
			if end > start {
				buf = appendLong(buf, end-start)
				keys, items := m.Keys(), m.Items()
				var err *valueFail
				for j := int(start); j < int(end); j++ {
					buf = appendBytes(buf, bytesValue(keys, j))
					if buf, err = values(buf, items, j); err != nil {
						return buf, err.in("{}")
					}
				}
			}
			return append(buf, 0), nil
		}, nil
	case "record":
		return planRecord(n, dt, path)
	}
	return nil, planErr(path, dt, n, "a type kafkars can write there")
}

func appendBinaryValue(buf []byte, col arrow.Array, i int) ([]byte, *valueFail) {
	return appendBytes(buf, bytesValue(col, i)), nil
}

func planRecord(n *avrodec.Node, dt arrow.DataType, path string) (avroEnc, error) {
	st, ok := dt.(*arrow.StructType)
	if !ok {
		return nil, planErr(path, dt, n, "a struct")
	}
	known := map[string]bool{}
	for _, f := range n.Fields {
		known[f.Name] = true
	}
	for _, f := range st.Fields() {
		if !known[f.Name] {
			names := make([]string, len(n.Fields))
			for k, rf := range n.Fields {
				names[k] = fmt.Sprintf("%q", rf.Name)
			}
			return nil, fmt.Errorf("field %s: record %s has no field %q; its fields are %s", joinField(path, f.Name), n.Name, f.Name, strings.Join(names, ", "))
		}
	}
	type part struct {
		child int    // struct child, -1: write def
		def   []byte // the default's encoding
		enc   avroEnc
		name  string
	}
	parts := make([]part, len(n.Fields))
	for k, f := range n.Fields {
		idx, found := st.FieldIdx(f.Name)
		if !found {
			if f.Default == nil {
				return nil, fmt.Errorf("%s: record %s's field %q has no default, and the column has no field %q", orColumn(path, dt), n.Name, f.Name, f.Name)
			}
			parts[k] = part{child: -1, def: f.Default, name: f.Name}
			continue
		}
		enc, err := planAvro(f.Type, st.Field(idx).Type, joinField(path, f.Name))
		if err != nil {
			return nil, err
		}
		parts[k] = part{child: idx, enc: enc, name: f.Name}
	}
	return func(buf []byte, col arrow.Array, i int) ([]byte, *valueFail) {
		s := col.(*array.Struct)
		var err *valueFail
		for k := range parts {
			p := &parts[k]
			if p.child < 0 {
				buf = append(buf, p.def...)
				continue
			}
			if buf, err = p.enc(buf, s.Field(p.child), i); err != nil {
				return buf, err.in(p.name)
			}
		}
		return buf, nil
	}, nil
}

// planLogical plans the Arrow types that carry a logical type's meaning;
// ok is false when dt is not one of them (the underlying type applies).
func planLogical(n *avrodec.Node, dt arrow.DataType, path string) (avroEnc, bool, error) {
	switch n.Logical {
	case "decimal":
		d, isDec := dt.(arrow.DecimalType)
		if !isDec {
			return nil, false, nil
		}
		if int(d.GetScale()) != n.Scale {
			return nil, true, planErr(path, dt, n, fmt.Sprintf("a decimal of scale %d (cast the column)", n.Scale))
		}
		size := n.Size
		if n.Type == "bytes" {
			size = 0
		}
		return func(buf []byte, col arrow.Array, i int) ([]byte, *valueFail) {
			var tmp [40]byte
			b := decimalTwos(tmp[:0], col, i)
			if size == 0 {
				return appendBytes(buf, b), nil
			}
			if len(b) > size {
				return buf, fail("%s needs %d bytes, but the schema's fixed holds %d", col.ValueStr(i), len(b), size)
			}
			pad := byte(0)
			if b[0]&0x80 != 0 {
				pad = 0xff
			}
			for k := len(b); k < size; k++ {
				buf = append(buf, pad)
			}
			return append(buf, b...), nil
		}, true, nil
	case "date":
		switch dt.ID() {
		case arrow.DATE32:
			return func(buf []byte, col arrow.Array, i int) ([]byte, *valueFail) {
				return appendLong(buf, int64(col.(*array.Date32).Value(i))), nil
			}, true, nil
		case arrow.DATE64:
			return func(buf []byte, col arrow.Array, i int) ([]byte, *valueFail) {
				return appendLong(buf, floorDiv(int64(col.(*array.Date64).Value(i)), 86_400_000)), nil
			}, true, nil
		}
	case "time-millis", "time-micros":
		var unit arrow.TimeUnit
		switch t := dt.(type) {
		case *arrow.Time32Type:
			unit = t.Unit
		case *arrow.Time64Type:
			unit = t.Unit
		default:
			return nil, false, nil
		}
		to := arrow.Millisecond
		if n.Logical == "time-micros" {
			to = arrow.Microsecond
		}
		return func(buf []byte, col arrow.Array, i int) ([]byte, *valueFail) {
			var v int64
			switch a := col.(type) {
			case *array.Time32:
				v = int64(a.Value(i))
			case *array.Time64:
				v = int64(a.Value(i))
			}
			return appendLong(buf, convertUnit(v, unit, to)), nil
		}, true, nil
	case "timestamp-millis", "timestamp-micros", "timestamp-nanos",
		"local-timestamp-millis", "local-timestamp-micros", "local-timestamp-nanos":
		t, isTS := dt.(*arrow.TimestampType)
		if !isTS {
			return nil, false, nil
		}
		to := arrow.Millisecond
		switch {
		case strings.HasSuffix(n.Logical, "micros"):
			to = arrow.Microsecond
		case strings.HasSuffix(n.Logical, "nanos"):
			to = arrow.Nanosecond
		}
		from := t.Unit
		return func(buf []byte, col arrow.Array, i int) ([]byte, *valueFail) {
			v := int64(col.(*array.Timestamp).Value(i))
			if from < to && (v > math.MaxInt64/unitScale(from, to) || v < math.MinInt64/unitScale(from, to)) {
				return buf, fail("timestamp %s is out of the range of %s", col.ValueStr(i), n.Logical)
			}
			return appendLong(buf, convertUnit(v, from, to)), nil
		}, true, nil
	}
	return nil, false, nil
}

// unitScale is the factor from a coarser unit to a finer one.
func unitScale(from, to arrow.TimeUnit) int64 {
	f := int64(1)
	for u := from; u < to; u++ {
		f *= 1000
	}
	return f
}

// convertUnit converts v from one time unit to another, flooring.
func convertUnit(v int64, from, to arrow.TimeUnit) int64 {
	switch {
	case from < to:
		return v * unitScale(from, to)
	case from > to:
		return floorDiv(v, unitScale(to, from))
	}
	return v
}

// decimalTwos appends a decimal value as Avro wants it to dst: big-endian
// two's complement in the fewest bytes (no length).
func decimalTwos(dst []byte, col arrow.Array, i int) []byte {
	var hi int64
	var lo uint64
	switch a := col.(type) {
	case *array.Decimal32:
		hi, lo = int64(a.Value(i)>>31), uint64(int64(a.Value(i)))
	case *array.Decimal64:
		hi, lo = int64(a.Value(i)>>63), uint64(a.Value(i))
	case *array.Decimal128:
		v := a.Value(i)
		hi, lo = v.HighBits(), v.LowBits()
	case *array.Decimal256:
		return append(dst, twosComplement(a.Value(i).BigInt())...)
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(hi))
	binary.BigEndian.PutUint64(b[8:], lo)
	return append(dst, minimalTwos(b[:])...)
}
