package jsondec

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// The parser is a hand-written recursive-descent scanner directed by the
// plan: at every value it knows the Arrow type it must produce, so it
// converts as it scans and never builds a generic JSON tree. Positions are
// passed and returned as ints; a negative result means failure, with the
// message in d.fail.

// plain marks the bytes that can appear in a string without a closer
// look: printable ASCII other than '"' and '\\'.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plainRun returns how many of the eight bytes of w (loaded little-endian)
// are plain before the first that is not: a control character, '"', '\\'
// or a byte of a multi-byte UTF-8 sequence. Borrows only travel from a
// byte that is itself not plain towards later bytes, so the first one is
// always found.
func plainRun(w uint64) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q := w ^ (ones * '"')
	bs := w ^ (ones * '\\')
	m := (w-ones*0x20)&^w | (q-ones)&^q | (bs-ones)&^bs | w
	return bits.TrailingZeros64(m&highs) >> 3
}

// skipPlain returns the index of the first byte at or after s[i] that is
// not plain, eight bytes at a time while the input has them.
func skipPlain(s []byte, i int) int {
	for i+8 <= len(s) {
		n := plainRun(binary.LittleEndian.Uint64(s[i:]))
		i += n
		if n < 8 {
			return i
		}
	}
	for i < len(s) && plain[s[i]] {
		i++
	}
	return i
}

func skipWS(s []byte, i int) int {
	for i < len(s) {
		switch s[i] {
		case ' ', '\n', '\r', '\t':
			i++
		default:
			return i
		}
	}
	return i
}

// scanString checks the string whose content starts at s[i] (just after
// the opening quote): well-formed escapes (including UTF-16 surrogate
// pairs), no control characters, valid UTF-8. It returns the index of the
// closing quote and whether there were escapes, or -1.
func (d *Decoder) scanString(s []byte, i int) (int, bool) {
	esc := false
	for {
		if i = skipPlain(s, i); i >= len(s) {
			return d.eof(i), false
		}
		switch c := s[i]; {
		case c == '"':
			return i, esc
		case c == '\\':
			esc = true
			if i = d.checkEscape(s, i); i < 0 {
				return -1, false
			}
		case c < 0x20:
			return d.syntax(i, "control character in a string (must be escaped)"), false
		default:
			r, size := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && size <= 1 {
				return d.syntax(i, "invalid UTF-8 in a string"), false
			}
			i += size
		}
	}
}

// checkEscape checks the escape at s[i] == '\\' and returns the index
// after it.
func (d *Decoder) checkEscape(s []byte, i int) int {
	if i+1 >= len(s) {
		return d.eof(i + 1)
	}
	switch s[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 2
	case 'u':
		u, ok := hex4(s, i+2)
		if !ok {
			if i+6 > len(s) && isPrefixOfEscape(s[i:]) {
				return d.eof(len(s))
			}
			return d.syntax(i, "bad \\u escape: need four hex digits")
		}
		switch {
		case u >= 0xD800 && u < 0xDC00:
			if i+7 < len(s) && s[i+6] == '\\' && s[i+7] == 'u' {
				if l, ok := hex4(s, i+8); ok && l >= 0xDC00 && l < 0xE000 {
					return i + 12
				}
			}
			if rest := s[i+6:]; len(rest) < 6 && isPrefixOfEscape(rest) {
				return d.eof(len(s))
			}
			return d.syntax(i, "bad \\u escape: high surrogate not followed by a low surrogate")
		case u >= 0xDC00 && u < 0xE000:
			return d.syntax(i, "bad \\u escape: lone low surrogate")
		}
		return i + 6
	default:
		return d.syntax(i, "bad escape \\"+printable(s[i+1]))
	}
}

// isPrefixOfEscape reports whether v, cut short by the end of input,
// could be the start of a \uXXXX escape.
func isPrefixOfEscape(v []byte) bool {
	for k, c := range v {
		switch {
		case k == 0 && c == '\\', k == 1 && c == 'u':
		case k >= 2 && k < 6 && (isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'):
		default:
			return false
		}
	}
	return true
}

func printable(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return string(rune(c))
	}
	return "(byte " + string("0123456789abcdef"[c>>4]) + string("0123456789abcdef"[c&15]) + ")"
}

