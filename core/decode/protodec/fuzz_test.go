package protodec

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/kafkars/kafkars/core/decode"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"
)

// FuzzAppend: random bytes never panic; a failed Append wraps
// ErrMalformed and leaves every builder at its length; a successful one
// appends exactly one row, equal to what dynamicpb and the reference walk
// make of the same bytes.
func FuzzAppend(f *testing.F) {
	d, md := newDecoder(f, allProto, "t.v1.All")
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 30; i++ {
		m := dynamicpb.NewMessage(md)
		fill(r, m, 0)
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, seed := range [][]byte{
		nil,
		cat(varintField(1, 1), strField(14, "s"), bytesField(18, varintField(1, 2)), packedVarints(19, 1, 2)),
		cat(mapEntry(22, strField(1, "k"), varintField(2, 1)), mapEntry(22, strField(1, "k"), varintField(2, 2))),
		cat(bytesField(27, varintField(1, 1)), bytesField(28, varintField(2, 5)), bytesField(29, nil)),
		cat(strField(24, "s"), bytesField(25, varintField(1, 1)), varintField(26, 3)),
		groupField(1000, groupField(1, varintField(2, 3))),
		deepGroups(120),
		{0x80}, {0x08, 0x80}, {0x0c},
	} {
		f.Add(seed)
	}
	mem := memory.NewGoAllocator()
	f.Fuzz(func(t *testing.T, data []byte) {
		b := array.NewBuilder(mem, d.Type()).(*array.StructBuilder)
		defer b.Release()
		if err := d.Append(b, nil); err != nil { // a row before, so lengths are not all 0
			t.Fatal(err)
		}
		before := lengths(b)
		err := d.Append(b, data)
		if err != nil {
			if !errors.Is(err, decode.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			if after := lengths(b); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Fatalf("failed Append changed lengths from %v to %v: %v", before, after, err)
			}
			return
		}
		arr := b.NewStructArray()
		defer arr.Release()
		if err := arr.ValidateFull(); err != nil {
			t.Fatalf("invalid array: %v", err)
		}
		if arr.Len() != 2 {
			t.Fatalf("%d rows, want 2", arr.Len())
		}
		got := js(normalize(jsonValue(t, arr, 1)))
		m := dynamicpb.NewMessage(md)
		if err := proto.Unmarshal(data, m); err != nil {
			t.Fatalf("decoded, but dynamicpb fails: %v", err)
		}
		want := js(normalize(reflectRows(t, md, d.Type(), data)[0]))
		if got != want {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
	})
}

// FuzzConfluent: random framed records (schema ids, message-index paths)
// against a registry: errors are malformed and leave the builder as it
// was.
func FuzzConfluent(f *testing.F) {
	reg := shopRegistry()
	d, err := New(Options{Registry: reg, Subject: "orders-value", Message: "shop.v1.Order", Framing: Confluent})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range [][]byte{
		framed(11, []int{1}, orderMsg), framed(10, []int{0}, orderMsg), framed(11, []int{1, 0}, nil),
		framed(20, []int{0}, nil), framed(21, []int{0}, nil), framed(99, []int{0}, nil), {0}, {0, 0, 0, 0, 11, 0x7f},
	} {
		f.Add(seed)
	}
	mem := memory.NewGoAllocator()
	f.Fuzz(func(t *testing.T, data []byte) {
		b := array.NewBuilder(mem, d.Type()).(*array.StructBuilder)
		defer b.Release()
		before := lengths(b)
		if err := d.Append(b, data); err != nil {
			if !errors.Is(err, decode.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			if after := lengths(b); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Fatalf("failed Append changed lengths from %v to %v", before, after)
			}
			return
		}
		arr := b.NewStructArray()
		defer arr.Release()
		if err := arr.ValidateFull(); err != nil || arr.Len() != 1 {
			t.Fatalf("rows %d, %v", arr.Len(), err)
		}
	})
}
