package produce

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// Protobuf encoding is checked against protobuf-go here (types other than
// the ones kafkars decodes to, long bodies, errors) and, for every field
// kind with random messages, in core/decode/protodec's
// produce_roundtrip_test.go.

const orderProto = `
syntax = "proto3";
package shop.v1;
import "google/protobuf/timestamp.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/wrappers.proto";
enum Side { SIDE_UNSPECIFIED = 0; BUY = 1; SELL = 2; }
message Leg { string venue = 1; double px = 2; bytes note = 3; }
message Order {
  string symbol = 1;
  int32 qty = 2;
  optional int64 id = 3;
  Side side = 4;
  float ratio = 5;
  google.protobuf.Timestamp at = 6;
  google.protobuf.Duration ttl = 7;
  google.protobuf.Int32Value limit = 8;
  repeated uint32 counts = 9;
  repeated Leg legs = 10;
  map<string, Leg> by_venue = 11;
  Leg main = 12;
  bytes raw = 13;
  oneof pick { string a = 14; int64 b = 15; }
  sint32 delta = 16;
}
`

func compileMessage(t testing.TB, src, name string) protoreflect.MessageDescriptor {
	t.Helper()
	c := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
		Accessor: protocompile.SourceAccessorFromMap(map[string]string{"test.proto": src}),
	})}
	files, err := c.Compile(context.Background(), "test.proto")
	if err != nil {
		t.Fatal(err)
	}
	md := files[0].Messages().ByName(protoreflect.Name(name))
	if md == nil {
		t.Fatalf("no message %s", name)
	}
	return md
}

// protoRows encodes every row of col and returns protobuf-go's JSON of
// each message ("" for a null row).
func protoRows(t *testing.T, enc *ProtoEncoder, md protoreflect.MessageDescriptor, col arrow.Array) []string {
	t.Helper()
	var out []string
	for i := 0; i < col.Len(); i++ {
		if col.IsNull(i) {
			out = append(out, "")
			continue
		}
		b, err := enc.Append(nil, col, i)
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		m := dynamicpb.NewMessage(md)
		if err := proto.Unmarshal(b, m); err != nil {
			t.Fatalf("row %d: protobuf-go cannot parse it: %v", i, err)
		}
		j, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.ReplaceAll(string(j), " ", ""))
	}
	return out
}

// TestProtoCoercions: Arrow types other than the decoder's own mapping
// (wider and narrower integers, names for enums, float64 into float,
// other time units, large and dictionary strings) are written as the
// field's kind.
func TestProtoCoercions(t *testing.T) {
	md := compileMessage(t, orderProto, "Order")
	leg := arrow.StructOf(
		arrow.Field{Name: "venue", Type: arrow.BinaryTypes.LargeString},
		arrow.Field{Name: "px", Type: arrow.PrimitiveTypes.Float32})
	st := arrow.StructOf(
		arrow.Field{Name: "symbol", Type: arrow.BinaryTypes.StringView},
		arrow.Field{Name: "qty", Type: arrow.PrimitiveTypes.Int64},
		arrow.Field{Name: "id", Type: arrow.PrimitiveTypes.Uint8, Nullable: true},
		arrow.Field{Name: "side", Type: arrow.BinaryTypes.String},
		arrow.Field{Name: "ratio", Type: arrow.PrimitiveTypes.Float64},
		arrow.Field{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "Europe/Paris"}, Nullable: true},
		arrow.Field{Name: "ttl", Type: &arrow.DurationType{Unit: arrow.Microsecond}, Nullable: true},
		arrow.Field{Name: "limit", Type: arrow.PrimitiveTypes.Int16, Nullable: true},
		arrow.Field{Name: "counts", Type: arrow.FixedSizeListOf(2, arrow.PrimitiveTypes.Int64), Nullable: true},
		arrow.Field{Name: "legs", Type: arrow.LargeListOf(leg), Nullable: true},
		arrow.Field{Name: "raw", Type: arrow.BinaryTypes.String},
		arrow.Field{Name: "b", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		arrow.Field{Name: "delta", Type: arrow.PrimitiveTypes.Int8},
	)
	col := buildStruct(t, st, `[
		{"symbol": "ACME", "qty": 2147483647, "id": 255, "side": "SELL", "ratio": 0.25, "at": -1, "ttl": -1500001,
		 "limit": 0, "counts": [4294967295, 0], "legs": [{"venue": "X", "px": 1.5}, {"venue": "", "px": 0}],
		 "raw": "ab", "b": -1, "delta": -128},
		{"symbol": "", "qty": 0, "id": null, "side": "SIDE_UNSPECIFIED", "ratio": 0, "at": null, "ttl": null,
		 "limit": null, "counts": null, "legs": [], "raw": "", "b": null, "delta": 0},
		null
	]`)
	defer col.Release()
	enc, err := NewProtoEncoder(st, md)
	if err != nil {
		t.Fatal(err)
	}
	got := protoRows(t, enc, md, col)
	want := []string{
		`{"symbol":"ACME","qty":2147483647,"id":"255","side":"SELL","ratio":0.25,"at":"1969-12-31T23:59:59.999Z",` +
			`"ttl":"-1.500001s","limit":0,"counts":[4294967295,0],"legs":[{"venue":"X","px":1.5},{}],"raw":"YWI=","b":"-1","delta":-128}`,
		`{}`, // an empty list, zeros and empty strings are not written
		"",
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d:\n got %s\nwant %s", i, got[i], want[i])
		}
	}

	// fixed-size binary into bytes (implicit presence): written unless empty
	fst := arrow.StructOf(arrow.Field{Name: "raw", Type: &arrow.FixedSizeBinaryType{ByteWidth: 2}})
	fcol := buildStruct(t, fst, `[{"raw": "AQI="}]`)
	defer fcol.Release()
	fenc, err := NewProtoEncoder(fst, md)
	if err != nil {
		t.Fatal(err)
	}
	if got := protoRows(t, fenc, md, fcol); got[0] != `{"raw":"AQI="}` {
		t.Errorf("fixed-size binary: %s", got[0])
	}

	// dictionary-encoded strings, for the enum and a string field
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}
	st2 := arrow.StructOf(arrow.Field{Name: "side", Type: dt}, arrow.Field{Name: "symbol", Type: dt})
	db := array.NewDictionaryBuilder(memory.DefaultAllocator, dt).(*array.BinaryDictionaryBuilder)
	for _, s := range []string{"BUY", "SELL", "BUY"} {
		_ = db.AppendString(s)
	}
	dict := db.NewArray()
	defer dict.Release()
	sa := array.NewStructData(array.NewData(st2, 3, []*memory.Buffer{nil}, []arrow.ArrayData{dict.Data(), dict.Data()}, 0, 0))
	defer sa.Release()
	enc2, err := NewProtoEncoder(st2, md)
	if err != nil {
		t.Fatal(err)
	}
	got = protoRows(t, enc2, md, sa)
	if got[1] != `{"symbol":"SELL","side":"SELL"}` && got[1] != `{"side":"SELL","symbol":"SELL"}` {
		t.Errorf("dictionary row: %s", got[1])
	}
}

