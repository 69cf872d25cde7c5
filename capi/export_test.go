package main

import (
	"errors"
	"io"
	"strings"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/cdata"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// exportCases builds batches of every layout the poll path can hand out
// (and one it hands to cdata), from mem so that leaks show.
func exportCases(mem memory.Allocator) map[string]arrow.RecordBatch {
	build := func(fields []arrow.Field, fill func(b *array.RecordBuilder)) arrow.RecordBatch {
		b := array.NewRecordBuilder(mem, arrow.NewSchema(fields, nil))
		defer b.Release()
		fill(b)
		return b.NewRecordBatch()
	}
	long := strings.Repeat("x", 40) // past a view's 12 inline bytes
	cases := map[string]arrow.RecordBatch{}
	cases["primitives with nulls"] = build([]arrow.Field{
		{Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Float64},
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}},
	}, func(b *array.RecordBuilder) {
		b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 0, 3}, []bool{true, false, true})
		b.Field(1).(*array.Float64Builder).AppendValues([]float64{1.5, 2.5, 3.5}, nil)
		b.Field(2).(*array.BooleanBuilder).AppendValues([]bool{true, false, true}, []bool{true, true, false})
		b.Field(3).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{1, 2, 3}, nil)
	})
	cases["binary, empty and null values"] = build([]arrow.Field{
		{Name: "k", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String},
	}, func(b *array.RecordBuilder) {
		b.Field(0).(*array.BinaryBuilder).AppendValues([][]byte{nil, {}, nil}, []bool{false, true, false})
		b.Field(1).(*array.StringBuilder).AppendValues([]string{"", "", ""}, nil)
	})
	cases["views with variadic buffers"] = build([]arrow.Field{
		{Name: "v", Type: arrow.BinaryTypes.BinaryView, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.StringView},
	}, func(b *array.RecordBuilder) {
		vb := b.Field(0).(*array.BinaryViewBuilder)
		vb.AppendValues([][]byte{[]byte("short"), []byte(long), nil, []byte(long + "y")}, []bool{true, true, false, true})
		b.Field(1).(*array.StringViewBuilder).AppendValues([]string{long, "a", long, ""}, nil)
	})
	headers := arrow.ListOf(arrow.StructOf(
		arrow.Field{Name: "key", Type: arrow.BinaryTypes.String},
		arrow.Field{Name: "value", Type: arrow.BinaryTypes.Binary, Nullable: true}))
	cases["nested: list of struct, struct, map, null type"] = build([]arrow.Field{
		{Name: "headers", Type: headers, Nullable: true},
		{Name: "st", Type: arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true}), Nullable: true},
		{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64)},
		{Name: "n", Type: arrow.Null, Nullable: true},
		{Name: "fsb", Type: &arrow.FixedSizeBinaryType{ByteWidth: 2}},
	}, func(b *array.RecordBuilder) {
		lb := b.Field(0).(*array.ListBuilder)
		sb := lb.ValueBuilder().(*array.StructBuilder)
		for i := 0; i < 3; i++ {
			if i == 1 {
				lb.AppendNull()
				continue
			}
			lb.Append(true)
			sb.Append(true)
			sb.FieldBuilder(0).(*array.StringBuilder).Append("h")
			sb.FieldBuilder(1).(*array.BinaryBuilder).Append([]byte(long))
		}
		st := b.Field(1).(*array.StructBuilder)
		st.Append(true)
		st.FieldBuilder(0).(*array.Int32Builder).Append(7)
		st.AppendNull()
		st.Append(true)
		st.FieldBuilder(0).(*array.Int32Builder).AppendNull()
		mb := b.Field(2).(*array.MapBuilder)
		for i := 0; i < 3; i++ {
			mb.Append(true)
			mb.KeyBuilder().(*array.StringBuilder).Append("k")
			mb.ItemBuilder().(*array.Int64Builder).Append(int64(i))
		}
		b.Field(3).(*array.NullBuilder).AppendNulls(3)
		b.Field(4).(*array.FixedSizeBinaryBuilder).AppendValues([][]byte{[]byte("ab"), []byte("cd"), []byte("ef")}, nil)
	})
	cases["dictionary (through cdata)"] = build([]arrow.Field{
		{Name: "d", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}},
	}, func(b *array.RecordBuilder) {
		db := b.Field(0).(*array.BinaryDictionaryBuilder)
		for _, s := range []string{"a", "b", "a"} {
			_ = db.AppendString(s)
		}
	})
	empty := build([]arrow.Field{{Name: "i", Type: arrow.PrimitiveTypes.Int64}}, func(*array.RecordBuilder) {})
	cases["no rows"] = empty
	return cases
}

