package produce

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/kafkars/kafkars/core/decode"
	"github.com/kafkars/kafkars/core/decode/jsondec"
)

func schemaOf(fields ...arrow.Field) *arrow.Schema { return arrow.NewSchema(fields, nil) }

var hdrList = arrow.ListOf(arrow.StructOf(arrow.Field{Name: "key", Type: arrow.BinaryTypes.String}, arrow.Field{Name: "value", Type: arrow.BinaryTypes.Binary, Nullable: true}))

func TestNewPlan(t *testing.T) {
	s := schemaOf(
		arrow.Field{Name: "k", Type: arrow.BinaryTypes.String},
		arrow.Field{Name: "v", Type: arrow.BinaryTypes.Binary},
		arrow.Field{Name: "sv", Type: arrow.BinaryTypes.StringView},
		arrow.Field{Name: "st", Type: arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64})},
		arrow.Field{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond}},
		arrow.Field{Name: "ms", Type: arrow.PrimitiveTypes.Int64},
		arrow.Field{Name: "f", Type: arrow.PrimitiveTypes.Float64},
		arrow.Field{Name: "p", Type: arrow.PrimitiveTypes.Int32},
		arrow.Field{Name: "h", Type: hdrList},
		arrow.Field{Name: "hm", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.BinaryTypes.Binary)},
		arrow.Field{Name: "bad_h", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32)},
		arrow.Field{Name: "iv", Type: arrow.FixedWidthTypes.MonthInterval},
		arrow.Field{Name: "dup", Type: arrow.BinaryTypes.Binary},
		arrow.Field{Name: "dup", Type: arrow.BinaryTypes.Binary},
	)
	cases := []struct {
		name string
		spec Spec
		err  string // "" for success
	}{
		{"raw columns", Spec{Topic: "t", Key: "k", Value: "v"}, ""},
		{"views", Spec{Topic: "t", Value: "sv"}, ""},
		{"struct as json", Spec{Topic: "t", Value: "st", Key: "f"}, ""},
		{"everything", Spec{Topic: "t", Key: "k", Value: "v", Timestamp: "ts", Partition: "p", Headers: "h"}, ""},
		{"int64 ms and map headers", Spec{Topic: "t", Timestamp: "ms", Headers: "hm"}, ""},
		{"no value", Spec{Topic: "t"}, ""},
		{"missing", Spec{Topic: "t", Value: "value"}, `value column "value": no such column; the input has "k", "v"`},
		{"bad timestamp", Spec{Topic: "t", Timestamp: "f"}, `timestamp column "f": type float64: want a timestamp`},
		{"bad partition", Spec{Topic: "t", Partition: "k"}, `partition column "k": type utf8: want int32`},
		{"bad headers", Spec{Topic: "t", Headers: "bad_h"}, `headers column "bad_h": type list<item: int32, nullable>: want list elements struct`},
		{"headers not a list", Spec{Topic: "t", Headers: "k"}, `headers column "k": type utf8: want list<struct`},
		{"no json form", Spec{Topic: "t", Value: "iv"}, `value column "iv": type month_interval cannot be encoded as JSON`},
		{"duplicate", Spec{Topic: "t", Value: "dup"}, `value column "dup": the input has several columns of that name`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewPlan(c.spec, s)
			if c.err == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("error %v, want it to contain %q", err, c.err)
			}
		})
	}
}

func TestDecodeSpec(t *testing.T) {
	for _, c := range []struct{ in, err string }{
		{`{"topic": "t", "key": "k"}`, ""},
		{`{"topic": ""}`, "topic must not be empty"},
		{`{"topic": "t", "keys": "k"}`, "unknown field"},
		{`[]`, "cannot unmarshal"},
	} {
		_, err := DecodeSpec([]byte(c.in))
		if (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s: error %v, want %q", c.in, err, c.err)
		}
	}
}