// TestProtoLongBodies: nested messages, packed lists and map entries whose
// length needs 1, 2 and 3 bytes (the body is moved after the length).
func TestProtoLongBodies(t *testing.T) {
	md := compileMessage(t, orderProto, "Order")
	leg := arrow.StructOf(arrow.Field{Name: "venue", Type: arrow.BinaryTypes.String})
	st := arrow.StructOf(
		arrow.Field{Name: "main", Type: leg, Nullable: true},
		arrow.Field{Name: "counts", Type: arrow.ListOf(arrow.PrimitiveTypes.Uint32), Nullable: true},
		arrow.Field{Name: "by_venue", Type: arrow.MapOf(arrow.BinaryTypes.String, leg), Nullable: true},
		arrow.Field{Name: "symbol", Type: arrow.BinaryTypes.String},
	)
	for _, n := range []int{10, 127, 128, 300, 16383, 16384, 70000} {
		s := strings.Repeat("v", n)
		counts := strings.TrimSuffix(strings.Repeat("300,", n/2+1), ",")
		col := buildStruct(t, st, `[{"main": {"venue": "`+s+`"}, "counts": [`+counts+`],
			"by_venue": [{"key": "k", "value": {"venue": "`+s+`"}}], "symbol": "after"}]`)
		enc, err := NewProtoEncoder(st, md)
		if err != nil {
			t.Fatal(err)
		}
		b, err := enc.Append(nil, col, 0)
		if err != nil {
			t.Fatal(err)
		}
		m := dynamicpb.NewMessage(md)
		if err := proto.Unmarshal(b, m); err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		fs := md.Fields()
		if v := m.Get(fs.ByName("main")).Message().Get(md.Fields().ByName("main").Message().Fields().ByName("venue")).String(); v != s {
			t.Errorf("%d bytes: main.venue has %d bytes", n, len(v))
		}
		if l := m.Get(fs.ByName("counts")).List(); l.Len() != n/2+1 || l.Get(l.Len()-1).Uint() != 300 {
			t.Errorf("%d bytes: counts has %d items", n, l.Len())
		}
		if mv := m.Get(fs.ByName("by_venue")).Map().Get(protoreflect.ValueOfString("k").MapKey()); !mv.IsValid() ||
			mv.Message().Get(fs.ByName("main").Message().Fields().ByName("venue")).String() != s {
			t.Errorf("%d bytes: by_venue[k] lost", n)
		}
		if m.Get(fs.ByName("symbol")).String() != "after" {
			t.Errorf("%d bytes: the field after the bodies is %q", n, m.Get(fs.ByName("symbol")).String())
		}
		col.Release()
	}
}

