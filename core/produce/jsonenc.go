package produce

// jsonenc.go: Arrow values as JSON documents, one per row, written in the
// form core/decode/jsondec reads back into the same Arrow type:
//
//	null                    null (a null row is a null Kafka value, not "null")
//	bool                    true / false
//	integers                numbers
//	float16/32/64           shortest round-trip numbers; NaN and ±Inf, which
//	                        JSON cannot hold, as the strings "NaN",
//	                        "Infinity", "-Infinity"
//	decimal32..256          exact numbers (12.5 for 12.50: no float on the way)
//	utf8, large_utf8, view  strings (invalid UTF-8 replaced by U+FFFD)
//	binary, fixed_size_binary, views  base64 strings (standard alphabet)
//	timestamp               RFC 3339 UTC strings with the unit's digits:
//	                        "2026-11-23T08:00:00.123Z"
//	date32, date64          "2026-11-23"
//	time32, time64          "08:00:00.123"
//	duration                a number of the column's unit
//	list, large_list, fixed_size_list, list_view   arrays
//	struct                  objects, fields in schema order
//	map                     objects; a key that is not a string is written
//	                        as the text of its JSON value
//	dictionary              the value the index points to
//
// Not supported (the plan fails naming the column): intervals, unions,
// run-end encoded arrays, extension types other than their storage.

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

func jsonSupported(dt arrow.DataType) error {
	switch t := dt.(type) {
	case *arrow.NullType, *arrow.BooleanType,
		*arrow.Int8Type, *arrow.Int16Type, *arrow.Int32Type, *arrow.Int64Type,
		*arrow.Uint8Type, *arrow.Uint16Type, *arrow.Uint32Type, *arrow.Uint64Type,
		*arrow.Float16Type, *arrow.Float32Type, *arrow.Float64Type,
		*arrow.Decimal32Type, *arrow.Decimal64Type, *arrow.Decimal128Type, *arrow.Decimal256Type,
		*arrow.StringType, *arrow.LargeStringType, *arrow.StringViewType,
		*arrow.BinaryType, *arrow.LargeBinaryType, *arrow.BinaryViewType, *arrow.FixedSizeBinaryType,
		*arrow.TimestampType, *arrow.Date32Type, *arrow.Date64Type,
		*arrow.Time32Type, *arrow.Time64Type, *arrow.DurationType:
		return nil
	case *arrow.ListType:
		return jsonSupported(t.Elem())
	case *arrow.LargeListType:
		return jsonSupported(t.Elem())
	case *arrow.FixedSizeListType:
		return jsonSupported(t.Elem())
	case *arrow.ListViewType:
		return jsonSupported(t.Elem())
	case *arrow.LargeListViewType:
		return jsonSupported(t.Elem())
	case *arrow.MapType:
		if err := jsonSupported(t.KeyType()); err != nil {
			return err
		}
		return jsonSupported(t.ItemType())
	case *arrow.StructType:
		for _, f := range t.Fields() {
			if err := jsonSupported(f.Type); err != nil {
				return fmt.Errorf("field %q: %w", f.Name, err)
			}
		}
		return nil
	case *arrow.DictionaryType:
		return jsonSupported(t.ValueType)
	}
	return fmt.Errorf("no JSON form for %s", dt)
}

// appendDecimalText writes the decimal v / 10^scale exactly, in plain
// notation, without trailing zeros after the point ("12.5" for 12.50, "100"
// for 100.00). Scales it does not handle go to arr's ValueStr.
func appendDecimalText(buf []byte, v int64, scale int32, arr arrow.Array, i int) []byte {
	if scale < 0 || scale > 18 {
		return append(buf, arr.ValueStr(i)...)
	}
	u := uint64(v)
	if v < 0 {
		buf = append(buf, '-')
		u = -u
	}
	var tmp [48]byte // 20 digits and up to 19 zeros in front: no allocation
	d := strconv.AppendUint(tmp[:0], u, 10)
	if pad := int(scale) + 1 - len(d); pad > 0 { // at least one digit before the point
		d = d[:len(d)+pad]
		copy(d[pad:], d[:len(d)-pad])
		for k := 0; k < pad; k++ {
			d[k] = '0'
		}
	}
	cut := len(d) - int(scale)
	frac := d[cut:]
	for len(frac) > 0 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	buf = append(buf, d[:cut]...)
	if len(frac) > 0 {
		buf = append(buf, '.')
		buf = append(buf, frac...)
	}
	return buf
}

