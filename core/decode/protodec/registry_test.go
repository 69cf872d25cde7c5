package protodec

import (
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/kafkars/kafkars/core/decode"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
)

// memRegistry is an in-memory decode.Registry that counts lookups.
type memRegistry struct {
	byID     map[int32]*decode.Schema
	subjects map[string][]*decode.Schema // versions 1..n
	down     bool                        // every lookup fails as unreachable
	calls    map[string]int
}

func newMemRegistry() *memRegistry {
	return &memRegistry{byID: map[int32]*decode.Schema{}, subjects: map[string][]*decode.Schema{}, calls: map[string]int{}}
}

// register adds a new version of subject (id given by the caller).
func (r *memRegistry) register(subject string, id int32, typ, text string, refs ...decode.Reference) {
	s := &decode.Schema{ID: id, Type: typ, Text: text, References: refs, Subject: subject, Version: len(r.subjects[subject]) + 1}
	r.subjects[subject] = append(r.subjects[subject], s)
	r.byID[id] = s
}

func (r *memRegistry) ByID(id int32) (*decode.Schema, error) {
	r.calls[fmt.Sprint("id ", id)]++
	if r.down {
		return nil, fmt.Errorf("%w: connection refused", decode.ErrRegistry)
	}
	s, ok := r.byID[id]
	if !ok {
		return nil, decode.Malformed(fmt.Sprintf("schema id %d not found", id))
	}
	return s, nil
}

func (r *memRegistry) Latest(subject string) (*decode.Schema, error) {
	r.calls["latest "+subject]++
	v := r.subjects[subject]
	if len(v) == 0 {
		return nil, fmt.Errorf("subject %q not found", subject)
	}
	return v[len(v)-1], nil
}

func (r *memRegistry) Version(subject string, version int) (*decode.Schema, error) {
	r.calls[fmt.Sprint("version ", subject, " ", version)]++
	v := r.subjects[subject]
	if version < 1 || version > len(v) {
		return nil, fmt.Errorf("subject %q has no version %d", subject, version)
	}
	return v[version-1], nil
}

const commonProto = `syntax = "proto3";
package shop.v1;
message Money { string currency = 1; int64 units = 2; }
`

// orderV1 is an older writer schema: Order is its first message.
const orderV1 = `syntax = "proto3";
package shop.v1;
import "shop/common.proto";
message Order {
  message Item { string sku = 1; Money price = 2; }
  string id = 1;
  repeated Item items = 2;
}
`

// orderV2 adds Refund before Order (whose path becomes [1]) and a field.
const orderV2 = `syntax = "proto3";
package shop.v1;
import "shop/common.proto";
import "google/protobuf/timestamp.proto";
message Refund { string id = 1; }
message Order {
  message Item { string sku = 1; Money price = 2; }
  string id = 1;
  repeated Item items = 2;
  google.protobuf.Timestamp at = 3;
  map<string, string> labels = 4;
}
`

func shopRegistry() *memRegistry {
	r := newMemRegistry()
	r.register("shop-common", 1, "PROTOBUF", commonProto)
	ref := decode.Reference{Name: "shop/common.proto", Subject: "shop-common", Version: 1}
	r.register("orders-value", 10, "PROTOBUF", orderV1, ref)
	r.register("orders-value", 11, "PROTOBUF", orderV2, ref)
	r.register("other-value", 20, "AVRO", `{"type":"string"}`)
	r.register("other-value", 21, "PROTOBUF", `syntax = "proto3"; message Broken {`)
	r.register("avro-value", 22, "AVRO", `"string"`)
	return r
}

func framed(id int32, path []int, msg []byte) []byte {
	b := decode.AppendConfluent(nil, id)
	b = decode.AppendMessageIndexes(b, path)
	return append(b, msg...)
}

// An Order with one item and a timestamp, in the v2 layout.
var orderMsg = cat(strField(1, "o-1"),
	bytesField(2, cat(strField(1, "sku-9"), bytesField(2, cat(strField(1, "EUR"), varintField(2, 12))))),
	bytesField(3, varintField(1, 60)),
	mapEntry(4, strField(1, "k"), strField(2, "v")))

