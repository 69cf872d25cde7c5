package core

// arrowbuild.go: turns released records into an Arrow record batch.
//
// The merger knows the exact row count and byte totals before the first
// row is written, so every buffer is allocated once at its final size on
// the C heap (cmem) and filled in place: no builder growth, no per-row
// allocation, no Go memory reachable from the exported batch. Measured: 17.5
// ns/row with reserved builders and a C allocator against 218 ns appending
// blindly; writing the buffers directly is cheaper still (see
// BenchmarkReleaseBuild).

import (
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/kafkars/kafkars/core/source"
)

type batchBuilder struct {
	mem     memory.Allocator
	schema  *arrow.Schema
	topics  [][]byte // topic name per partition index
	partNo  []int32  // Kafka partition number per partition index
	headers bool

	n, row int
	// buffers being filled
	keyValid, keyOffs, keyData *memory.Buffer
	valValid, valOffs, valData *memory.Buffer
	topOffs, topData           *memory.Buffer
	partBuf, offBuf, tsBuf     *memory.Buffer
	// typed views of the buffers
	kv, vv           []byte
	ko, vo, to       []int32
	kd, vd, td       []byte
	kPos, vPos, tPos int32
	kNulls, vNulls   int
	parts            []int32
	offs, tss        []int64
	hb               *array.ListBuilder
	hs               *array.StructBuilder
	hk               *array.StringBuilder
	hv               *array.BinaryBuilder
}

func newBatchBuilder(mem memory.Allocator, parts []PartitionInfo, headers bool) *batchBuilder {
	b := &batchBuilder{mem: mem, schema: MessageSchema(headers), headers: headers}
	for _, p := range parts {
		b.topics = append(b.topics, []byte(p.Topic))
		b.partNo = append(b.partNo, p.Partition)
	}
	return b
}

func (b *batchBuilder) alloc(n int) *memory.Buffer {
	buf := memory.NewResizableBuffer(b.mem)
	buf.Resize(n)
	return buf
}

func int32s(buf *memory.Buffer) []int32 {
	bs := buf.Bytes()
	if len(bs) == 0 {
		return nil
	}
	return unsafe.Slice((*int32)(unsafe.Pointer(&bs[0])), len(bs)/4)
}

func int64s(buf *memory.Buffer) []int64 {
	bs := buf.Bytes()
	if len(bs) == 0 {
		return nil
	}
	return unsafe.Slice((*int64)(unsafe.Pointer(&bs[0])), len(bs)/8)
}

func bitmapLen(n int) int { return (n + 7) / 8 }

// begin allocates buffers for n rows with the given payload totals.
// topicBytes is the total length of the topic column.
func (b *batchBuilder) begin(n, keyBytes, valBytes int, keyNulls, valNulls bool, hdrBytes int) {
	b.n, b.row = n, 0
	b.kPos, b.vPos, b.tPos = 0, 0, 0
	b.kNulls, b.vNulls = 0, 0
	b.keyValid, b.valValid = nil, nil
	if keyNulls {
		b.keyValid = b.alloc(bitmapLen(n))
		b.kv = b.keyValid.Bytes()
		clear(b.kv)
	}
	if valNulls {
		b.valValid = b.alloc(bitmapLen(n))
		b.vv = b.valValid.Bytes()
		clear(b.vv)
	}
	b.keyOffs, b.keyData = b.alloc(4*(n+1)), b.alloc(keyBytes)
	b.valOffs, b.valData = b.alloc(4*(n+1)), b.alloc(valBytes)
	b.ko, b.kd = int32s(b.keyOffs), b.keyData.Bytes()
	b.vo, b.vd = int32s(b.valOffs), b.valData.Bytes()
	b.ko[0], b.vo[0] = 0, 0
	b.topOffs = b.alloc(4 * (n + 1))
	b.to = int32s(b.topOffs)
	b.to[0] = 0
	b.topData = nil // sized lazily: see add
	b.td = nil
	b.partBuf, b.offBuf, b.tsBuf = b.alloc(4*n), b.alloc(8*n), b.alloc(8*n)
	b.parts, b.offs, b.tss = int32s(b.partBuf), int64s(b.offBuf), int64s(b.tsBuf)
	if b.headers {
		if b.hb == nil {
			b.hb = array.NewListBuilderWithField(b.mem, HeadersType.ElemField())
			b.hs = b.hb.ValueBuilder().(*array.StructBuilder)
			b.hk = b.hs.FieldBuilder(0).(*array.StringBuilder)
			b.hv = b.hs.FieldBuilder(1).(*array.BinaryBuilder)
		}
		b.hb.Reserve(n)
		b.hk.ReserveData(hdrBytes)
		b.hv.ReserveData(hdrBytes)
	}
}

