package produce

// avroenc.go: Arrow values as Avro datums (binary encoding), with the
// writer schema derived from the column's Arrow type, in the form
// core/decode/avrodec reads back into the same Arrow type:
//
//	null                      "null"
//	bool                      "boolean"
//	int8, int16, int32, uint8, uint16    "int"
//	int64, uint32, uint64     "long" (a uint64 above 2^63-1 fails its row)
//	float16, float32          "float"
//	float64                   "double"
//	utf8, large_utf8, view    "string"
//	binary, large_binary, view "bytes"
//	fixed_size_binary[n]      fixed of size n
//	decimal32..256(p, s)      bytes, logical type decimal(p, s)
//	timestamp with a zone     long, timestamp-millis / -micros / -nanos
//	                          (seconds are written as milliseconds)
//	timestamp without zone    long, local-timestamp-millis / -micros / -nanos
//	date32, date64            int, date (date64 to days)
//	time32                    int, time-millis (seconds to milliseconds)
//	time64[us]                long, time-micros
//	duration                  long, a number of the column's unit
//	list, large_list, fixed_size_list   array
//	struct                    record (nested records are named after
//	                          their path: Parent_field)
//	map<string, V>            map
//	dictionary                its value type
//
// A nullable field, list item or map value is the union ["null", T]. The
// column itself is never a union: a null row is a null Kafka value (a
// tombstone), as with JSON. Field names must be Avro names (letters,
// digits and _, not starting with a digit); the plan fails naming any
// other. Not supported (the plan fails naming the column): time64[ns],
// intervals, unions, maps whose keys are not strings, run-end encoded
// arrays, list views.

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

var avroName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// AvroRecordName makes an Avro name from a topic name: characters Avro
// names do not allow become '_', and a leading digit gets a '_' before it.
func AvroRecordName(topic string) string {
	b := []byte(topic)
	for i, c := range b {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	s := string(b)
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		s = "_" + s
	}
	return s
}

// AvroSchema returns the Avro writer schema (JSON text) for a column of
// type dt; name names the top record (and prefixes nested ones).
func AvroSchema(dt arrow.DataType, name string) (string, error) {
	t, err := avroType(dt, name, "")
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(t)
	return string(b), err
}