// AppendJSON appends the JSON form of arr[i] (which may be null) to buf.
func AppendJSON(buf []byte, arr arrow.Array, i int) []byte {
	if arr.IsNull(i) {
		return append(buf, "null"...)
	}
	switch a := arr.(type) {
	case *array.Null:
		return append(buf, "null"...)
	case *array.Boolean:
		return strconv.AppendBool(buf, a.Value(i))
	case *array.Int8:
		return strconv.AppendInt(buf, int64(a.Value(i)), 10)
	case *array.Int16:
		return strconv.AppendInt(buf, int64(a.Value(i)), 10)
	case *array.Int32:
		return strconv.AppendInt(buf, int64(a.Value(i)), 10)
	case *array.Int64:
		return strconv.AppendInt(buf, a.Value(i), 10)
	case *array.Uint8:
		return strconv.AppendUint(buf, uint64(a.Value(i)), 10)
	case *array.Uint16:
		return strconv.AppendUint(buf, uint64(a.Value(i)), 10)
	case *array.Uint32:
		return strconv.AppendUint(buf, uint64(a.Value(i)), 10)
	case *array.Uint64:
		return strconv.AppendUint(buf, a.Value(i), 10)
	case *array.Float16:
		return appendFloat(buf, float64(a.Value(i).Float32()), 32)
	case *array.Float32:
		return appendFloat(buf, float64(a.Value(i)), 32)
	case *array.Float64:
		return appendFloat(buf, a.Value(i), 64)
	case *array.Decimal32:
		return appendDecimalText(buf, int64(a.Value(i)), a.DataType().(*arrow.Decimal32Type).Scale, arr, i)
	case *array.Decimal64:
		return appendDecimalText(buf, int64(a.Value(i)), a.DataType().(*arrow.Decimal64Type).Scale, arr, i)
	case *array.Decimal128:
		if v := a.Value(i); v.HighBits() == int64(v.LowBits())>>63 { // fits an int64
			return appendDecimalText(buf, int64(v.LowBits()), a.DataType().(*arrow.Decimal128Type).Scale, arr, i)
		}
		return append(buf, arr.ValueStr(i)...)
	case *array.Decimal256:
		return append(buf, arr.ValueStr(i)...)
	case *array.String:
		return appendString(buf, a.Value(i))
	case *array.LargeString:
		return appendString(buf, a.Value(i))
	case *array.StringView:
		return appendString(buf, a.Value(i))
	case *array.Binary:
		return appendBase64(buf, a.Value(i))
	case *array.LargeBinary:
		return appendBase64(buf, a.Value(i))
	case *array.BinaryView:
		return appendBase64(buf, a.Value(i))
	case *array.FixedSizeBinary:
		return appendBase64(buf, a.Value(i))
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return appendTimestamp(buf, int64(a.Value(i)), unit)
	case *array.Date32:
		return appendDate(buf, time.Unix(int64(a.Value(i))*86400, 0))
	case *array.Date64:
		return appendDate(buf, time.UnixMilli(int64(a.Value(i))))
	case *array.Time32:
		unit := a.DataType().(*arrow.Time32Type).Unit
		return appendTime(buf, int64(a.Value(i)), unit)
	case *array.Time64:
		unit := a.DataType().(*arrow.Time64Type).Unit
		return appendTime(buf, int64(a.Value(i)), unit)
	case *array.Duration:
		return strconv.AppendInt(buf, int64(a.Value(i)), 10)
	case *array.Map:
		return appendMapJSON(buf, a, i)
	case array.ListLike:
		lo, hi := a.ValueOffsets(i)
		vals := a.ListValues()
		buf = append(buf, '[')
		for j := lo; j < hi; j++ {
			if j > lo {
				buf = append(buf, ',')
			}
			buf = AppendJSON(buf, vals, int(j))
		}
		return append(buf, ']')
	case *array.Struct:
		st := a.DataType().(*arrow.StructType)
		buf = append(buf, '{')
		for f := 0; f < a.NumField(); f++ {
			if f > 0 {
				buf = append(buf, ',')
			}
			buf = appendString(buf, st.Field(f).Name)
			buf = append(buf, ':')
			buf = AppendJSON(buf, a.Field(f), i)
		}
		return append(buf, '}')
	case *array.Dictionary:
		return AppendJSON(buf, a.Dictionary(), a.GetValueIndex(i))
	}
	// not reached for types jsonSupported accepts
	return appendString(buf, arr.ValueStr(i))
}

