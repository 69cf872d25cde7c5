package protodec

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// compile compiles .proto sources (name -> text) and returns the
// serialized FileDescriptorSet of main and everything it imports, as
// protoc --include_imports writes it, and main's compiled descriptor.
func compile(t testing.TB, srcs map[string]string, main string) ([]byte, protoreflect.FileDescriptor) {
	t.Helper()
	c := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
		Accessor: protocompile.SourceAccessorFromMap(srcs),
	})}
	files, err := c.Compile(context.Background(), main)
	if err != nil {
		t.Fatal(err)
	}
	var set descriptorpb.FileDescriptorSet
	seen := map[string]bool{}
	var add func(fd protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) {
		if seen[fd.Path()] {
			return
		}
		seen[fd.Path()] = true
		for i := 0; i < fd.Imports().Len(); i++ {
			add(fd.Imports().Get(i).FileDescriptor)
		}
		set.File = append(set.File, protodesc.ToFileDescriptorProto(fd))
	}
	add(files[0])
	raw, err := proto.Marshal(&set)
	if err != nil {
		t.Fatal(err)
	}
	return raw, files[0]
}

// newDecoder compiles one proto3/proto2 file and makes a Raw decoder of msg.
func newDecoder(t testing.TB, src, msg string) (*Decoder, protoreflect.MessageDescriptor) {
	t.Helper()
	raw, fd := compile(t, map[string]string{"test.proto": src}, "test.proto")
	d, err := New(Options{Descriptors: raw, Message: msg})
	if err != nil {
		t.Fatal(err)
	}
	md := findIn(fd.Messages(), protoreflect.FullName(msg))
	if md == nil {
		t.Fatalf("no message %s", msg)
	}
	return d, md
}

// Wire-building helpers, for records no protobuf library would write.
func varintField(num int, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(nil, protowire.Number(num), protowire.VarintType), v)
}
func fixed32Field(num int, v uint32) []byte {
	return protowire.AppendFixed32(protowire.AppendTag(nil, protowire.Number(num), protowire.Fixed32Type), v)
}
func fixed64Field(num int, v uint64) []byte {
	return protowire.AppendFixed64(protowire.AppendTag(nil, protowire.Number(num), protowire.Fixed64Type), v)
}
func bytesField(num int, v []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(nil, protowire.Number(num), protowire.BytesType), v)
}
func strField(num int, v string) []byte { return bytesField(num, []byte(v)) }
func groupField(num int, v []byte) []byte {
	b := protowire.AppendTag(nil, protowire.Number(num), protowire.StartGroupType)
	b = append(b, v...)
	return protowire.AppendTag(b, protowire.Number(num), protowire.EndGroupType)
}
func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}
func packedVarints(num int, vs ...uint64) []byte {
	var p []byte
	for _, v := range vs {
		p = protowire.AppendVarint(p, v)
	}
	return bytesField(num, p)
}
func zz(v int64) uint64 { return protowire.EncodeZigZag(v) }

// rows decodes records with d into a fresh builder and returns the rows
// as JSON values (nil rows for records that failed) and the errors.
func rows(t testing.TB, d *Decoder, recs ...[]byte) ([]any, []error) {
	t.Helper()
	b := array.NewBuilder(memory.NewGoAllocator(), d.Type()).(*array.StructBuilder)
	defer b.Release()
	errs := make([]error, len(recs))
	ok := make([]bool, len(recs))
	for i, r := range recs {
		before := lengths(b)
		errs[i] = d.Append(b, r)
		if errs[i] != nil {
			if after := lengths(b); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Fatalf("record %d: failed Append changed builder lengths from %v to %v", i, before, after)
			}
		}
		ok[i] = errs[i] == nil
	}
	arr := b.NewStructArray()
	defer arr.Release()
	if err := arr.ValidateFull(); err != nil {
		t.Fatalf("invalid array: %v", err)
	}
	out := make([]any, len(recs))
	row := 0
	for i := range recs {
		if ok[i] {
			out[i] = jsonValue(t, arr, row)
			row++
		}
	}
	return out, errs
}

// row decodes one record that must decode.
func row(t testing.TB, d *Decoder, rec []byte) map[string]any {
	t.Helper()
	out, errs := rows(t, d, rec)
	if errs[0] != nil {
		t.Fatalf("Append: %v", errs[0])
	}
	return out[0].(map[string]any)
}