func TestRegistryReader(t *testing.T) {
	reg := shopRegistry()
	d, err := New(Options{Registry: reg, Subject: "orders-value", Message: "shop.v1.Order", Framing: Confluent})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Type().String(); !strings.Contains(got, "items: list<item: struct<sku: utf8, price: struct<currency: utf8, units: int64> nullable>>") ||
		!strings.Contains(got, "at: timestamp[ns, tz=UTC]") {
		t.Fatalf("type %s", got)
	}
	if reg.calls["version shop-common 1"] != 1 || reg.calls["latest orders-value"] != 1 {
		t.Fatalf("lookups %v", reg.calls)
	}
	want := `{"at":"1970-01-01T00:01:00Z","id":"o-1","items":[{"price":{"currency":"EUR","units":12},"sku":"sku-9"}],"labels":[{"key":"k","value":"v"}]}`
	v1Order := cat(strField(1, "o-0"), bytesField(2, strField(1, "a")))
	tests := []struct {
		name string
		rec  []byte
		want string // row JSON, or the error text for malformed records
		bad  bool
	}{
		{"written with the reader schema", framed(11, []int{1}, orderMsg), want, false},
		{"written with an older schema (Order at [0])", framed(10, []int{0}, v1Order), `{"at":null,"id":"o-0","items":[{"price":null,"sku":"a"}],"labels":[]}`, false},
		{"the older schema again (cached)", framed(10, []int{0}, v1Order), `{"at":null,"id":"o-0","items":[{"price":null,"sku":"a"}],"labels":[]}`, false},
		{"another message of the schema", framed(11, []int{0}, strField(1, "r")), "message-index path [0] names shop.v1.Refund in writer schema id 11, not shop.v1.Order", true},
		{"a nested message", framed(11, []int{1, 0}, strField(1, "x")), "message-index path [1 0] names shop.v1.Order.Item in writer schema id 11", true},
		{"a path naming nothing", framed(11, []int{5}, nil), "message-index path [5] names no message in writer schema id 11", true},
		{"an unknown id", framed(99, []int{1}, orderMsg), "writer schema id 99: schema id 99 not found", true},
		{"an Avro writer schema", framed(20, []int{0}, orderMsg), "writer schema id 20 is AVRO, not PROTOBUF", true},
		{"a writer schema that does not parse", framed(21, []int{0}, orderMsg), "writer schema id 21 does not parse", true},
		{"a writer schema without the message", framed(1, []int{0}, orderMsg), "writer schema id 1 does not define shop.v1.Order", true},
		{"wrong magic byte", append([]byte{1}, framed(11, []int{1}, orderMsg)[1:]...), "magic byte is 0x01", true},
		{"too short", []byte{0, 0, 0}, "need at least 5", true},
		{"no message indexes", decode.AppendConfluent(nil, 11), "truncated message-index count", true},
		{"truncated message indexes", append(decode.AppendConfluent(nil, 11), 0x04, 0x02), "truncated message index", true},
		{"malformed message after good framing", framed(11, []int{1}, []byte{0x0a, 0x05}), "field id: truncated string", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := rows(t, d, tt.rec)
			if tt.bad {
				if !errors.Is(errs[0], decode.ErrMalformed) || !strings.Contains(errs[0].Error(), tt.want) {
					t.Fatalf("error %v, want malformed with %q", errs[0], tt.want)
				}
				if !strings.HasPrefix(errs[0].Error(), "protobuf shop.v1.Order: ") {
					t.Errorf("error %q does not name the message", errs[0])
				}
				return
			}
			if errs[0] != nil {
				t.Fatal(errs[0])
			}
			if js(got[0]) != tt.want {
				t.Fatalf("got %s\nwant %s", js(got[0]), tt.want)
			}
		})
	}
	// Each writer id is looked up once; the reader's own id not at all.
	for k, n := range reg.calls {
		if n != 1 && k != "id 99" {
			t.Errorf("%s looked up %d times", k, n)
		}
	}
	if reg.calls["id 11"] != 0 {
		t.Errorf("the reader schema's id was looked up again")
	}
}

func TestRegistryUnreachable(t *testing.T) {
	reg := shopRegistry()
	d, err := New(Options{Registry: reg, Subject: "orders-value", Message: "shop.v1.Order", Framing: Confluent})
	if err != nil {
		t.Fatal(err)
	}
	reg.down = true
	_, errs := rows(t, d, framed(10, []int{0}, nil))
	if errs[0] == nil || errors.Is(errs[0], decode.ErrMalformed) || !errors.Is(errs[0], decode.ErrRegistry) {
		t.Fatalf("error %v, want a registry error that is not malformed", errs[0])
	}
	// The next record retries, and works once the registry is back.
	reg.down = false
	if _, errs := rows(t, d, framed(10, []int{0}, nil)); errs[0] != nil {
		t.Fatal(errs[0])
	}
}

