package protodec

import (
	"bytes"
	"encoding/binary"
	"math"
	"sort"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"google.golang.org/protobuf/encoding/protowire"
)

// Pass 2: append one row from the tape, in schema order. Everything that
// could be wrong was found by passes 1 and 1.5, so nothing here fails and
// a row is never left half-written.

// emitMsg appends one valid struct for instance inst of m; inst < 0 means
// an empty message (every field absent).
func (d *Decoder) emitMsg(m *msgPlan, inst int32, sb *array.StructBuilder) {
	sb.Append(true)
	var slots []slot
	if inst >= 0 {
		slots = d.slots[inst : int(inst)+len(m.fields)]
	} else {
		slots = d.empty(len(m.fields))
	}
	for i := range m.fields {
		f := &m.fields[i]
		s := &slots[i]
		switch f.card {
		case single:
			if s.cnt == 0 {
				if f.nullable {
					f.bld.AppendNull()
				} else {
					d.emitDefault(&f.val)
				}
				continue
			}
			d.emitValue(&f.val, s.val, s.off, s.n)
		case list:
			f.bld.(*array.ListBuilder).Append(true)
			for r := s.head; r >= 0; r = d.recs[r].next {
				rr := &d.recs[r]
				if f.val.packable && rr.n >= 0 {
					d.emitPacked(&f.val, rr)
				} else {
					d.emitValue(&f.val, rr.val, rr.off, rr.n)
				}
			}
		case mapping:
			d.emitMap(f, s)
		}
	}
}

// empty returns n empty slots (read only).
func (d *Decoder) empty(n int) []slot {
	for len(d.emptySlots) < n {
		d.emptySlots = append(d.emptySlots, emptySlot)
	}
	return d.emptySlots[:n]
}

// emitValue appends one value: its bits val, or its bytes at off (n
// long), or its message instance off.
func (d *Decoder) emitValue(v *valuePlan, val uint64, off, n int32) {
	switch v.kind {
	case kString:
		appendBytes(v.bld.(*array.StringBuilder).BinaryBuilder, d.data[off:off+n])
	case kBytes:
		appendBytes(v.bld.(*array.BinaryBuilder), d.data[off:off+n])
	case kMessage:
		d.emitMsg(v.msg, off, v.bld.(*array.StructBuilder))
	case kTimestamp: // val was set by pass 1.5
		if b := v.bld.(*array.TimestampBuilder); b.Len() < b.Cap() {
			b.UnsafeAppend(arrow.Timestamp(val))
		} else {
			b.Append(arrow.Timestamp(val))
		}
	case kDuration:
		if b := v.bld.(*array.DurationBuilder); b.Len() < b.Cap() {
			b.UnsafeAppend(arrow.Duration(val))
		} else {
			b.Append(arrow.Duration(val))
		}
	case kWrapper:
		inner := &v.msg.fields[0]
		if s := &d.slots[off]; s.cnt > 0 {
			d.emitValue(&inner.val, s.val, s.off, s.n)
		} else {
			d.emitDefault(&inner.val)
		}
	default:
		d.emitScalar(v, val)
	}
}

// The appends below skip the builder's Reserve when it has room: the
// builders are reserved a batch at a time, and Reserve is a good part of
// the cost of appending one small value.

func appendBytes(b *array.BinaryBuilder, v []byte) {
	if b.Len() < b.Cap() && b.DataLen()+len(v) <= b.DataCap() {
		b.UnsafeAppend(v)
	} else {
		b.Append(v)
	}
}

// emitScalar appends a numeric, bool or enum value from its wire bits.
func (d *Decoder) emitScalar(v *valuePlan, x uint64) {
	switch v.kind {
	case kBool:
		b := v.bld.(*array.BooleanBuilder)
		if b.Len() < b.Cap() {
			b.UnsafeAppend(x != 0)
		} else {
			b.Append(x != 0)
		}
	case kInt32, kSfixed32, kSint32:
		y := int32(x)
		if v.kind == kSint32 {
			y = int32(protowire.DecodeZigZag(x & math.MaxUint32))
		}
		if b := v.bld.(*array.Int32Builder); b.Len() < b.Cap() {
			b.UnsafeAppend(y)
		} else {
			b.Append(y)
		}
	case kUint32, kFixed32:
		if b := v.bld.(*array.Uint32Builder); b.Len() < b.Cap() {
			b.UnsafeAppend(uint32(x))
		} else {
			b.Append(uint32(x))
		}
	case kInt64, kSfixed64, kSint64:
		y := int64(x)
		if v.kind == kSint64 {
			y = protowire.DecodeZigZag(x)
		}
		if b := v.bld.(*array.Int64Builder); b.Len() < b.Cap() {
			b.UnsafeAppend(y)
		} else {
			b.Append(y)
		}
	case kUint64, kFixed64:
		if b := v.bld.(*array.Uint64Builder); b.Len() < b.Cap() {
			b.UnsafeAppend(x)
		} else {
			b.Append(x)
		}
	case kFloat:
		if b := v.bld.(*array.Float32Builder); b.Len() < b.Cap() {
			b.UnsafeAppend(math.Float32frombits(uint32(x)))
		} else {
			b.Append(math.Float32frombits(uint32(x)))
		}
	case kDouble:
		if b := v.bld.(*array.Float64Builder); b.Len() < b.Cap() {
			b.UnsafeAppend(math.Float64frombits(x))
		} else {
			b.Append(math.Float64frombits(x))
		}
	case kEnum:
		d.emitEnum(v, int32(x))
	}
}

