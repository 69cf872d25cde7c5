package avrodec

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
	"github.com/kafkars/kafkars/core/decode"
)

// The first phase reads a whole datum, checks it and records what to
// append on the tape, a []uint64 reused across records: numbers as their
// bits, strings and bytes as spans into the datum. Nothing is appended to
// a builder until the whole datum has been read, which is what makes rows
// all-or-nothing; the second phase (emit) then cannot fail.

// A span is offset<<32 | length, with constSpan set when it points into
// the decoder's constant pool (encoded defaults) instead of the datum.
const (
	constSpan  = uint64(1) << 63
	maxSpanOff = 1<<31 - 1
)

func (d *Decoder) span(s uint64) []byte {
	off := uint32(s>>32) & maxSpanOff
	n := uint32(s)
	if s&constSpan != 0 {
		return d.consts[off : off+n]
	}
	return d.src[off : off+n]
}

// zeroBudget bounds the items of zero-byte types (null, empty records) a
// datum of n bytes may declare: such items cost no input but do cost
// memory, so their count cannot be bounded by the bytes left.
func zeroBudget(n int) int { return 1024 + 64*n }

func f32frombits(v uint64) float32 { return math.Float32frombits(uint32(v)) }
func f64frombits(v uint64) float64 { return math.Float64frombits(v) }

// malformed makes the error for a bad datum at pos.
func (d *Decoder) malformed(op *pop, pos int, format string, args ...any) error {
	where := op.path
	if where == "" {
		where = "record"
	}
	msg := fmt.Sprintf(format, args...)
	if d.framing == Confluent {
		return decode.Malformed(fmt.Sprintf("avro (schema id %d): %s: %s (at byte %d of the datum)", d.curID, where, msg, pos))
	}
	return decode.Malformed(fmt.Sprintf("avro: %s: %s (at byte %d of the datum)", where, msg, pos))
}

func (d *Decoder) truncated(op *pop, pos int, what string) error {
	return d.malformed(op, pos, "datum ends inside %s", what)
}

// Varint results besides the next position.
const (
	errTruncated = -1
	errOverflow  = -2
)

// uvarint reads an unsigned varint of at most 10 bytes (a long). The
// one-byte case is small enough to be inlined into callers.
func uvarint(src []byte, pos int) (uint64, int) {
	if pos < len(src) && src[pos] < 0x80 {
		return uint64(src[pos]), pos + 1
	}
	return uvarintLong(src, pos)
}

func uvarintLong(src []byte, pos int) (uint64, int) {
	if len(src)-pos >= 10 { // no bounds checks per byte
		b := src[pos : pos+10 : pos+10]
		v := uint64(b[0] & 0x7f)
		for i := 1; i < 10; i++ {
			c := b[i]
			v |= uint64(c&0x7f) << (7 * i)
			if c < 0x80 {
				if i == 9 && c > 1 {
					return 0, errOverflow
				}
				return v, pos + i + 1
			}
		}
		return 0, errOverflow
	}
	var v uint64
	for s := uint(0); s < 70; s += 7 {
		if pos >= len(src) {
			return 0, errTruncated
		}
		b := src[pos]
		pos++
		if s == 63 && b > 1 {
			return 0, errOverflow
		}
		v |= uint64(b&0x7f) << s
		if b < 0x80 {
			return v, pos
		}
	}
	return 0, errOverflow
}

func (d *Decoder) readLong(op *pop, pos int) (int64, int, error) {
	u, next := uvarint(d.src, pos)
	if next < 0 {
		return 0, 0, d.varintErr(op, pos, next, "long")
	}
	return int64(u>>1) ^ -int64(u&1), next, nil
}

func (d *Decoder) readInt(op *pop, pos int) (int32, int, error) {
	u, next := uvarint(d.src, pos)
	if next < 0 || next-pos > 5 || u > math.MaxUint32 {
		if next >= 0 {
			next = errOverflow
		}
		return 0, 0, d.varintErr(op, pos, next, "int")
	}
	return int32(uint32(u>>1)) ^ -int32(u&1), next, nil
}