func TestRegistryDefaultMessageAndNested(t *testing.T) {
	reg := shopRegistry()
	d, err := New(Options{Registry: reg, Subject: "orders-value", Framing: Confluent})
	if err != nil {
		t.Fatal(err)
	}
	if d.msgName != "shop.v1.Refund" {
		t.Fatalf("default message %s, want the first of the file", d.msgName)
	}
	got := row(t, d, framed(11, []int{0}, strField(1, "r-1")))
	if js(got) != `{"id":"r-1"}` {
		t.Fatalf("got %s", js(got))
	}
	// A nested message type, its path [1, 0] in v2; Raw framing.
	d, err = New(Options{Registry: reg, Subject: "orders-value", Message: "shop.v1.Order.Item", Framing: Confluent})
	if err != nil {
		t.Fatal(err)
	}
	if js(row(t, d, framed(11, []int{1, 0}, strField(1, "s")))) != `{"price":null,"sku":"s"}` {
		t.Fatal("nested message")
	}
	// A message of an imported file.
	d, err = New(Options{Registry: reg, Subject: "orders-value", Message: "shop.v1.Money"})
	if err != nil {
		t.Fatal(err)
	}
	if js(row(t, d, varintField(2, 5))) != `{"currency":"","units":5}` {
		t.Fatal("imported message")
	}
}

