package protodec

import (
	"encoding/binary"
	"math"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// Pass 1: validate a record and record where its values are, on a tape.
//
// Fields arrive in any order and may repeat, but an Arrow struct needs one
// value per child per row and nothing may be appended before the whole
// record is known to be good. So pass 1 touches no builder: it checks
// every byte the row depends on and records, per message instance, one
// slot per field holding a linked list of recs. Pass 2 (emit.go) then
// appends in schema order from the tape alone and cannot fail.
//
// The tape is two slices owned by the Decoder and reused for every
// record: no allocation once they have grown to the largest record.

// slot is the state of one field of one message instance. A singular
// field keeps its (last) value in the slot itself; a repeated field keeps
// a linked list of recs.
type slot struct {
	val  uint64 // singular: the value's bits; Timestamp, Duration: the value once checked
	off  int32  // singular: offset of the value's bytes, or the message's instance
	n    int32  // singular: length of the value's bytes
	head int32  // repeated: first rec, -1 if none
	tail int32  // repeated: last rec
	cnt  int32  // occurrences seen (0: absent); for repeated fields, recs
}

var emptySlot = slot{head: -1, tail: -1}

// rec is one occurrence of a repeated field.
type rec struct {
	val  uint64 // varint or fixed bits; Timestamp, Duration: the value once checked
	off  int32  // length-delimited: offset in the record; message: its instance
	n    int32  // length-delimited: length; -1 for a single numeric value
	next int32
}

// newInst reserves the slots of one instance of m and returns the index
// of its first slot.
func (d *Decoder) newInst(m *msgPlan) int32 {
	base := len(d.slots)
	n := len(m.fields)
	if cap(d.slots)-base < n {
		d.slots = append(d.slots[:cap(d.slots)], make([]slot, n+cap(d.slots))...)
	}
	d.slots = d.slots[:base+n]
	for i := base; i < base+n; i++ {
		d.slots[i] = emptySlot
	}
	return int32(base)
}

// push appends r to the list of slot si.
func (d *Decoder) push(si int, r rec) {
	r.next = -1
	ri := int32(len(d.recs))
	d.recs = append(d.recs, r)
	s := &d.slots[si]
	if s.tail >= 0 {
		d.recs[s.tail].next = ri
	} else {
		s.head = ri
	}
	s.tail = ri
	s.cnt++
}

// clearOneof forgets the other members of oneof k once member fi is seen:
// the last member on the wire is the one that is set.
func (d *Decoder) clearOneof(m *msgPlan, inst int32, k int32, fi int) {
	for _, j := range m.oneofs[k] {
		if int(j) != fi {
			d.slots[int(inst)+int(j)] = emptySlot
		}
	}
}

// uvarint reads a varint at the start of b; n <= 0 when b does not start
// with a complete, valid varint. One-byte varints (most tags, small
// numbers, short lengths) take the inlined path.
func uvarint(b []byte) (v uint64, n int) {
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	return uvarintLong(b)
}

func uvarintLong(b []byte) (v uint64, n int) {
	if len(b) > 1 && b[1] < 0x80 {
		return uint64(b[0]&0x7f) | uint64(b[1])<<7, 2
	}
	return protowire.ConsumeVarint(b)
}

// scan validates the encoding of message m in d.data[pos:end] (when group
// is not 0: up to the end-group tag of field group, which may be before
// end) and records its fields into instance inst. It returns the position
// after the message.
func (d *Decoder) scan(m *msgPlan, inst int32, pos, end int, depth int, group protowire.Number) (int, error) {
	data := d.data[:end]
	for pos < end {
		// The fast paths of uvarint and lookup are written out here:
		// this loop runs once per field of every record.
		tag, n := uint64(data[pos]), 1
		if tag >= 0x80 {
			if tag, n = uvarintLong(data[pos:]); n <= 0 {
				return 0, malformed("truncated or invalid tag at byte %d", pos)
			}
		}
		pos += n
		num, typ := protowire.Number(tag>>3), protowire.Type(tag&7)
		if tag>>3 < 1 || tag>>3 > uint64(protowire.MaxValidNumber) {
			return 0, malformed("invalid field number %d at byte %d", tag>>3, pos-n)
		}
		if typ == protowire.EndGroupType {
			if num == group {
				return pos, nil
			}
			return 0, malformed("unexpected end-group tag of field %d at byte %d", num, pos-n)
		}
		fi := -1
		if uint64(num) < uint64(len(m.dense)) {
			fi = int(m.dense[num])
		} else if m.sparse != nil {
			fi = m.lookupSparse(num)
		}
		if fi < 0 {
			var err error
			if pos, err = d.skip(num, typ, pos, end, depth); err != nil {
				return 0, err
			}
			continue
		}
		f := &m.fields[fi]
		si := int(inst) + fi
		if f.oneof >= 0 {
			d.clearOneof(m, inst, f.oneof, fi)
		}
		if typ != f.val.wire {
			if typ == protowire.BytesType && f.card == list && f.val.packable {
				l, n := uvarint(data[pos:])
				if n <= 0 || l > uint64(end-pos-n) {
					return 0, in(malformed("truncated packed %s (length at byte %d)", kindName(f.val.kind), pos), f, -1)
				}
				start := pos + n
				pos = start + int(l)
				if err := checkPacked(f.val.wire, data[start:pos]); err != nil {
					return 0, in(err, f, -1)
				}
				d.push(si, rec{off: int32(start), n: int32(l)})
				continue
			}
			return 0, in(malformed("wire type %s, want %s for %s", wireName(typ), wireName(f.val.wire), kindName(f.val.kind)), f, -1)
		}
		var val uint64
		var off, ln int32 = 0, -1
		switch typ {
		case protowire.VarintType:
			if pos >= end {
				return 0, in(malformed("truncated or overlong varint at byte %d", pos), f, -1)
			}
			v, n := uint64(data[pos]), 1
			if v >= 0x80 {
				if v, n = uvarintLong(data[pos:]); n <= 0 {
					return 0, in(malformed("truncated or overlong varint at byte %d", pos), f, -1)
				}
			}
			pos += n
			val = v
		case protowire.Fixed32Type:
			if end-pos < 4 {
				return 0, in(malformed("truncated fixed32 at byte %d", pos), f, -1)
			}
			val = uint64(binary.LittleEndian.Uint32(data[pos:]))
			pos += 4
		case protowire.Fixed64Type:
			if end-pos < 8 {
				return 0, in(malformed("truncated fixed64 at byte %d", pos), f, -1)
			}
			val = binary.LittleEndian.Uint64(data[pos:])
			pos += 8
		case protowire.BytesType:
			l, n := uvarint(data[pos:])
			if n <= 0 || l > uint64(end-pos-n) {
				return 0, in(malformed("truncated %s (length at byte %d)", kindName(f.val.kind), pos), f, index(f, d.slots[si]))
			}
			start := pos + n
			pos = start + int(l)
			switch f.val.kind {
			case kString:
				if !validUTF8(data[start:pos]) {
					return 0, in(malformed("invalid UTF-8 in string at byte %d", start), f, index(f, d.slots[si]))
				}
			case kBytes:
			default:
				if _, err := d.message(f, si, start, pos, depth, 0); err != nil {
					return 0, err
				}
				continue
			}
			off, ln = int32(start), int32(l)
		case protowire.StartGroupType:
			var err error
			if pos, err = d.message(f, si, pos, end, depth, num); err != nil {
				return 0, err
			}
			continue
		}
		if f.card == single {
			s := &d.slots[si] // the last value wins
			s.val, s.off, s.n = val, off, ln
			s.cnt++
		} else {
			d.push(si, rec{val: val, off: off, n: ln})
		}
	}
	if group != 0 {
		return 0, malformed("group field %d has no end-group tag", group)
	}
	return pos, nil
}

// index is the element index of the next occurrence of a repeated field
// for error paths, -1 for singular fields.
func index(f *fieldPlan, s slot) int32 {
	if f.card == single {
		return -1
	}
	return s.cnt
}

// validUTF8 is utf8.Valid with a shortcut for short ASCII strings
// (symbols, codes, names), the common case.
func validUTF8(b []byte) bool {
	if len(b) <= 16 {
		var or byte
		for _, c := range b {
			or |= c
		}
		if or < utf8.RuneSelf {
			return true
		}
	}
	return utf8.Valid(b)
}

// message scans one occurrence of message field f: length-delimited in
// [start, end), or a group starting at start when group is not 0. A
// singular message seen again is merged into the instance it already has
// (as if the occurrences were concatenated, which is what the protobuf
// encoding defines); a repeated one gets a new instance per element.
func (d *Decoder) message(f *fieldPlan, si int, start, end, depth int, group protowire.Number) (int, error) {
	if depth+1 > maxDepth {
		return 0, in(malformed("messages nested more than %d deep", maxDepth), f, -1)
	}
	idx := index(f, d.slots[si])
	if f.val.kind == kTimestamp || f.val.kind == kDuration {
		return d.timeField(f, si, idx, start, end, depth, group)
	}
	var sub int32
	switch {
	case f.card != single:
		sub = d.newInst(f.val.msg)
		d.push(si, rec{off: sub, n: -1})
	case d.slots[si].cnt == 0:
		sub = d.newInst(f.val.msg) // may move d.slots
		d.slots[si].off = sub
		d.slots[si].cnt = 1
	default:
		sub = d.slots[si].off
		d.slots[si].cnt++
	}
	pos, err := d.scan(f.val.msg, sub, start, end, depth+1, group)
	if err != nil {
		return 0, in(err, f, idx)
	}
	if group == 0 && pos != end {
		return 0, in(malformed("embedded message ends at byte %d, its length says %d", pos, end), f, idx)
	}
	return pos, nil
}

// timeField scans one occurrence of a Timestamp or Duration field. They
// are the most common messages of all, so they skip the instance
// machinery: seconds and nanos go straight to the slot or rec of the
// field (val and n), following the same rules (last value wins across
// occurrences, unknown fields skipped).
func (d *Decoder) timeField(f *fieldPlan, si int, idx int32, start, end, depth int, group protowire.Number) (int, error) {
	var secs *uint64
	var nanos *int32
	if f.card == single {
		s := &d.slots[si]
		s.cnt++
		secs, nanos = &s.val, &s.n
	} else {
		d.push(si, rec{})
		r := &d.recs[d.slots[si].tail]
		secs, nanos = &r.val, &r.n
	}
	pos, err := d.scanTime(f.val.msg, start, end, depth+1, group, secs, nanos)
	if err != nil {
		return 0, in(err, f, idx)
	}
	if group == 0 && pos != end {
		return 0, in(malformed("embedded message ends at byte %d, its length says %d", pos, end), f, idx)
	}
	return pos, nil
}

// scanTime is scan for m, a Timestamp or Duration (int64 seconds = 1;
// int32 nanos = 2).
func (d *Decoder) scanTime(m *msgPlan, pos, end, depth int, group protowire.Number, secs *uint64, nanos *int32) (int, error) {
	data := d.data[:end]
	for pos < end {
		tag, n := uvarint(data[pos:])
		if n <= 0 {
			return 0, malformed("truncated or invalid tag at byte %d", pos)
		}
		pos += n
		num, typ := protowire.Number(tag>>3), protowire.Type(tag&7)
		if tag>>3 < 1 || tag>>3 > uint64(protowire.MaxValidNumber) {
			return 0, malformed("invalid field number %d at byte %d", tag>>3, pos-n)
		}
		if typ == protowire.EndGroupType {
			if num == group {
				return pos, nil
			}
			return 0, malformed("unexpected end-group tag of field %d at byte %d", num, pos-n)
		}
		if num != 1 && num != 2 {
			var err error
			if pos, err = d.skip(num, typ, pos, end, depth); err != nil {
				return 0, err
			}
			continue
		}
		f := &m.fields[num-1]
		if typ != protowire.VarintType {
			return 0, in(malformed("wire type %s, want %s for %s", wireName(typ), wireName(protowire.VarintType), kindName(f.val.kind)), f, -1)
		}
		v, n := uvarint(data[pos:])
		if n <= 0 {
			return 0, in(malformed("truncated or overlong varint at byte %d", pos), f, -1)
		}
		pos += n
		if num == 1 {
			*secs = v
		} else {
			*nanos = int32(v)
		}
	}
	if group != 0 {
		return 0, malformed("group field %d has no end-group tag", group)
	}
	return pos, nil
}

// checkPacked validates the contents of a packed repeated field.
func checkPacked(wire protowire.Type, b []byte) error {
	switch wire {
	case protowire.VarintType:
		for i := 0; i < len(b); {
			if b[i] < 0x80 {
				i++
				continue
			}
			_, n := protowire.ConsumeVarint(b[i:])
			if n < 0 {
				return malformed("truncated or overlong varint in packed field at offset %d", i)
			}
			i += n
		}
	case protowire.Fixed32Type:
		if len(b)%4 != 0 {
			return malformed("packed fixed32 values take %d bytes, not a multiple of 4", len(b))
		}
	case protowire.Fixed64Type:
		if len(b)%8 != 0 {
			return malformed("packed fixed64 values take %d bytes, not a multiple of 8", len(b))
		}
	}
	return nil
}

// skip passes over the value of an unknown field (protobuf readers keep
// going on fields their schema does not know: that is how fields get
// added compatibly), still checking that it is complete.
func (d *Decoder) skip(num protowire.Number, typ protowire.Type, pos, end, depth int) (int, error) {
	data := d.data[:end]
	switch typ {
	case protowire.VarintType:
		_, n := uvarint(data[pos:])
		if n <= 0 {
			return 0, malformed("unknown field %d: truncated or overlong varint at byte %d", num, pos)
		}
		return pos + n, nil
	case protowire.Fixed32Type:
		if end-pos < 4 {
			return 0, malformed("unknown field %d: truncated fixed32 at byte %d", num, pos)
		}
		return pos + 4, nil
	case protowire.Fixed64Type:
		if end-pos < 8 {
			return 0, malformed("unknown field %d: truncated fixed64 at byte %d", num, pos)
		}
		return pos + 8, nil
	case protowire.BytesType:
		l, n := uvarint(data[pos:])
		if n <= 0 || l > uint64(end-pos-n) {
			return 0, malformed("unknown field %d: truncated length-delimited value at byte %d", num, pos)
		}
		return pos + n + int(l), nil
	case protowire.StartGroupType:
		if depth+1 > maxDepth {
			return 0, malformed("unknown field %d: groups nested more than %d deep", num, maxDepth)
		}
		for {
			if pos >= end {
				return 0, malformed("unknown group field %d has no end-group tag", num)
			}
			tag, n := uvarint(data[pos:])
			if n <= 0 {
				return 0, malformed("unknown group field %d: truncated tag at byte %d", num, pos)
			}
			pos += n
			inner, t := protowire.Number(tag>>3), protowire.Type(tag&7)
			if tag>>3 < 1 || tag>>3 > uint64(protowire.MaxValidNumber) {
				return 0, malformed("unknown group field %d: invalid field number %d", num, tag>>3)
			}
			if t == protowire.EndGroupType {
				if inner != num {
					return 0, malformed("unknown group field %d closed by end-group tag of field %d", num, inner)
				}
				return pos, nil
			}
			var err error
			if pos, err = d.skip(inner, t, pos, end, depth+1); err != nil {
				return 0, err
			}
		}
	}
	return 0, malformed("field %d: invalid wire type %d", num, typ)
}

// Pass 1.5: values whose validity depends on all their occurrences.
// Timestamp and Duration are messages, so their seconds and nanos may
// come from different occurrences (merging); they can only be checked
// once the record is scanned. Only the instances still reachable from the
// root are checked (a oneof member dropped for a later one is not part of
// the row).

func (d *Decoder) check(m *msgPlan, inst int32) error {
	for i := range m.fields {
		f := &m.fields[i]
		if !f.val.check {
			continue
		}
		si := int(inst) + i
		isTime := f.val.kind == kTimestamp || f.val.kind == kDuration
		if f.card == single {
			s := &d.slots[si]
			if s.cnt == 0 {
				continue
			}
			if isTime {
				t, err := d.timeValue(&f.val, s.val, s.n)
				if err != nil {
					return in(err, f, -1)
				}
				s.val = uint64(t) // for pass 2
			} else if err := d.check(f.val.msg, s.off); err != nil {
				return in(err, f, -1)
			}
			continue
		}
		k := int32(0)
		for ri := d.slots[si].head; ri >= 0; ri = d.recs[ri].next {
			r := &d.recs[ri]
			if isTime {
				t, err := d.timeValue(&f.val, r.val, r.n)
				if err != nil {
					return in(err, f, k)
				}
				r.val = uint64(t)
			} else if err := d.check(f.val.msg, r.off); err != nil {
				return in(err, f, k)
			}
			k++
		}
	}
	return nil
}

// Bounds of Timestamp and Duration (google/protobuf/timestamp.proto,
// duration.proto).
const (
	minTimestampSeconds = -62135596800 // 0001-01-01T00:00:00Z
	maxTimestampSeconds = 253402300799 // 9999-12-31T23:59:59Z
	maxDurationSeconds  = 315576000000 // about 10 000 years
)

// timeValue is the value of a Timestamp or Duration in the decoder's
// unit, or why it has none.
func (d *Decoder) timeValue(v *valuePlan, secsBits uint64, nanos int32) (int64, error) {
	secs := int64(secsBits)
	perSec, perUnit := int64(1e9), int64(1)
	if d.unit == Microseconds {
		perSec, perUnit = 1e6, 1e3
	}
	if v.kind == kTimestamp {
		if nanos < 0 || nanos > 999_999_999 {
			return 0, malformed("Timestamp nanos %d out of range [0, 999999999]", nanos)
		}
		if secs < minTimestampSeconds || secs > maxTimestampSeconds {
			return 0, malformed("Timestamp seconds %d out of range (years 1 to 9999)", secs)
		}
		if secs > (math.MaxInt64-int64(nanos)/perUnit)/perSec || secs < math.MinInt64/perSec {
			return 0, malformed("Timestamp %ds %dns does not fit timestamp[%s] (1677-09-21 to 2262-04-11)", secs, nanos, d.unit)
		}
		return secs*perSec + int64(nanos)/perUnit, nil
	}
	if nanos <= -1e9 || nanos >= 1e9 {
		return 0, malformed("Duration nanos %d out of range (-1e9, 1e9)", nanos)
	}
	if (secs > 0 && nanos < 0) || (secs < 0 && nanos > 0) {
		return 0, malformed("Duration seconds %d and nanos %d have different signs", secs, nanos)
	}
	if secs < -maxDurationSeconds || secs > maxDurationSeconds {
		return 0, malformed("Duration seconds %d out of range (about 10 000 years)", secs)
	}
	// The signs agree, so the sub-second part never pushes across zero.
	y := int64(nanos) / perUnit
	if (secs >= 0 && secs > (math.MaxInt64-y)/perSec) || (secs < 0 && secs < (math.MinInt64-y)/perSec) {
		return 0, malformed("Duration %ds %dns does not fit duration[%s] (about 292 years)", secs, nanos, d.unit)
	}
	return secs*perSec + int64(nanos)/perUnit, nil
}