func (d *Decoder) varintErr(op *pop, pos, code int, what string) error {
	if code == errTruncated {
		return d.truncated(op, pos, "a varint ("+what+")")
	}
	return d.malformed(op, pos, "varint overflows a %d-bit %s", map[string]int{"int": 32, "long": 64}[what], what)
}

// readLen reads a length (string, bytes, map key) and checks it against
// the bytes left.
func (d *Decoder) readLen(op *pop, pos int, what string) (int, int, error) {
	n, next, err := d.readLong(op, pos)
	if err != nil {
		return 0, 0, err
	}
	if n < 0 {
		return 0, 0, d.malformed(op, pos, "negative %s length %d", what, n)
	}
	if n > int64(len(d.src)-next) {
		return 0, 0, d.malformed(op, pos, "%s length %d, but only %d bytes are left", what, n, len(d.src)-next)
	}
	return int(n), next, nil
}

func (d *Decoder) pushSpan(off, n int) {
	d.tape = append(d.tape, d.spanFlag|uint64(off)<<32|uint64(n))
}

// blockCount reads the item count of an array or map block. A negative
// count is followed by the block's size in bytes (which skipping uses).
func (d *Decoder) blockCount(op *pop, pos int, what string) (count int, size int, next int, err error) {
	c, next, err := d.readLong(op, pos)
	if err != nil {
		return 0, 0, 0, err
	}
	size = -1
	if c < 0 {
		if c == math.MinInt64 {
			return 0, 0, 0, d.malformed(op, pos, "%s block count %d out of range", what, c)
		}
		c = -c
		s, n2, err := d.readLong(op, next)
		if err != nil {
			return 0, 0, 0, err
		}
		if s < 0 || s > int64(len(d.src)-n2) {
			return 0, 0, 0, d.malformed(op, next, "%s block size %d out of range (%d bytes left)", what, s, len(d.src)-n2)
		}
		size, next = int(s), n2
	}
	left := len(d.src) - next
	if op.minSize > 0 {
		if c > int64(left/op.minSize) {
			return 0, 0, 0, d.malformed(op, pos, "%s block of %d items, but only %d bytes are left", what, c, left)
		}
	} else {
		if c > int64(d.budget) {
			return 0, 0, 0, d.malformed(op, pos, "%s block of %d zero-byte items is more than a datum of %d bytes may hold", what, c, len(d.src))
		}
		d.budget -= int(c)
	}
	return int(c), size, next, nil
}

// parse runs op at d.src[pos:], pushing tape slots, and returns the
// position after the value.
func (d *Decoder) parse(op *pop, pos int) (int, error) { return d.run(op.self, pos) }

