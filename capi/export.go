package main

// The library's own exporter of record batches over the Arrow C Data
// Interface, used for every batch the library hands out (polls, streams,
// state and statistics). arrow-go's cdata.ExportArrowRecordBatch
// builds a struct type, one cgo.Handle and several C allocations per array
// of the tree, and its release calls back into Go once per array: at one
// small batch per poll (linger_ms=0) that was a fifth of a poll's cost.
// Here one export is one C allocation and one handle, and releasing it is
// one call into Go. The layout and the ownership rules are in export.h.
//
// Offsets follow the C interface as Arrow C++ (pyarrow) reads them: a
// sliced struct exports its own offset and its children unsliced. (cdata
// exports the children sliced as well, and pyarrow then applies the offset
// twice.) Types this exporter does not lay out (dictionaries, unions,
// run-end encoded, list views, extensions), which the decoders never
// produce, go through cdata instead.

/*
#include <errno.h>
#include <stdlib.h>
#include "export.h"
*/
import "C"

import (
	"fmt"
	"runtime/cgo"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/cdata"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// exportRecord exports rec into dst (zero-initialised, owned by the caller
// afterwards). It takes its own reference to rec.
func exportRecord(rec arrow.RecordBatch, dst *cdata.CArrowArray) {
	out := (*C.struct_ArrowArray)(unsafe.Pointer(dst))
	var p exportPlan
	p.arrays, p.ptrs = 1, 1+int(rec.NumCols()) // the root: its validity slot and its children
	for _, col := range rec.Columns() {
		if !p.add(col.Data()) {
			cdata.ExportArrowRecordBatch(rec, dst, nil)
			return
		}
	}
	const arraySize = C.sizeof_struct_ArrowArray
	size := C.sizeof_kk_export + (p.arrays-1)*arraySize + p.ptrs*8
	block := C.calloc(1, C.size_t(size))
	if block == nil {
		panic("kafkars: out of C memory exporting a batch")
	}
	hdr := (*C.kk_export)(block)
	rec.Retain()
	hdr.refs = C.int64_t(p.arrays)
	hdr.handle = C.uintptr_t(cgo.NewHandle(rec))
	w := exportWriter{
		hdr:    block,
		arrays: unsafe.Add(block, C.sizeof_kk_export),
		ptrs:   unsafe.Add(block, C.sizeof_kk_export+(p.arrays-1)*arraySize),
	}
	out.length = C.int64_t(rec.NumRows())
	out.null_count = 0
	out.offset = 0
	out.n_buffers = 1
	out.buffers = (*unsafe.Pointer)(w.take(1)) // a struct's validity: none
	out.n_children = C.int64_t(rec.NumCols())
	children := w.take(int(rec.NumCols()))
	for i, col := range rec.Columns() {
		c := w.array()
		w.fill(c, col.Data())
		*(**C.struct_ArrowArray)(unsafe.Add(children, i*8)) = c
	}
	out.children = (**C.struct_ArrowArray)(children)
	out.dictionary = nil
	out.private_data = block
	C.kk_set_release(out)
}

// exportPlan counts what one export holds: arrays (the root included) and
// pointer-sized slots (buffer pointers, child pointers, variadic sizes).
type exportPlan struct{ arrays, ptrs int }

// add counts d and its children; false if a type needs cdata's exporter.
func (p *exportPlan) add(d arrow.ArrayData) bool {
	switch d.DataType().ID() {
	case arrow.DICTIONARY, arrow.SPARSE_UNION, arrow.DENSE_UNION, arrow.RUN_END_ENCODED,
		arrow.LIST_VIEW, arrow.LARGE_LIST_VIEW, arrow.EXTENSION:
		return false
	}
	p.arrays++
	p.ptrs += len(exportedBuffers(d)) + len(d.Children())
	if hasVariadicSizes(d) {
		p.ptrs += 1 + len(d.Buffers()) - 2
	}
	for _, c := range d.Children() {
		if !p.add(c) {
			return false
		}
	}
	return true
}

// exportedBuffers are the buffers the C interface lists for d: arrow-go
// keeps a validity slot even for the null type, which has none.
func exportedBuffers(d arrow.ArrayData) []*memory.Buffer {
	if d.DataType().ID() == arrow.NULL {
		return nil
	}
	return d.Buffers()
}

// nullCount is d's null count, counted from its validity bitmap when
// arrow-go has not yet (-1 is allowed by the C interface, but not every
// consumer counts for itself).
func nullCount(d arrow.ArrayData) int {
	if n := d.NullN(); n >= 0 {
		return n
	}
	if d.DataType().ID() == arrow.NULL {
		return d.Len()
	}
	bufs := d.Buffers()
	if len(bufs) == 0 || bufs[0] == nil || bufs[0].Len() == 0 {
		return 0
	}
	return d.Len() - bitutil.CountSetBits(bufs[0].Bytes(), d.Offset(), d.Len())
}

// hasVariadicSizes: view layouts end their buffer list with the sizes of
// their variadic data buffers.
func hasVariadicSizes(d arrow.ArrayData) bool {
	id := d.DataType().ID()
	return id == arrow.BINARY_VIEW || id == arrow.STRING_VIEW
}

// exportWriter hands out the block's child arrays and pointer slots in order.
type exportWriter struct {
	hdr, arrays, ptrs unsafe.Pointer
}

func (w *exportWriter) array() *C.struct_ArrowArray {
	a := (*C.struct_ArrowArray)(w.arrays)
	w.arrays = unsafe.Add(w.arrays, C.sizeof_struct_ArrowArray)
	return a
}

func (w *exportWriter) take(n int) unsafe.Pointer {
	p := w.ptrs
	w.ptrs = unsafe.Add(w.ptrs, n*8)
	return p
}

// fill lays out d into a, its children into the block.
func (w *exportWriter) fill(a *C.struct_ArrowArray, d arrow.ArrayData) {
	bufs := exportedBuffers(d)
	n := len(bufs)
	views := hasVariadicSizes(d)
	if views {
		n++
	}
	a.length = C.int64_t(d.Len())
	a.null_count = C.int64_t(nullCount(d))
	a.offset = C.int64_t(d.Offset())
	a.n_buffers = C.int64_t(n)
	a.buffers = nil
	if n > 0 {
		slots := w.take(n)
		for i, b := range bufs {
			var ptr unsafe.Pointer
			switch {
			case b != nil && b.Len() > 0:
				ptr = unsafe.Pointer(&b.Bytes()[0])
			case i > 0:
				// An empty data buffer still gets an address: some
				// importers reject NULL there.
				ptr = unsafe.Pointer(&C.kk_zero_region[0])
			}
			*(*unsafe.Pointer)(unsafe.Add(slots, i*8)) = ptr
		}
		if views {
			variadic := bufs[2:]
			sizes := w.take(len(variadic))
			for i, b := range variadic {
				*(*int64)(unsafe.Add(sizes, i*8)) = int64(b.Len())
			}
			*(*unsafe.Pointer)(unsafe.Add(slots, (n-1)*8)) = sizes
		}
		a.buffers = (*unsafe.Pointer)(slots)
	}
	kids := d.Children()
	a.n_children = C.int64_t(len(kids))
	a.children = nil
	if len(kids) > 0 {
		slots := w.take(len(kids))
		for i, k := range kids {
			c := w.array()
			w.fill(c, k)
			*(**C.struct_ArrowArray)(unsafe.Add(slots, i*8)) = c
		}
		a.children = (**C.struct_ArrowArray)(slots)
	}
	a.dictionary = nil
	a.private_data = w.hdr
	C.kk_set_release(a)
}

// kafkarsReleaseExport is called once per export, by the release of its
// last array: it drops the export's reference to the batch.
//
//export kafkarsReleaseExport
func kafkarsReleaseExport(h C.uintptr_t) {
	hd := cgo.Handle(h)
	hd.Value().(arrow.RecordBatch).Release()
	hd.Delete()
}

// exportStream exports rr as an ArrowArrayStream into out (zero-initialised,
// owned by the caller afterwards); it takes its own reference to rr.
// arrow-go's cdata.ExportRecordReader would do, but its batches go out
// through cdata's exporter (see above); this stream's go through ours.
func exportStream(rr array.RecordReader, out *cdata.CArrowArrayStream) error {
	rr.Retain()
	h := cgo.NewHandle(rr)
	if C.kk_stream_init((*C.struct_ArrowArrayStream)(unsafe.Pointer(out)), C.uintptr_t(h)) != 0 {
		h.Delete()
		rr.Release()
		return fmt.Errorf("out of C memory exporting a stream")
	}
	return nil
}

func streamReader(s *C.struct_ArrowArrayStream) array.RecordReader {
	return cgo.Handle((*C.kk_stream)(s.private_data).handle).Value().(array.RecordReader)
}

// streamFailed records err as the stream's last error and returns EIO.
func streamFailed(s *C.struct_ArrowArrayStream, err error) C.int {
	p := (*C.kk_stream)(s.private_data)
	C.free(unsafe.Pointer(p.last_error))
	p.last_error = C.CString(err.Error())
	return C.EIO
}

// streamGuard turns a panic in a stream callback into a failure of that
// call: the callbacks run on the consumer's thread, where a panic would end
// the process.
func streamGuard(s *C.struct_ArrowArrayStream, rc *C.int) {
	if r := recover(); r != nil {
		*rc = streamFailed(s, fmt.Errorf("kafkars internal error (please report): %v", r))
	}
}

//export kafkarsStreamSchema
func kafkarsStreamSchema(s *C.struct_ArrowArrayStream, out *C.struct_ArrowSchema) (rc C.int) {
	defer streamGuard(s, &rc)
	cdata.ExportArrowSchema(streamReader(s).Schema(), (*cdata.CArrowSchema)(unsafe.Pointer(out)))
	return 0
}

//export kafkarsStreamNext
func kafkarsStreamNext(s *C.struct_ArrowArrayStream, out *C.struct_ArrowArray) (rc C.int) {
	defer streamGuard(s, &rc)
	rr := streamReader(s)
	if rr.Next() {
		exportRecord(rr.RecordBatch(), (*cdata.CArrowArray)(unsafe.Pointer(out)))
		return 0
	}
	out.release = nil // the end of the stream, or a failure
	if err := rr.Err(); err != nil {
		return streamFailed(s, err)
	}
	return 0
}

//export kafkarsStreamRelease
func kafkarsStreamRelease(h C.uintptr_t) {
	hd := cgo.Handle(h)
	hd.Value().(array.RecordReader).Release()
	hd.Delete()
}
