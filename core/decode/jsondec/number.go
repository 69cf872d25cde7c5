package jsondec

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/decimal256"
)

type numStatus uint8

const (
	numOK     numStatus = iota
	numSyntax           // not a JSON number; end is where it goes wrong
	numNotInt           // a number with a fraction or exponent
	numRange            // an integer beyond 64 bits
)

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// leadingDigits returns how many of the eight bytes of w (loaded little-
// endian, so the first byte is the lowest) are ASCII digits before the
// first non-digit, and the value of those digits: eight bytes at a time
// with a few multiplications (the SWAR technique of simdjson and Lemire).
// Borrows and carries only travel from a non-digit byte towards later
// bytes, so the digits before the first non-digit are always read right.
func leadingDigits(w uint64) (int, uint64) {
	const hi = 0xF0F0F0F0F0F0F0F0
	m := (w&hi ^ 0x3030303030303030) | ((w+0x0606060606060606)&hi ^ 0x3030303030303030)
	n := bits.TrailingZeros64(m) >> 3
	if n == 0 {
		return 0, 0
	}
	// The n digit values, moved to the top bytes: the bytes below become
	// leading zeros.
	d := (w - 0x3030303030303030) << (64 - 8*n)
	d = d*10 + d>>8
	d = ((d&0x000000FF000000FF)*(100+1000000<<32) + (d>>16&0x000000FF000000FF)*(1+10000<<32)) >> 32
	return n, d
}

// scanNumber checks the JSON number at s[i] and returns its end.
func scanNumber(s []byte, i int) (int, numStatus) {
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i >= len(s) {
		return i, numSyntax
	}
	switch c := s[i]; {
	case c == '0':
		i++
		if i < len(s) && isDigit(s[i]) {
			return i, numSyntax // leading zero
		}
	case c >= '1' && c <= '9':
		for i++; i < len(s) && isDigit(s[i]); i++ {
		}
	default:
		return i, numSyntax
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || !isDigit(s[i]) {
			return i, numSyntax
		}
		for i++; i < len(s) && isDigit(s[i]); i++ {
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			return i, numSyntax
		}
		for i++; i < len(s) && isDigit(s[i]); i++ {
		}
	}
	return i, numOK
}

// numberSyntax records an invalid number that goes wrong at s[end].
func (d *Decoder) numberSyntax(s []byte, end int) int {
	if end >= len(s) {
		return d.eof(end)
	}
	return d.syntax(end, "invalid number")
}

// scanInt reads the JSON number at s[i] as an integer: its sign and
// magnitude. Digits are accumulated without overflow checks up to 19 of
// them (10^19-1 fits 64 bits); longer integers take the checked loop.
func scanInt(s []byte, i int) (neg bool, v uint64, end int, st numStatus) {
	start := i
	if i < len(s) && s[i] == '-' {
		neg = true
		i++
	}
	if i >= len(s) {
		return neg, 0, i, numSyntax
	}
	switch c := s[i]; {
	case c == '0':
		i++
	case c >= '1' && c <= '9':
		// Up to sixteen digits eight bytes at a time when the input
		// has the room (it nearly always has: the record goes on).
		first := i
		if i+16 <= len(s) {
			n, x := leadingDigits(binary.LittleEndian.Uint64(s[i:]))
			v, i = x, i+n
			if n == 8 {
				n, x = leadingDigits(binary.LittleEndian.Uint64(s[i:]))
				v, i = v*pow10u64[n]+x, i+n
			}
		}
		for ; i < len(s) && i-first < 19; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				break
			}
			v = v*10 + uint64(c-'0')
		}
		for ; i < len(s) && isDigit(s[i]); i++ {
			hi, lo := bits.Mul64(v, 10)
			lo, carry := bits.Add64(lo, uint64(s[i]-'0'), 0)
			if hi != 0 || carry != 0 {
				st = numRange
			}
			v = lo
		}
	default:
		return neg, 0, i, numSyntax
	}
	if i < len(s) {
		switch s[i] {
		case '.', 'e', 'E':
			end, st := scanNumber(s, start)
			if st != numOK {
				return neg, 0, end, st
			}
			return neg, 0, end, numNotInt
		case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			return neg, 0, i, numSyntax // leading zero
		}
	}
	return neg, v, i, st
}