// run runs a sequence of ops (a record's fields, nested records flattened
// in). Leaf ops are handled in the loop; only arrays, maps, unions and
// reordered records call back into it.
func (d *Decoder) run(seq []*pop, pos int) (int, error) {
	src := d.src
	var err error
	for _, op := range seq {
		if op.tag >= 0 {
			d.tape = append(d.tape, uint64(op.tag))
		}
		switch op.code {
		case pNull, sNothing:
		case pConst:
			d.tape = append(d.tape, op.def...)
		case pBool:
			if pos >= len(src) {
				return 0, d.truncated(op, pos, "a boolean")
			}
			if src[pos] > 1 {
				return 0, d.malformed(op, pos, "boolean byte is 0x%02x, not 0 or 1", src[pos])
			}
			d.tape = append(d.tape, uint64(src[pos]))
			pos++
		case pInt, pIntFloat, pIntDouble:
			// uvarint, with its one-byte case by hand (too big to inline)
			u, next := uint64(0), pos+1
			if pos < len(src) && src[pos] < 0x80 {
				u = uint64(src[pos])
			} else {
				u, next = uvarintLong(src, pos)
			}
			if next < 0 || next-pos > 5 || u > math.MaxUint32 {
				return 0, d.intErr(op, pos, next)
			}
			v := int32(uint32(u>>1)) ^ -int32(u&1)
			switch op.code {
			case pInt:
				d.tape = append(d.tape, uint64(int64(v)))
			case pIntFloat:
				d.tape = append(d.tape, uint64(math.Float32bits(float32(v))))
			default:
				d.tape = append(d.tape, math.Float64bits(float64(v)))
			}
			pos = next
		case pLong, pLongFloat, pLongDouble:
			// uvarint, with its one-byte case by hand (too big to inline)
			u, next := uint64(0), pos+1
			if pos < len(src) && src[pos] < 0x80 {
				u = uint64(src[pos])
			} else {
				u, next = uvarintLong(src, pos)
			}
			if next < 0 {
				return 0, d.varintErr(op, pos, next, "long")
			}
			v := int64(u>>1) ^ -int64(u&1)
			switch op.code {
			case pLong:
				d.tape = append(d.tape, uint64(v))
			case pLongFloat:
				d.tape = append(d.tape, uint64(math.Float32bits(float32(v))))
			default:
				d.tape = append(d.tape, math.Float64bits(float64(v)))
			}
			pos = next
		case pFloat, pFloatDouble:
			if len(src)-pos < 4 {
				return 0, d.truncated(op, pos, "a float")
			}
			u := binary.LittleEndian.Uint32(src[pos:])
			if op.code == pFloat {
				d.tape = append(d.tape, uint64(u))
			} else {
				d.tape = append(d.tape, math.Float64bits(float64(math.Float32frombits(u))))
			}
			pos += 4
		case pDouble:
			if len(src)-pos < 8 {
				return 0, d.truncated(op, pos, "a double")
			}
			d.tape = append(d.tape, binary.LittleEndian.Uint64(src[pos:]))
			pos += 8
		case pString, pBytes:
			// uvarint, with its one-byte case by hand (too big to inline)
			u, next := uint64(0), pos+1
			if pos < len(src) && src[pos] < 0x80 {
				u = uint64(src[pos])
			} else {
				u, next = uvarintLong(src, pos)
			}
			n := int64(u>>1) ^ -int64(u&1)
			if next < 0 || n < 0 || n > int64(len(src)-next) {
				return 0, d.lenErr(op, pos, "string")
			}
			end := next + int(n)
			if op.code == pString && !shortASCII(src, next, end) && !validUTF8(src[next:end]) {
				return 0, d.malformed(op, next, "string is not valid UTF-8")
			}
			d.tape = append(d.tape, d.spanFlag|uint64(next)<<32|uint64(n))
			pos = end
		case pEnum:
			// uvarint, with its one-byte case by hand (too big to inline)
			u, next := uint64(0), pos+1
			if pos < len(src) && src[pos] < 0x80 {
				u = uint64(src[pos])
			} else {
				u, next = uvarintLong(src, pos)
			}
			if next < 0 || next-pos > 5 || u > math.MaxUint32 {
				return 0, d.intErr(op, pos, next)
			}
			v := int32(uint32(u>>1)) ^ -int32(u&1)
			if v < 0 || int(v) >= len(op.enumMap) {
				return 0, d.malformed(op, pos, "enum index %d out of range (the writer's enum has %d symbols)", v, len(op.enumMap))
			}
			m := op.enumMap[v]
			if m < 0 {
				return 0, d.malformed(op, pos, "enum symbol %q is not in the reader's enum, which has no default", op.wsymbols[v])
			}
			d.tape = append(d.tape, uint64(m))
			pos = next
		case pFixed:
			if len(src)-pos < op.n {
				return 0, d.truncated(op, pos, fmt.Sprintf("a fixed(%d)", op.n))
			}
			d.pushSpan(pos, op.n)
			pos += op.n
		default:
			if pos, err = d.parseComplex(op, pos); err != nil {
				return 0, err
			}
		}
	}
	return pos, nil
}