// emitEnum appends the name of enum value n, or n in decimal when the
// reader's enum has no such value (a writer with a newer enum, or a closed
// enum receiving a value it does not know): the number is kept rather
// than lost.
func (d *Decoder) emitEnum(v *valuePlan, n int32) {
	sb := v.bld.(*array.StringBuilder).BinaryBuilder
	if name := v.enum.name(n); name != nil {
		appendBytes(sb, name)
		return
	}
	d.num = strconv.AppendInt(d.num[:0], int64(n), 10)
	appendBytes(sb, d.num)
}

// emitPacked appends the elements of a packed repeated field.
func (d *Decoder) emitPacked(v *valuePlan, r *rec) {
	b := d.data[r.off : r.off+r.n]
	switch v.wire {
	case protowire.VarintType:
		for len(b) > 0 {
			x, n := uvarint(b)
			b = b[n:]
			d.emitScalar(v, x)
		}
	case protowire.Fixed32Type:
		for ; len(b) >= 4; b = b[4:] {
			d.emitScalar(v, uint64(binary.LittleEndian.Uint32(b)))
		}
	case protowire.Fixed64Type:
		for ; len(b) >= 8; b = b[8:] {
			d.emitScalar(v, binary.LittleEndian.Uint64(b))
		}
	}
}

// emitDefault appends the value of an absent field without presence: the
// zero value, the default enum value, an empty message.
func (d *Decoder) emitDefault(v *valuePlan) {
	switch v.kind {
	case kEnum:
		d.emitEnum(v, v.defEnum)
	case kMessage:
		d.emitMsg(v.msg, -1, v.bld.(*array.StructBuilder))
	case kWrapper:
		d.emitDefault(&v.msg.fields[0].val)
	default:
		v.bld.AppendEmptyValue()
	}
}

// emitMap appends a map field. When a key occurs in several entries the
// last one wins, as when parsing into a protobuf map; the surviving
// entries keep their order on the wire.
func (d *Decoder) emitMap(f *fieldPlan, s *slot) {
	mb := f.bld.(*array.MapBuilder)
	mb.Append(true)
	e := f.val.msg
	// d.ents is used as a stack: a map value may hold maps of its own,
	// whose entries go above ours.
	base := len(d.ents)
	for r := s.head; r >= 0; r = d.recs[r].next {
		d.ents = append(d.ents, d.recs[r].off)
	}
	ents := d.ents[base:]
	if len(ents) > 1 {
		d.dedupMap(e, ents)
	}
	for _, inst := range ents {
		if inst < 0 { // replaced by a later entry with the same key
			continue
		}
		for j := 0; j < 2; j++ {
			v := &e.fields[j].val
			if sl := &d.slots[int(inst)+j]; sl.cnt > 0 {
				d.emitValue(v, sl.val, sl.off, sl.n)
			} else {
				d.emitDefault(v)
			}
		}
	}
	d.ents = d.ents[:base]
}

// mapKey is a key in comparable form: integers normalized to their value
// (a varint may encode a 32-bit key in 5 or 10 bytes), strings as bytes.
type mapKey struct {
	u uint64
	s []byte
}

func (d *Decoder) key(e *msgPlan, inst int32) mapKey {
	r := &d.slots[inst]
	if r.cnt == 0 {
		return mapKey{}
	}
	switch e.fields[0].val.kind {
	case kString:
		return mapKey{s: d.data[r.off : r.off+r.n]}
	case kBool:
		if r.val != 0 {
			return mapKey{u: 1}
		}
		return mapKey{}
	case kInt32, kSint32, kUint32, kSfixed32, kFixed32:
		return mapKey{u: uint64(uint32(r.val))}
	}
	return mapKey{u: r.val}
}

func (k mapKey) compare(o mapKey) int {
	if c := bytes.Compare(k.s, o.s); c != 0 {
		return c
	}
	switch {
	case k.u < o.u:
		return -1
	case k.u > o.u:
		return 1
	}
	return 0
}

// smallMap is the entry count up to which duplicates are found by
// comparing all pairs; larger maps are sorted.
const smallMap = 16

// dedupMap sets to -1 every entry of ents whose key occurs again later.
func (d *Decoder) dedupMap(e *msgPlan, ents []int32) {
	if len(ents) <= smallMap {
		for i := range ents {
			ki := d.key(e, ents[i])
			for j := i + 1; j < len(ents); j++ {
				if ki.compare(d.key(e, ents[j])) == 0 {
					ents[i] = -1
					break
				}
			}
		}
		return
	}
	d.sorter.d, d.sorter.e = d, e
	d.sorter.pos = d.sorter.pos[:0]
	for i := range ents {
		d.sorter.pos = append(d.sorter.pos, int32(i))
	}
	d.sorter.ents = ents
	sort.Sort(&d.sorter)
	p := d.sorter.pos
	for i := 0; i+1 < len(p); i++ {
		if d.key(e, ents[p[i]]).compare(d.key(e, ents[p[i+1]])) == 0 {
			ents[p[i]] = -1 // p is sorted by key, then position: p[i+1] is later
		}
	}
	d.sorter.d, d.sorter.e, d.sorter.ents = nil, nil, nil
}

// entrySorter orders entry positions by key, then position. It lives in
// the Decoder so that sort.Sort does not allocate.
type entrySorter struct {
	d    *Decoder
	e    *msgPlan
	ents []int32
	pos  []int32
}

func (s *entrySorter) Len() int      { return len(s.pos) }
func (s *entrySorter) Swap(i, j int) { s.pos[i], s.pos[j] = s.pos[j], s.pos[i] }
func (s *entrySorter) Less(i, j int) bool {
	c := s.d.key(s.e, s.ents[s.pos[i]]).compare(s.d.key(s.e, s.ents[s.pos[j]]))
	if c != 0 {
		return c < 0
	}
	return s.pos[i] < s.pos[j]
}