// topicBytes must be known before rows are added; the merger computes it
// from the per-partition counts. It is set here to keep begin's signature
// about payload only.
func (b *batchBuilder) setTopicBytes(n int) {
	b.topData = b.alloc(n)
	b.td = b.topData.Bytes()
}

// add writes record r (bytes in data) of partition index pi as the next row.
func (b *batchBuilder) add(pi int32, data []byte, r *rec) {
	row := b.row
	if kl := r.kLen; kl >= 0 {
		copy(b.kd[b.kPos:], data[r.kOff:r.kOff+uint32(kl)])
		b.kPos += kl
		if b.kv != nil {
			b.kv[row>>3] |= 1 << (row & 7)
		}
	} else {
		b.kNulls++
	}
	b.ko[row+1] = b.kPos
	if vl := r.vLen; vl >= 0 {
		copy(b.vd[b.vPos:], data[r.vOff:r.vOff+uint32(vl)])
		b.vPos += vl
		if b.vv != nil {
			b.vv[row>>3] |= 1 << (row & 7)
		}
	} else {
		b.vNulls++
	}
	b.vo[row+1] = b.vPos
	t := b.topics[pi]
	copy(b.td[b.tPos:], t)
	b.tPos += int32(len(t))
	b.to[row+1] = b.tPos
	b.parts[row] = b.partNo[pi]
	b.offs[row] = r.off
	b.tss[row] = r.ts
	if b.headers {
		b.hb.Append(true)
		if hl := r.hLen; hl > 0 {
			blob := data[r.hOff : r.hOff+uint32(hl)]
			_ = source.RangeHeaders(blob, func(name, value []byte) {
				b.hs.Append(true)
				b.hk.BinaryBuilder.Append(name)
				if value == nil {
					b.hv.AppendNull()
				} else {
					b.hv.Append(value)
				}
			})
		}
	}
	b.row++
}

// finish returns the batch; the builder's buffers pass to it.
func (b *batchBuilder) finish() arrow.RecordBatch {
	n := b.n
	mk := func(dt arrow.DataType, bufs []*memory.Buffer, nulls int) arrow.Array {
		d := array.NewData(dt, n, bufs, nil, nulls, 0)
		a := array.MakeFromData(d)
		d.Release()
		return a
	}
	cols := []arrow.Array{
		mk(arrow.BinaryTypes.Binary, []*memory.Buffer{b.keyValid, b.keyOffs, b.keyData}, b.kNulls),
		mk(arrow.BinaryTypes.Binary, []*memory.Buffer{b.valValid, b.valOffs, b.valData}, b.vNulls),
		mk(arrow.BinaryTypes.String, []*memory.Buffer{nil, b.topOffs, b.topData}, 0),
		mk(arrow.PrimitiveTypes.Int32, []*memory.Buffer{nil, b.partBuf}, 0),
		mk(arrow.PrimitiveTypes.Int64, []*memory.Buffer{nil, b.offBuf}, 0),
		mk(TimestampType, []*memory.Buffer{nil, b.tsBuf}, 0),
	}
	if b.headers {
		cols = append(cols, b.hb.NewArray())
	}
	for _, buf := range []*memory.Buffer{b.keyValid, b.keyOffs, b.keyData, b.valValid, b.valOffs, b.valData,
		b.topOffs, b.topData, b.partBuf, b.offBuf, b.tsBuf} {
		if buf != nil {
			buf.Release()
		}
	}
	rec := array.NewRecordBatch(b.schema, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	b.kv, b.vv, b.kd, b.vd, b.td = nil, nil, nil, nil, nil
	b.ko, b.vo, b.to, b.parts, b.offs, b.tss = nil, nil, nil, nil, nil, nil
	return rec
}