// jsonValue is row i of arr as a JSON value.
func jsonValue(t testing.TB, arr arrow.Array, i int) any {
	t.Helper()
	raw, err := json.Marshal(arr.GetOneForMarshal(i))
	if err != nil {
		t.Fatal(err)
	}
	// Numbers as json.Number: 64-bit integers would not survive float64.
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// js renders a JSON value compactly, for comparisons.
func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// lengths lists the length of b and of every builder under it.
func lengths(b array.Builder) []int {
	var out []int
	var walk func(b array.Builder)
	walk = func(b array.Builder) {
		out = append(out, b.Len())
		switch b := b.(type) {
		case *array.StructBuilder:
			for i := 0; i < b.NumField(); i++ {
				walk(b.FieldBuilder(i))
			}
		case *array.MapBuilder:
			walk(b.KeyBuilder())
			walk(b.ItemBuilder())
		case *array.ListBuilder:
			walk(b.ValueBuilder())
		}
	}
	walk(b)
	return out
}

// The reference mapping: dynamicpb.Unmarshal, then a protoreflect walk
// into the same builders. It is the benchmark's comparison and the oracle
// of the differential tests.

func appendReflect(sb *array.StructBuilder, m protoreflect.Message) {
	sb.Append(true)
	fds := m.Descriptor().Fields()
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		b := sb.FieldBuilder(i)
		switch {
		case fd.IsMap():
			mb := b.(*array.MapBuilder)
			mb.Append(true)
			mp := m.Get(fd).Map()
			var keys []protoreflect.MapKey
			mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
				keys = append(keys, k)
				return true
			})
			sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i].Interface()) < fmt.Sprint(keys[j].Interface()) })
			for _, k := range keys {
				appendReflectValue(mb.KeyBuilder(), fd.MapKey(), k.Value())
				appendReflectValue(mb.ItemBuilder(), fd.MapValue(), mp.Get(k))
			}
		case fd.IsList():
			lb := b.(*array.ListBuilder)
			lb.Append(true)
			l := m.Get(fd).List()
			for j := 0; j < l.Len(); j++ {
				appendReflectValue(lb.ValueBuilder(), fd, l.Get(j))
			}
		default:
			if fd.HasPresence() && !m.Has(fd) {
				b.AppendNull()
				continue
			}
			appendReflectValue(b, fd, m.Get(fd))
		}
	}
}

func appendReflectValue(b array.Builder, fd protoreflect.FieldDescriptor, v protoreflect.Value) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		b.(*array.BooleanBuilder).Append(v.Bool())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		b.(*array.Int32Builder).Append(int32(v.Int()))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		b.(*array.Int64Builder).Append(v.Int())
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		b.(*array.Uint32Builder).Append(uint32(v.Uint()))
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		b.(*array.Uint64Builder).Append(v.Uint())
	case protoreflect.FloatKind:
		b.(*array.Float32Builder).Append(float32(v.Float()))
	case protoreflect.DoubleKind:
		b.(*array.Float64Builder).Append(v.Float())
	case protoreflect.StringKind:
		b.(*array.StringBuilder).Append(v.String())
	case protoreflect.BytesKind:
		b.(*array.BinaryBuilder).Append(v.Bytes())
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			b.(*array.StringBuilder).Append(string(ev.Name()))
		} else {
			b.(*array.StringBuilder).Append(strconv.Itoa(int(v.Enum())))
		}
	default:
		m := v.Message()
		md := m.Descriptor()
		switch md.FullName() {
		case wktTimestamp, wktDuration:
			secs := m.Get(md.Fields().ByNumber(1)).Int()
			nanos := m.Get(md.Fields().ByNumber(2)).Int()
			if md.FullName() == wktTimestamp {
				b.(*array.TimestampBuilder).Append(arrow.Timestamp(secs*1e9 + nanos))
			} else {
				b.(*array.DurationBuilder).Append(arrow.Duration(secs*1e9 + nanos))
			}
		default:
			if wrappers[md.FullName()] {
				f := md.Fields().ByNumber(1)
				appendReflectValue(b, f, m.Get(f))
				return
			}
			appendReflect(b.(*array.StructBuilder), m)
		}
	}
}

// fill sets random values in m (valid for the mapping: timestamps within
// the nanosecond range, enums of closed enums known).
func fill(r *rand.Rand, m protoreflect.Message, depth int) {
	md := m.Descriptor()
	switch md.FullName() {
	case wktTimestamp:
		m.Set(md.Fields().ByNumber(1), protoreflect.ValueOfInt64(r.Int64N(8e9)-4e9))
		m.Set(md.Fields().ByNumber(2), protoreflect.ValueOfInt32(r.Int32N(1e9)))
		return
	case wktDuration:
		s := r.Int64N(1e9)
		n := r.Int32N(1e9)
		if r.IntN(2) == 0 {
			s, n = -s, -n
		}
		m.Set(md.Fields().ByNumber(1), protoreflect.ValueOfInt64(s))
		m.Set(md.Fields().ByNumber(2), protoreflect.ValueOfInt32(n))
		return
	}
	fds := md.Fields()
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		if r.IntN(3) == 0 {
			continue
		}
		switch {
		case fd.IsMap():
			mp := m.Mutable(fd).Map()
			for j := r.IntN(4); j > 0; j-- {
				k := randomValue(r, fd.MapKey(), mp.NewValue, depth)
				v := randomValue(r, fd.MapValue(), mp.NewValue, depth)
				if !v.IsValid() {
					continue
				}
				mp.Set(k.MapKey(), v)
			}
		case fd.IsList():
			l := m.Mutable(fd).List()
			for j := r.IntN(4); j > 0; j-- {
				if v := randomValue(r, fd, l.NewElement, depth); v.IsValid() {
					l.Append(v)
				}
			}
		default:
			if v := randomValue(r, fd, func() protoreflect.Value { return m.NewField(fd) }, depth); v.IsValid() {
				m.Set(fd, v)
			}
		}
	}
}

