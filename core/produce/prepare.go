package produce

// prepare.go: one record batch made ready for the librdkafka loop. Raw
// bytes columns, int64/timestamp[ms] timestamps and int32 partitions are
// passed as the Arrow arrays they are (their buffers are read in place);
// everything else is converted into scratch buffers that the Preparer
// reuses from batch to batch.

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Bytes is a key or value column ready for the loop: either Arr, a
// binary-like array read in place, or Offsets/Data/Valid, encoded here
// (offsets has rows+1 entries; Valid nil means no nulls).
type Bytes struct {
	Arr     arrow.Array
	Offsets []int64
	Data    []byte
	Valid   []byte
}

// Batch is one record batch ready for the loop.
type Batch struct {
	Rows       int
	Key, Value *Bytes // nil: none

	// Timestamps in epoch ms: TSArr read in place (int64 or
	// timestamp[ms]), or TS/TSValid converted; both nil: none.
	TSArr   arrow.Array
	TS      []int64
	TSValid []byte

	// Partitions: PartArr read in place (int32), or Part/PartValid
	// converted; both nil: none.
	PartArr   *array.Int32
	Part      []int32
	PartValid []byte

	// Headers: a list, large_list or map array; nil: none.
	Headers arrow.Array
}

// RowError is a row that cannot be sent, with the reason.
type RowError struct {
	Row    int64 // index in the whole input
	Column string
	Msg    string
}

func (e *RowError) Error() string {
	return fmt.Sprintf("row %d, column %q: %s", e.Row, e.Column, e.Msg)
}

// Preparer turns record batches of the plan's schema into Batches. It
// reuses its buffers: a Batch is valid until the next Prepare.
type Preparer struct {
	plan       *Plan
	key, value Bytes
	ts         []int64
	tsValid    []byte
	part       []int32
	partValid  []byte
}

// NewPreparer returns a Preparer for the plan.
func NewPreparer(p *Plan) *Preparer { return &Preparer{plan: p} }

// Prepare makes rec ready; baseRow is the index of its first row in the
// whole input (for errors).
func (pr *Preparer) Prepare(rec arrow.RecordBatch, baseRow int64) (*Batch, error) {
	p := pr.plan
	n := int(rec.NumRows())
	b := &Batch{Rows: n}
	var err error
	if p.key.idx >= 0 {
		if b.Key, err = pr.bytes(&pr.key, rec.Column(p.key.idx), p.keyMode, p.keyEnc, baseRow); err != nil {
			return nil, err
		}
	}
	if p.value.idx >= 0 {
		if b.Value, err = pr.bytes(&pr.value, rec.Column(p.value.idx), p.valueMode, p.valueEnc, baseRow); err != nil {
			return nil, err
		}
	}
	if p.ts.idx >= 0 {
		col := rec.Column(p.ts.idx)
		if p.tsPlainInt || p.tsUnit == arrow.Millisecond {
			b.TSArr = col
		} else {
			if b.TS, b.TSValid, err = pr.convertTS(col, baseRow); err != nil {
				return nil, err
			}
		}
	}
	if p.part.idx >= 0 {
		col := rec.Column(p.part.idx)
		if a, ok := col.(*array.Int32); ok {
			b.PartArr = a
		} else if b.Part, b.PartValid, err = pr.convertPart(col, baseRow); err != nil {
			return nil, err
		}
	}
	if p.hdr.idx >= 0 {
		b.Headers = rec.Column(p.hdr.idx)
	}
	return b, nil
}

// validity copies arr's validity into dst (offset 0), nil if no nulls.
func validity(dst []byte, arr arrow.Array) []byte {
	if arr.NullN() == 0 {
		return nil
	}
	n := arr.Len()
	nb := (n + 7) / 8
	if cap(dst) < nb {
		dst = make([]byte, nb)
	}
	dst = dst[:nb]
	clear(dst)
	for i := 0; i < n; i++ {
		if arr.IsValid(i) {
			dst[i>>3] |= 1 << (i & 7)
		}
	}
	return dst
}