// parseComplex runs the ops that are not leaves of the loop in run.
func (d *Decoder) parseComplex(op *pop, pos int) (int, error) {
	src := d.src
	switch op.code {
	case pScaled:
		var v int64
		var next int
		var err error
		if op.wide {
			v, next, err = d.readLong(op, pos)
		} else {
			var v32 int32
			v32, next, err = d.readInt(op, pos)
			v = int64(v32)
		}
		if err != nil {
			return 0, err
		}
		if op.mul != 0 {
			hi, lo := bits.Mul64(uint64(abs64(v)), uint64(op.mul))
			if hi != 0 || lo > math.MaxInt64 {
				return 0, d.malformed(op, pos, "time value %d overflows when converted to the reader's unit", v)
			}
			v *= op.mul
		} else {
			q := v / op.div
			if v%op.div < 0 {
				q-- // floor: an instant before the epoch stays before it
			}
			v = q
		}
		d.tape = append(d.tape, uint64(v))
		return next, nil
	case pDecBytes, pDecFixed:
		n, next := op.n, pos
		if op.code == pDecBytes {
			var err error
			if n, next, err = d.readLen(op, pos, "decimal"); err != nil {
				return 0, err
			}
		} else if len(src)-pos < n {
			return 0, d.truncated(op, pos, fmt.Sprintf("a fixed(%d) decimal", n))
		}
		if err := d.pushDecimal(op, next, src[next:next+n]); err != nil {
			return 0, err
		}
		return next + n, nil
	case pRecord, sRecord:
		return d.run(op.seq, pos)
	case pRecordReordered:
		base := len(d.spans)
		var err error
		for _, w := range op.wfields {
			d.spans = append(d.spans, pos)
			if pos, err = d.parse(w, pos); err != nil {
				d.spans = d.spans[:base]
				return 0, err
			}
		}
		for i := range op.steps {
			st := &op.steps[i]
			if st.op == nil {
				d.tape = append(d.tape, st.def...)
				continue
			}
			if _, err = d.parse(st.op, d.spans[base+st.w]); err != nil {
				d.spans = d.spans[:base]
				return 0, err
			}
		}
		d.spans = d.spans[:base]
		return pos, nil
	case pArray, pMap, sArray, sMap:
		return d.parseBlocks(op, pos)
	case pUnion, sUnion:
		i, next, err := d.readLong(op, pos)
		if err != nil {
			return 0, err
		}
		if i < 0 || i >= int64(len(op.branch)) {
			return 0, d.malformed(op, pos, "union branch index %d out of range (the writer's union has %d branches)", i, len(op.branch))
		}
		return d.parse(op.branch[i], next)
	case pFail:
		return 0, d.malformed(op, pos, "%s", op.msg)
	case sByte:
		if pos >= len(src) {
			return 0, d.truncated(op, pos, "a boolean")
		}
		return pos + 1, nil
	case sVarint:
		_, next := uvarint(src, pos)
		if next < 0 {
			return 0, d.varintErr(op, pos, next, "long")
		}
		return next, nil
	case s4, s8:
		n := 4
		if op.code == s8 {
			n = 8
		}
		if len(src)-pos < n {
			return 0, d.truncated(op, pos, "a number")
		}
		return pos + n, nil
	case sBytes:
		n, next, err := d.readLen(op, pos, "bytes")
		if err != nil {
			return 0, err
		}
		return next + n, nil
	case sFixed:
		if len(src)-pos < op.n {
			return 0, d.truncated(op, pos, fmt.Sprintf("a fixed(%d)", op.n))
		}
		return pos + op.n, nil
	}
	panic(fmt.Sprintf("avrodec: unknown op %d", op.code))
}

// intErr explains a bad int varint at pos (next is what uvarint gave).
func (d *Decoder) intErr(op *pop, pos, next int) error {
	if next >= 0 {
		next = errOverflow
	}
	return d.varintErr(op, pos, next, "int")
}

// lenErr explains a bad length at pos (by reading it again, the slow way).
func (d *Decoder) lenErr(op *pop, pos int, what string) error {
	if op.code == pBytes {
		what = "bytes"
	}
	_, _, err := d.readLen(op, pos, what)
	return err
}