func randomValue(r *rand.Rand, fd protoreflect.FieldDescriptor, newMsg func() protoreflect.Value, depth int) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(r.IntN(2) == 0)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(r.Uint32()) >> r.IntN(32))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(int64(r.Uint64()) >> r.IntN(64))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(r.Uint32() >> r.IntN(32))
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(r.Uint64() >> r.IntN(64))
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(float32(r.NormFloat64() * 1000))
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(r.NormFloat64() * 1e6)
	case protoreflect.StringKind:
		const alphabet = "abcxyz019 é€😀"
		rs := []rune(alphabet)
		s := make([]rune, r.IntN(6))
		for i := range s {
			s[i] = rs[r.IntN(len(rs))]
		}
		return protoreflect.ValueOfString(string(s))
	case protoreflect.BytesKind:
		b := make([]byte, r.IntN(5))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return protoreflect.ValueOfBytes(b)
	case protoreflect.EnumKind:
		vals := fd.Enum().Values()
		if !fd.Enum().IsClosed() && r.IntN(5) == 0 {
			return protoreflect.ValueOfEnum(protoreflect.EnumNumber(100 + r.IntN(5)))
		}
		return protoreflect.ValueOfEnum(vals.Get(r.IntN(vals.Len())).Number())
	default:
		if depth > 3 {
			return protoreflect.Value{}
		}
		v := newMsg()
		fill(r, v.Message(), depth+1)
		return v
	}
}

// normalize sorts every JSON list of {key, value} objects (map columns)
// by key, so that rows can be compared whatever the entry order.
func normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = normalize(x)
		}
	case []any:
		isMap := len(v) > 0
		for i, x := range v {
			v[i] = normalize(x)
			if o, ok := x.(map[string]any); !ok || len(o) != 2 || !hasKey(o, "key") || !hasKey(o, "value") {
				isMap = false
			}
		}
		if isMap {
			sort.SliceStable(v, func(i, j int) bool { return js(v[i].(map[string]any)["key"]) < js(v[j].(map[string]any)["key"]) })
		}
	}
	return v
}

func hasKey(o map[string]any, k string) bool { _, ok := o[k]; return ok }

// reflectRows decodes recs with dynamicpb and the reference walk.
func reflectRows(t testing.TB, md protoreflect.MessageDescriptor, typ *arrow.StructType, recs ...[]byte) []any {
	t.Helper()
	b := array.NewBuilder(memory.NewGoAllocator(), typ).(*array.StructBuilder)
	defer b.Release()
	for _, r := range recs {
		m := dynamicpb.NewMessage(md)
		if err := (proto.UnmarshalOptions{AllowPartial: true}).Unmarshal(r, m); err != nil {
			t.Fatalf("dynamicpb: %v", err)
		}
		appendReflect(b, m)
	}
	arr := b.NewStructArray()
	defer arr.Release()
	out := make([]any, len(recs))
	for i := range recs {
		out[i] = jsonValue(t, arr, i)
	}
	return out
}

func newBuilder(d *Decoder) *array.StructBuilder {
	return array.NewBuilder(memory.NewGoAllocator(), d.Type()).(*array.StructBuilder)
}

// reserveData reserves room for n elements in every builder under b and
// n bytes in every binary builder, so that a warm loop does not grow them.
func reserveData(b array.Builder, n int) {
	b.Reserve(n)
	switch b := b.(type) {
	case *array.StructBuilder:
		for i := 0; i < b.NumField(); i++ {
			reserveData(b.FieldBuilder(i), n)
		}
	case *array.MapBuilder:
		reserveData(b.KeyBuilder(), n)
		reserveData(b.ItemBuilder(), n)
	case *array.ListBuilder:
		reserveData(b.ValueBuilder(), n)
	case *array.StringBuilder:
		b.ReserveData(n)
	case *array.BinaryBuilder:
		b.ReserveData(n)
	}
}