// only returns cases[name] and releases the others.
func only(cases map[string]arrow.RecordBatch, name string) arrow.RecordBatch {
	for k, r := range cases {
		if k != name {
			r.Release()
		}
	}
	return cases[name]
}

func TestExportRoundTrip(t *testing.T) {
	names := exportCases(memory.DefaultAllocator)
	for name := range names {
		for _, sliced := range []bool{false, true} {
			t.Run(name+map[bool]string{false: "", true: " sliced"}[sliced], func(t *testing.T) {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				rec := only(exportCases(mem), name)
				if sliced && rec.NumRows() > 1 {
					s := rec.NewSlice(1, rec.NumRows())
					rec.Release()
					rec = s
				}
				var c cdata.CArrowArray
				exportRecord(rec, &c)
				got, err := cdata.ImportCRecordBatchWithSchema(&c, rec.Schema())
				if err != nil {
					t.Fatal(err)
				}
				for i, col := range got.Columns() {
					if want := rec.Column(i).NullN(); col.NullN() != want {
						t.Errorf("column %d: null count %d, want %d", i, col.NullN(), want)
					}
				}
				if !array.RecordEqual(rec, got) {
					t.Fatalf("round trip differs:\nexported %v\nimported %v", rec, got)
				}
				rows := rec.NumRows()
				rec.Release()
				if rows > 0 && mem.CurrentAlloc() == 0 {
					t.Fatal("the buffers were freed while the export still pointed at them")
				}
				got.Release()
				mem.AssertSize(t, 0)
			})
		}
	}
}

// A consumer may move a child out and release the parent first: the moved
// child keeps the batch alive until its own release.
func TestExportMovedChild(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	rec := only(exportCases(mem), "nested: list of struct, struct, map, null type")
	var root cdata.CArrowArray
	exportRecord(rec, &root)
	rec.Release()

	r := (*abiArray)(unsafe.Pointer(&root))
	child := (*abiArray)(*(*unsafe.Pointer)(r.children))
	var moved cdata.CArrowArray
	*(*abiArray)(unsafe.Pointer(&moved)) = *child
	child.release = nil // moved: the parent no longer owns it
	cdata.ReleaseCArrowArray(&root)
	if mem.CurrentAlloc() == 0 {
		t.Fatal("releasing the parent freed the moved child's buffers")
	}
	got, err := cdata.ImportCArrayWithType(&moved, rec.Schema().Field(0).Type)
	if err != nil {
		t.Fatal(err)
	}
	if got.Len() != 3 || got.NullN() != 1 {
		t.Fatalf("moved child: %v", got)
	}
	got.Release()
	mem.AssertSize(t, 0)
}

// abiArray is struct ArrowArray as the C Data Interface lays it out (cdata's
// fields are not exported).
type abiArray struct {
	length, nullCount, offset, nBuffers, nChildren  int64
	buffers, children, dictionary, release, private unsafe.Pointer
}

// failingReader yields its batches, then fails.
type failingReader struct {
	array.RecordReader
	err error
}

func (f *failingReader) Err() error { return f.err }

func TestExportStream(t *testing.T) {
	for _, fail := range []bool{false, true} {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		rec := only(exportCases(mem), "nested: list of struct, struct, map, null type")
		parts := []arrow.RecordBatch{rec.NewSlice(0, 1), rec.NewSlice(1, 3)}
		rr, err := array.NewRecordReader(rec.Schema(), parts)
		if err != nil {
			t.Fatal(err)
		}
		var src array.RecordReader = rr
		if fail {
			src = &failingReader{rr, errors.New("broker gone: 127.0.0.1:9092")}
		}
		var s cdata.CArrowArrayStream
		if err := exportStream(src, &s); err != nil {
			t.Fatal(err)
		}
		rr.Release()
		imp, err := cdata.ImportCRecordReader(&s, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got []arrow.RecordBatch
		var readErr error
		for {
			r, err := imp.Read()
			if err != nil {
				readErr = err
				break
			}
			r.Retain()
			got = append(got, r)
		}
		switch {
		case !fail && !errors.Is(readErr, io.EOF):
			t.Fatalf("stream failed: %v", readErr)
		case fail && (readErr == nil || !strings.Contains(readErr.Error(), "broker gone: 127.0.0.1:9092")):
			t.Fatalf("the reader's error did not come through: %v", readErr)
		}
		if len(got) != 2 {
			t.Fatalf("%d batches, want 2", len(got))
		}
		for i, g := range got {
			if !array.RecordEqual(parts[i], g) {
				t.Fatalf("batch %d differs:\n%v\n%v", i, parts[i], g)
			}
			g.Release()
			parts[i].Release()
		}
		imp.(interface{ Release() }).Release()
		rec.Release()
		mem.AssertSize(t, 0)
	}
}