func TestDescriptorsWithConfluentFraming(t *testing.T) {
	raw, _ := compile(t, map[string]string{"shop/common.proto": commonProto, "order.proto": orderV2}, "order.proto")
	// Without a registry, paths are checked against the Descriptors' file.
	d, err := New(Options{Descriptors: raw, Message: "shop.v1.Order", Framing: Confluent})
	if err != nil {
		t.Fatal(err)
	}
	if got := row(t, d, framed(12345, []int{1}, orderMsg)); js(got["id"]) != `"o-1"` {
		t.Fatalf("got %s", js(got))
	}
	_, errs := rows(t, d, framed(12345, []int{0}, orderMsg))
	if !errors.Is(errs[0], decode.ErrMalformed) || !strings.Contains(errs[0].Error(), "message-index path [0] names shop.v1.Refund in the Descriptors' file, not shop.v1.Order (path [1])") {
		t.Fatalf("error %v", errs[0])
	}
	_, errs = rows(t, d, framed(12345, []int{7}, orderMsg))
	if !errors.Is(errs[0], decode.ErrMalformed) || !strings.Contains(errs[0].Error(), "names no message") {
		t.Fatalf("error %v", errs[0])
	}
	// With a registry, the writer ids are resolved there.
	reg := shopRegistry()
	d, err = New(Options{Descriptors: raw, Message: "shop.v1.Order", Framing: Confluent, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	if got := row(t, d, framed(10, []int{0}, orderMsg)); js(got["id"]) != `"o-1"` {
		t.Fatalf("got %s", js(got))
	}
	if reg.calls["id 10"] != 1 {
		t.Fatalf("calls %v", reg.calls)
	}
}

func TestNewErrors(t *testing.T) {
	reg := shopRegistry()
	raw, _ := compile(t, map[string]string{"test.proto": allProto}, "test.proto")
	broken := newMemRegistry()
	broken.register("s", 1, "PROTOBUF", `syntax = "proto3"; import "missing.proto"; message M { Missing m = 1; }`,
		decode.Reference{Name: "missing.proto", Subject: "nothing", Version: 1})
	broken.register("t", 2, "PROTOBUF", `syntax = "proto3"; message M { Nope n = 1; }`)
	broken.register("empty", 3, "PROTOBUF", `syntax = "proto3";`)
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"nothing", Options{}, "no reader schema"},
		{"registry without subject", Options{Registry: reg}, "Subject names the reader schema and is required"},
		{"descriptors and subject", Options{Descriptors: raw, Message: "t.v1.All", Subject: "x", Registry: reg}, "not both"},
		{"descriptors without message", Options{Descriptors: raw}, "Options.Message is required with Descriptors; the set defines t.v1.All, t.v1.Deep, t.v1.Inner"},
		{"unknown message", Options{Descriptors: raw, Message: "t.v1.Nope"}, `do not define message "t.v1.Nope"`},
		{"an enum, not a message", Options{Descriptors: raw, Message: "t.v1.Color"}, "is not a message"},
		{"not a descriptor set", Options{Descriptors: []byte{0xff}, Message: "x"}, "not a serialized FileDescriptorSet"},
		{"bad framing", Options{Descriptors: raw, Message: "t.v1.All", Framing: 7}, "unknown framing Framing(7)"},
		{"bad time unit", Options{Descriptors: raw, Message: "t.v1.All", TimeUnit: 9}, "unknown time unit"},
		{"unknown subject", Options{Registry: reg, Subject: "nope"}, `reader schema of subject "nope"`},
		{"avro subject", Options{Registry: reg, Subject: "avro-value"}, `schema id 22 (subject "avro-value") is AVRO, not PROTOBUF`},
		{"subject that does not compile", Options{Registry: reg, Subject: "other-value"}, "compiling schema id 21"},
		{"message not in subject", Options{Registry: reg, Subject: "orders-value", Message: "shop.v1.Nope"}, `does not define message "shop.v1.Nope"; its top-level messages are shop.v1.Refund, shop.v1.Order`},
		{"missing reference", Options{Registry: broken, Subject: "s"}, `schema id 1 imports "missing.proto" (subject "nothing" version 1)`},
		{"does not compile", Options{Registry: broken, Subject: "t"}, "compiling schema id 2"},
		{"no message", Options{Registry: broken, Subject: "empty"}, "defines no message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
	reg.register("only-avro", 30, "", `"string"`)
	if _, err := New(Options{Registry: reg, Subject: "only-avro"}); err == nil || !strings.Contains(err.Error(), "is AVRO (no schemaType), not PROTOBUF") {
		t.Fatalf("error %v", err)
	}
}

// TestParsedTreeMatchesCompiled: the message-index tree of a writer
// schema, from parsing alone, must be the compiled file's (map entry
// types included, in the same places).
func TestParsedTreeMatchesCompiled(t *testing.T) {
	src := `syntax = "proto3";
package p;
message A {
  map<string, int32> m = 1;
  message B { map<int32, B> bs = 1; message C {} }
  map<int64, string> n = 2;
  enum E { X = 0; }
  message D {}
}
message F { oneof o { A a = 1; } }
`
	_, fd := compile(t, map[string]string{"p.proto": src}, "p.proto")
	parsed, err := parseTree("p.proto", src)
	if err != nil {
		t.Fatal(err)
	}
	if compiled := treeOf(fd.Messages()); !reflect.DeepEqual(parsed, compiled) {
		t.Fatalf("parsed %v\ncompiled %v", parsed, compiled)
	}
	if p := pathOf(parsed, "p.A.B.C"); fmt.Sprint(p) != "[0 1 1]" {
		t.Fatalf("path of p.A.B.C = %v", p)
	}
	if n, ok := nameAt(parsed, []int{0, 3}); !ok || n != "p.A.D" {
		t.Fatalf("[0 3] = %s", n)
	}
}

// TestWarmConfluentAllocs: Confluent framing adds no allocation per record
// once the writer ids are known.
func TestWarmConfluentAllocs(t *testing.T) {
	d, err := New(Options{Registry: shopRegistry(), Subject: "orders-value", Message: "shop.v1.Order", Framing: Confluent})
	if err != nil {
		t.Fatal(err)
	}
	recs := [][]byte{framed(11, []int{1}, orderMsg), framed(10, []int{0}, orderMsg)}
	b := newBuilder(d)
	defer b.Release()
	reserveData(b, 4000)
	for _, r := range recs {
		if err := d.Append(b, r); err != nil {
			t.Fatal(err)
		}
	}
	i := 0
	allocs := testing.AllocsPerRun(500, func() {
		if err := d.Append(b, recs[i%2]); err != nil {
			t.Fatal(err)
		}
		i++
	})
	if allocs != 0 {
		t.Errorf("%v allocations per Append, want 0", allocs)
	}
}

// TestRegistryDescriptorSchemas: a registry may answer with the base64
// FileDescriptorProto a serializer registered (Apicurio stores what
// confluent-kafka-python's ProtobufSerializer sends) instead of .proto
// text; both the reader schema and writer schemas work that way.
func TestRegistryDescriptorSchemas(t *testing.T) {
	b64 := func(srcs map[string]string, main string) string {
		_, fd := compile(t, srcs, main)
		raw, err := proto.Marshal(protodesc.ToFileDescriptorProto(fd))
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(raw)
	}
	srcs := map[string]string{"shop/common.proto": commonProto, "shop/order.proto": orderV2}
	r := newMemRegistry()
	r.register("shop-common", 1, "PROTOBUF", b64(srcs, "shop/common.proto"))
	ref := decode.Reference{Name: "shop/common.proto", Subject: "shop-common", Version: 1}
	r.register("orders-value", 11, "PROTOBUF", b64(srcs, "shop/order.proto"), ref)
	d, err := New(Options{Registry: r, Subject: "orders-value", Message: "shop.v1.Order", Framing: Confluent})
	if err != nil {
		t.Fatal(err)
	}
	got := row(t, d, framed(11, []int{1}, orderMsg))
	if got["id"] != "o-1" {
		t.Fatalf("row %v", js(got))
	}
	if _, errs := rows(t, d, framed(11, []int{0}, orderMsg)); len(errs) != 1 || !errors.Is(errs[0], decode.ErrMalformed) {
		t.Fatalf("path [0] names Refund, not Order: errors %v", errs)
	}
}