func avroType(dt arrow.DataType, name, path string) (any, error) {
	logical := func(base, lt string) any { return map[string]any{"type": base, "logicalType": lt} }
	switch t := dt.(type) {
	case *arrow.NullType:
		return "null", nil
	case *arrow.BooleanType:
		return "boolean", nil
	case *arrow.Int8Type, *arrow.Int16Type, *arrow.Int32Type, *arrow.Uint8Type, *arrow.Uint16Type:
		return "int", nil
	case *arrow.Int64Type, *arrow.Uint32Type, *arrow.Uint64Type, *arrow.DurationType:
		return "long", nil
	case *arrow.Float16Type, *arrow.Float32Type:
		return "float", nil
	case *arrow.Float64Type:
		return "double", nil
	case *arrow.StringType, *arrow.LargeStringType, *arrow.StringViewType:
		return "string", nil
	case *arrow.BinaryType, *arrow.LargeBinaryType, *arrow.BinaryViewType:
		return "bytes", nil
	case *arrow.FixedSizeBinaryType:
		return map[string]any{"type": "fixed", "name": name, "size": t.ByteWidth}, nil
	case arrow.DecimalType:
		return map[string]any{"type": "bytes", "logicalType": "decimal", "precision": t.GetPrecision(), "scale": t.GetScale()}, nil
	case *arrow.TimestampType:
		unit := map[arrow.TimeUnit]string{arrow.Second: "millis", arrow.Millisecond: "millis", arrow.Microsecond: "micros", arrow.Nanosecond: "nanos"}[t.Unit]
		if t.TimeZone == "" {
			return logical("long", "local-timestamp-"+unit), nil
		}
		return logical("long", "timestamp-"+unit), nil
	case *arrow.Date32Type, *arrow.Date64Type:
		return logical("int", "date"), nil
	case *arrow.Time32Type:
		return logical("int", "time-millis"), nil
	case *arrow.Time64Type:
		if t.Unit != arrow.Microsecond {
			return nil, fmt.Errorf("%s: Avro has no nanosecond time of day (cast to time64[us])", orColumn(path, dt))
		}
		return logical("long", "time-micros"), nil
	case *arrow.ListType:
		return avroItems("array", t.ElemField(), name, path)
	case *arrow.LargeListType:
		return avroItems("array", t.ElemField(), name, path)
	case *arrow.FixedSizeListType:
		return avroItems("array", t.ElemField(), name, path)
	case *arrow.MapType:
		switch t.KeyType().ID() {
		case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		default:
			return nil, fmt.Errorf("%s: Avro map keys are strings, got %s", orColumn(path, dt), t.KeyType())
		}
		return avroItems("map", t.ItemField(), name, path)
	case *arrow.StructType:
		fields := make([]any, 0, t.NumFields())
		for _, f := range t.Fields() {
			if !avroName.MatchString(f.Name) {
				return nil, fmt.Errorf("field %q of %s is not an Avro name (letters, digits and _, not starting with a digit): rename it", f.Name, orColumn(path, dt))
			}
			ft, err := avroType(f.Type, name+"_"+f.Name, joinField(path, f.Name))
			if err != nil {
				return nil, err
			}
			if f.Nullable {
				fields = append(fields, map[string]any{"name": f.Name, "type": []any{"null", ft}, "default": nil})
			} else {
				fields = append(fields, map[string]any{"name": f.Name, "type": ft})
			}
		}
		return map[string]any{"type": "record", "name": name, "fields": fields}, nil
	case *arrow.DictionaryType:
		return avroType(t.ValueType, name, path)
	}
	return nil, fmt.Errorf("%s: no Avro form for %s", orColumn(path, dt), dt)
}

func avroItems(kind string, f arrow.Field, name, path string) (any, error) {
	key := "items"
	if kind == "map" {
		key = "values"
	}
	it, err := avroType(f.Type, name+"_"+key, path+"[]")
	if err != nil {
		return nil, err
	}
	if f.Nullable {
		it = []any{"null", it}
	}
	return map[string]any{"type": kind, key: it}, nil
}