// shortASCII reports whether src[start:end] is at most 8 bytes of ASCII,
// with one 8-byte load and a mask, for the short strings (symbols, codes)
// most records are made of. The load is taken from start, or when the
// string ends the datum, so that it ends at end. False means "look
// closer", not "invalid".
func shortASCII(src []byte, start, end int) bool {
	n := end - start
	if n > 8 {
		return false
	}
	if len(src)-start >= 8 {
		// n == 0: a shift by 64 gives an empty mask.
		return binary.LittleEndian.Uint64(src[start:])&(0x8080808080808080>>(64-8*uint(n))) == 0
	}
	if end >= 8 {
		return binary.LittleEndian.Uint64(src[end-8:])&(0x8080808080808080<<(64-8*uint(n))) == 0
	}
	return false
}

// validUTF8 is utf8.Valid with a faster start for the short ASCII
// strings that most fields hold.
func validUTF8(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b)&0x8080808080808080 != 0 {
			return utf8.Valid(b)
		}
		b = b[8:]
	}
	for _, c := range b {
		if c >= 0x80 {
			return utf8.Valid(b)
		}
	}
	return true
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// parseBlocks reads the blocks of an array or a map.
func (d *Decoder) parseBlocks(op *pop, pos int) (int, error) {
	isMap := op.code == pMap || op.code == sMap
	skip := op.code == sArray || op.code == sMap
	what := "array"
	if isMap {
		what = "map"
	}
	countAt := len(d.tape)
	if !skip {
		d.tape = append(d.tape, 0)
	}
	total := 0
	for {
		c, size, next, err := d.blockCount(op, pos, what)
		if err != nil {
			return 0, err
		}
		pos = next
		if c == 0 {
			break
		}
		if skip && size >= 0 {
			pos += size // the writer gave the block's size: jump over it
			continue
		}
		for range c {
			if isMap {
				n, next, err := d.readLen(op, pos, "map key")
				if err != nil {
					return 0, err
				}
				if !skip {
					if !validUTF8(d.src[next : next+n]) {
						return 0, d.malformed(op, next, "map key is not valid UTF-8")
					}
					d.pushSpan(next, n)
				}
				pos = next + n
			}
			if pos, err = d.parse(op.elem, pos); err != nil {
				return 0, err
			}
		}
		total += c
	}
	if !skip {
		d.tape[countAt] = uint64(total)
	}
	return pos, nil
}

// pushDecimal pushes the big-endian two's complement b as 2 (or, wide,
// 4) little-endian words, checking it fits the reader's precision.
func (d *Decoder) pushDecimal(op *pop, pos int, b []byte) error {
	if len(b) == 0 {
		return d.malformed(op, pos, "decimal has no bytes")
	}
	var buf [32]byte
	width := 16
	if op.wide {
		width = 32
	}
	neg := b[0]&0x80 != 0
	ext := byte(0)
	if neg {
		ext = 0xff
	}
	for len(b) > width { // more bytes than fit: they must be sign extension
		if b[0] != ext {
			return d.malformed(op, pos, "decimal of %d bytes does not fit %d digits", len(b), op.prec)
		}
		b = b[1:]
	}
	if b[0]&0x80 != 0 != neg {
		return d.malformed(op, pos, "decimal does not fit %d digits", op.prec)
	}
	w := buf[32-width:]
	for i := range w[:width-len(b)] {
		w[i] = ext
	}
	copy(w[width-len(b):], b)
	if !op.wide {
		n := decimal128.New(int64(binary.BigEndian.Uint64(w[0:])), binary.BigEndian.Uint64(w[8:]))
		if !n.Less(op.bound128) || !op.bound128.Negate().Less(n) {
			return d.malformed(op, pos, "decimal has more than %d digits", op.prec)
		}
		d.tape = append(d.tape, n.LowBits(), uint64(n.HighBits()))
		return nil
	}
	n := decimal256.New(binary.BigEndian.Uint64(w[0:]), binary.BigEndian.Uint64(w[8:]), binary.BigEndian.Uint64(w[16:]), binary.BigEndian.Uint64(w[24:]))
	if !n.Less(op.bound256) || !op.bound256.Negate().Less(n) {
		return d.malformed(op, pos, "decimal has more than %d digits", op.prec)
	}
	a := n.Array()
	d.tape = append(d.tape, a[0], a[1], a[2], a[3])
	return nil
}