func (pr *Preparer) bytes(dst *Bytes, col arrow.Array, mode bytesMode, enc *Target, baseRow int64) (*Bytes, error) {
	switch mode {
	case modeTyped:
		dst.reset(col.Len())
		for i := 0; i < col.Len(); i++ {
			if col.IsValid(i) {
				var err error
				if dst.Data, err = enc.appendRow(dst.Data, col, i); err != nil {
					return nil, &RowError{Row: baseRow + int64(i), Column: enc.Column, Msg: err.Error()}
				}
			}
			dst.Offsets = append(dst.Offsets, int64(len(dst.Data)))
		}
		dst.Valid = validity(dst.Valid, col)
		if dst.Valid == nil && col.DataType().ID() == arrow.NULL {
			dst.Valid = make([]byte, (col.Len()+7)/8) // all null
		}
		return dst, nil
	case modeRaw:
		return &Bytes{Arr: col}, nil
	case modeFixed:
		a := col.(*array.FixedSizeBinary)
		dst.reset(a.Len())
		for i := 0; i < a.Len(); i++ {
			if a.IsValid(i) {
				dst.Data = append(dst.Data, a.Value(i)...)
			}
			dst.Offsets = append(dst.Offsets, int64(len(dst.Data)))
		}
		dst.Valid = validity(dst.Valid, a)
		return dst, nil
	case modeJSON:
		dst.reset(col.Len())
		for i := 0; i < col.Len(); i++ {
			if col.IsValid(i) {
				dst.Data = AppendJSON(dst.Data, col, i)
			}
			dst.Offsets = append(dst.Offsets, int64(len(dst.Data)))
		}
		dst.Valid = validity(dst.Valid, col)
		if dst.Valid == nil && col.DataType().ID() == arrow.NULL {
			dst.Valid = make([]byte, (col.Len()+7)/8) // all null
		}
		return dst, nil
	}
	return nil, nil
}

func (b *Bytes) reset(n int) {
	if cap(b.Offsets) < n+1 {
		b.Offsets = make([]int64, 0, n+1)
	}
	b.Offsets = append(b.Offsets[:0], 0)
	b.Data = b.Data[:0]
	if b.Data == nil {
		b.Data = make([]byte, 0, 64*n)
	}
}

func (pr *Preparer) convertTS(col arrow.Array, baseRow int64) ([]int64, []byte, error) {
	a := col.(*array.Timestamp)
	n := a.Len()
	if cap(pr.ts) < n {
		pr.ts = make([]int64, n)
	}
	ts := pr.ts[:n]
	vals := a.TimestampValues()
	for i, v := range vals {
		if a.IsNull(i) {
			ts[i] = 0
			continue
		}
		x := int64(v)
		switch p := pr.plan.tsUnit; p {
		case arrow.Second:
			if x > math.MaxInt64/1000 || x < math.MinInt64/1000 {
				return nil, nil, &RowError{Row: baseRow + int64(i), Column: pr.plan.ts.name, Msg: fmt.Sprintf("timestamp %d s is out of range", x)}
			}
			x *= 1000
		case arrow.Microsecond:
			x = floorDiv(x, 1000)
		case arrow.Nanosecond:
			x = floorDiv(x, 1_000_000)
		}
		ts[i] = x
	}
	pr.tsValid = validity(pr.tsValid, a)
	return ts, pr.tsValid, nil
}

func floorDiv(x, d int64) int64 {
	q := x / d
	if x%d != 0 && x < 0 {
		q--
	}
	return q
}

func (pr *Preparer) convertPart(col arrow.Array, baseRow int64) ([]int32, []byte, error) {
	n := col.Len()
	if cap(pr.part) < n {
		pr.part = make([]int32, n)
	}
	out := pr.part[:n]
	for i := 0; i < n; i++ {
		if col.IsNull(i) {
			out[i] = 0
			continue
		}
		v, u := intValue(col, i) // u: a uint64 above the int64 range
		if u != 0 || v > math.MaxInt32 || v < math.MinInt32 {
			return nil, nil, &RowError{Row: baseRow + int64(i), Column: pr.plan.part.name, Msg: fmt.Sprintf("partition %s is out of range", col.ValueStr(i))}
		}
		out[i] = int32(v)
	}
	pr.partValid = validity(pr.partValid, col)
	return out, pr.partValid, nil
}
