package jsondec

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/kafkars/kafkars/core/decode"
)

// nan stands for any NaN in expectations (NaN != NaN).
type nan struct{}

var (
	tsMS   = &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}
	tsNS   = &arrow.TimestampType{Unit: arrow.Nanosecond}
	tsUS   = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "Europe/Paris"}
	tsS    = &arrow.TimestampType{Unit: arrow.Second}
	dec10  = &arrow.Decimal128Type{Precision: 10, Scale: 2}
	dec38  = &arrow.Decimal128Type{Precision: 38, Scale: 0}
	dec256 = &arrow.Decimal256Type{Precision: 76, Scale: 10}
	dec32  = &arrow.Decimal32Type{Precision: 9, Scale: 2}
	dec64  = &arrow.Decimal64Type{Precision: 18, Scale: 4}
)

func ms(year int, month time.Month, day, h, m, s, nsec int) int64 {
	return time.Date(year, month, day, h, m, s, nsec, time.UTC).UnixMilli()
}

func days(year int, month time.Month, day int) int64 {
	return time.Date(year, month, day, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// TestValues decodes {"v": <json>} into struct<v: typ> for every type,
// good values and bad.
func TestValues(t *testing.T) {
	s := func(v string) any { return v }
	type tc struct {
		name    string
		typ     arrow.DataType
		notNull bool
		opts    Options
		json    string
		want    any    // the value of v (nil: null)
		err     string // a substring of the error; "" means success
	}
	tests := []tc{
		// bool
		{"bool true", arrow.FixedWidthTypes.Boolean, false, Options{}, `true`, true, ""},
		{"bool false", arrow.FixedWidthTypes.Boolean, false, Options{}, `false`, false, ""},
		{"bool null", arrow.FixedWidthTypes.Boolean, false, Options{}, `null`, nil, ""},
		{"bool string", arrow.FixedWidthTypes.Boolean, false, Options{}, `"true"`, nil, `field "v": expected true or false, got a string`},
		{"bool number", arrow.FixedWidthTypes.Boolean, false, Options{}, `1`, nil, "expected true or false, got a number"},
		{"bool bad literal", arrow.FixedWidthTypes.Boolean, false, Options{}, `tru }`, nil, "invalid literal"},
		{"bool cut short", arrow.FixedWidthTypes.Boolean, false, Options{}, `tr`, nil, "invalid literal (expected true)"},
		{"null literal bad", arrow.FixedWidthTypes.Boolean, false, Options{}, `nul}`, nil, "invalid literal (expected null)"},
		{"not nullable null", arrow.FixedWidthTypes.Boolean, true, Options{}, `null`, nil, `field "v": got null, but the field is not nullable`},
		{"not nullable null zero", arrow.FixedWidthTypes.Boolean, true, Options{ZeroForMissing: true}, `null`, false, ""},

		// integers
		{"int8 max", arrow.PrimitiveTypes.Int8, false, Options{}, `127`, int64(127), ""},
		{"int8 min", arrow.PrimitiveTypes.Int8, false, Options{}, `-128`, int64(-128), ""},
		{"int8 over", arrow.PrimitiveTypes.Int8, false, Options{}, `128`, nil, `field "v": 128 is out of range for int8`},
		{"int8 under", arrow.PrimitiveTypes.Int8, false, Options{}, `-129`, nil, "-129 is out of range for int8"},
		{"int16 bounds", arrow.PrimitiveTypes.Int16, false, Options{}, `-32768`, int64(-32768), ""},
		{"int16 over", arrow.PrimitiveTypes.Int16, false, Options{}, `32768`, nil, "out of range for int16"},
		{"int32 max", arrow.PrimitiveTypes.Int32, false, Options{}, `2147483647`, int64(math.MaxInt32), ""},
		{"int32 over", arrow.PrimitiveTypes.Int32, false, Options{}, `2147483648`, nil, "out of range for int32"},
		{"int64 max", arrow.PrimitiveTypes.Int64, false, Options{}, `9223372036854775807`, int64(math.MaxInt64), ""},
		{"int64 min", arrow.PrimitiveTypes.Int64, false, Options{}, `-9223372036854775808`, int64(math.MinInt64), ""},
		{"int64 over", arrow.PrimitiveTypes.Int64, false, Options{}, `9223372036854775808`, nil, "out of range for int64"},
		{"int64 under", arrow.PrimitiveTypes.Int64, false, Options{}, `-9223372036854775809`, nil, "out of range for int64"},
		{"int64 20 digits", arrow.PrimitiveTypes.Int64, false, Options{}, `99999999999999999999`, nil, "out of range for int64"},
		{"int64 many digits", arrow.PrimitiveTypes.Int64, false, Options{}, `123456789012345678901234567890`, nil, "out of range for int64"},
		{"int64 8 digits", arrow.PrimitiveTypes.Int64, false, Options{}, `12345678`, int64(12345678), ""},
		{"int64 16 digits", arrow.PrimitiveTypes.Int64, false, Options{}, `1234567890123456`, int64(1234567890123456), ""},
		{"int64 18 digits", arrow.PrimitiveTypes.Int64, false, Options{}, `-123456789012345678`, int64(-123456789012345678), ""},
		{"int64 zero", arrow.PrimitiveTypes.Int64, false, Options{}, `0`, int64(0), ""},
		{"int64 minus zero", arrow.PrimitiveTypes.Int64, false, Options{}, `-0`, int64(0), ""},
		{"int fraction", arrow.PrimitiveTypes.Int64, false, Options{}, `3.5`, nil, `field "v": 3.5 is not an integer`},
		{"int integral fraction", arrow.PrimitiveTypes.Int64, false, Options{}, `3.0`, nil, "3.0 is not an integer"},
		{"int exponent", arrow.PrimitiveTypes.Int64, false, Options{}, `1e3`, nil, "1e3 is not an integer"},
		{"int bad fraction", arrow.PrimitiveTypes.Int64, false, Options{}, `3.}`, nil, "invalid number"},
		{"int leading zero", arrow.PrimitiveTypes.Int64, false, Options{}, `012`, nil, "invalid number"},
		{"int plus", arrow.PrimitiveTypes.Int64, false, Options{}, `+1`, nil, "expected a value"},
		{"int minus alone", arrow.PrimitiveTypes.Int64, false, Options{}, `-}`, nil, "invalid number"},
		{"int minus and object end", arrow.PrimitiveTypes.Int64, false, Options{}, `-`, nil, "invalid JSON at offset 6: invalid number"},
		{"int string", arrow.PrimitiveTypes.Int64, false, Options{}, `"5"`, nil, `field "v": expected an integer, got a string`},
		{"int quoted", arrow.PrimitiveTypes.Int64, false, Options{QuotedNumbers: true}, `"-5"`, int64(-5), ""},
		{"int quoted fraction", arrow.PrimitiveTypes.Int64, false, Options{QuotedNumbers: true}, `"5.5"`, nil, "5.5 is not an integer"},
		{"int quoted junk", arrow.PrimitiveTypes.Int64, false, Options{QuotedNumbers: true}, `"5x"`, nil, `"5x" is not an integer`},
		{"int quoted range", arrow.PrimitiveTypes.Int8, false, Options{QuotedNumbers: true}, `"300"`, nil, "300 is out of range for int8"},
		{"int bool", arrow.PrimitiveTypes.Int64, false, Options{}, `true`, nil, "expected an integer, got a boolean"},
		{"int object", arrow.PrimitiveTypes.Int64, false, Options{}, `{}`, nil, "expected an integer, got an object"},
		{"uint8 max", arrow.PrimitiveTypes.Uint8, false, Options{}, `255`, uint64(255), ""},
		{"uint8 over", arrow.PrimitiveTypes.Uint8, false, Options{}, `256`, nil, "256 is out of range for uint8"},
		{"uint8 negative", arrow.PrimitiveTypes.Uint8, false, Options{}, `-1`, nil, "-1 is out of range for uint8"},
		{"uint8 minus zero", arrow.PrimitiveTypes.Uint8, false, Options{}, `-0`, uint64(0), ""},
		{"uint16 max", arrow.PrimitiveTypes.Uint16, false, Options{}, `65535`, uint64(65535), ""},
		{"uint32 max", arrow.PrimitiveTypes.Uint32, false, Options{}, `4294967295`, uint64(math.MaxUint32), ""},
		{"uint32 over", arrow.PrimitiveTypes.Uint32, false, Options{}, `4294967296`, nil, "out of range for uint32"},
		{"uint64 max", arrow.PrimitiveTypes.Uint64, false, Options{}, `18446744073709551615`, uint64(math.MaxUint64), ""},
		{"uint64 over", arrow.PrimitiveTypes.Uint64, false, Options{}, `18446744073709551616`, nil, "out of range for uint64"},

		// floats
		{"float64", arrow.PrimitiveTypes.Float64, false, Options{}, `187.23`, 187.23, ""},
		{"float64 int", arrow.PrimitiveTypes.Float64, false, Options{}, `100`, 100.0, ""},
		{"float64 negative zero", arrow.PrimitiveTypes.Float64, false, Options{}, `-0.0`, math.Copysign(0, -1), ""},
		{"float64 exp", arrow.PrimitiveTypes.Float64, false, Options{}, `-1.5E+3`, -1500.0, ""},
		{"float64 long", arrow.PrimitiveTypes.Float64, false, Options{}, `123456789012345678901234567890`, 123456789012345678901234567890.0, ""},
		{"float64 long fraction", arrow.PrimitiveTypes.Float64, false, Options{}, `0.1000000000000000055511151231257827`, 0.1, ""},
		{"float64 max", arrow.PrimitiveTypes.Float64, false, Options{}, `1.7976931348623157e308`, math.MaxFloat64, ""},
		{"float64 smallest", arrow.PrimitiveTypes.Float64, false, Options{}, `5e-324`, math.SmallestNonzeroFloat64, ""},
		{"float64 underflow", arrow.PrimitiveTypes.Float64, false, Options{}, `1e-400`, 0.0, ""},
		{"float64 overflow", arrow.PrimitiveTypes.Float64, false, Options{}, `1e309`, nil, "1e309 is out of range for float64"},
		{"float64 huge exponent", arrow.PrimitiveTypes.Float64, false, Options{}, `1e99999999999999999999`, nil, "out of range for float64"},
		{"float64 zero huge exponent", arrow.PrimitiveTypes.Float64, false, Options{}, `0e99999999999999999999`, 0.0, ""},
		{"float64 string", arrow.PrimitiveTypes.Float64, false, Options{}, `"1.5"`, nil, `field "v": expected a number, got a string`},
		{"float64 quoted", arrow.PrimitiveTypes.Float64, false, Options{QuotedNumbers: true}, `"1.5"`, 1.5, ""},
		{"float64 quoted NaN", arrow.PrimitiveTypes.Float64, false, Options{QuotedNumbers: true}, `"NaN"`, nan{}, ""},
		{"float64 quoted inf", arrow.PrimitiveTypes.Float64, false, Options{QuotedNumbers: true}, `"-Infinity"`, math.Inf(-1), ""},
		{"float64 quoted junk", arrow.PrimitiveTypes.Float64, false, Options{QuotedNumbers: true}, `"1.5.5"`, nil, `"1.5.5" is not a number`},
		{"float64 NaN literal", arrow.PrimitiveTypes.Float64, false, Options{}, `NaN`, nil, "expected a value"},
		{"float64 no digits after point", arrow.PrimitiveTypes.Float64, false, Options{}, `1.e5`, nil, "invalid number"},
		{"float64 no exponent digits", arrow.PrimitiveTypes.Float64, false, Options{}, `1e+}`, nil, "invalid number"},
		{"float64 leading point", arrow.PrimitiveTypes.Float64, false, Options{}, `.5`, nil, "expected a value"},
		{"float32", arrow.PrimitiveTypes.Float32, false, Options{}, `0.1`, float32(0.1), ""},
		{"float32 slow", arrow.PrimitiveTypes.Float32, false, Options{}, `16777217.5e3`, float32(16777217.5e3), ""},
		{"float32 max", arrow.PrimitiveTypes.Float32, false, Options{}, `3.4028235e38`, float32(math.MaxFloat32), ""},
		{"float32 overflow", arrow.PrimitiveTypes.Float32, false, Options{}, `3.5e38`, nil, "out of range for float32"},

		// strings
		{"utf8", arrow.BinaryTypes.String, false, Options{}, `"AAPL"`, s("AAPL"), ""},
		{"utf8 empty", arrow.BinaryTypes.String, false, Options{}, `""`, s(""), ""},
		{"utf8 multibyte", arrow.BinaryTypes.String, false, Options{}, `"héllo wörld 日本 😀"`, s("héllo wörld 日本 😀"), ""},
		{"utf8 replacement char", arrow.BinaryTypes.String, false, Options{}, "\"\xef\xbf\xbd\"", s("\ufffd"), ""},
		{"utf8 escapes", arrow.BinaryTypes.String, false, Options{}, `"a\"b\\c\/d\be\ff\ng\rh\ti"`, s("a\"b\\c/d\be\ff\ng\rh\ti"), ""},
		{"utf8 \\u", arrow.BinaryTypes.String, false, Options{}, `"caf\u00e9 \u65E5 \u0000"`, s("café 日 \x00"), ""},
		{"utf8 surrogate pair", arrow.BinaryTypes.String, false, Options{}, `"\ud83d\ude00!"`, s("😀!"), ""},
		{"large_utf8", arrow.BinaryTypes.LargeString, false, Options{}, `"x\u0041y"`, s("xAy"), ""},
		{"utf8 number", arrow.BinaryTypes.String, false, Options{}, `42`, nil, `field "v": expected a string, got a number`},
		{"utf8 bad escape", arrow.BinaryTypes.String, false, Options{}, `"a\x"`, nil, `bad escape \x`},
		{"utf8 short \\u", arrow.BinaryTypes.String, false, Options{}, `"\u12"`, nil, "need four hex digits"},
		{"utf8 bad hex", arrow.BinaryTypes.String, false, Options{}, `"\u12g4"`, nil, "need four hex digits"},
		{"utf8 lone high surrogate", arrow.BinaryTypes.String, false, Options{}, `"\ud800"`, nil, "high surrogate not followed by a low surrogate"},
		{"utf8 high then letter", arrow.BinaryTypes.String, false, Options{}, `"\ud800\u0041xxxx"`, nil, "high surrogate not followed by a low surrogate"},
		{"utf8 lone low surrogate", arrow.BinaryTypes.String, false, Options{}, `"\udc00"`, nil, "lone low surrogate"},
		{"utf8 control char", arrow.BinaryTypes.String, false, Options{}, "\"a\x01b\"", nil, "control character"},
		{"utf8 raw newline", arrow.BinaryTypes.String, false, Options{}, "\"a\nb\"", nil, "control character"},
		{"utf8 invalid byte", arrow.BinaryTypes.String, false, Options{}, "\"a\xffb\"", nil, "invalid UTF-8"},
		{"utf8 truncated sequence", arrow.BinaryTypes.String, false, Options{}, "\"a\xe2\x82\"", nil, "invalid UTF-8"},
		{"utf8 overlong", arrow.BinaryTypes.String, false, Options{}, "\"\xc0\x80\"", nil, "invalid UTF-8"},
		{"utf8 encoded surrogate", arrow.BinaryTypes.String, false, Options{}, "\"\xed\xa0\x80\"", nil, "invalid UTF-8"},
		{"utf8 unterminated", arrow.BinaryTypes.String, false, Options{}, `"abc`, nil, "unexpected end of input"},
		{"utf8 escaped brace", arrow.BinaryTypes.String, false, Options{}, `"abc\`, nil, `bad escape \}`},

		// binary
		{"binary base64", arrow.BinaryTypes.Binary, false, Options{}, `"aGVsbG8="`, []byte("hello"), ""},
		{"binary base64 unpadded", arrow.BinaryTypes.Binary, false, Options{}, `"aGVsbG8"`, []byte("hello"), ""},
		{"binary base64 std alphabet", arrow.BinaryTypes.Binary, false, Options{}, `"+/8="`, []byte{0xfb, 0xff}, ""},
		{"binary base64 url alphabet", arrow.BinaryTypes.Binary, false, Options{}, `"-_8"`, []byte{0xfb, 0xff}, ""},
		{"binary base64 escaped slash", arrow.BinaryTypes.Binary, false, Options{}, `"\/w=="`, []byte{0xff}, ""},
		{"binary empty", arrow.BinaryTypes.Binary, false, Options{}, `""`, []byte{}, ""},
		{"large_binary", arrow.BinaryTypes.LargeBinary, false, Options{}, `"AAEC"`, []byte{0, 1, 2}, ""},
		{"binary bad base64", arrow.BinaryTypes.Binary, false, Options{}, `"!!!!"`, nil, "is not valid base64"},
		{"binary bad length", arrow.BinaryTypes.Binary, false, Options{}, `"a"`, nil, "is not valid base64"},
		{"binary bad padding", arrow.BinaryTypes.Binary, false, Options{}, `"aGVsbG8=="`, nil, "bad padding"},
		{"binary mixed alphabets", arrow.BinaryTypes.Binary, false, Options{}, `"+_8="`, nil, "is not valid base64"},
		{"binary number", arrow.BinaryTypes.Binary, false, Options{}, `1`, nil, "expected a base64 string, got a number"},
		{"binary raw", arrow.BinaryTypes.Binary, false, Options{Binary: RawString}, `"h\u00e9"`, []byte("hé"), ""},
		{"binary raw plain", arrow.BinaryTypes.Binary, false, Options{Binary: RawString}, `"aGVsbG8="`, []byte("aGVsbG8="), ""},
		{"fixed binary", &arrow.FixedSizeBinaryType{ByteWidth: 3}, false, Options{}, `"AQID"`, []byte{1, 2, 3}, ""},
		{"fixed binary short", &arrow.FixedSizeBinaryType{ByteWidth: 3}, false, Options{}, `"AQI="`, nil, "expected 3 bytes, got 2"},
		{"fixed binary raw", &arrow.FixedSizeBinaryType{ByteWidth: 3}, false, Options{Binary: RawString}, `"abc"`, []byte("abc"), ""},
		{"fixed binary raw escaped", &arrow.FixedSizeBinaryType{ByteWidth: 3}, false, Options{Binary: RawString}, `"a\nc"`, []byte("a\nc"), ""},
		{"fixed binary raw long", &arrow.FixedSizeBinaryType{ByteWidth: 3}, false, Options{Binary: RawString}, `"abcd"`, nil, "expected 3 bytes, got 4"},
		{"fixed binary raw escaped long", &arrow.FixedSizeBinaryType{ByteWidth: 3}, false, Options{Binary: RawString}, `"\n\n\n\n"`, nil, "expected 3 bytes, got 4"},

		// timestamps
		{"ts number", tsMS, false, Options{}, `1732000000123`, int64(1732000000123), ""},
		{"ts negative number", tsMS, false, Options{}, `-1`, int64(-1), ""},
		{"ts int64 min", tsNS, false, Options{}, `-9223372036854775808`, int64(math.MinInt64), ""},
		{"ts number over", tsNS, false, Options{}, `9223372036854775808`, nil, "out of range for timestamp[ns]"},
		{"ts fraction", tsMS, false, Options{}, `1732000000123.5`, nil, `field "v": 1732000000123.5 is not an integer (a number for timestamp[ms, tz=UTC] counts milliseconds since the epoch)`},
		{"ts exponent", tsS, false, Options{}, `1e9`, nil, "is not an integer"},
		{"ts RFC 3339 Z", tsMS, false, Options{}, `"2024-11-19T07:06:40.123Z"`, ms(2024, 11, 19, 7, 6, 40, 123e6), ""},
		{"ts no fraction", tsMS, false, Options{}, `"2024-11-19T07:06:40Z"`, ms(2024, 11, 19, 7, 6, 40, 0), ""},
		{"ts one fraction digit", tsMS, false, Options{}, `"2024-11-19T07:06:40.5Z"`, ms(2024, 11, 19, 7, 6, 40, 500e6), ""},
		{"ts offset", tsMS, false, Options{}, `"2024-11-19T09:06:40.123+02:00"`, ms(2024, 11, 19, 7, 6, 40, 123e6), ""},
		{"ts negative offset", tsMS, false, Options{}, `"2024-11-18T23:06:40-08:00"`, ms(2024, 11, 19, 7, 6, 40, 0), ""},
		{"ts offset hhmm", tsMS, false, Options{}, `"2024-11-19T12:36:40+0530"`, ms(2024, 11, 19, 7, 6, 40, 0), ""},
		{"ts offset hh", tsMS, false, Options{}, `"2024-11-19T04:06:40-03"`, ms(2024, 11, 19, 7, 6, 40, 0), ""},
		{"ts naive is UTC", tsMS, false, Options{}, `"2024-11-19T07:06:40.123"`, ms(2024, 11, 19, 7, 6, 40, 123e6), ""},
		{"ts space and z", tsMS, false, Options{}, `"2024-11-19 07:06:40,123z"`, ms(2024, 11, 19, 7, 6, 40, 123e6), ""},
		{"ts no seconds", tsMS, false, Options{}, `"2024-11-19T07:06Z"`, ms(2024, 11, 19, 7, 6, 0, 0), ""},
		{"ts date only", tsMS, false, Options{}, `"2024-11-19"`, ms(2024, 11, 19, 0, 0, 0, 0), ""},
		{"ts leap day", tsMS, false, Options{}, `"2024-02-29T00:00:00Z"`, ms(2024, 2, 29, 0, 0, 0, 0), ""},
		{"ts before epoch", tsMS, false, Options{}, `"1969-12-31T23:59:59.999Z"`, int64(-1), ""},
		{"ts year 1", tsS, false, Options{}, `"0001-01-01T00:00:00Z"`, int64(-62135596800), ""},
		{"ts year 0", tsS, false, Options{}, `"0000-03-01T00:00:00Z"`, time.Date(0, 3, 1, 0, 0, 0, 0, time.UTC).Unix(), ""},
		{"ts year 9999", tsS, false, Options{}, `"9999-12-31T23:59:59Z"`, time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix(), ""},
		{"ts us with tz", tsUS, false, Options{}, `"2024-11-19T07:06:40.123456Z"`, ms(2024, 11, 19, 7, 6, 40, 0)*1000 + 123456, ""},
		{"ts ns", tsNS, false, Options{}, `"2024-11-19T07:06:40.123456789Z"`, ms(2024, 11, 19, 7, 6, 40, 0)*1e6 + 123456789, ""},
		{"ts ns max", tsNS, false, Options{}, `"2262-04-11T23:47:16.854775807Z"`, int64(math.MaxInt64), ""},
		{"ts ns min", tsNS, false, Options{}, `"1677-09-21T00:12:43.145224192Z"`, int64(math.MinInt64), ""},
		{"ts ns over", tsNS, false, Options{}, `"2262-04-11T23:47:16.854775808Z"`, nil, `is out of range for timestamp[ns]`},
		{"ts ns under", tsNS, false, Options{}, `"1677-09-21T00:12:43.145224191Z"`, nil, `is out of range for timestamp[ns]`},
		{"ts ns far", tsNS, false, Options{}, `"3000-01-01"`, nil, `"3000-01-01" is out of range for timestamp[ns]`},
		{"ts extra zero digits", tsMS, false, Options{}, `"2024-11-19T07:06:40.123000Z"`, ms(2024, 11, 19, 7, 6, 40, 123e6), ""},
		{"ts too precise", tsMS, false, Options{}, `"2024-11-19T07:06:40.123456Z"`, nil, "more fraction digits than milliseconds hold"},
		{"ts truncated", tsMS, false, Options{TruncateTimestamps: true}, `"2024-11-19T07:06:40.123456Z"`, ms(2024, 11, 19, 7, 6, 40, 123e6), ""},
		{"ts truncated before epoch", tsS, false, Options{TruncateTimestamps: true}, `"1969-12-31T23:59:59.9Z"`, int64(-1), ""},
		{"ts seconds unit fraction", tsS, false, Options{}, `"2024-11-19T07:06:40.5Z"`, nil, "more fraction digits than seconds hold"},
		{"ts bad month", tsMS, false, Options{}, `"2024-13-01T00:00:00Z"`, nil, `field "v": "2024-13-01T00:00:00Z" is not a valid timestamp: month 13 out of range`},
		{"ts bad day", tsMS, false, Options{}, `"2023-02-29"`, nil, "day 29 out of range"},
		{"ts day 31", tsMS, false, Options{}, `"2024-04-31"`, nil, "day 31 out of range"},
		{"ts hour 24", tsMS, false, Options{}, `"2024-11-19T24:00:00Z"`, nil, "time of day out of range"},
		{"ts leap second", tsMS, false, Options{}, `"2016-12-31T23:59:60Z"`, nil, "leap seconds"},
		{"ts empty fraction", tsMS, false, Options{}, `"2024-11-19T07:06:40.Z"`, nil, "expected digits after the decimal point"},
		{"ts bad separator", tsMS, false, Options{}, `"2024-11-19X07:06:40Z"`, nil, "expected 'T' after the date"},
		{"ts bad offset", tsMS, false, Options{}, `"2024-11-19T07:06:40+2"`, nil, "bad UTC offset"},
		{"ts offset range", tsMS, false, Options{}, `"2024-11-19T07:06:40+24:00"`, nil, "UTC offset out of range"},
		{"ts trailing", tsMS, false, Options{}, `"2024-11-19T07:06:40Zjunk"`, nil, "unexpected text after the timestamp"},
		{"ts no time", tsMS, false, Options{}, `"2024-11-19T"`, nil, "expected hh:mm"},
		{"ts garbage", tsMS, false, Options{}, `"yesterday"`, nil, "expected YYYY-MM-DD"},
		{"ts short year", tsMS, false, Options{}, `"24-11-19"`, nil, "expected YYYY-MM-DD"},
		{"ts escaped", tsMS, false, Options{}, `"2024-11-19T07:06:40\u002e123Z"`, ms(2024, 11, 19, 7, 6, 40, 123e6), ""},
		{"ts bool", tsMS, false, Options{}, `true`, nil, "expected an RFC 3339 timestamp string or a number, got a boolean"},

		// dates
		{"date32 string", arrow.FixedWidthTypes.Date32, false, Options{}, `"2024-11-19"`, days(2024, 11, 19), ""},
		{"date32 epoch", arrow.FixedWidthTypes.Date32, false, Options{}, `"1970-01-01"`, int64(0), ""},
		{"date32 before epoch", arrow.FixedWidthTypes.Date32, false, Options{}, `"1969-12-31"`, int64(-1), ""},
		{"date32 number", arrow.FixedWidthTypes.Date32, false, Options{}, `20046`, int64(20046), ""},
		{"date32 number over", arrow.FixedWidthTypes.Date32, false, Options{}, `2147483648`, nil, "out of range for date32"},
		{"date32 fraction", arrow.FixedWidthTypes.Date32, false, Options{}, `1.5`, nil, "1.5 is not an integer"},
		{"date32 with time", arrow.FixedWidthTypes.Date32, false, Options{}, `"2024-11-19T00:00"`, nil, "unexpected text after the date"},
		{"date32 bad", arrow.FixedWidthTypes.Date32, false, Options{}, `"2024-11-32"`, nil, `"2024-11-32" is not a valid date: day 32 out of range`},
		{"date32 object", arrow.FixedWidthTypes.Date32, false, Options{}, `{}`, nil, "expected a YYYY-MM-DD date string or a number, got an object"},
		{"date64 string", arrow.FixedWidthTypes.Date64, false, Options{}, `"1970-01-02"`, int64(86400000), ""},
		{"date64 number", arrow.FixedWidthTypes.Date64, false, Options{}, `5`, int64(5), ""},

		// decimals
		{"decimal", dec10, false, Options{}, `187.23`, s("187.23"), ""},
		{"decimal string", dec10, false, Options{}, `"187.23"`, s("187.23"), ""},
		{"decimal fewer places", dec10, false, Options{}, `1.5`, s("1.50"), ""},
		{"decimal trailing zeros", dec10, false, Options{}, `1.5000`, s("1.50"), ""},
		{"decimal integer", dec10, false, Options{}, `42`, s("42.00"), ""},
		{"decimal negative", dec10, false, Options{}, `-0.01`, s("-0.01"), ""},
		{"decimal exponent", dec10, false, Options{}, `1.5e-1`, s("0.15"), ""},
		{"decimal big exponent", dec10, false, Options{}, `1E7`, s("10000000.00"), ""},
		{"decimal zero", dec10, false, Options{}, `-0e-50`, s("0.00"), ""},
		{"decimal leading zeros in fraction", dec10, false, Options{}, `0.05`, s("0.05"), ""},
		{"decimal full precision", dec10, false, Options{}, `12345678.99`, s("12345678.99"), ""},
		{"decimal too many places", dec10, false, Options{}, `1.234`, nil, `field "v": 1.234 does not fit decimal(10, 2): more than 2 decimal places`},
		{"decimal tiny", dec10, false, Options{}, `1e-3`, nil, "more than 2 decimal places"},
		{"decimal too many digits", dec10, false, Options{}, `123456789.1`, nil, "123456789.1 does not fit decimal(10, 2): 11 digits, more than the precision 10"},
		{"decimal huge exponent", dec10, false, Options{}, `1e99999999999999`, nil, "more than the precision 10"},
		{"decimal bad string", dec10, false, Options{}, `"abc"`, nil, `"abc" is not a decimal number`},
		{"decimal string junk", dec10, false, Options{}, `"1.5x"`, nil, `"1.5x" is not a decimal number`},
		{"decimal empty string", dec10, false, Options{}, `""`, nil, "is not a decimal number"},
		{"decimal bool", dec10, false, Options{}, `true`, nil, "expected a number or a numeric string, got a boolean"},
		{"decimal38 max", dec38, false, Options{}, `99999999999999999999999999999999999999`, s("99999999999999999999999999999999999999"), ""},
		{"decimal38 min", dec38, false, Options{}, `-99999999999999999999999999999999999999`, s("-99999999999999999999999999999999999999"), ""},
		{"decimal38 over", dec38, false, Options{}, `100000000000000000000000000000000000000`, nil, "39 digits, more than the precision 38"},
		{"decimal38 exponent", dec38, false, Options{}, `1.2345e37`, s("12345000000000000000000000000000000000"), ""},
		{"decimal256", dec256, false, Options{}, `-123456789012345678901234567890123456789012345678901234567890.0123456789`, s("-123456789012345678901234567890123456789012345678901234567890.0123456789"), ""},
		{"decimal256 over", dec256, false, Options{}, `1234567890123456789012345678901234567890123456789012345678901234567`, nil, "77 digits, more than the precision 76"},
		{"decimal scale 0", &arrow.Decimal128Type{Precision: 5, Scale: 0}, false, Options{}, `1.5`, nil, "1.5 does not fit decimal(5, 0): not an integer (the scale is 0)"},
		{"decimal negative scale", &arrow.Decimal128Type{Precision: 5, Scale: -2}, false, Options{}, `1234500`, s("1234500"), ""},
		{"decimal negative scale inexact", &arrow.Decimal128Type{Precision: 5, Scale: -2}, false, Options{}, `12345`, nil, "not a multiple of 100 (the scale is -2)"},
		{"decimal negative scale too big", &arrow.Decimal128Type{Precision: 5, Scale: -2}, false, Options{}, `12345600`, nil, "6 digits, more than the precision 5"},
		{"decimal32", dec32, false, Options{}, `-1234567.89`, s("-1234567.89"), ""},
		{"decimal32 over", dec32, false, Options{}, `12345678.9`, nil, "10 digits, more than the precision 9"},
		{"decimal64", dec64, false, Options{}, `"99999999999999.9999"`, s("99999999999999.9999"), ""},

		// lists
		{"list", arrow.ListOf(arrow.PrimitiveTypes.Int64), false, Options{}, `[1, 2 ,3]`, []any{int64(1), int64(2), int64(3)}, ""},
		{"list empty", arrow.ListOf(arrow.PrimitiveTypes.Int64), false, Options{}, `[ ]`, []any{}, ""},
		{"list null", arrow.ListOf(arrow.PrimitiveTypes.Int64), false, Options{}, `null`, nil, ""},
		{"list null element", arrow.ListOf(arrow.PrimitiveTypes.Int64), false, Options{}, `[1,null]`, []any{int64(1), nil}, ""},
		{"list non-nullable element", arrow.ListOfNonNullable(arrow.PrimitiveTypes.Int64), false, Options{}, `[1,null]`, nil, `field "v[1]": got null, but the field is not nullable`},
		{"list wrong element", arrow.ListOf(arrow.PrimitiveTypes.Int64), false, Options{}, `[1,"x"]`, nil, `field "v[1]": expected an integer, got a string`},
		{"list unclosed", arrow.ListOf(arrow.PrimitiveTypes.Int64), false, Options{}, `[1,2`, nil, "expected ',' or ']' after an array element"},
		{"list double comma", arrow.ListOf(arrow.PrimitiveTypes.Int64), false, Options{}, `[1,,2]`, nil, "expected a value"},
		{"list trailing comma", arrow.ListOf(arrow.PrimitiveTypes.Int64), false, Options{}, `[1,]`, nil, "expected a value"},
		{"list missing comma", arrow.ListOf(arrow.PrimitiveTypes.Int64), false, Options{}, `[1 2]`, nil, "expected ',' or ']'"},
		{"list object", arrow.ListOf(arrow.PrimitiveTypes.Int64), false, Options{}, `{}`, nil, "expected an array, got an object"},
		{"large list", arrow.LargeListOf(arrow.BinaryTypes.String), false, Options{}, `["a","b"]`, []any{"a", "b"}, ""},
		{"list of lists", arrow.ListOf(arrow.ListOf(arrow.PrimitiveTypes.Int8)), false, Options{}, `[[1],[],null,[2,3]]`, []any{[]any{int64(1)}, []any{}, nil, []any{int64(2), int64(3)}}, ""},
		{"fixed list", arrow.FixedSizeListOf(2, arrow.PrimitiveTypes.Int32), false, Options{}, `[1,2]`, []any{int64(1), int64(2)}, ""},
		{"fixed list short", arrow.FixedSizeListOf(2, arrow.PrimitiveTypes.Int32), false, Options{}, `[1]`, nil, "expected 2 elements, got 1"},
		{"fixed list long", arrow.FixedSizeListOf(2, arrow.PrimitiveTypes.Int32), false, Options{}, `[1,2,3]`, nil, "expected 2 elements, got more"},
		{"fixed list null", arrow.FixedSizeListOf(2, arrow.PrimitiveTypes.Int32), false, Options{}, `null`, nil, ""},

		// structs
		{"struct", arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true}, arrow.Field{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true}),
			false, Options{}, `{"b":"x","a":1}`, map[string]any{"a": int64(1), "b": "x"}, ""},
		{"struct missing", arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true}, arrow.Field{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true}),
			false, Options{}, `{"b":"x"}`, map[string]any{"a": nil, "b": "x"}, ""},
		{"struct null", arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true}),
			false, Options{}, `null`, nil, ""},
		{"struct duplicate", arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true}),
			false, Options{}, `{"a":1,"a":2}`, nil, `field "v.a": duplicate member`},
		{"struct missing required", arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64}),
			false, Options{}, `{}`, nil, `field "v.a": member is missing and the field is not nullable`},
		{"struct missing required zero", arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64}, arrow.Field{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64)}),
			false, Options{ZeroForMissing: true}, `{}`, map[string]any{"a": int64(0), "l": []any{}}, ""},
		{"struct array", arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true}),
			false, Options{}, `[]`, nil, "expected an object, got an array"},

		// maps
		{"map", arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), false, Options{}, `{"x":1,"y":2}`, []kv{{"x", int64(1)}, {"y", int64(2)}}, ""},
		{"map empty", arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), false, Options{}, `{}`, []kv{}, ""},
		{"map duplicate keys kept", arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), false, Options{}, `{"x":1,"x":2}`, []kv{{"x", int64(1)}, {"x", int64(2)}}, ""},
		{"map null item", arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), false, Options{}, `{"x":null}`, []kv{{"x", nil}}, ""},
		{"map escaped key", arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), false, Options{}, `{"caf\u00e9":1}`, []kv{{"café", int64(1)}}, ""},
		{"map null", arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), false, Options{}, `null`, nil, ""},
		{"map wrong item", arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), false, Options{}, `{"x":1,"env":"a"}`, nil, `field "v["env"]": expected an integer, got a string`},
		{"map bad key", arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), false, Options{}, "{\"\xff\":1}", nil, "invalid UTF-8"},
		{"map key not string", arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), false, Options{}, `{1:1}`, nil, "expected a member name"},
		{"map array", arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), false, Options{}, `[]`, nil, "expected an object, got an array"},
		{"map large_utf8 keys", arrow.MapOf(arrow.BinaryTypes.LargeString, arrow.BinaryTypes.String), false, Options{}, `{"k":"v"}`, []kv{{"k", "v"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ := arrow.StructOf(arrow.Field{Name: "v", Type: tt.typ, Nullable: !tt.notNull})
			dec, err := New(typ, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			b := newBuilder(typ)
			defer b.Release()
			rec := `{"v":` + tt.json + `}`
			err = appendChecked(t, dec, b, []byte(rec))
			if tt.err != "" {
				if err == nil {
					t.Fatalf("%s: no error, want %q", rec, tt.err)
				}
				if !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("%s: error %q, want it to contain %q", rec, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", rec, err)
			}
			rows := finish(t, b)
			got := rows[0].(map[string]any)["v"]
			if _, ok := tt.want.(nan); ok {
				if f, ok := got.(float64); !ok || !math.IsNaN(f) {
					t.Fatalf("%s: got %#v, want NaN", rec, got)
				}
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("%s: got %#v, want %#v", rec, got, tt.want)
			}
			if f, ok := tt.want.(float64); ok && math.Signbit(f) != math.Signbit(got.(float64)) {
				t.Fatalf("%s: got %v, want %v (sign)", rec, got, tt.want)
			}
		})
	}
}

// TestRecords covers the record as a whole: framing, members, options.
func TestRecords(t *testing.T) {
	typ := arrow.StructOf(
		arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		arrow.Field{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "c\"q", Type: arrow.BinaryTypes.String, Nullable: true},
	)
	row := func(a, b, c any) map[string]any { return map[string]any{"a": a, "b": b, "c\"q": c} }
	tests := []struct {
		name string
		opts Options
		json string
		want map[string]any
		err  string
	}{
		{"all", Options{}, `{"a":1,"b":"x","c\"q":"y"}`, row(int64(1), "x", "y"), ""},
		{"whitespace", Options{}, " \t\r\n{ \"a\" : 1 , \"b\" :\n\"x\" } \n", row(int64(1), "x", nil), ""},
		{"out of order", Options{}, `{"c\"q":"y","b":"x","a":1}`, row(int64(1), "x", "y"), ""},
		{"empty object", Options{}, `{}`, row(nil, nil, nil), ""},
		{"nulls", Options{}, `{"a":null,"b":null}`, row(nil, nil, nil), ""},
		{"escaped name", Options{}, `{"\u0061":1,"\u0063\"q":"z"}`, row(int64(1), nil, "z"), ""},
		{"unknown ignored", Options{}, `{"zzz":{"deep":[1,2.5e3,{"x":null,"y":[true,false]}],"s":"\u00e9"},"a":1,"z2":[],"z3":{}}`, row(int64(1), nil, nil), ""},
		{"unknown rejected", Options{DisallowUnknownMembers: true}, `{"a":1,"zzz":2}`, nil, `unknown member "zzz"`},
		{"unknown invalid JSON", Options{}, `{"zzz":[1,2,}`, nil, "invalid JSON at offset 12: expected a value"},
		{"unknown invalid UTF-8", Options{}, "{\"zzz\":\"\xff\"}", nil, "invalid UTF-8"},
		{"unknown bad number", Options{}, `{"zzz":01}`, nil, "invalid number"},
		{"unknown bad literal", Options{}, `{"zzz":nope}`, nil, "invalid literal"},
		{"unknown bad object", Options{}, `{"zzz":{"a" 1}}`, nil, "expected ':'"},
		{"unknown bad object key", Options{}, `{"zzz":{1:1}}`, nil, "expected a member name"},
		{"unknown bad object sep", Options{}, `{"zzz":{"a":1 "b":2}}`, nil, "expected ',' or '}'"},
		{"unknown bad array sep", Options{}, `{"zzz":[1 2]}`, nil, "expected ',' or ']'"},
		{"unknown truncated", Options{}, `{"zzz":[1,2`, nil, "unexpected end of input"},
		{"unknown truncated object", Options{}, `{"zzz":{"a":`, nil, "unexpected end of input"},
		{"duplicate", Options{}, `{"a":1,"a":1}`, nil, `field "a": duplicate member`},
		{"empty", Options{}, ``, nil, "empty record: expected a JSON object"},
		{"blank", Options{}, " \n ", nil, "empty record"},
		{"array", Options{}, `[{"a":1}]`, nil, "expected a JSON object, got an array"},
		{"null", Options{}, `null`, nil, "expected a JSON object, got null"},
		{"string", Options{}, `"{}"`, nil, "expected a JSON object, got a string"},
		{"garbage", Options{}, `hello`, nil, "expected a JSON object, got invalid JSON 'h' at offset 0"},
		{"BOM", Options{}, "\xef\xbb\xbf{}", nil, "expected a JSON object"},
		{"truncated", Options{}, `{"a":1`, nil, "unexpected end of input"},
		{"truncated in name", Options{}, `{"a`, nil, "unexpected end of input"},
		{"truncated after name", Options{}, `{"a"`, nil, "unexpected end of input"},
		{"truncated after colon", Options{}, `{"a":`, nil, "unexpected end of input"},
		{"truncated after comma", Options{}, `{"a":1,`, nil, "unexpected end of input"},
		{"truncated open", Options{}, `{`, nil, "unexpected end of input"},
		{"truncated literal", Options{}, `{"a":nul`, nil, "unexpected end of input"},
		{"truncated number", Options{}, `{"a":-`, nil, "unexpected end of input"},
		{"truncated fraction", Options{}, `{"zzz":1.`, nil, "unexpected end of input"},
		{"truncated string", Options{}, `{"b":"abc`, nil, "unexpected end of input"},
		{"truncated escape", Options{}, `{"b":"abc\`, nil, "unexpected end of input"},
		{"truncated \\u", Options{}, `{"b":"\u00`, nil, "unexpected end of input"},
		{"truncated surrogate pair", Options{}, `{"b":"\ud83d\ude`, nil, "unexpected end of input"},
		{"truncated after high surrogate", Options{}, `{"b":"\ud83d`, nil, "unexpected end of input"},
		{"truncated UTF-8", Options{}, "{\"b\":\"\xe2\x82", nil, "invalid UTF-8"},
		{"truncated list", Options{}, `{"zzz":[1,2`, nil, "unexpected end of input"},
		{"trailing garbage", Options{}, `{"a":1}x`, nil, "invalid JSON at offset 7: data after the JSON object"},
		{"two objects", Options{}, `{"a":1} {"a":2}`, nil, "data after the JSON object"},
		{"trailing comma", Options{}, `{"a":1,}`, nil, "expected a member name"},
		{"leading comma", Options{}, `{,"a":1}`, nil, "expected a member name"},
		{"missing colon", Options{}, `{"a" 1}`, nil, "expected ':' after a member name"},
		{"missing comma", Options{}, `{"a":1 "b":"x"}`, nil, "expected ',' or '}' after a member"},
		{"unquoted name", Options{}, `{a:1}`, nil, "expected a member name"},
		{"single quotes", Options{}, `{'a':1}`, nil, "expected a member name"},
		{"bad name escape", Options{}, `{"\q":1}`, nil, `bad escape \q`},
		{"name with control char", Options{}, "{\"a\x00\":1}", nil, "control character"},
		{"value missing", Options{}, `{"a":}`, nil, "expected a value"},
		{"comment", Options{}, `{"a":1 /* no */}`, nil, "expected ',' or '}'"},
		{"error in second member", Options{}, `{"a":1,"b":2}`, nil, `field "b": expected a string, got a number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec, err := New(typ, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			b := newBuilder(typ)
			defer b.Release()
			err = appendChecked(t, dec, b, []byte(tt.json))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("%q: error %v, want %q", tt.json, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%q: %v", tt.json, err)
			}
			if got := finish(t, b)[0]; !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("%q: got %#v, want %#v", tt.json, got, tt.want)
			}
		})
	}
}

// TestErrorMessages pins the exact text of typical errors.
func TestErrorMessages(t *testing.T) {
	legs := arrow.StructOf(
		arrow.Field{Name: "id", Type: arrow.BinaryTypes.String},
		arrow.Field{Name: "legs", Type: arrow.ListOf(arrow.StructOf(
			arrow.Field{Name: "qty", Type: arrow.PrimitiveTypes.Int64},
			arrow.Field{Name: "tags", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.BinaryTypes.String), Nullable: true},
		)), Nullable: true},
	)
	tests := []struct {
		typ  *arrow.StructType
		json string
		want string
	}{
		{tradeType, `{"symbol":"AAPL","price":"187.23"}`, `field "price": expected a number, got a string`},
		{tradeType, `{"qty":1.5}`, `field "qty": 1.5 is not an integer`},
		{tradeType, `[]`, `expected a JSON object, got an array`},
		{legs, `{"id":"x","legs":[{"qty":1},{"qty":2},{"qty":3.5}]}`, `field "legs[2].qty": 3.5 is not an integer`},
		{legs, `{"id":"x","legs":[{"qty":1,"tags":{"env":1}}]}`, `field "legs[0].tags["env"]": expected a string, got a number`},
		{legs, `{"legs":[]}`, `field "id": member is missing and the field is not nullable`},
		{legs, `{"id":"x","legs":[{}]}`, `field "legs[0].qty": member is missing and the field is not nullable`},
		{legs, `{"id":"x","legs":[{"qty":1]}`, `field "legs[0]": invalid JSON at offset 26: expected ',' or '}' after a member`},
	}
	for _, tt := range tests {
		dec, err := New(tt.typ, Options{})
		if err != nil {
			t.Fatal(err)
		}
		b := newBuilder(tt.typ)
		err = appendChecked(t, dec, b, []byte(tt.json))
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s:\n got %v\nwant %s", tt.json, err, tt.want)
		}
		b.Release()
	}
}

// TestDepth checks that nesting is bounded, in schema-directed values and
// in ignored members alike, without exhausting the stack.
func TestDepth(t *testing.T) {
	nested := func(n int, open, close string) string {
		return strings.Repeat(open, n) + strings.Repeat(close, n)
	}
	typ := arrow.StructOf(
		arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		arrow.Field{Name: "l", Type: arrow.ListOf(arrow.ListOf(arrow.PrimitiveTypes.Int64)), Nullable: true},
	)
	tests := []struct {
		name     string
		maxDepth int
		json     string
		err      bool
	}{
		{"ignored arrays within default", 0, `{"x":` + nested(DefaultMaxDepth-1, "[", "]") + `}`, false},
		{"ignored arrays beyond default", 0, `{"x":` + nested(DefaultMaxDepth, "[", "]") + `}`, true},
		{"ignored objects beyond default", 0, `{"x":` + strings.Repeat(`{"y":`, DefaultMaxDepth) + "1" + strings.Repeat("}", DefaultMaxDepth) + `}`, true},
		{"a million brackets", 0, `{"x":` + strings.Repeat("[", 1_000_000), true},
		{"small limit", 3, `{"x":[[1]]}`, false},
		{"small limit exceeded", 3, `{"x":[[[1]]]}`, true},
		{"schema nesting within", 3, `{"l":[[1]]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec, err := New(typ, Options{MaxDepth: tt.maxDepth})
			if err != nil {
				t.Fatal(err)
			}
			b := newBuilder(typ)
			defer b.Release()
			err = appendChecked(t, dec, b, []byte(tt.json))
			if tt.err != (err != nil) {
				t.Fatalf("error %v, want error: %v", err, tt.err)
			}
			if err != nil && !strings.Contains(err.Error(), "nested deeper than") {
				t.Fatalf("error %v, want nested deeper than", err)
			}
		})
	}
	if _, err := New(typ, Options{MaxDepth: 2}); err == nil || !strings.Contains(err.Error(), "nests 3 levels") {
		t.Fatalf("schema deeper than MaxDepth: %v", err)
	}
}

// TestNew checks that unsupported schemas are refused, naming the field.
func TestNew(t *testing.T) {
	tests := []struct {
		typ  *arrow.StructType
		want string
	}{
		{arrow.StructOf(arrow.Field{Name: "t", Type: arrow.FixedWidthTypes.Time32ms}), `jsondec: field "t": type time32[ms] is not supported`},
		{arrow.StructOf(arrow.Field{Name: "a", Type: arrow.StructOf(arrow.Field{Name: "b", Type: arrow.FixedWidthTypes.Duration_s})}), `field "a.b": type duration[s] is not supported`},
		{arrow.StructOf(arrow.Field{Name: "l", Type: arrow.ListOf(arrow.FixedWidthTypes.Float16)}), `field "l[]": type float16 is not supported`},
		{arrow.StructOf(arrow.Field{Name: "m", Type: arrow.MapOf(arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String)}), `field "m": map<int64, utf8, items_nullable>: map keys must be utf8`},
		{arrow.StructOf(arrow.Field{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.FixedWidthTypes.Time64ns)}), `field "m{}": type time64[ns] is not supported`},
		{arrow.StructOf(arrow.Field{Name: "d", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}}), `field "d": type dictionary<values=utf8, indices=int8, ordered=false> is not supported`},
		{arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int8}, arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int8}), `field "x": appears twice`},
		{arrow.StructOf(arrow.Field{Name: "e", Type: arrow.StructOf()}), `field "e": struct with no fields is not supported`},
		{arrow.StructOf(arrow.Field{Name: "v", Type: arrow.BinaryTypes.StringView}), `field "v": type string_view is not supported`},
	}
	for _, tt := range tests {
		_, err := New(tt.typ, Options{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%s): %v, want %q", tt.typ, err, tt.want)
		}
	}
	if _, err := New(nil, Options{}); err == nil {
		t.Error("New(nil) succeeded")
	}
	if _, err := New(tradeType, Options{MaxDepth: -1}); err == nil {
		t.Error("negative MaxDepth accepted")
	}
	if _, err := New(tradeType, Options{Binary: 7}); err == nil {
		t.Error("unknown binary encoding accepted")
	}
}

// TestBuilders checks that a decoder follows the builder it is given and
// refuses one of another type without calling it malformed.
func TestBuilders(t *testing.T) {
	dec, err := New(tradeType, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := []byte(`{"symbol":"AAPL","price":1.5,"qty":1,"side":"buy","ts":1,"venue":"X"}`)
	b1, b2 := newBuilder(tradeType), newBuilder(tradeType)
	defer b1.Release()
	defer b2.Release()
	for range 3 {
		for _, b := range []*array.StructBuilder{b1, b2, b1} {
			if err := dec.Append(b, rec); err != nil {
				t.Fatal(err)
			}
		}
	}
	if b1.Len() != 6 || b2.Len() != 3 {
		t.Fatalf("lengths %d, %d", b1.Len(), b2.Len())
	}
	// Across NewArray the builder is reused.
	finish(t, b1)
	if err := dec.Append(b1, rec); err != nil {
		t.Fatal(err)
	}
	if rows := finish(t, b1); len(rows) != 1 || rows[0].(map[string]any)["symbol"] != "AAPL" {
		t.Fatalf("rows %v", rows)
	}
	other := arrow.StructOf(arrow.Field{Name: "symbol", Type: arrow.BinaryTypes.String})
	b3 := array.NewBuilder(memory.NewGoAllocator(), other).(*array.StructBuilder)
	defer b3.Release()
	if err := dec.Append(b3, rec); err == nil || errors.Is(err, decode.ErrMalformed) {
		t.Fatalf("wrong builder: %v", err)
	}
	if err := dec.Append(nil, rec); err == nil || errors.Is(err, decode.ErrMalformed) {
		t.Fatalf("nil builder: %v", err)
	}
	// And it recovers on the right one.
	if err := dec.Append(b2, rec); err != nil {
		t.Fatal(err)
	}
}

// TestTrade decodes the records of the benchmark and compares them.
func TestTrade(t *testing.T) {
	recs, want := tradeRecords(2000)
	dec, err := New(tradeType, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := newBuilder(tradeType)
	defer b.Release()
	for _, r := range recs {
		if err := appendChecked(t, dec, b, r); err != nil {
			t.Fatal(err)
		}
	}
	for i, row := range finish(t, b) {
		w := want[i]
		exp := map[string]any{"symbol": w.Symbol, "price": w.Price, "qty": w.Qty, "side": w.Side, "ts": w.TS, "venue": w.Venue}
		if !reflect.DeepEqual(row, exp) {
			t.Fatalf("row %d (%s): got %v, want %v", i, recs[i], row, exp)
		}
	}
}

// TestWideStruct covers structs wider than the linear name scan and than
// one 64-bit word of seen-marks, members in any order.
func TestWideStruct(t *testing.T) {
	var fields []arrow.Field
	for i := range 150 {
		fields = append(fields, arrow.Field{Name: "f" + strconv.Itoa(i), Type: arrow.PrimitiveTypes.Int32, Nullable: i != 140})
	}
	inner := arrow.StructOf(fields...)
	typ := arrow.StructOf(arrow.Field{Name: "w", Type: arrow.ListOf(inner)})
	dec, err := New(typ, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := newBuilder(typ)
	defer b.Release()
	r := rand.New(rand.NewPCG(5, 6))
	var want []any
	for range 50 {
		var elems []string
		var wantElems []any
		for range r.IntN(3) {
			var members []string
			w := map[string]any{}
			for _, i := range r.Perm(150) {
				name := "f" + strconv.Itoa(i)
				w[name] = nil
				if i != 140 && r.IntN(3) == 0 {
					continue
				}
				members = append(members, fmt.Sprintf("%q:%d", name, i))
				w[name] = int64(i)
			}
			elems = append(elems, "{"+strings.Join(members, ",")+"}")
			wantElems = append(wantElems, w)
		}
		rec := `{"w":[` + strings.Join(elems, ",") + `]}`
		if err := appendChecked(t, dec, b, []byte(rec)); err != nil {
			t.Fatalf("%s: %v", rec, err)
		}
		if wantElems == nil {
			wantElems = []any{}
		}
		want = append(want, map[string]any{"w": wantElems})
	}
	for _, bad := range []struct{ json, err string }{
		{`{"w":[{"f140":1,"f100":1,"f100":2}]}`, `field "w[0].f100": duplicate member`},
		{`{"w":[{"f140":1,"f3":1,"f3":2}]}`, `field "w[0].f3": duplicate member`},
		{`{"w":[{"f139":1}]}`, `field "w[0].f140": member is missing`},
		{`{"w":[{"f140":1,"f149":"x"}]}`, `field "w[0].f149": expected an integer`},
	} {
		if err := appendChecked(t, dec, b, []byte(bad.json)); err == nil || !strings.Contains(err.Error(), bad.err) {
			t.Errorf("%s: %v, want %q", bad.json, err, bad.err)
		}
	}
	rows := finish(t, b)
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("rows differ:\n got %v\nwant %v", rows, want)
	}
}
