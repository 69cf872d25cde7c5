package produce

// values.go: reading one value of an Arrow array, whatever its physical
// type, for the Avro, Protobuf and partition encoders.

import (
	"math"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// unDict is a dictionary type's value type; other types as they are.
func unDict(dt arrow.DataType) arrow.DataType {
	if d, ok := dt.(*arrow.DictionaryType); ok {
		return d.ValueType
	}
	return dt
}

func isInteger(dt arrow.DataType) bool { return arrow.IsInteger(dt.ID()) }

// isString: utf8 in any layout.
func isString(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return true
	}
	return false
}

// isBinary: binary in any layout, fixed-size binary, or utf8.
func isBinary(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW, arrow.FIXED_SIZE_BINARY:
		return true
	}
	return isString(dt)
}

// deref reads row i of a dictionary array in its dictionary.
func deref(col arrow.Array, i int) (arrow.Array, int) {
	if d, ok := col.(*array.Dictionary); ok {
		return d.Dictionary(), d.GetValueIndex(i)
	}
	return col, i
}

// intValue reads an integer: (n, 0) for signed types and unsigned values
// that fit an int64, (0, u) for uint64 values above it.
func intValue(col arrow.Array, i int) (int64, uint64) {
	switch a := col.(type) {
	case *array.Int8:
		return int64(a.Value(i)), 0
	case *array.Int16:
		return int64(a.Value(i)), 0
	case *array.Int32:
		return int64(a.Value(i)), 0
	case *array.Int64:
		return a.Value(i), 0
	case *array.Uint8:
		return int64(a.Value(i)), 0
	case *array.Uint16:
		return int64(a.Value(i)), 0
	case *array.Uint32:
		return int64(a.Value(i)), 0
	case *array.Uint64:
		if u := a.Value(i); u > math.MaxInt64 {
			return 0, u
		}
		return int64(a.Value(i)), 0
	}
	return 0, 0
}

// floatValue reads a float16, float32 or float64 value as a float64.
func floatValue(col arrow.Array, i int) float64 {
	switch a := col.(type) {
	case *array.Float16:
		return float64(a.Value(i).Float32())
	case *array.Float32:
		return float64(a.Value(i))
	case *array.Float64:
		return a.Value(i)
	}
	return 0
}

// bytesValue is a binary or string value, not copied: it is only read.
func bytesValue(col arrow.Array, i int) []byte {
	switch a := col.(type) {
	case *array.String:
		return unsafeBytes(a.Value(i))
	case *array.LargeString:
		return unsafeBytes(a.Value(i))
	case *array.StringView:
		return unsafeBytes(a.Value(i))
	case *array.Binary:
		return a.Value(i)
	case *array.LargeBinary:
		return a.Value(i)
	case *array.BinaryView:
		return a.Value(i)
	case *array.FixedSizeBinary:
		return a.Value(i)
	}
	return nil
}

// unsafeBytes views a string's bytes without copying them (arrow-go's
// string values already point into the column's buffer).
func unsafeBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