// appendMapJSON is AppendJSON for maps (an array.Map is also ListLike,
// hence matched before it).
func appendMapJSON(buf []byte, a *array.Map, i int) []byte {
	lo, hi := a.ValueOffsets(i)
	keys, items := a.Keys(), a.Items()
	buf = append(buf, '{')
	for j := lo; j < hi; j++ {
		if j > lo {
			buf = append(buf, ',')
		}
		switch k := keys.(type) {
		case *array.String:
			buf = appendString(buf, k.Value(int(j)))
		case *array.LargeString:
			buf = appendString(buf, k.Value(int(j)))
		case *array.StringView:
			buf = appendString(buf, k.Value(int(j)))
		default:
			buf = appendString(buf, string(AppendJSON(nil, keys, int(j))))
		}
		buf = append(buf, ':')
		buf = AppendJSON(buf, items, int(j))
	}
	return append(buf, '}')
}

func appendFloat(buf []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(buf, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(buf, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(buf, `"-Infinity"`...)
	}
	return strconv.AppendFloat(buf, f, 'g', -1, bits)
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string: quotes, backslashes and control
// characters escaped, invalid UTF-8 replaced by U+FFFD.
func appendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, "\ufffd"...)
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

func appendBase64(buf []byte, b []byte) []byte {
	buf = append(buf, '"')
	n := base64.StdEncoding.EncodedLen(len(b))
	buf = append(buf, make([]byte, n)...)
	base64.StdEncoding.Encode(buf[len(buf)-n:], b)
	return append(buf, '"')
}

// split returns v in whole seconds and the fraction in units (floored).
func split(v int64, unit arrow.TimeUnit) (sec, frac int64, digits int) {
	var per int64
	switch unit {
	case arrow.Second:
		return v, 0, 0
	case arrow.Millisecond:
		per, digits = 1_000, 3
	case arrow.Microsecond:
		per, digits = 1_000_000, 6
	default:
		per, digits = 1_000_000_000, 9
	}
	sec, frac = v/per, v%per
	if frac < 0 {
		sec--
		frac += per
	}
	return sec, frac, digits
}

// appendFrac writes "." and frac in digits digits (0 <= frac < 10^digits),
// zero-padded; nothing when digits is 0.
func appendFrac(buf []byte, frac int64, digits int) []byte {
	if digits == 0 {
		return buf
	}
	var tmp [10]byte
	tmp[0] = '.'
	for k := digits; k > 0; k-- {
		tmp[k] = byte('0' + frac%10)
		frac /= 10
	}
	return append(buf, tmp[:digits+1]...)
}

// append2 writes v (0 to 99) in two digits.
func append2(buf []byte, v int) []byte { return append(buf, byte('0'+v/10), byte('0'+v%10)) }

// appendDateTime writes t as 2006-01-02T15:04:05 (date or time alone when
// asked), by hand: time.AppendFormat reads its layout on every call. Years
// outside 0 to 9999 go through AppendFormat.
func appendDateTime(buf []byte, t time.Time, date, clock bool) []byte {
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		layout := "2006-01-02T15:04:05"
		switch {
		case !clock:
			layout = "2006-01-02"
		case !date:
			layout = "15:04:05"
		}
		return t.AppendFormat(buf, layout)
	}
	if date {
		buf = append2(append2(buf, y/100), y%100)
		buf = append2(append(buf, '-'), int(mo))
		buf = append2(append(buf, '-'), d)
		if clock {
			buf = append(buf, 'T')
		}
	}
	if clock {
		h, m, sec := t.Clock()
		buf = append2(buf, h)
		buf = append2(append(buf, ':'), m)
		buf = append2(append(buf, ':'), sec)
	}
	return buf
}

func appendTimestamp(buf []byte, v int64, unit arrow.TimeUnit) []byte {
	sec, frac, digits := split(v, unit)
	buf = append(buf, '"')
	buf = appendDateTime(buf, time.Unix(sec, 0).UTC(), true, true)
	buf = appendFrac(buf, frac, digits)
	return append(buf, 'Z', '"')
}

func appendDate(buf []byte, t time.Time) []byte {
	buf = append(buf, '"')
	buf = appendDateTime(buf, t.UTC(), true, false)
	return append(buf, '"')
}

func appendTime(buf []byte, v int64, unit arrow.TimeUnit) []byte {
	sec, frac, digits := split(v, unit)
	buf = append(buf, '"')
	buf = appendDateTime(buf, time.Unix(sec, 0).UTC(), false, true)
	buf = appendFrac(buf, frac, digits)
	return append(buf, '"')
}