// buildStruct builds a one-column struct array from JSON rows with arrow's
// own JSON reader (independent of the encoder under test).
func buildStruct(t *testing.T, st *arrow.StructType, rows string) *array.Struct {
	t.Helper()
	arr, _, err := array.FromJSON(memory.DefaultAllocator, st, strings.NewReader(rows))
	if err != nil {
		t.Fatal(err)
	}
	return arr.(*array.Struct)
}

func TestAppendJSONValues(t *testing.T) {
	st := arrow.StructOf(
		arrow.Field{Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		arrow.Field{Name: "u", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
		arrow.Field{Name: "f", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		arrow.Field{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "b", Type: arrow.BinaryTypes.Binary, Nullable: true},
		arrow.Field{Name: "ok", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		arrow.Field{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}, Nullable: true},
		arrow.Field{Name: "d", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		arrow.Field{Name: "dec", Type: &arrow.Decimal128Type{Precision: 10, Scale: 2}, Nullable: true},
		arrow.Field{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true},
		arrow.Field{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int32), Nullable: true},
	)
	arr := buildStruct(t, st, `[
		{"i": -5, "u": 18446744073709551615, "f": 0.1, "s": "a\"b\\c\n\u0001é", "b": "AAH/", "ok": true,
		 "ts": 1700000000123, "d": 19000, "dec": "12.50", "l": [1, null, 3], "m": [{"key": "x", "value": 1}]},
		{"i": null, "s": null, "l": [], "m": []}
	]`)
	defer arr.Release()
	want := []string{
		`{"i":-5,"u":18446744073709551615,"f":0.1,"s":"a\"b\\c\n\u0001é","b":"AAH/","ok":true,` +
			`"ts":"2023-11-14T22:13:20.123Z","d":"2022-01-08","dec":12.5,"l":[1,null,3],"m":{"x":1}}`,
		`{"i":null,"u":null,"f":null,"s":null,"b":null,"ok":null,"ts":null,"d":null,"dec":null,"l":[],"m":{}}`,
	}
	for i, w := range want {
		got := string(AppendJSON(nil, arr, i))
		if got != w {
			t.Errorf("row %d:\n got %s\nwant %s", i, got, w)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("row %d: not valid JSON: %s", i, got)
		}
	}
}

func TestAppendJSONSpecials(t *testing.T) {
	b := array.NewFloat64Builder(memory.DefaultAllocator)
	b.AppendValues([]float64{math.NaN(), math.Inf(1), math.Inf(-1), 1e21, math.Copysign(0, -1)}, nil)
	a := b.NewArray()
	defer a.Release()
	for i, w := range []string{`"NaN"`, `"Infinity"`, `"-Infinity"`, `1e+21`, `-0`} {
		if got := string(AppendJSON(nil, a, i)); got != w {
			t.Errorf("%d: got %s want %s", i, got, w)
		}
	}
	sb := array.NewStringBuilder(memory.DefaultAllocator)
	sb.Append("ok\xffend")
	s := sb.NewArray()
	defer s.Release()
	if got := string(AppendJSON(nil, s, 0)); got != "\"ok\ufffdend\"" {
		t.Errorf("invalid UTF-8: got %q", got)
	}
	tb := array.NewTimestampBuilder(memory.DefaultAllocator, &arrow.TimestampType{Unit: arrow.Nanosecond})
	tb.Append(-1) // one ns before the epoch
	ta := tb.NewArray()
	defer ta.Release()
	if got := string(AppendJSON(nil, ta, 0)); got != `"1969-12-31T23:59:59.999999999Z"` {
		t.Errorf("negative timestamp: got %s", got)
	}
}

// TestJSONRoundTrip: what the encoder writes, core/decode/jsondec reads
// back into the same Arrow values.
func TestJSONRoundTrip(t *testing.T) {
	st := arrow.StructOf(
		arrow.Field{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		arrow.Field{Name: "sym", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "px", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		arrow.Field{Name: "raw", Type: arrow.BinaryTypes.Binary, Nullable: true},
		arrow.Field{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
		arrow.Field{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		arrow.Field{Name: "amount", Type: &arrow.Decimal128Type{Precision: 12, Scale: 3}, Nullable: true},
		arrow.Field{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
		arrow.Field{Name: "attrs", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.BinaryTypes.String), Nullable: true},
		arrow.Field{Name: "inner", Type: arrow.StructOf(arrow.Field{Name: "ok", Type: arrow.FixedWidthTypes.Boolean, Nullable: true}), Nullable: true},
	)
	src := buildStruct(t, st, `[
		{"id": 1, "sym": "ÉTÉ \"q\"", "px": 1.0000000000000002, "raw": "AP8=", "at": -1, "day": -3,
		 "amount": "-123456.789", "tags": ["a", "", "c"], "attrs": [{"key": "k", "value": "v"}], "inner": {"ok": false}},
		{"id": null, "sym": null, "px": null, "raw": "", "at": null, "day": null, "amount": null,
		 "tags": null, "attrs": null, "inner": null},
		{"id": -9223372036854775808, "sym": "\u0000", "px": -1.5e-300, "tags": [], "attrs": [], "inner": {"ok": null}}
	]`)
	defer src.Release()
	dec, err := jsondec.New(st, jsondec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, src, dec, func(i int) ([]byte, error) { return AppendJSON(nil, src, i), nil })
}

// roundTrip encodes every row of src with enc, decodes it with dec and
// fails unless the decoded rows equal src.
func roundTrip(t *testing.T, src *array.Struct, dec decode.Decoder, enc func(int) ([]byte, error)) {
	t.Helper()
	b := array.NewStructBuilder(memory.DefaultAllocator, dec.Type())
	defer b.Release()
	for i := 0; i < src.Len(); i++ {
		data, err := enc(i)
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		if err := dec.Append(b, data); err != nil {
			t.Fatalf("row %d: %q does not decode: %v", i, data, err)
		}
	}
	got := b.NewStructArray()
	defer got.Release()
	if !array.Equal(got, src) {
		t.Fatalf("round trip differs:\n got %v\nwant %v", got, src)
	}
}

func TestPrepare(t *testing.T) {
	mem := memory.DefaultAllocator
	s := schemaOf(
		arrow.Field{Name: "k", Type: &arrow.FixedSizeBinaryType{ByteWidth: 2}, Nullable: true},
		arrow.Field{Name: "v", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		arrow.Field{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Nanosecond}, Nullable: true},
		arrow.Field{Name: "p", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
	)
	rb := array.NewRecordBuilder(mem, s)
	defer rb.Release()
	rb.Field(0).(*array.FixedSizeBinaryBuilder).AppendValues([][]byte{[]byte("ab"), nil, []byte("cd")}, []bool{true, false, true})
	rb.Field(1).(*array.Int32Builder).AppendValues([]int32{7, 0, -1}, []bool{true, false, true})
	rb.Field(2).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{1_999_999, -1, 0}, []bool{true, true, false})
	rb.Field(3).(*array.Uint64Builder).AppendValues([]uint64{0, 2, 1}, nil)
	rec := rb.NewRecordBatch()
	defer rec.Release()
	plan, err := NewPlan(Spec{Topic: "t", Key: "k", Value: "v", Timestamp: "ts", Partition: "p"}, s)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewPreparer(plan).Prepare(rec, 100)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b.Key.Data); got != "abcd" || b.Key.Offsets[1] != 2 || b.Key.Offsets[2] != 2 || b.Key.Valid[0] != 0b101 {
		t.Errorf("key: %q %v %v", got, b.Key.Offsets, b.Key.Valid)
	}
	if got := string(b.Value.Data); got != "7-1" || b.Value.Valid[0] != 0b101 {
		t.Errorf("value: %q %v", got, b.Value.Valid)
	}
	if b.TS[0] != 1 || b.TS[1] != -1 || b.TSValid[0] != 0b011 {
		t.Errorf("timestamps (ns floored to ms): %v %v", b.TS, b.TSValid)
	}
	if b.Part[1] != 2 || b.PartValid != nil {
		t.Errorf("partitions: %v %v", b.Part, b.PartValid)
	}

	// a partition out of int32's range names its row
	pb := array.NewInt64Builder(mem)
	pb.AppendValues([]int64{1, 1 << 40}, nil)
	pa := pb.NewArray()
	defer pa.Release()
	s2 := schemaOf(arrow.Field{Name: "p", Type: arrow.PrimitiveTypes.Int64})
	rec2 := array.NewRecordBatch(s2, []arrow.Array{pa}, 2)
	defer rec2.Release()
	plan2, _ := NewPlan(Spec{Topic: "t", Partition: "p"}, s2)
	_, err = NewPreparer(plan2).Prepare(rec2, 10)
	if err == nil || err.Error() != `row 11, column "p": partition 1099511627776 is out of range` {
		t.Errorf("got %v", err)
	}
}

// The JSON encoder's decimal text is exact: it parses back to the unscaled
// value over 10^scale, for values around every power of ten and the
// int64 extremes.
func TestDecimalText(t *testing.T) {
	var vals []int64
	for p, x := 0, int64(1); p < 19; p, x = p+1, x*10 {
		vals = append(vals, x, x-1, x+1, -x, -x+1, -x-1, x*5)
	}
	vals = append(vals, 0, math.MaxInt64, math.MinInt64)
	for _, scale := range []int32{0, 1, 2, 5, 18} {
		for _, v := range vals {
			got := string(appendDecimalText(nil, v, scale, nil, 0))
			r, ok := new(big.Rat).SetString(got)
			want := new(big.Rat).SetFrac(big.NewInt(v), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil))
			if !ok || r.Cmp(want) != 0 || strings.ContainsAny(got, "eE") || (strings.Contains(got, ".") && strings.HasSuffix(got, "0")) {
				t.Errorf("%d scale %d: %q, want %s", v, scale, got, want.FloatString(int(scale)))
			}
		}
	}
}

// TestJSONTimeFormats: the hand-written date and time formatting gives what
// time.AppendFormat gives, at the edges of the years it formats by hand
// and beyond them, in every unit.
func TestJSONTimeFormats(t *testing.T) {
	ref := func(sec, frac int64, digits int, layout string) string {
		s := time.Unix(sec, 0).UTC().Format(layout)
		if digits > 0 {
			s += fmt.Sprintf(".%0*d", digits, frac)
		}
		return s
	}
	secs := []int64{0, -1, 1, 86399, -86400, 1700000000, -62135596800, -62135596801, 253402300799, 253402300800,
		-62167219200, -62167219201, 951782400, 4107542400}
	for _, unit := range []arrow.TimeUnit{arrow.Second, arrow.Millisecond, arrow.Microsecond, arrow.Nanosecond} {
		for _, s := range secs {
			for _, f := range []int64{0, 1, 7, 999999999} {
				v, frac, digits := s, int64(0), 0
				switch unit {
				case arrow.Millisecond:
					v, frac, digits = s*1_000+f%1_000, f%1_000, 3
				case arrow.Microsecond:
					v, frac, digits = s*1_000_000+f%1_000_000, f%1_000_000, 6
				case arrow.Nanosecond:
					if s > math.MaxInt64/1_000_000_000 || s < math.MinInt64/1_000_000_000+1 {
						continue
					}
					v, frac, digits = s*1_000_000_000+f, f, 9
				}
				want := `"` + ref(s, frac, digits, "2006-01-02T15:04:05") + `Z"`
				if got := string(appendTimestamp(nil, v, unit)); got != want {
					t.Errorf("timestamp %d %s: %s, want %s", v, unit, got, want)
				}
				if got, want := string(appendTime(nil, v, unit)), `"`+ref(s, frac, digits, "15:04:05")+`"`; got != want {
					t.Errorf("time %d %s: %s, want %s", v, unit, got, want)
				}
			}
		}
	}
	for _, s := range secs {
		d := time.Unix(s, 0)
		if got, want := string(appendDate(nil, d)), `"`+d.UTC().Format("2006-01-02")+`"`; got != want {
			t.Errorf("date %d: %s, want %s", s, got, want)
		}
	}
}
