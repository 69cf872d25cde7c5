package jsondec

import (
	"bytes"
	"encoding/base64"
	"slices"
)

var (
	rawStd = base64.RawStdEncoding.Strict()
	rawURL = base64.RawURLEncoding.Strict()
)

// parseBinary parses a binary, large_binary or fixed_size_binary field
// from a JSON string, base64-decoded unless Options.Binary is RawString.
func (d *Decoder) parseBinary(n *node, s []byte, i int) int {
	if s[i] != '"' {
		if d.opts.Binary == Base64 {
			return d.wrongType(s, i, "a base64 string")
		}
		return d.wrongType(s, i, "a string")
	}
	j, esc := d.scanString(s, i+1)
	if j < 0 {
		return -1
	}
	v := s[i+1 : j]
	if d.opts.Binary == RawString {
		if n.kind == kFixedBinary && !esc && len(v) != n.size {
			return d.failf("expected %d bytes, got %d", n.size, len(v))
		}
		if !esc {
			d.tape = append(d.tape, slot{n: n, a: uint64(i + 1), b: uint64(len(v)), op: opValue})
			return j + 1
		}
		start := len(d.buf)
		d.buf = unescape(d.buf, v)
		if n.kind == kFixedBinary && len(d.buf)-start != n.size {
			return d.failf("expected %d bytes, got %d", n.size, len(d.buf)-start)
		}
		d.tape = append(d.tape, slot{n: n, a: uint64(start), b: uint64(len(d.buf) - start), op: opBuf})
		return j + 1
	}
	if esc { // base64 rarely has escapes, but "\/" is how some encoders write '/'
		start := len(d.buf)
		d.buf = unescape(d.buf, v)
		v = d.buf[start:]
	}
	src := v
	// Padding is optional; when present it must complete a quantum.
	if k := len(src); k > 0 && src[k-1] == '=' {
		if k%4 != 0 {
			return d.failf("%q is not valid base64: bad padding", snippet(v))
		}
		src = src[:k-1]
		if k > 1 && src[k-2] == '=' {
			src = src[:k-2]
		}
	}
	enc := rawStd
	if bytes.ContainsAny(src, "-_") {
		enc = rawURL
	}
	start := len(d.buf)
	d.buf = slices.Grow(d.buf, enc.DecodedLen(len(src)))
	m, err := enc.Decode(d.buf[start:start+enc.DecodedLen(len(src))], src)
	if err != nil {
		return d.failf("%q is not valid base64: %v", snippet(v), err)
	}
	if n.kind == kFixedBinary && m != n.size {
		return d.failf("expected %d bytes, got %d", n.size, m)
	}
	d.buf = d.buf[:start+m]
	d.tape = append(d.tape, slot{n: n, a: uint64(start), b: uint64(m), op: opBuf})
	return j + 1
}
