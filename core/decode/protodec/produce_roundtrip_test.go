package protodec_test

// The producer's Protobuf encoder (core/produce) against protobuf-go:
// random messages are marshalled by protobuf-go, decoded into Arrow by
// this package, written back by the encoder and parsed by protobuf-go
// again; the message must come back equal. Both directions of kafkars are
// thereby checked against the reference runtime, kind by kind.

import (
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/kafkars/kafkars/core/decode/protodec"
	"github.com/kafkars/kafkars/core/produce"
)

func TestProducerRoundTrip(t *testing.T) {
	for _, tc := range []struct{ src, msg string }{{protodec.AllProto, "t.v1.All"}, {protodec.Proto2Proto, "t.v2.P2"}} {
		t.Run(tc.msg, func(t *testing.T) {
			raw, _ := protodec.Compile(t, map[string]string{"test.proto": tc.src}, "test.proto")
			d, err := protodec.New(protodec.Options{Descriptors: raw, Message: tc.msg})
			if err != nil {
				t.Fatal(err)
			}
			md, _, err := protodec.MessageFromDescriptors(raw, tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			enc, err := produce.NewProtoEncoder(d.Type(), md)
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(3, 4))
			const n = 500
			msgs := make([]protoreflect.Message, n)
			b := array.NewStructBuilder(memory.DefaultAllocator, d.Type())
			defer b.Release()
			for i := range msgs {
				m := dynamicpb.NewMessage(md)
				protodec.Fill(r, m, 0)
				msgs[i] = m
				wire, err := proto.MarshalOptions{AllowPartial: true}.Marshal(m)
				if err != nil {
					t.Fatal(err)
				}
				if err := d.Append(b, wire); err != nil {
					t.Fatalf("message %d: decode: %v", i, err)
				}
			}
			col := b.NewArray()
			defer col.Release()
			// whole, then a slice (struct children are read at the
			// parent's offset)
			for _, cut := range []struct{ from, to int }{{0, n}, {137, 301}} {
				part := array.NewSlice(col, int64(cut.from), int64(cut.to))
				var buf []byte
				for i := 0; i < part.Len(); i++ {
					buf, err = enc.Append(buf[:0], part, i)
					if err != nil {
						t.Fatalf("message %d: encode: %v", cut.from+i, err)
					}
					back := dynamicpb.NewMessage(md)
					if err := (proto.UnmarshalOptions{AllowPartial: true}).Unmarshal(buf, back); err != nil {
						t.Fatalf("message %d: protobuf-go cannot parse what we wrote: %v", cut.from+i, err)
					}
					if !proto.Equal(msgs[cut.from+i].Interface(), back) {
						t.Fatalf("message %d differs after the round trip:\n  in: %v\n out: %v", cut.from+i, msgs[cut.from+i], back)
					}
				}
				part.Release()
			}
		})
	}
}
