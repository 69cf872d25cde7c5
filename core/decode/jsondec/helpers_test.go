package jsondec

import (
	"errors"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/kafkars/kafkars/core/decode"
)

// toGo converts row i of a to plain Go values for comparisons: structs
// become map[string]any, lists []any, maps []kv, integers int64 or
// uint64, timestamps and dates their integer value, decimals their exact
// text with all the scale's digits.
func toGo(a arrow.Array, i int) any {
	if a.IsNull(i) {
		return nil
	}
	switch a := a.(type) {
	case *array.Boolean:
		return a.Value(i)
	case *array.Int8:
		return int64(a.Value(i))
	case *array.Int16:
		return int64(a.Value(i))
	case *array.Int32:
		return int64(a.Value(i))
	case *array.Int64:
		return a.Value(i)
	case *array.Uint8:
		return uint64(a.Value(i))
	case *array.Uint16:
		return uint64(a.Value(i))
	case *array.Uint32:
		return uint64(a.Value(i))
	case *array.Uint64:
		return a.Value(i)
	case *array.Float32:
		return a.Value(i)
	case *array.Float64:
		return a.Value(i)
	case *array.String:
		return a.Value(i)
	case *array.LargeString:
		return a.Value(i)
	case *array.Binary:
		return slices.Clone(a.Value(i))
	case *array.LargeBinary:
		return slices.Clone(a.Value(i))
	case *array.FixedSizeBinary:
		return slices.Clone(a.Value(i))
	case *array.Timestamp:
		return int64(a.Value(i))
	case *array.Date32:
		return int64(a.Value(i))
	case *array.Date64:
		return int64(a.Value(i))
	case *array.Decimal32:
		return a.Value(i).ToString(a.DataType().(arrow.DecimalType).GetScale())
	case *array.Decimal64:
		return a.Value(i).ToString(a.DataType().(arrow.DecimalType).GetScale())
	case *array.Decimal128:
		return a.Value(i).ToString(a.DataType().(arrow.DecimalType).GetScale())
	case *array.Decimal256:
		return a.Value(i).ToString(a.DataType().(arrow.DecimalType).GetScale())
	case *array.Map:
		start, end := a.ValueOffsets(i)
		out := []kv{}
		for j := start; j < end; j++ {
			out = append(out, kv{toGo(a.Keys(), int(j)).(string), toGo(a.Items(), int(j))})
		}
		return out
	case array.ListLike:
		start, end := a.ValueOffsets(i)
		out := []any{}
		for j := start; j < end; j++ {
			out = append(out, toGo(a.ListValues(), int(j)))
		}
		return out
	case *array.Struct:
		st := a.DataType().(*arrow.StructType)
		out := map[string]any{}
		for f := range st.NumFields() {
			out[st.Field(f).Name] = toGo(a.Field(f), i)
		}
		return out
	}
	panic("toGo: unhandled " + a.DataType().String())
}

type kv struct {
	K string
	V any
}

// lens lists the length of every builder under b (and the data length of
// binary builders), to check that a failed Append changed nothing.
func lens(b array.Builder) []int {
	out := []int{b.Len()}
	switch b := b.(type) {
	case *array.StructBuilder:
		for i := range b.NumField() {
			out = append(out, lens(b.FieldBuilder(i))...)
		}
	case *array.ListBuilder:
		out = append(out, lens(b.ValueBuilder())...)
	case *array.LargeListBuilder:
		out = append(out, lens(b.ValueBuilder())...)
	case *array.FixedSizeListBuilder:
		out = append(out, lens(b.ValueBuilder())...)
	case *array.MapBuilder:
		out = append(out, lens(b.KeyBuilder())...)
		out = append(out, lens(b.ItemBuilder())...)
	case *array.StringBuilder:
		out = append(out, b.DataLen())
	case *array.LargeStringBuilder:
		out = append(out, b.DataLen())
	case *array.BinaryBuilder:
		out = append(out, b.DataLen())
	}
	return out
}

// appendChecked appends rec and checks the contract: on error, b is as it
// was and the error is malformed; on success, b has one more row.
func appendChecked(t testing.TB, dec *Decoder, b *array.StructBuilder, rec []byte) error {
	t.Helper()
	before := lens(b)
	err := dec.Append(b, rec)
	after := lens(b)
	if err != nil {
		if !errors.Is(err, decode.ErrMalformed) {
			t.Fatalf("Append(%q): error %v does not wrap ErrMalformed", rec, err)
		}
		if !slices.Equal(before, after) {
			t.Fatalf("Append(%q) failed (%v) but changed the builders: %v -> %v", rec, err, before, after)
		}
		return err
	}
	if after[0] != before[0]+1 {
		t.Fatalf("Append(%q) succeeded but the row count went %d -> %d", rec, before[0], after[0])
	}
	return nil
}

// finish builds the array of b, checks it with ValidateFull and returns
// its rows as Go values.
func finish(t testing.TB, b *array.StructBuilder) []any {
	t.Helper()
	arr := b.NewArray()
	defer arr.Release()
	if err := array.ValidateFull(arr); err != nil {
		t.Fatalf("ValidateFull: %v", err)
	}
	rows := make([]any, arr.Len())
	for i := range rows {
		rows[i] = toGo(arr, i)
	}
	return rows
}

func newBuilder(t arrow.DataType) *array.StructBuilder {
	return array.NewBuilder(memory.NewGoAllocator(), t).(*array.StructBuilder)
}