func joinField(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func orColumn(path string, dt arrow.DataType) string {
	if path == "" {
		return "the column"
	}
	return "field " + path
}

// valueFail is a value of a row that the schema (Avro or Protobuf) cannot
// hold. The path to the field is built on the way out, so that rows that
// encode build none.
type valueFail struct {
	path string // "" for the column itself
	msg  string
}

func (e *valueFail) Error() string {
	if e.path == "" {
		return e.msg
	}
	return "field " + e.path + ": " + e.msg
}

// in prefixes the failure's path with a parent step ("name" or "[]").
func (e *valueFail) in(step string) *valueFail {
	switch {
	case e.path == "":
		e.path = step
	case strings.HasPrefix(e.path, "[") || strings.HasPrefix(e.path, "{"):
		e.path = step + e.path
	default:
		e.path = step + "." + e.path
	}
	return e
}

func fail(format string, args ...any) *valueFail {
	return &valueFail{msg: fmt.Sprintf(format, args...)}
}

// AppendAvro appends the Avro datum of arr[i] (not null) to buf.
func AppendAvro(buf []byte, arr arrow.Array, i int) ([]byte, error) {
	out, err := appendAvro(buf, arr, i)
	if err != nil {
		if err.path == "" {
			err.msg = "the column: " + err.msg
		}
		return out, err
	}
	return out, nil
}

func appendLong(buf []byte, v int64) []byte { return binary.AppendVarint(buf, v) }

func appendBytes(buf []byte, b []byte) []byte {
	buf = binary.AppendVarint(buf, int64(len(b)))
	return append(buf, b...)
}

// appendNullable writes a ["null", T] union.
func appendNullable(buf []byte, arr arrow.Array, i int) ([]byte, *valueFail) {
	if arr.IsNull(i) {
		return append(buf, 0), nil // branch 0: null
	}
	return appendAvro(append(buf, 2), arr, i) // branch 1, zig-zag encoded
}

// appendField writes arr[i] as a field, list item or map value: a union
// when nullable.
func appendField(buf []byte, arr arrow.Array, i int, nullable bool) ([]byte, *valueFail) {
	if nullable {
		return appendNullable(buf, arr, i)
	}
	return appendAvro(buf, arr, i)
}

func appendAvro(buf []byte, arr arrow.Array, i int) ([]byte, *valueFail) {
	if arr.IsNull(i) {
		if _, ok := arr.(*array.Null); ok {
			return buf, nil
		}
		return buf, fail("null, but not nullable in the schema")
	}
	switch a := arr.(type) {
	case *array.Boolean:
		if a.Value(i) {
			return append(buf, 1), nil
		}
		return append(buf, 0), nil
	case *array.Int8:
		return appendLong(buf, int64(a.Value(i))), nil
	case *array.Int16:
		return appendLong(buf, int64(a.Value(i))), nil
	case *array.Int32:
		return appendLong(buf, int64(a.Value(i))), nil
	case *array.Int64:
		return appendLong(buf, a.Value(i)), nil
	case *array.Uint8:
		return appendLong(buf, int64(a.Value(i))), nil
	case *array.Uint16:
		return appendLong(buf, int64(a.Value(i))), nil
	case *array.Uint32:
		return appendLong(buf, int64(a.Value(i))), nil
	case *array.Uint64:
		v := a.Value(i)
		if v > math.MaxInt64 {
			return buf, fail("%d does not fit Avro's long", v)
		}
		return appendLong(buf, int64(v)), nil
	case *array.Duration:
		return appendLong(buf, int64(a.Value(i))), nil
	case *array.Float16:
		return binary.LittleEndian.AppendUint32(buf, math.Float32bits(a.Value(i).Float32())), nil
	case *array.Float32:
		return binary.LittleEndian.AppendUint32(buf, math.Float32bits(a.Value(i))), nil
	case *array.Float64:
		return binary.LittleEndian.AppendUint64(buf, math.Float64bits(a.Value(i))), nil
	case *array.String:
		return appendBytes(buf, []byte(a.Value(i))), nil
	case *array.LargeString:
		return appendBytes(buf, []byte(a.Value(i))), nil
	case *array.StringView:
		return appendBytes(buf, []byte(a.Value(i))), nil
	case *array.Binary:
		return appendBytes(buf, a.Value(i)), nil
	case *array.LargeBinary:
		return appendBytes(buf, a.Value(i)), nil
	case *array.BinaryView:
		return appendBytes(buf, a.Value(i)), nil
	case *array.FixedSizeBinary:
		return append(buf, a.Value(i)...), nil
	case *array.Decimal32:
		return appendDecimal(buf, int64(a.Value(i)>>31), uint64(int64(a.Value(i)))), nil
	case *array.Decimal64:
		return appendDecimal(buf, int64(a.Value(i)>>63), uint64(a.Value(i))), nil
	case *array.Decimal128:
		v := a.Value(i)
		return appendDecimal(buf, v.HighBits(), v.LowBits()), nil
	case *array.Decimal256:
		return appendBytes(buf, twosComplement(a.Value(i).BigInt())), nil
	case *array.Timestamp:
		v := int64(a.Value(i))
		if a.DataType().(*arrow.TimestampType).Unit == arrow.Second {
			if v > math.MaxInt64/1000 || v < math.MinInt64/1000 {
				return buf, fail("timestamp %d s is out of range", v)
			}
			v *= 1000
		}
		return appendLong(buf, v), nil
	case *array.Date32:
		return appendLong(buf, int64(a.Value(i))), nil
	case *array.Date64:
		return appendLong(buf, floorDiv(int64(a.Value(i)), 86_400_000)), nil
	case *array.Time32:
		v := int64(a.Value(i))
		if a.DataType().(*arrow.Time32Type).Unit == arrow.Second {
			v *= 1000
		}
		return appendLong(buf, v), nil
	case *array.Time64:
		return appendLong(buf, int64(a.Value(i))), nil
	case *array.Struct:
		st := a.DataType().(*arrow.StructType)
		var err *valueFail
		for j := 0; j < a.NumField(); j++ {
			f := st.Field(j)
			if buf, err = appendField(buf, a.Field(j), i, f.Nullable); err != nil {
				return buf, err.in(f.Name)
			}
		}
		return buf, nil
	case *array.Map: // before ListLike: a map is a list of entries
		start, end := a.ValueOffsets(i)
		keys, items := a.Keys(), a.Items()
		nullable := a.DataType().(*arrow.MapType).ItemField().Nullable
		if end > start {
			buf = appendLong(buf, end-start)
			var err *valueFail
			for j := int(start); j < int(end); j++ {
				if buf, err = appendAvro(buf, keys, j); err != nil {
					return buf, err.in("{key}")
				}
				if buf, err = appendField(buf, items, j, nullable); err != nil {
					return buf, err.in("{}")
				}
			}
		}
		return append(buf, 0), nil // the end of the blocks
	case array.ListLike:
		start, end := a.ValueOffsets(i)
		vals := a.ListValues()
		nullable := listElem(a.DataType()).Nullable
		if end > start {
			buf = appendLong(buf, end-start)
			var err *valueFail
			for j := int(start); j < int(end); j++ {
				if buf, err = appendField(buf, vals, j, nullable); err != nil {
					return buf, err.in("[]")
				}
			}
		}
		return append(buf, 0), nil // the end of the blocks
	case *array.Dictionary:
		return appendAvro(buf, a.Dictionary(), a.GetValueIndex(i))
	}
	return buf, fail("no Avro form for %s", arr.DataType())
}

func listElem(dt arrow.DataType) arrow.Field {
	if f, ok := listElemOf(dt); ok {
		return f
	}
	return arrow.Field{Nullable: true}
}

// listElemOf is the element field of a list, large list or fixed-size list
// type; ok is false for other types.
func listElemOf(dt arrow.DataType) (arrow.Field, bool) {
	switch t := dt.(type) {
	case *arrow.ListType:
		return t.ElemField(), true
	case *arrow.LargeListType:
		return t.ElemField(), true
	case *arrow.FixedSizeListType:
		return t.ElemField(), true
	}
	return arrow.Field{}, false
}

// appendDecimal writes a 128-bit unscaled value (hi:lo, two's
// complement) as Avro's decimal wants it: its bytes, big-endian, the fewest
// that keep the sign.
func appendDecimal(buf []byte, hi int64, lo uint64) []byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(hi))
	binary.BigEndian.PutUint64(b[8:], lo)
	return appendBytes(buf, minimalTwos(b[:]))
}

// twosComplement is v as Avro's decimal wants it: big-endian two's
// complement in the fewest bytes.
func twosComplement(v *big.Int) []byte {
	if v.Sign() >= 0 {
		b := v.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	// -v - 1, bit-inverted, is v in two's complement
	n := new(big.Int).Neg(v)
	n.Sub(n, big.NewInt(1))
	b := n.Bytes()
	for k := range b {
		b[k] = ^b[k]
	}
	if len(b) == 0 || b[0]&0x80 == 0 {
		b = append([]byte{0xff}, b...)
	}
	return minimalTwos(b)
}

// minimalTwos drops leading bytes that only repeat the sign.
func minimalTwos(b []byte) []byte {
	for len(b) > 1 && (b[0] == 0 && b[1]&0x80 == 0 || b[0] == 0xff && b[1]&0x80 != 0) {
		b = b[1:]
	}
	return b
}