// intInRange returns the two's-complement value of a signed or unsigned
// integer, or false if it is outside [n.min, n.max].
func intInRange(n *node, neg bool, v uint64) (uint64, bool) {
	if neg {
		if n.min == 0 {
			return 0, v == 0 // "-0" is 0
		}
		// -n.min, computed without overflowing for math.MinInt64.
		if v > uint64(-(n.min+1))+1 {
			return 0, false
		}
		return -v, true
	}
	return v, v <= n.max
}

// parseInt parses an integer field.
func (d *Decoder) parseInt(n *node, s []byte, i int) int {
	c := s[i]
	if c == '"' {
		if !d.opts.QuotedNumbers {
			return d.wrongType(s, i, "an integer")
		}
		mark := len(d.buf)
		v, end := d.stringContent(s, i)
		if end < 0 {
			return -1
		}
		neg, u, e, st := scanInt(v, 0)
		if st == numOK && e != len(v) || st == numSyntax {
			d.buf = d.buf[:mark]
			return d.failf("%q is not an integer", snippet(v))
		}
		if i = d.intResult(n, v, 0, len(v), neg, u, st); i < 0 {
			return -1
		}
		d.buf = d.buf[:mark]
		return end
	}
	if c != '-' && !isDigit(c) {
		return d.wrongType(s, i, "an integer")
	}
	neg, u, end, st := scanInt(s, i)
	if st == numSyntax {
		return d.numberSyntax(s, end)
	}
	return d.intResult(n, s, i, end, neg, u, st)
}

func (d *Decoder) intResult(n *node, s []byte, i, end int, neg bool, u uint64, st numStatus) int {
	switch st {
	case numNotInt:
		return d.failf("%s is not an integer", snippet(s[i:end]))
	case numRange:
		return d.failf("%s is out of range for %s", snippet(s[i:end]), n.typ)
	}
	v, ok := intInRange(n, neg, u)
	if !ok {
		return d.failf("%s is out of range for %s", snippet(s[i:end]), n.typ)
	}
	d.tape = append(d.tape, slot{n: n, a: v})
	return end
}

// decompose reads the JSON number at s[i]: its first (up to) 19
// significant digits as mant, the power of ten that scales them, whether
// further non-zero digits were dropped, and the sign.
func decompose(s []byte, i int) (mant uint64, exp int, neg, trunc bool, end int, st numStatus) {
	if i < len(s) && s[i] == '-' {
		neg = true
		i++
	}
	if i >= len(s) {
		return 0, 0, neg, false, i, numSyntax
	}
	nd := 0 // significant digits in mant
	switch c := s[i]; {
	case c == '0':
		i++
		if i < len(s) && isDigit(s[i]) {
			return 0, 0, neg, false, i, numSyntax
		}
	case c >= '1' && c <= '9':
		if i+8 <= len(s) { // up to eight digits at once
			n, x := leadingDigits(binary.LittleEndian.Uint64(s[i:]))
			mant, nd, i = x, n, i+n
		}
		for ; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				break
			}
			if nd < 19 {
				mant = mant*10 + uint64(c-'0')
				nd++
			} else {
				exp++
				trunc = trunc || c != '0'
			}
		}
	default:
		return 0, 0, neg, false, i, numSyntax
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || !isDigit(s[i]) {
			return 0, 0, neg, false, i, numSyntax
		}
		// Up to eight fraction digits at once while they fit in mant.
		// Leading zeros are counted as significant here, which at worst
		// sends a long number to strconv.
		if i+8 <= len(s) && nd <= 11 {
			n, x := leadingDigits(binary.LittleEndian.Uint64(s[i:]))
			mant, nd, exp, i = mant*pow10u64[n]+x, nd+n, exp-n, i+n
		}
		for ; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				break
			}
			switch {
			case mant == 0 && c == '0':
				exp--
			case nd < 19:
				mant = mant*10 + uint64(c-'0')
				nd++
				exp--
			default:
				trunc = trunc || c != '0'
			}
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			return 0, 0, neg, false, i, numSyntax
		}
		e := 0
		for ; i < len(s) && isDigit(s[i]); i++ {
			if e < 1<<20 {
				e = e*10 + int(s[i]-'0')
			}
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	return mant, exp, neg, trunc, i, numOK
}