func TestProtoPlanErrors(t *testing.T) {
	md := compileMessage(t, orderProto, "Order")
	f := func(name string, dt arrow.DataType) arrow.Field {
		return arrow.Field{Name: name, Type: dt, Nullable: true}
	}
	for _, tc := range []struct {
		name string
		dt   arrow.DataType
		want string
	}{
		{"not a struct", arrow.PrimitiveTypes.Int64, "written from a struct column"},
		{"unknown field", arrow.StructOf(f("sym", arrow.BinaryTypes.String)), `field sym: message shop.v1.Order has no field "sym"; its fields are "symbol", "qty"`},
		{"string into int32", arrow.StructOf(f("qty", arrow.BinaryTypes.String)), "field qty: type utf8 cannot be written to Protobuf field qty (int32): want an integer type"},
		{"float into enum", arrow.StructOf(f("side", arrow.PrimitiveTypes.Float64)),
			"field side: type float64 cannot be written to Protobuf field side (enum shop.v1.Side): want strings (value names) or integers"},
		{"int into Timestamp", arrow.StructOf(f("at", arrow.PrimitiveTypes.Int64)), "field at: type int64 cannot be written to Protobuf field at (google.protobuf.Timestamp): want a timestamp"},
		{"scalar into repeated", arrow.StructOf(f("counts", arrow.PrimitiveTypes.Int64)), "(repeated uint32): want a list"},
		{"list into map", arrow.StructOf(f("by_venue", arrow.ListOf(arrow.PrimitiveTypes.Int64))), "(map): want a map"},
		{"nested unknown", arrow.StructOf(f("main", arrow.StructOf(f("price", arrow.PrimitiveTypes.Float64)))), `field main.price: message shop.v1.Leg has no field "price"`},
		{"all-null implicit", arrow.StructOf(f("qty", arrow.Null)), "field qty: the column is all null, but field qty of shop.v1.Order has no presence"},
		{"wrapper of the wrong type", arrow.StructOf(f("limit", arrow.BinaryTypes.String)), "field limit: type utf8 cannot be written to Protobuf field value (int32)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewProtoEncoder(tc.dt, md)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestProtoRowErrors(t *testing.T) {
	md := compileMessage(t, orderProto, "Order")
	f := func(name string, dt arrow.DataType) arrow.Field {
		return arrow.Field{Name: name, Type: dt, Nullable: true}
	}
	leg := arrow.StructOf(f("venue", arrow.BinaryTypes.String))
	for _, tc := range []struct {
		name string
		st   *arrow.StructType
		row  string
		want string
	}{
		{"null without presence", arrow.StructOf(f("qty", arrow.PrimitiveTypes.Int32)), `{"qty": null}`,
			"field qty: null, but field qty of shop.v1.Order has no presence"},
		{"int32 overflow", arrow.StructOf(f("qty", arrow.PrimitiveTypes.Int64)), `{"qty": 2147483648}`,
			"field qty: 2147483648 does not fit Protobuf's int32"},
		{"negative uint32", arrow.StructOf(f("counts", arrow.ListOf(arrow.PrimitiveTypes.Int64))), `{"counts": [1, -1]}`,
			"field counts[]: -1 does not fit Protobuf's uint32"},
		{"uint64 into int64", arrow.StructOf(f("id", arrow.PrimitiveTypes.Uint64)), `{"id": 18446744073709551615}`,
			"field id: 18446744073709551615 does not fit Protobuf's int64"},
		{"unknown enum name", arrow.StructOf(f("side", arrow.BinaryTypes.String)), `{"side": "HOLD"}`,
			`field side: "HOLD" is not a value of enum shop.v1.Side (SIDE_UNSPECIFIED=0, BUY=1, SELL=2)`},
		{"enum number too big", arrow.StructOf(f("side", arrow.PrimitiveTypes.Int64)), `{"side": 4294967296}`,
			"field side: 4294967296 does not fit an enum number"},
		{"float overflow", arrow.StructOf(f("ratio", arrow.PrimitiveTypes.Float64)), `{"ratio": 1e300}`,
			"field ratio: 1e+300 does not fit Protobuf's float"},
		{"oneof twice", arrow.StructOf(f("a", arrow.BinaryTypes.String), f("b", arrow.PrimitiveTypes.Int64)), `{"a": "x", "b": 0}`,
			"fields a and b are both set, but they are members of oneof pick of shop.v1.Order"},
		{"null list item", arrow.StructOf(f("legs", arrow.ListOf(leg))), `{"legs": [{"venue": "x"}, null]}`,
			"field legs[]: item 1 is null, but Protobuf repeated fields cannot hold nulls"},
		{"null map value", arrow.StructOf(f("by_venue", arrow.MapOf(arrow.BinaryTypes.String, leg))), `{"by_venue": [{"key": "k", "value": null}]}`,
			"field by_venue{}: the value of entry 0 is null"},
		{"nested null without presence", arrow.StructOf(f("main", leg)), `{"main": {"venue": null}}`,
			"field main.venue: null, but field venue of shop.v1.Leg has no presence"},
		{"timestamp out of range", arrow.StructOf(f("at", &arrow.TimestampType{Unit: arrow.Second})), `{"at": 253402300800}`,
			"field at: timestamp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			col := buildStruct(t, tc.st, "["+tc.row+"]")
			defer col.Release()
			enc, err := NewProtoEncoder(tc.st, md)
			if err != nil {
				t.Fatal(err)
			}
			_, err = enc.Append(nil, col, 0)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
