package source

import (
	"encoding/binary"
	"errors"
)

// Header blobs are what the Kafka adapter writes for a record's headers, so
// that a whole batch's headers cross the cgo boundary without a call per
// record: little-endian i32 count, then per header i32 name length, name,
// i32 value length (-1 for a null value), value.

// ErrBadHeaders reports a header blob that does not decode.
var ErrBadHeaders = errors.New("kafkars: malformed header blob")

// EncodeHeaders appends the blob for the given headers to dst. A nil value
// is a null header value.
func EncodeHeaders(dst []byte, names []string, values [][]byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(names)))
	for i, n := range names {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(n)))
		dst = append(dst, n...)
		if values[i] == nil {
			dst = binary.LittleEndian.AppendUint32(dst, 0xFFFFFFFF)
			continue
		}
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(values[i])))
		dst = append(dst, values[i]...)
	}
	return dst
}

// RangeHeaders calls fn for each header in blob, in order. value is nil for
// a null value. The slices alias blob.
func RangeHeaders(blob []byte, fn func(name, value []byte)) error {
	if len(blob) == 0 {
		return nil
	}
	if len(blob) < 4 {
		return ErrBadHeaders
	}
	n := int(int32(binary.LittleEndian.Uint32(blob)))
	p := blob[4:]
	if n < 0 {
		return ErrBadHeaders
	}
	for i := 0; i < n; i++ {
		if len(p) < 4 {
			return ErrBadHeaders
		}
		nl := int(int32(binary.LittleEndian.Uint32(p)))
		if nl < 0 || len(p) < 4+nl+4 {
			return ErrBadHeaders
		}
		name := p[4 : 4+nl]
		p = p[4+nl:]
		vl := int(int32(binary.LittleEndian.Uint32(p)))
		p = p[4:]
		var val []byte
		if vl >= 0 {
			if len(p) < vl {
				return ErrBadHeaders
			}
			val = p[:vl:vl]
			p = p[vl:]
		} else if vl != -1 {
			return ErrBadHeaders
		}
		fn(name, val)
	}
	return nil
}