var pow10f64 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

var pow10f32 = [...]float32{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10}

// toFloat converts the number s[i:end] decomposed as mant × 10^exp.
// When mant and the power of ten are both exact in the float type, one
// correctly rounded multiplication or division gives the correctly
// rounded result (Clinger's fast path); otherwise strconv does it.
func toFloat(s []byte, i, end int, mant uint64, exp int, neg, trunc bool, bits32 bool) (float64, bool) {
	var f float64
	switch {
	case mant == 0 && !trunc:
		f = 0
	case !bits32 && !trunc && mant <= 1<<53 && exp >= -22 && exp <= 22:
		f = float64(mant)
		if exp < 0 {
			f /= pow10f64[-exp]
		} else {
			f *= pow10f64[exp]
		}
	case bits32 && !trunc && mant <= 1<<24 && exp >= -10 && exp <= 10:
		g := float32(mant)
		if exp < 0 {
			g /= pow10f32[-exp]
		} else {
			g *= pow10f32[exp]
		}
		f = float64(g)
	default:
		size := 64
		if bits32 {
			size = 32
		}
		// The literal is only read during the call.
		v, err := strconv.ParseFloat(unsafe.String(&s[i], end-i), size)
		if err != nil && (math.IsInf(v, 0) || math.IsNaN(v)) {
			return 0, false
		}
		return v, true
	}
	if neg {
		f = -f
	}
	return f, true
}

// parseFloat parses a float32 or float64 field.
func (d *Decoder) parseFloat(n *node, s []byte, i int) int {
	bits32 := n.kind == kFloat32
	c := s[i]
	if c == '"' {
		if !d.opts.QuotedNumbers {
			return d.wrongType(s, i, "a number")
		}
		mark := len(d.buf)
		v, end := d.stringContent(s, i)
		if end < 0 {
			return -1
		}
		var f float64
		switch string(v) {
		case "NaN":
			f = math.NaN()
		case "Infinity":
			f = math.Inf(1)
		case "-Infinity":
			f = math.Inf(-1)
		default:
			mant, exp, neg, trunc, e, st := decompose(v, 0)
			if st != numOK || e != len(v) {
				d.buf = d.buf[:mark]
				return d.failf("%q is not a number", snippet(v))
			}
			var ok bool
			if f, ok = toFloat(v, 0, e, mant, exp, neg, trunc, bits32); !ok {
				d.buf = d.buf[:mark]
				return d.failf("%s is out of range for %s", snippet(v), n.typ)
			}
		}
		d.buf = d.buf[:mark]
		d.appendFloat(n, f, bits32)
		return end
	}
	if c != '-' && !isDigit(c) {
		return d.wrongType(s, i, "a number")
	}
	mant, exp, neg, trunc, end, st := decompose(s, i)
	if st != numOK {
		return d.numberSyntax(s, end)
	}
	f, ok := toFloat(s, i, end, mant, exp, neg, trunc, bits32)
	if !ok {
		return d.failf("%s is out of range for %s", snippet(s[i:end]), n.typ)
	}
	d.appendFloat(n, f, bits32)
	return end
}

func (d *Decoder) appendFloat(n *node, f float64, bits32 bool) {
	if bits32 {
		d.tape = append(d.tape, slot{n: n, a: uint64(math.Float32bits(float32(f)))})
	} else {
		d.tape = append(d.tape, slot{n: n, a: math.Float64bits(f)})
	}
}