func hex4(s []byte, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range s[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// unescape appends the content of a string checked by scanString to dst.
func unescape(dst, src []byte) []byte {
	for i := 0; i < len(src); {
		c := src[i]
		if c != '\\' {
			j := i + 1
			for j < len(src) && src[j] != '\\' {
				j++
			}
			dst = append(dst, src[i:j]...)
			i = j
			continue
		}
		switch src[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, _ := hex4(src, i+2)
			if r >= 0xD800 && r < 0xDC00 {
				l, _ := hex4(src, i+8)
				r = 0x10000 + (r-0xD800)<<10 + (l - 0xDC00)
				i += 6
			}
			dst = utf8.AppendRune(dst, r)
			i += 6
			continue
		default: // '"', '\\', '/'
			dst = append(dst, src[i+1])
		}
		i += 2
	}
	return dst
}

// stringContent scans the string at s[i] == '"' and returns its content
// (unescaped into d.buf if it had escapes) and the index after it. The
// caller truncates d.buf when it is done with the content.
func (d *Decoder) stringContent(s []byte, i int) ([]byte, int) {
	j, esc := d.scanString(s, i+1)
	if j < 0 {
		return nil, -1
	}
	v := s[i+1 : j]
	if esc {
		start := len(d.buf)
		d.buf = unescape(d.buf, v)
		v = d.buf[start:]
	}
	return v, j + 1
}

func hasLit(s []byte, i int, lit string) bool {
	return len(s)-i >= len(lit) && string(s[i:i+len(lit)]) == lit
}

// literal checks the literal true, false or null at s[i].
func (d *Decoder) literal(s []byte, i int, lit string) int {
	if hasLit(s, i, lit) {
		return i + len(lit)
	}
	if len(s)-i < len(lit) && string(s[i:]) == lit[:len(s)-i] {
		return d.eof(len(s))
	}
	return d.syntax(i, "invalid literal (expected "+lit+")")
}

// parseStruct parses the object at s[i] == '{' into the fields of n.
// depth is the nesting level of this object.
func (d *Decoder) parseStruct(n *node, s []byte, i, depth int) int {
	if depth > d.maxDepth {
		return d.failf("nested deeper than %d levels", d.maxDepth)
	}
	d.tape = append(d.tape, slot{n: n, op: opBegin})
	i = skipWS(s, i+1)
	// seen marks the fields present. Structs of more than 64 fields keep
	// their marks in words pushed on d.seen instead (from base on).
	var seen uint64
	base := -1
	if len(n.fields) > 64 {
		base = len(d.seen)
		for range (len(n.fields) + 63) / 64 {
			d.seen = append(d.seen, 0)
		}
	}
	if i < len(s) && s[i] == '}' {
		return d.missing(n, seen, base, i+1)
	}
	next := 0
	for {
		if i >= len(s) {
			return d.eof(i)
		}
		if s[i] != '"' {
			return d.syntax(i, "expected a member name (a string) or '}'")
		}
		var f *node
		// Fast path: the member is the next field in schema order and
		// its name needs no escaping, so the raw bytes of name + `":`
		// are the key and the colon: one or two 8-byte compares.
		if next < len(n.fields) {
			if g := n.fields[next]; g.plain {
				if len(g.keyWords) == 1 && i+9 <= len(s) {
					if binary.LittleEndian.Uint64(s[i+1:])&g.keyMask == g.keyWords[0] {
						f, i = g, i+1+g.keyLen
					}
				} else if g.matchKey(s, i+1) {
					f, i = g, i+1+g.keyLen
				}
			}
		}
		if f == nil {
			if i = d.member(n, s, i, next); i < 0 {
				return -1
			}
			if d.field < 0 {
				// Not a field: check the value is JSON, and drop it.
				if i = d.skipValue(s, i, depth); i < 0 {
					return -1
				}
				goto after
			}
			f = n.fields[d.field]
		}
		if i >= len(s) || s[i] <= ' ' {
			if i = skipWS(s, i); i >= len(s) {
				return d.eof(i)
			}
		}
		if fi := f.pos; base < 0 {
			if seen&(1<<fi) != 0 {
				d.failf("duplicate member")
				d.inField(f.name)
				return -1
			}
			seen |= 1 << fi
			next = fi + 1
		} else {
			w := &d.seen[base+fi>>6]
			if *w&(1<<(fi&63)) != 0 {
				d.failf("duplicate member")
				d.inField(f.name)
				return -1
			}
			*w |= 1 << (fi & 63)
			next = fi + 1
		}
		// The common kinds without a detour through parseValue.
		switch c := s[i]; {
		case c == 'n':
			i = d.parseValue(f, s, i, depth)
		case f.kind == kString && c == '"':
			if j := skipPlain(s, i+1); j < len(s) && s[j] == '"' {
				d.tape = append(d.tape, slot{n: f, a: uint64(i + 1), b: uint64(j - i - 1), op: opValue})
				i = j + 1
			} else {
				i = d.parseValue(f, s, i, depth)
			}
		case f.kind == kFloat64:
			i = d.parseFloat(f, s, i)
		case f.kind == kInt64:
			i = d.parseInt(f, s, i)
		case f.kind == kTimestamp:
			i = d.parseTimestamp(f, s, i)
		default:
			i = d.parseValue(f, s, i, depth)
		}
		if i < 0 {
			d.inField(f.name)
			return -1
		}
	after:
		if i >= len(s) || s[i] <= ' ' {
			if i = skipWS(s, i); i >= len(s) {
				return d.eof(i)
			}
		}
		switch s[i] {
		case ',':
			i++
			if i < len(s) && s[i] != '"' {
				i = skipWS(s, i)
			}
		case '}':
			return d.missing(n, seen, base, i+1)
		default:
			return d.syntax(i, "expected ',' or '}' after a member")
		}
	}
}

// member reads the member name at s[i] == '"' the slow way (escapes,
// members out of order, unknown members) and the colon after it. It sets
// d.field to the field's index in n, or -1, and returns the index after
// the colon.
func (d *Decoder) member(n *node, s []byte, i, next int) int {
	j, esc := d.scanString(s, i+1)
	if j < 0 {
		return -1
	}
	key := s[i+1 : j]
	if esc {
		d.keyb = unescape(d.keyb[:0], key)
		key = d.keyb
	}
	if d.field = n.lookup(key, next); d.field < 0 && d.opts.DisallowUnknownMembers {
		return d.failf("unknown member %q (the schema has no such field)", snippet(key))
	}
	if i = skipWS(s, j+1); i >= len(s) {
		return d.eof(i)
	}
	if s[i] != ':' {
		return d.syntax(i, "expected ':' after a member name")
	}
	if i = skipWS(s, i+1); i >= len(s) {
		return d.eof(i)
	}
	return i
}

// missing appends nulls (or zeros) for the fields of n not marked in seen
// (or, from base on, in d.seen), pops d.seen, and returns i.
func (d *Decoder) missing(n *node, seen uint64, base int, i int) int {
	if base < 0 {
		if seen == n.all {
			return i
		}
	} else {
		defer func() { d.seen = d.seen[:base] }()
	}
	for fi, f := range n.fields {
		if base < 0 {
			if seen&(1<<fi) != 0 {
				continue
			}
		} else if d.seen[base+fi>>6]&(1<<(fi&63)) != 0 {
			continue
		}
		switch {
		case f.nullable:
			d.tape = append(d.tape, slot{n: f, op: opNull})
		case d.opts.ZeroForMissing:
			d.tape = append(d.tape, slot{n: f, op: opZero})
		default:
			d.failf("member is missing and the field is not nullable")
			d.inField(f.name)
			return -1
		}
	}
	return i
}

// null handles a JSON null (or a missing list element) for n.
func (d *Decoder) null(n *node, i int) int {
	switch {
	case n.nullable:
		d.tape = append(d.tape, slot{n: n, op: opNull})
	case d.opts.ZeroForMissing:
		d.tape = append(d.tape, slot{n: n, op: opZero})
	default:
		return d.failf("got null, but the field is not nullable")
	}
	return i
}

// wrongType records that the value at s[i] is not what n takes.
func (d *Decoder) wrongType(s []byte, i int, expected string) int {
	if i < len(s) && !isValueStart(s[i]) {
		return d.syntax(i, "expected a value")
	}
	return d.failf("expected %s, got %s", expected, describe(s, i))
}

func isValueStart(c byte) bool {
	switch c {
	case '"', '{', '[', 't', 'f', 'n', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return true
	}
	return false
}

// parseValue parses the value at s[i] (i < len(s)) as n's type. depth is
// the number of containers around it.
func (d *Decoder) parseValue(n *node, s []byte, i, depth int) int {
	c := s[i]
	if c == 'n' {
		if i = d.literal(s, i, "null"); i < 0 {
			return -1
		}
		return d.null(n, i)
	}
	switch n.kind {
	case kString:
		if c != '"' {
			return d.wrongType(s, i, "a string")
		}
		j, esc := d.scanString(s, i+1)
		if j < 0 {
			return -1
		}
		if !esc {
			d.tape = append(d.tape, slot{n: n, a: uint64(i + 1), b: uint64(j - i - 1), op: opValue})
		} else {
			start := len(d.buf)
			d.buf = unescape(d.buf, s[i+1:j])
			d.tape = append(d.tape, slot{n: n, a: uint64(start), b: uint64(len(d.buf) - start), op: opBuf})
		}
		return j + 1
	case kFloat64, kFloat32:
		return d.parseFloat(n, s, i)
	case kInt64, kInt32, kInt16, kInt8, kUint64, kUint32, kUint16, kUint8:
		return d.parseInt(n, s, i)
	case kTimestamp:
		return d.parseTimestamp(n, s, i)
	case kBool:
		switch c {
		case 't':
			i = d.literal(s, i, "true")
			d.tape = append(d.tape, slot{n: n, a: 1})
		case 'f':
			i = d.literal(s, i, "false")
			d.tape = append(d.tape, slot{n: n})
		default:
			return d.wrongType(s, i, "true or false")
		}
		return i
	case kBinary, kFixedBinary:
		return d.parseBinary(n, s, i)
	case kDate32, kDate64:
		return d.parseDate(n, s, i)
	case kDecimal32, kDecimal64, kDecimal128, kDecimal256:
		return d.parseDecimal(n, s, i)
	case kList, kFixedList:
		if c != '[' {
			return d.wrongType(s, i, "an array")
		}
		return d.parseList(n, s, i, depth+1)
	case kStruct:
		if c != '{' {
			return d.wrongType(s, i, "an object")
		}
		return d.parseStruct(n, s, i, depth+1)
	case kMap:
		if c != '{' {
			return d.wrongType(s, i, "an object")
		}
		return d.parseMap(n, s, i, depth+1)
	}
	panic("jsondec: unreachable")
}

// parseList parses the array at s[i] == '[' into the list node n.
func (d *Decoder) parseList(n *node, s []byte, i, depth int) int {
	if depth > d.maxDepth {
		return d.failf("nested deeper than %d levels", d.maxDepth)
	}
	d.tape = append(d.tape, slot{n: n, op: opBegin})
	i = skipWS(s, i+1)
	count := 0
	if i < len(s) && s[i] == ']' {
		i++
	} else {
		for {
			if i >= len(s) {
				return d.eof(i)
			}
			if n.kind == kFixedList && count == n.size {
				return d.failf("expected %d elements, got more", n.size)
			}
			if i = d.parseValue(n.elem, s, i, depth); i < 0 {
				d.inIndex(count)
				return -1
			}
			count++
			i = skipWS(s, i)
			if i >= len(s) {
				return d.eof(i)
			}
			if s[i] == ']' {
				i++
				break
			}
			if s[i] != ',' {
				return d.syntax(i, "expected ',' or ']' after an array element")
			}
			i = skipWS(s, i+1)
		}
	}
	if n.kind == kFixedList && count != n.size {
		return d.failf("expected %d elements, got %d", n.size, count)
	}
	return i
}

// parseMap parses the object at s[i] == '{' into the map node n: each
// member is one entry, in order. Duplicate names are kept (an Arrow map
// may hold duplicate keys, and dropping one would lose data).
func (d *Decoder) parseMap(n *node, s []byte, i, depth int) int {
	if depth > d.maxDepth {
		return d.failf("nested deeper than %d levels", d.maxDepth)
	}
	d.tape = append(d.tape, slot{n: n, op: opBegin})
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == '}' {
		return i + 1
	}
	for {
		if i >= len(s) {
			return d.eof(i)
		}
		if s[i] != '"' {
			return d.syntax(i, "expected a member name (a string) or '}'")
		}
		j, esc := d.scanString(s, i+1)
		if j < 0 {
			return -1
		}
		ks, ke := i+1, j
		if !esc {
			d.tape = append(d.tape, slot{n: n.key, a: uint64(i + 1), b: uint64(j - i - 1), op: opValue})
		} else {
			start := len(d.buf)
			d.buf = unescape(d.buf, s[i+1:j])
			d.tape = append(d.tape, slot{n: n.key, a: uint64(start), b: uint64(len(d.buf) - start), op: opBuf})
		}
		i = skipWS(s, j+1)
		if i >= len(s) {
			return d.eof(i)
		}
		if s[i] != ':' {
			return d.syntax(i, "expected ':' after a member name")
		}
		if i = skipWS(s, i+1); i >= len(s) {
			return d.eof(i)
		}
		if i = d.parseValue(n.elem, s, i, depth); i < 0 {
			d.inKey(s[ks:ke])
			return -1
		}
		i = skipWS(s, i)
		if i >= len(s) {
			return d.eof(i)
		}
		switch s[i] {
		case ',':
			i = skipWS(s, i+1)
		case '}':
			return i + 1
		default:
			return d.syntax(i, "expected ',' or '}' after a member")
		}
	}
}

// skipValue checks the value at s[i] (i < len(s)) and returns the index
// after it. depth is the number of containers around it.
func (d *Decoder) skipValue(s []byte, i, depth int) int {
	switch c := s[i]; c {
	case '"':
		j, _ := d.scanString(s, i+1)
		if j < 0 {
			return -1
		}
		return j + 1
	case '{':
		if depth+1 > d.maxDepth {
			return d.failf("nested deeper than %d levels", d.maxDepth)
		}
		i = skipWS(s, i+1)
		if i < len(s) && s[i] == '}' {
			return i + 1
		}
		for {
			if i >= len(s) {
				return d.eof(i)
			}
			if s[i] != '"' {
				return d.syntax(i, "expected a member name (a string) or '}'")
			}
			j, _ := d.scanString(s, i+1)
			if j < 0 {
				return -1
			}
			i = skipWS(s, j+1)
			if i >= len(s) {
				return d.eof(i)
			}
			if s[i] != ':' {
				return d.syntax(i, "expected ':' after a member name")
			}
			if i = skipWS(s, i+1); i >= len(s) {
				return d.eof(i)
			}
			if i = d.skipValue(s, i, depth+1); i < 0 {
				return -1
			}
			i = skipWS(s, i)
			if i >= len(s) {
				return d.eof(i)
			}
			switch s[i] {
			case ',':
				i = skipWS(s, i+1)
			case '}':
				return i + 1
			default:
				return d.syntax(i, "expected ',' or '}' after a member")
			}
		}
	case '[':
		if depth+1 > d.maxDepth {
			return d.failf("nested deeper than %d levels", d.maxDepth)
		}
		i = skipWS(s, i+1)
		if i < len(s) && s[i] == ']' {
			return i + 1
		}
		for {
			if i >= len(s) {
				return d.eof(i)
			}
			if i = d.skipValue(s, i, depth+1); i < 0 {
				return -1
			}
			i = skipWS(s, i)
			if i >= len(s) {
				return d.eof(i)
			}
			switch s[i] {
			case ',':
				i = skipWS(s, i+1)
			case ']':
				return i + 1
			default:
				return d.syntax(i, "expected ',' or ']' after an array element")
			}
		}
	case 't':
		return d.literal(s, i, "true")
	case 'f':
		return d.literal(s, i, "false")
	case 'n':
		return d.literal(s, i, "null")
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		end, st := scanNumber(s, i)
		if st != numOK {
			return d.numberSyntax(s, end)
		}
		return end
	default:
		return d.syntax(i, "expected a value")
	}
}
