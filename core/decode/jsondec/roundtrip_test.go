package jsondec

import (
	"encoding/base64"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
)

// richType has every supported type, nested.
var richType = arrow.StructOf(
	arrow.Field{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	arrow.Field{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	arrow.Field{Name: "i8", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
	arrow.Field{Name: "i16", Type: arrow.PrimitiveTypes.Int16, Nullable: true},
	arrow.Field{Name: "i32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	arrow.Field{Name: "u8", Type: arrow.PrimitiveTypes.Uint8, Nullable: true},
	arrow.Field{Name: "u16", Type: arrow.PrimitiveTypes.Uint16, Nullable: true},
	arrow.Field{Name: "u32", Type: arrow.PrimitiveTypes.Uint32, Nullable: true},
	arrow.Field{Name: "u64", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
	arrow.Field{Name: "f32", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
	arrow.Field{Name: "f64", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	arrow.Field{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	arrow.Field{Name: "ls", Type: arrow.BinaryTypes.LargeString, Nullable: true},
	arrow.Field{Name: "bin", Type: arrow.BinaryTypes.Binary, Nullable: true},
	arrow.Field{Name: "lbin", Type: arrow.BinaryTypes.LargeBinary, Nullable: true},
	arrow.Field{Name: "fbin", Type: &arrow.FixedSizeBinaryType{ByteWidth: 4}, Nullable: true},
	arrow.Field{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
	arrow.Field{Name: "tsn", Type: &arrow.TimestampType{Unit: arrow.Nanosecond}, Nullable: true},
	arrow.Field{Name: "d32", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	arrow.Field{Name: "d64", Type: arrow.FixedWidthTypes.Date64, Nullable: true},
	arrow.Field{Name: "dec", Type: &arrow.Decimal128Type{Precision: 18, Scale: 4}, Nullable: true},
	arrow.Field{Name: "dec256", Type: &arrow.Decimal256Type{Precision: 40, Scale: 6}, Nullable: true},
	arrow.Field{Name: "dec32", Type: &arrow.Decimal32Type{Precision: 7, Scale: 2}, Nullable: true},
	arrow.Field{Name: "dec64", Type: &arrow.Decimal64Type{Precision: 15, Scale: 0}, Nullable: true},
	arrow.Field{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
	arrow.Field{Name: "legs", Type: arrow.ListOf(arrow.StructOf(
		arrow.Field{Name: "qty", Type: arrow.PrimitiveTypes.Int64},
		arrow.Field{Name: "px", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		arrow.Field{Name: "venue", Type: arrow.BinaryTypes.String, Nullable: true},
	)), Nullable: true},
	arrow.Field{Name: "ll", Type: arrow.LargeListOf(arrow.PrimitiveTypes.Int16), Nullable: true},
	arrow.Field{Name: "fsl", Type: arrow.FixedSizeListOf(3, arrow.PrimitiveTypes.Float64), Nullable: true},
	arrow.Field{Name: "attrs", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int32), Nullable: true},
	arrow.Field{Name: "meta", Type: arrow.StructOf(
		arrow.Field{Name: "a", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "inner", Type: arrow.StructOf(
			arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
			arrow.Field{Name: "y", Type: arrow.ListOf(arrow.FixedWidthTypes.Boolean), Nullable: true},
		), Nullable: true},
	), Nullable: true},
	arrow.Field{Name: "req", Type: arrow.BinaryTypes.String},
)

// gen writes random JSON for a type, and the value the decoder must
// produce from it (in toGo's form).
type gen struct{ r *rand.Rand }

func (g *gen) ws(out []byte) []byte {
	if g.r.IntN(8) == 0 {
		return append(out, " \n\t\r"[:1+g.r.IntN(4)]...)
	}
	return out
}

var runes = []rune("abcXYZ019 _-.\"\\/\b\f\n\r\t\x00\x1f\x7féü日本語😀\ufffd\u2028")

func (g *gen) str() string {
	rs := make([]rune, g.r.IntN(12))
	for i := range rs {
		rs[i] = runes[g.r.IntN(len(runes))]
	}
	return string(rs)
}

// quote writes s as a JSON string, escaping at random where allowed and
// always where required.
func (g *gen) quote(out []byte, s string) []byte {
	out = append(out, '"')
	for _, r := range s {
		esc := g.r.IntN(6) == 0
		switch {
		case r == '"' || r == '\\':
			out = append(out, '\\', byte(r))
		case r < 0x20 || esc:
			if short := map[rune]byte{'\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't', '/': '/'}[r]; short != 0 && g.r.IntN(2) == 0 {
				out = append(out, '\\', short)
			} else if r > 0xFFFF {
				r -= 0x10000
				out = fmt.Appendf(out, `\u%04x\u%04X`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
			} else {
				out = fmt.Appendf(out, `\u%04x`, r)
			}
		default:
			out = utf8.AppendRune(out, r)
		}
	}
	return append(out, '"')
}

func (g *gen) value(out []byte, t arrow.DataType) ([]byte, any) {
	r := g.r
	switch t := t.(type) {
	case *arrow.BooleanType:
		v := r.IntN(2) == 0
		return strconv.AppendBool(out, v), v
	case *arrow.Int8Type:
		v := int64(int8(r.Uint32()))
		return strconv.AppendInt(out, v, 10), v
	case *arrow.Int16Type:
		v := int64(int16(r.Uint32()))
		return strconv.AppendInt(out, v, 10), v
	case *arrow.Int32Type:
		v := int64(int32(r.Uint32()))
		return strconv.AppendInt(out, v, 10), v
	case *arrow.Int64Type:
		v := int64(r.Uint64()) >> r.IntN(64)
		return strconv.AppendInt(out, v, 10), v
	case *arrow.Uint8Type:
		v := uint64(uint8(r.Uint32()))
		return strconv.AppendUint(out, v, 10), v
	case *arrow.Uint16Type:
		v := uint64(uint16(r.Uint32()))
		return strconv.AppendUint(out, v, 10), v
	case *arrow.Uint32Type:
		v := uint64(r.Uint32())
		return strconv.AppendUint(out, v, 10), v
	case *arrow.Uint64Type:
		v := r.Uint64() >> r.IntN(64)
		return strconv.AppendUint(out, v, 10), v
	case *arrow.Float32Type:
		f := math.Float32frombits(r.Uint32())
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			f = 1.5
		}
		if r.IntN(2) == 0 {
			f = float32(r.IntN(100000)) / 100
		}
		return strconv.AppendFloat(out, float64(f), "eEg"[r.IntN(3)], -1, 32), f
	case *arrow.Float64Type:
		switch r.IntN(3) {
		case 0: // any float, shortest form
			f := math.Float64frombits(r.Uint64())
			if math.IsNaN(f) || math.IsInf(f, 0) {
				f = -2.5
			}
			return strconv.AppendFloat(out, f, "eEg"[r.IntN(3)], -1, 64), f
		default: // a decimal literal; strconv is the reference
			lit := g.decimalLiteral(1+r.IntN(25), r.IntN(8), r.IntN(3) == 0)
			f, err := strconv.ParseFloat(lit, 64)
			if err != nil {
				panic(lit)
			}
			return append(out, lit...), f
		}
	case *arrow.StringType, *arrow.LargeStringType:
		s := g.str()
		return g.quote(out, s), s
	case *arrow.BinaryType, *arrow.LargeBinaryType, *arrow.FixedSizeBinaryType:
		n := r.IntN(20)
		if fb, ok := t.(*arrow.FixedSizeBinaryType); ok {
			n = fb.ByteWidth
		}
		v := make([]byte, n)
		for i := range v {
			v[i] = byte(r.Uint32())
		}
		enc := []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding}[r.IntN(4)]
		text := enc.EncodeToString(v)
		if r.IntN(2) == 0 {
			text = strings.ReplaceAll(text, "/", `\/`)
		}
		return append(append(append(out, '"'), text...), '"'), v
	case *arrow.TimestampType:
		const lo, hi = -2208988800, 7258118400 // 1900 to 2200
		secs := lo + r.Int64N(hi-lo)
		var frac int64
		layout := "2006-01-02T15:04:05"
		var v int64
		switch t.Unit {
		case arrow.Microsecond:
			frac = r.Int64N(1e6)
			v = secs*1e6 + frac
			layout += []string{".000000", ".999999"}[r.IntN(2)]
		default:
			frac = r.Int64N(1e9)
			v = secs*1e9 + frac
			layout += []string{".000000000", ".999999999"}[r.IntN(2)]
		}
		if r.IntN(3) == 0 {
			return strconv.AppendInt(out, v, 10), v
		}
		tm := time.Unix(secs, frac)
		if t.Unit == arrow.Microsecond {
			tm = time.Unix(secs, frac*1000)
		}
		zones := []*time.Location{time.UTC, time.FixedZone("", 5*3600+1800), time.FixedZone("", -8*3600)}
		zone := zones[r.IntN(len(zones))]
		if zone != time.UTC || r.IntN(2) == 0 { // else naive, read as UTC
			layout += "Z07:00"
		}
		return strconv.AppendQuote(out, tm.In(zone).Format(layout)), v
	case *arrow.Date32Type, *arrow.Date64Type:
		days := r.Int64N(3_600_000) - 719_000 // years 0001 to about 9800
		mult := int64(1)
		if _, ok := t.(*arrow.Date64Type); ok {
			mult = 86400000
		}
		if r.IntN(2) == 0 {
			return strconv.AppendInt(out, days*mult, 10), days * mult
		}
		return strconv.AppendQuote(out, time.Unix(days*86400, 0).UTC().Format("2006-01-02")), days * mult
	case arrow.DecimalType:
		prec, scale := int(t.GetPrecision()), int(t.GetScale())
		digits := r.IntN(prec + 1)
		u := new(big.Int)
		for range digits {
			u.Mul(u, big.NewInt(10))
			u.Add(u, big.NewInt(int64(r.IntN(10))))
		}
		if r.IntN(2) == 0 {
			u.Neg(u)
		}
		lit := decimalText(u, scale, r)
		if r.IntN(3) == 0 {
			lit = `"` + lit + `"`
		}
		var want string
		switch t.(type) {
		case *arrow.Decimal32Type:
			want = decimal.Decimal32(u.Int64()).ToString(int32(scale))
		case *arrow.Decimal64Type:
			want = decimal.Decimal64(u.Int64()).ToString(int32(scale))
		case *arrow.Decimal128Type:
			want = decimal128.FromBigInt(u).ToString(int32(scale))
		default:
			want = decimal256.FromBigInt(u).ToString(int32(scale))
		}
		return append(out, lit...), want
	case *arrow.ListType, *arrow.LargeListType, *arrow.FixedSizeListType:
		ef := t.(arrow.ListLikeType).ElemField()
		n := r.IntN(4)
		if fl, ok := t.(*arrow.FixedSizeListType); ok {
			n = int(fl.Len())
		}
		want := []any{}
		out = append(out, '[')
		for i := range n {
			if i > 0 {
				out = append(g.ws(out), ',')
			}
			var v any
			out, v = g.maybeNull(g.ws(out), ef)
			want = append(want, v)
		}
		return append(g.ws(out), ']'), want
	case *arrow.MapType:
		want := []kv{}
		out = append(out, '{')
		for i := range r.IntN(4) {
			if i > 0 {
				out = append(out, ',')
			}
			k := g.str()
			if r.IntN(4) == 0 && len(want) > 0 {
				k = want[0].K // maps keep duplicates
			}
			out = append(g.quote(g.ws(out), k), ':')
			var v any
			out, v = g.maybeNull(g.ws(out), t.ItemField())
			want = append(want, kv{k, v})
		}
		return append(out, '}'), want
	case *arrow.StructType:
		return g.object(out, t)
	}
	panic("gen: " + t.String())
}

// decimalText writes the unscaled integer u at the scale, in one of the
// forms a producer might use (trailing zeros, exponent).
func decimalText(u *big.Int, scale int, r *rand.Rand) string {
	digits := new(big.Int).Abs(u).String()
	sign := ""
	if u.Sign() < 0 {
		sign = "-"
	}
	if r.IntN(3) == 0 {
		return sign + digits + "e-" + strconv.Itoa(scale) // exact with an exponent
	}
	for len(digits) <= scale {
		digits = "0" + digits
	}
	intPart, frac := digits[:len(digits)-scale], digits[len(digits)-scale:]
	frac += strings.Repeat("0", r.IntN(3))
	if r.IntN(2) == 0 {
		frac = strings.TrimRight(frac, "0")
	}
	if frac == "" {
		return sign + intPart
	}
	return sign + intPart + "." + frac
}

// decimalLiteral makes a JSON number with n significant digits.
func (g *gen) decimalLiteral(n, frac int, exp bool) string {
	var sb strings.Builder
	if g.r.IntN(2) == 0 {
		sb.WriteByte('-')
	}
	ds := make([]byte, n)
	for i := range ds {
		ds[i] = byte('0' + g.r.IntN(10))
	}
	ds[0] = byte('1' + g.r.IntN(9))
	if frac >= n {
		sb.WriteString("0.")
		sb.WriteString(strings.Repeat("0", frac-n))
		sb.Write(ds)
	} else if frac > 0 {
		sb.Write(ds[:n-frac])
		sb.WriteByte('.')
		sb.Write(ds[n-frac:])
	} else {
		sb.Write(ds)
	}
	if exp {
		fmt.Fprintf(&sb, "e%d", g.r.IntN(80)-40)
	}
	return sb.String()
}

func (g *gen) maybeNull(out []byte, f arrow.Field) ([]byte, any) {
	if f.Nullable && g.r.IntN(6) == 0 {
		return append(out, "null"...), nil
	}
	return g.value(out, f.Type)
}

// object writes the fields of t in random order, leaving nullable fields
// out at random and adding unknown members.
func (g *gen) object(out []byte, t *arrow.StructType) ([]byte, any) {
	want := map[string]any{}
	out = append(out, '{')
	first := true
	sep := func() {
		if !first {
			out = append(g.ws(out), ',')
		}
		first = false
		out = g.ws(out)
	}
	for _, i := range g.r.Perm(t.NumFields()) {
		f := t.Field(i)
		want[f.Name] = nil
		if f.Nullable && g.r.IntN(6) == 0 {
			continue // missing
		}
		sep()
		out = append(g.ws(g.quote(out, f.Name)), ':')
		var v any
		out, v = g.maybeNull(g.ws(out), f)
		want[f.Name] = v
	}
	if g.r.IntN(4) == 0 {
		sep()
		out = append(g.quote(out, "unknown_"+g.str()), ':')
		out, _ = g.value(out, richType) // any valid JSON will do
	}
	return append(g.ws(out), '}'), want
}

// TestRoundTrip decodes random records of every type and compares them to
// the values they were written from.
func TestRoundTrip(t *testing.T) {
	g := &gen{rand.New(rand.NewPCG(7, 8))}
	dec, err := New(richType, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := newBuilder(richType)
	defer b.Release()
	var recs [][]byte
	var want []any
	for range 3000 {
		rec, w := g.object(nil, richType)
		recs = append(recs, rec)
		want = append(want, w)
		if err := appendChecked(t, dec, b, rec); err != nil {
			t.Fatalf("%s: %v", rec, err)
		}
	}
	for i, row := range finish(t, b) {
		if !reflect.DeepEqual(row, want[i]) {
			t.Fatalf("record %d:\n%s\n got %#v\nwant %#v", i, recs[i], row, want[i])
		}
	}
}

// TestAllOrNothing interleaves good records with records that fail late
// (after most of the row was parsed) and checks that the failures leave
// no trace: the builders keep their lengths and the final array holds
// exactly the good rows and validates.
func TestAllOrNothing(t *testing.T) {
	g := &gen{rand.New(rand.NewPCG(9, 10))}
	dec, err := New(richType, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := newBuilder(richType)
	defer b.Release()
	var want []any
	bad := 0
	for i := range 2000 {
		rec, w := g.object(nil, richType)
		if i%3 == 1 {
			last := len(rec) - 1
			for rec[last] != '}' {
				last--
			}
			var broken []byte
			switch g.r.IntN(4) {
			case 0: // cut short
				broken = rec[:g.r.IntN(last)]
			case 1: // a duplicate of a required member at the end
				broken = append(slices.Clone(rec[:last]), `,"req":"again"}`...)
			case 2: // a bad value at the end
				broken = append(slices.Clone(rec[:last]), `,"legs":[{"qty":1},{"qty":2.5}]}`...)
			default: // garbage after the object
				broken = append(slices.Clone(rec), " x"...)
			}
			if err := appendChecked(t, dec, b, broken); err == nil {
				t.Fatalf("%s: no error", broken)
			}
			bad++
			continue
		}
		if err := appendChecked(t, dec, b, rec); err != nil {
			t.Fatalf("%s: %v", rec, err)
		}
		want = append(want, w)
	}
	rows := finish(t, b)
	if len(rows) != len(want) || bad == 0 {
		t.Fatalf("%d rows, want %d (%d bad)", len(rows), len(want), bad)
	}
	for i := range rows {
		if !reflect.DeepEqual(rows[i], want[i]) {
			t.Fatalf("row %d:\n got %#v\nwant %#v", i, rows[i], want[i])
		}
	}
}

// TestFloats checks the fast float path against strconv on many literals.
func TestFloats(t *testing.T) {
	g := &gen{rand.New(rand.NewPCG(11, 12))}
	for range 200_000 {
		lit := g.decimalLiteral(1+g.r.IntN(22), g.r.IntN(25), g.r.IntN(2) == 0)
		mant, exp, neg, trunc, end, st := decompose([]byte(lit), 0)
		if st != numOK || end != len(lit) {
			t.Fatalf("%s: status %d end %d", lit, st, end)
		}
		want64, err64 := strconv.ParseFloat(lit, 64)
		got64, ok64 := toFloat([]byte(lit), 0, end, mant, exp, neg, trunc, false)
		if ok64 != (err64 == nil || !math.IsInf(want64, 0)) || ok64 && math.Float64bits(got64) != math.Float64bits(want64) {
			t.Fatalf("%s: float64 got %v (%v), want %v (%v)", lit, got64, ok64, want64, err64)
		}
		want32, err32 := strconv.ParseFloat(lit, 32)
		got32, ok32 := toFloat([]byte(lit), 0, end, mant, exp, neg, trunc, true)
		if ok32 != (err32 == nil || !math.IsInf(want32, 0)) || ok32 && math.Float32bits(float32(got32)) != math.Float32bits(float32(want32)) {
			t.Fatalf("%s: float32 got %v (%v), want %v (%v)", lit, got32, ok32, want32, err32)
		}
	}
}