// parseDecimal parses a decimal field from a JSON number or a string
// holding one. The digits are converted exactly; a value needing more
// decimal places than the scale or more digits than the precision is
// malformed rather than rounded.
func (d *Decoder) parseDecimal(n *node, s []byte, i int) int {
	c := s[i]
	var lit []byte
	end := 0
	mark := len(d.buf)
	switch {
	case c == '"':
		if lit, end = d.stringContent(s, i); end < 0 {
			return -1
		}
		if e, st := scanNumber(lit, 0); st != numOK || e != len(lit) {
			return d.failf("%q is not a decimal number", snippet(lit))
		}
	case c == '-' || isDigit(c):
		e, st := scanNumber(s, i)
		if st != numOK {
			return d.numberSyntax(s, e)
		}
		lit, end = s[i:e], e
	default:
		return d.wrongType(s, i, "a number or a numeric string")
	}
	w, msg := decimalValue(lit, n.prec, n.scale)
	if msg != "" {
		return d.failf("%s does not fit %s: %s", snippet(lit), n.typ, msg)
	}
	d.buf = d.buf[:mark]
	switch n.kind {
	case kDecimal32, kDecimal64:
		d.tape = append(d.tape, slot{n: n, a: w[0]})
	case kDecimal128:
		d.tape = append(d.tape, slot{n: n, a: w[0], b: w[1]})
	default:
		d.tape = append(d.tape, slot{n: n, a: uint64(len(d.d256))})
		d.d256 = append(d.d256, decimal256.New(w[3], w[2], w[1], w[0]))
	}
	return end
}

// decimalValue converts a valid JSON number literal to the unscaled
// integer of a decimal(prec, scale), as 256-bit two's complement (little-
// endian words), or explains why it does not fit.
func decimalValue(lit []byte, prec, scale int32) (w [4]uint64, msg string) {
	neg := lit[0] == '-'
	// Ordinals k count mantissa digits (the '.' skipped).
	k, fracStart := 0, -1
	firstK, lastK, firstJ, lastJ := -1, -1, 0, 0
	exp := 0
	for j := 0; j < len(lit); j++ {
		c := lit[j]
		switch {
		case c == '-':
		case c == '.':
			fracStart = k
		case c == 'e' || c == 'E':
			eneg := false
			j++
			if lit[j] == '+' || lit[j] == '-' {
				eneg = lit[j] == '-'
				j++
			}
			for ; j < len(lit); j++ {
				if exp < 1<<20 {
					exp = exp*10 + int(lit[j]-'0')
				}
			}
			if eneg {
				exp = -exp
			}
		default:
			if c != '0' {
				if firstK < 0 {
					firstK, firstJ = k, j
				}
				lastK, lastJ = k, j
			}
			k++
		}
	}
	if firstK < 0 {
		return w, "" // zero
	}
	if fracStart < 0 {
		fracStart = k
	}
	nsig := lastK - firstK + 1
	// value = digits[firstK..lastK] × 10^shift / 10^scale
	shift := exp - (k - fracStart) + (k - 1 - lastK) + int(scale)
	if shift < 0 {
		switch {
		case scale > 0:
			return w, "more than " + strconv.Itoa(int(scale)) + " decimal places"
		case scale == 0:
			return w, "not an integer (the scale is 0)"
		}
		return w, "not a multiple of 1" + strings.Repeat("0", int(-scale)) + " (the scale is " + strconv.Itoa(int(scale)) + ")"
	}
	if nsig+shift > int(prec) {
		return w, strconv.Itoa(nsig+shift) + " digits, more than the precision " + strconv.Itoa(int(prec))
	}
	var chunk uint64
	nc := 0
	for j := firstJ; j <= lastJ; j++ {
		c := lit[j]
		if c == '.' {
			continue
		}
		chunk = chunk*10 + uint64(c-'0')
		if nc++; nc == 19 {
			mulAdd(&w, pow10u64[19], chunk)
			chunk, nc = 0, 0
		}
	}
	mulAdd(&w, pow10u64[nc], chunk)
	for shift > 0 {
		m := min(shift, 19)
		mulAdd(&w, pow10u64[m], 0)
		shift -= m
	}
	if neg {
		var borrow uint64
		for x := range w {
			w[x], borrow = bits.Sub64(0, w[x], borrow)
		}
	}
	return w, ""
}

var pow10u64 = func() (t [20]uint64) {
	t[0] = 1
	for i := 1; i < len(t); i++ {
		t[i] = t[i-1] * 10
	}
	return t
}()

// mulAdd sets w = w*m + a. Callers keep w below 10^76 < 2^256.
func mulAdd(w *[4]uint64, m, a uint64) {
	carry := a
	for x := range w {
		hi, lo := bits.Mul64(w[x], m)
		var c uint64
		lo, c = bits.Add64(lo, carry, 0)
		w[x], carry = lo, hi+c
	}
}
