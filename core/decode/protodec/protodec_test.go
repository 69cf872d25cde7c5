package protodec

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/kafkars/kafkars/core/decode"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

const allProto = `
syntax = "proto3";
package t.v1;
import "google/protobuf/timestamp.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/wrappers.proto";

enum Color { COLOR_UNSPECIFIED = 0; RED = 1; GREEN = 2; }
message Deep { int64 x = 1; repeated string tags = 2; }
message Inner { int32 a = 1; string b = 2; repeated int32 c = 3; Deep deep = 4; }
message All {
  int32 i32 = 1; sint32 s32 = 2; sfixed32 sf32 = 3;
  int64 i64 = 4; sint64 s64 = 5; sfixed64 sf64 = 6;
  uint32 u32 = 7; fixed32 f32 = 8; uint64 u64 = 9; fixed64 f64 = 10;
  bool b = 11; float fl = 12; double db = 13; string s = 14; bytes by = 15;
  Color color = 16;
  optional int32 opt = 17;
  Inner inner = 18;
  repeated int32 ri = 19;
  repeated string rs = 20;
  repeated Inner rm = 21;
  map<string, int64> m = 22;
  map<int32, Inner> mm = 23;
  oneof choice { string os = 24; Inner om = 25; int32 oi = 26; }
  google.protobuf.Timestamp ts = 27;
  google.protobuf.Duration du = 28;
  google.protobuf.Int64Value w64 = 29;
  google.protobuf.StringValue ws = 30;
  repeated Color rc = 31;
  repeated double rd = 32;
  map<bool, Color> mb = 33;
  repeated google.protobuf.Timestamp rts = 34;
  map<string, google.protobuf.Timestamp> mts = 35;
  optional string opts = 36;
  google.protobuf.BoolValue wb = 37;
  google.protobuf.BytesValue wby = 38;
  repeated sint64 rs64 = 39;
  repeated fixed32 rf32 = 40;
}
`

const proto2Proto = `
syntax = "proto2";
package t.v2;
enum Kind { ALPHA = 1; BETA = 2; }
message Sub { optional int32 a = 1; repeated int32 r = 2; }
message P2 {
  optional int32 i = 1 [default = 7];
  required string name = 2;
  optional Kind kind = 3;
  repeated int32 unpacked = 4;
  repeated int32 packed = 5 [packed = true];
  optional group G = 6 { optional int32 ga = 7; repeated string gs = 8; }
  repeated group RG = 9 { optional int64 rx = 10; }
  optional Sub sub = 11;
  map<string, Sub> subs = 12;
  optional bytes raw = 13;
  repeated Kind kinds = 14;
  optional double d = 15;
}
`

func TestType(t *testing.T) {
	d, _ := newDecoder(t, allProto, "t.v1.All")
	typ := d.Type()
	want := map[string]string{
		"i32":   "int32",
		"s32":   "int32",
		"sf32":  "int32",
		"i64":   "int64",
		"s64":   "int64",
		"sf64":  "int64",
		"u32":   "uint32",
		"f32":   "uint32",
		"u64":   "uint64",
		"f64":   "uint64",
		"b":     "bool",
		"fl":    "float32",
		"db":    "float64",
		"s":     "utf8",
		"by":    "binary",
		"color": "utf8",
		"opt":   "int32",
		"inner": "struct<a: int32, b: utf8, c: list<item: int32>, deep: struct<x: int64, tags: list<item: utf8>> nullable>",
		"ri":    "list<item: int32>",
		"m":     "map<utf8, int64, items_non_nullable>",
		"ts":    "timestamp[ns, tz=UTC]",
		"du":    "duration[ns]",
		"w64":   "int64",
		"ws":    "utf8",
		"wb":    "bool",
		"wby":   "binary",
		"rts":   "list<item: timestamp[ns, tz=UTC]>",
	}
	nullable := map[string]bool{"opt": true, "inner": true, "os": true, "om": true, "oi": true, "ts": true, "du": true,
		"w64": true, "ws": true, "opts": true, "wb": true, "wby": true}
	if typ.NumFields() != 40 {
		t.Fatalf("%d fields, want 40", typ.NumFields())
	}
	for i, f := range typ.Fields() {
		if w, ok := want[f.Name]; ok && f.Type.String() != w {
			t.Errorf("field %d %s: type %s, want %s", i, f.Name, f.Type, w)
		}
		if f.Nullable != nullable[f.Name] {
			t.Errorf("field %s: nullable %v, want %v", f.Name, f.Nullable, nullable[f.Name])
		}
	}
	if typ.Field(0).Name != "i32" || typ.Field(39).Name != "rf32" {
		t.Errorf("fields not in declaration order: %v", typ)
	}
	mt := typ.Field(22).Type.(*arrow.MapType)
	if mt.ItemField().Nullable || mt.KeyField().Nullable {
		t.Errorf("map entries nullable: %v", mt)
	}
	if lt := typ.Field(18).Type.(*arrow.ListType); lt.ElemField().Nullable {
		t.Errorf("list elements nullable: %v", lt)
	}
}

// TestDifferential decodes random messages, and concatenations of two
// (which the protobuf encoding defines as their merge), and compares
// with dynamicpb followed by the reference walk.
func TestDifferential(t *testing.T) {
	for _, tc := range []struct{ src, msg string }{{allProto, "t.v1.All"}, {proto2Proto, "t.v2.P2"}} {
		t.Run(tc.msg, func(t *testing.T) {
			d, md := newDecoder(t, tc.src, tc.msg)
			r := rand.New(rand.NewPCG(1, 2))
			var recs [][]byte
			for i := 0; i < 400; i++ {
				m := dynamicpb.NewMessage(md)
				fill(r, m, 0)
				b, err := proto.MarshalOptions{Deterministic: true, AllowPartial: true}.Marshal(m)
				if err != nil {
					t.Fatal(err)
				}
				recs = append(recs, b)
			}
			for i := 0; i+1 < 400; i += 2 {
				recs = append(recs, cat(recs[i], recs[i+1]))
			}
			got, errs := rows(t, d, recs...)
			want := reflectRows(t, md, d.Type(), recs...)
			for i := range recs {
				if errs[i] != nil {
					t.Fatalf("record %d: %v", i, errs[i])
				}
				g, w := js(normalize(got[i])), js(normalize(want[i]))
				if g != w {
					t.Fatalf("record %d:\n got %s\nwant %s", i, g, w)
				}
			}
		})
	}
}

func TestScalars(t *testing.T) {
	d, _ := newDecoder(t, allProto, "t.v1.All")
	tests := []struct {
		name  string
		rec   []byte
		field string
		want  string
	}{
		{"int32", varintField(1, 5), "i32", `5`},
		{"int32 negative (10-byte varint)", varintField(1, uint64(math.MaxUint64-4)), "i32", `-5`},
		{"int32 truncates 64-bit varint", varintField(1, 1<<32|7), "i32", `7`},
		{"sint32", varintField(2, zz(-3)), "s32", `-3`},
		{"sint32 min", varintField(2, zz(math.MinInt32)), "s32", `-2147483648`},
		{"sfixed32", fixed32Field(3, uint32(0xffffffff)), "sf32", `-1`},
		{"int64", varintField(4, uint64(1<<62)), "i64", `4611686018427387904`},
		{"int64 negative", varintField(4, math.MaxUint64), "i64", `-1`},
		{"sint64", varintField(5, zz(math.MinInt64)), "s64", `-9223372036854775808`},
		{"sfixed64", fixed64Field(6, math.MaxUint64), "sf64", `-1`},
		{"uint32", varintField(7, math.MaxUint32), "u32", `4294967295`},
		{"fixed32", fixed32Field(8, 123456), "f32", `123456`},
		{"uint64", varintField(9, math.MaxUint64), "u64", `18446744073709551615`},
		{"fixed64", fixed64Field(10, 1<<63), "f64", `9223372036854775808`},
		{"bool", varintField(11, 1), "b", `true`},
		{"bool any nonzero", varintField(11, 300), "b", `true`},
		{"float", fixed32Field(12, math.Float32bits(1.5)), "fl", `1.5`},
		{"double", fixed64Field(13, math.Float64bits(-2.25)), "db", `-2.25`},
		{"string", strField(14, "héllo"), "s", `"héllo"`},
		{"empty string", strField(14, ""), "s", `""`},
		{"bytes", bytesField(15, []byte{0, 0xff}), "by", `"AP8="`},
		{"enum", varintField(16, 2), "color", `"GREEN"`},
		{"enum unknown number", varintField(16, 99), "color", `"99"`},
		{"enum negative unknown", varintField(16, uint64(math.MaxUint64)), "color", `"-1"`},
		{"wrapper int64", bytesField(29, varintField(1, 42)), "w64", `42`},
		{"wrapper empty is the default", bytesField(29, nil), "w64", `0`},
		{"wrapper string", bytesField(30, strField(1, "x")), "ws", `"x"`},
		{"wrapper bool", bytesField(37, varintField(1, 1)), "wb", `true`},
		{"wrapper bytes", bytesField(38, bytesField(1, []byte{1})), "wby", `"AQ=="`},
		{"timestamp", bytesField(27, cat(varintField(1, 1700000000), varintField(2, 5))), "ts", `"2023-11-14T22:13:20.000000005Z"`},
		{"timestamp negative", bytesField(27, cat(varintField(1, uint64(math.MaxUint64)), varintField(2, 999999999))), "ts", `"1969-12-31T23:59:59.999999999Z"`},
		{"timestamp empty is the epoch", bytesField(27, nil), "ts", `"1970-01-01T00:00:00Z"`},
		{"duration", bytesField(28, cat(varintField(1, 90), varintField(2, 500))), "du", `"90000000500ns"`},
		{"duration negative", bytesField(28, cat(varintField(1, uint64(math.MaxUint64)), varintField(2, uint64(math.MaxUint64-99)))), "du", `"-1000000100ns"`},
		{"unknown fields are skipped", cat(varintField(1000, 1), fixed32Field(1001, 1), fixed64Field(1002, 1), strField(1003, "x"), groupField(1004, varintField(1, 1)), varintField(1, 9)), "i32", `9`},
		{"nested unknown groups", cat(groupField(1004, groupField(5, groupField(6, strField(1, "x")))), varintField(1, 3)), "i32", `3`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := row(t, d, tt.rec)
			if g := js(got[tt.field]); g != tt.want {
				t.Errorf("%s = %s, want %s", tt.field, g, tt.want)
			}
		})
	}
}

func TestPresence(t *testing.T) {
	d, _ := newDecoder(t, allProto, "t.v1.All")
	got := row(t, d, nil) // the empty message
	want := map[string]string{
		// implicit presence: the default value
		"i32": `0`, "s32": `0`, "sf32": `0`, "i64": `0`, "u64": `0`, "f64": `0`,
		"b": `false`, "fl": `0`, "db": `0`, "s": `""`, "by": `""`,
		"color": `"COLOR_UNSPECIFIED"`,
		// explicit presence: null
		"opt": `null`, "opts": `null`, "inner": `null`, "os": `null`, "om": `null`, "oi": `null`,
		"ts": `null`, "du": `null`, "w64": `null`, "ws": `null`, "wb": `null`, "wby": `null`,
		// repeated and maps: empty
		"ri": `[]`, "rs": `[]`, "rm": `[]`, "m": `[]`, "mm": `[]`, "rts": `[]`,
	}
	for f, w := range want {
		if g := js(got[f]); g != w {
			t.Errorf("absent %s = %s, want %s", f, g, w)
		}
	}
	// Present with the default value: explicit presence fields are set.
	got = row(t, d, cat(varintField(17, 0), strField(36, ""), varintField(26, 0), bytesField(18, nil)))
	for f, w := range map[string]string{"opt": `0`, "opts": `""`, "oi": `0`, "inner": `{"a":0,"b":"","c":[],"deep":null}`} {
		if g := js(got[f]); g != w {
			t.Errorf("present %s = %s, want %s", f, g, w)
		}
	}

	d2, _ := newDecoder(t, proto2Proto, "t.v2.P2")
	got = row(t, d2, nil)
	for f, w := range map[string]string{
		"i":    `null`, // proto2 optional with a default: absent is null, not 7
		"name": `null`, "kind": `null`, "g": `null`, "sub": `null`, "raw": `null`, "d": `null`,
		"unpacked": `[]`, "rg": `[]`, "subs": `[]`,
	} {
		if g := js(got[f]); g != w {
			t.Errorf("proto2 absent %s = %s, want %s", f, g, w)
		}
	}
}

func TestRepeated(t *testing.T) {
	d, _ := newDecoder(t, allProto, "t.v1.All")
	d2, _ := newDecoder(t, proto2Proto, "t.v2.P2")
	tests := []struct {
		name  string
		d     *Decoder
		rec   []byte
		field string
		want  string
	}{
		{"packed", d, packedVarints(19, 1, 2, 3), "ri", `[1,2,3]`},
		{"unpacked", d, cat(varintField(19, 1), varintField(19, 2)), "ri", `[1,2]`},
		{"mixed, interleaved with other fields", d, cat(varintField(19, 1), varintField(1, 5), packedVarints(19, 2, 3), varintField(19, 4)), "ri", `[1,2,3,4]`},
		{"empty packed", d, packedVarints(19), "ri", `[]`},
		{"packed negative int32", d, packedVarints(19, math.MaxUint64), "ri", `[-1]`},
		{"packed doubles", d, bytesField(32, cat(fixed64Bytes(math.Float64bits(1)), fixed64Bytes(math.Float64bits(2.5)))), "rd", `[1,2.5]`},
		{"unpacked doubles", d, cat(fixed64Field(32, math.Float64bits(1)), fixed64Field(32, math.Float64bits(2))), "rd", `[1,2]`},
		{"packed fixed32", d, bytesField(40, []byte{1, 0, 0, 0, 2, 0, 0, 0}), "rf32", `[1,2]`},
		{"packed sint64", d, packedVarints(39, zz(-1), zz(5)), "rs64", `[-1,5]`},
		{"packed enums, unknown kept", d, packedVarints(31, 1, 7, 2), "rc", `["RED","7","GREEN"]`},
		{"strings", d, cat(strField(20, "a"), strField(20, ""), strField(20, "c")), "rs", `["a","","c"]`},
		{"messages", d, cat(bytesField(21, varintField(1, 1)), bytesField(21, nil)), "rm", `[{"a":1,"b":"","c":[],"deep":null},{"a":0,"b":"","c":[],"deep":null}]`},
		{"timestamps", d, cat(bytesField(34, varintField(1, 1)), bytesField(34, nil)), "rts", `["1970-01-01T00:00:01Z","1970-01-01T00:00:00Z"]`},
		{"proto2 unpacked field sent packed", d2, cat(strField(2, "n"), packedVarints(4, 1, 2)), "unpacked", `[1,2]`},
		{"proto2 packed field sent unpacked", d2, cat(strField(2, "n"), varintField(5, 3), varintField(5, 4)), "packed", `[3,4]`},
		{"repeated groups", d2, cat(groupField(9, varintField(10, 1)), groupField(9, nil)), "rg", `[{"rx":1},{"rx":null}]`},
		{"repeated closed enum", d2, packedVarints(14, 2, 1), "kinds", `["BETA","ALPHA"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := row(t, tt.d, tt.rec)
			if g := js(got[tt.field]); g != tt.want {
				t.Errorf("%s = %s, want %s", tt.field, g, tt.want)
			}
		})
	}
}

func fixed64Bytes(v uint64) []byte {
	return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24), byte(v >> 32), byte(v >> 40), byte(v >> 48), byte(v >> 56)}
}

func TestMerge(t *testing.T) {
	d, _ := newDecoder(t, allProto, "t.v1.All")
	d2, _ := newDecoder(t, proto2Proto, "t.v2.P2")
	tests := []struct {
		name  string
		d     *Decoder
		rec   []byte
		field string
		want  string
	}{
		{"last scalar wins", d, cat(varintField(1, 1), varintField(1, 2)), "i32", `2`},
		{"last string wins", d, cat(strField(14, "a"), strField(14, "b")), "s", `"b"`},
		{"last enum wins", d, cat(varintField(16, 1), varintField(16, 2)), "color", `"GREEN"`},
		{"messages merge: scalars last wins, lists append, sub-messages merge", d,
			cat(bytesField(18, cat(varintField(1, 1), strField(2, "x"), varintField(3, 1), bytesField(4, cat(varintField(1, 5), strField(2, "t1"))))),
				varintField(1, 9),
				bytesField(18, cat(varintField(1, 2), varintField(3, 2), bytesField(4, strField(2, "t2"))))),
			"inner", `{"a":2,"b":"x","c":[1,2],"deep":{"tags":["t1","t2"],"x":5}}`},
		{"timestamps merge", d, cat(bytesField(27, varintField(1, 1)), bytesField(27, varintField(2, 7))), "ts", `"1970-01-01T00:00:01.000000007Z"`},
		{"wrappers merge (last value wins)", d, cat(bytesField(29, varintField(1, 1)), bytesField(29, nil), bytesField(29, varintField(1, 3))), "w64", `3`},
		{"oneof: last member wins", d, cat(strField(24, "s"), varintField(26, 5)), "oi", `5`},
		{"oneof: earlier member is null", d, cat(strField(24, "s"), varintField(26, 5)), "os", `null`},
		{"oneof: same message member merges", d, cat(bytesField(25, varintField(1, 1)), bytesField(25, strField(2, "b"))), "om", `{"a":1,"b":"b","c":[],"deep":null}`},
		{"oneof: message member reset by another member", d, cat(bytesField(25, varintField(1, 1)), varintField(26, 2), bytesField(25, strField(2, "b"))), "om", `{"a":0,"b":"b","c":[],"deep":null}`},
		{"oneof: reset member is null", d, cat(bytesField(25, varintField(1, 1)), varintField(26, 2), bytesField(25, strField(2, "b"))), "oi", `null`},
		{"map: last entry for a key wins", d, cat(mapEntry(22, strField(1, "k"), varintField(2, 1)), mapEntry(22, strField(1, "j"), varintField(2, 2)), mapEntry(22, strField(1, "k"), varintField(2, 3))), "m", `[{"key":"j","value":2},{"key":"k","value":3}]`},
		{"map: entry without key or value has the defaults", d, cat(mapEntry(22, nil, nil)), "m", `[{"key":"","value":0}]`},
		{"map: message value absent is an empty message", d, cat(mapEntry(23, varintField(1, 4), nil)), "mm", `[{"key":4,"value":{"a":0,"b":"","c":[],"deep":null}}]`},
		{"map: entry fields repeat (last key wins, value merges)", d, mapEntry(23, cat(varintField(1, 1), bytesField(2, varintField(1, 3)), varintField(1, 4)), bytesField(2, strField(2, "v"))), "mm", `[{"key":4,"value":{"a":3,"b":"v","c":[],"deep":null}}]`},
		{"map: message value entries merge", d, mapEntry(23, varintField(1, 1), cat(bytesField(2, varintField(1, 3)), bytesField(2, strField(2, "z")))), "mm", `[{"key":1,"value":{"a":3,"b":"z","c":[],"deep":null}}]`},
		{"map: int32 keys normalized (5- and 10-byte -1)", d, cat(mapEntry(23, varintField(1, math.MaxUint32), bytesField(2, varintField(1, 1))), mapEntry(23, varintField(1, math.MaxUint64), bytesField(2, varintField(1, 2)))), "mm", `[{"key":-1,"value":{"a":2,"b":"","c":[],"deep":null}}]`},
		{"map: bool keys, enum values", d, cat(mapEntry(33, varintField(1, 1), varintField(2, 1)), mapEntry(33, varintField(1, 2), varintField(2, 2)), mapEntry(33, nil, nil)), "mb", `[{"key":true,"value":"GREEN"},{"key":false,"value":"COLOR_UNSPECIFIED"}]`},
		{"map: timestamp values", d, mapEntry(35, strField(1, "a"), bytesField(2, varintField(1, 60))), "mts", `[{"key":"a","value":"1970-01-01T00:01:00Z"}]`},
		{"proto2 group merges", d2, cat(strField(2, "n"), groupField(6, cat(varintField(7, 1), strField(8, "a"))), groupField(6, strField(8, "b"))), "g", `{"ga":1,"gs":["a","b"]}`},
		{"proto2 map of messages", d2, cat(strField(2, "n"), mapEntry(12, strField(1, "k"), bytesField(2, varintField(1, 1))), mapEntry(12, strField(1, "k"), bytesField(2, varintField(2, 5)))), "subs", `[{"key":"k","value":{"a":null,"r":[5]}}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := row(t, tt.d, tt.rec)
			if g := js(got[tt.field]); g != tt.want {
				t.Errorf("%s = %s, want %s", tt.field, g, tt.want)
			}
		})
	}
}

func mapEntry(num int, key, value []byte) []byte { return bytesField(num, cat(key, value)) }

// TestLargeMapDedup exercises the sorting path of duplicate keys.
func TestLargeMapDedup(t *testing.T) {
	d, _ := newDecoder(t, allProto, "t.v1.All")
	var rec []byte
	want := map[string]int{}
	var order []string
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 200; i++ {
		k := string(rune('a' + r.IntN(26)))
		rec = append(rec, mapEntry(22, strField(1, k), varintField(2, uint64(i)))...)
		want[k] = i
	}
	for i := 0; i < 200; i++ { // the order of the last occurrences
		for k, v := range want {
			if v == i {
				order = append(order, k)
			}
		}
	}
	got := row(t, d, rec)["m"].([]any)
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d", len(got), len(want))
	}
	for i, e := range got {
		e := e.(map[string]any)
		if e["key"] != order[i] || e["value"].(json.Number).String() != strconv.Itoa(want[order[i]]) {
			t.Fatalf("entry %d = %v, want %s: %d", i, e, order[i], want[order[i]])
		}
	}
}

func TestMalformed(t *testing.T) {
	d, _ := newDecoder(t, allProto, "t.v1.All")
	d2, _ := newDecoder(t, proto2Proto, "t.v2.P2")
	tests := []struct {
		name string
		d    *Decoder
		rec  []byte
		want string // in the error text
	}{
		{"truncated tag", d, []byte{0x80}, "truncated or invalid tag at byte 0"},
		{"field number 0", d, []byte{0x00, 0x01}, "invalid field number 0"},
		{"truncated varint", d, []byte{0x08, 0x80}, "field i32: truncated or overlong varint"},
		{"overlong varint", d, append([]byte{0x08}, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), "field i32: truncated or overlong varint"},
		{"truncated fixed32", d, []byte{0x1d, 1, 2}, "field sf32: truncated fixed32"},
		{"truncated fixed64", d, []byte{0x31, 1, 2, 3}, "field sf64: truncated fixed64"},
		{"truncated length", d, []byte{0x72, 0x05, 'a'}, "field s: truncated string"},
		{"truncated length varint", d, []byte{0x72, 0x80}, "field s: truncated string"},
		{"wrong wire type", d, fixed64Field(1, 1), "field i32: wire type fixed64 (1), want varint (0) for int32"},
		{"wrong wire type for a string", d, varintField(14, 1), "field s: wire type varint (0), want length-delimited (2) for string"},
		{"packed singular field", d, packedVarints(1, 1), "field i32: wire type length-delimited (2), want varint (0)"},
		{"wrong wire type for a message", d, varintField(18, 1), "field inner: wire type varint (0), want length-delimited (2)"},
		{"group for a message field", d, groupField(18, nil), "field inner: wire type start group (3)"},
		{"invalid wire type", d, []byte{0x0e, 0}, "field i32: wire type invalid (6)"},
		{"invalid wire type of unknown field", d, tag(1000, 6), "field 1000: invalid wire type 6"},
		{"invalid UTF-8", d, strField(14, "a\xffb"), "field s: invalid UTF-8 in string at byte 2"},
		{"invalid UTF-8 in list", d, cat(strField(20, "ok"), strField(20, "\xc3")), "field rs[1]: invalid UTF-8"},
		{"invalid UTF-8 in map key", d, mapEntry(22, strField(1, "\xff"), nil), "field m[0].key: invalid UTF-8"},
		{"invalid UTF-8 in proto2 string", d2, strField(2, "\xff"), "field name: invalid UTF-8"},
		{"invalid UTF-8 deep", d, bytesField(21, bytesField(4, strField(2, "\xff"))), "field rm[0].deep.tags[0]: invalid UTF-8"},
		{"truncated inside nested message", d, bytesField(18, []byte{0x08}), "field inner.a: truncated or overlong varint"},
		{"nested message overruns", d, bytesField(18, []byte{0x12, 0x05, 'a'}), "field inner.b: truncated string"},
		{"packed varints truncated", d, bytesField(19, []byte{0x01, 0x80}), "field ri: truncated or overlong varint in packed field at offset 1"},
		{"packed fixed32 length", d, bytesField(40, []byte{1, 2, 3}), "field rf32: packed fixed32 values take 3 bytes"},
		{"packed fixed64 length", d, bytesField(32, make([]byte, 9)), "field rd: packed fixed64 values take 9 bytes"},
		{"unexpected end group", d, []byte{0x0c}, "unexpected end-group tag of field 1"},
		{"unknown group not closed", d, tag(1000, 3), "unknown group field 1000 has no end-group tag"},
		{"unknown group closed by another", d, cat(tag(1000, 3), tag(1, 4)), "unknown group field 1000 closed by end-group tag of field 1"},
		{"group not closed", d2, []byte{0x33, 0x38, 0x01}, "field g: group field 6 has no end-group tag"},
		{"group closed by another field", d2, []byte{0x33, 0x3c}, "field g: unexpected end-group tag of field 7"},
		{"group for unknown nested too deep", d, deepGroups(200), "groups nested more than 100 deep"},
		{"timestamp nanos", d, bytesField(27, varintField(2, 1e9)), "field ts: Timestamp nanos 1000000000 out of range"},
		{"timestamp negative nanos", d, bytesField(27, varintField(2, math.MaxUint64)), "field ts: Timestamp nanos -1 out of range"},
		{"timestamp beyond ns range", d, bytesField(27, varintField(1, 1e10)), "field ts: Timestamp 10000000000s 0ns does not fit timestamp[ns]"},
		{"timestamp beyond year 9999", d, bytesField(27, varintField(1, 1e12)), "field ts: Timestamp seconds 1000000000000 out of range"},
		{"timestamp invalid after merge", d, cat(bytesField(27, varintField(1, 1e10)), bytesField(27, varintField(1, 1))), ""},
		{"timestamp in list", d, cat(bytesField(34, nil), bytesField(34, varintField(2, 2e9))), "field rts[1]: Timestamp nanos 2000000000"},
		{"timestamp in map", d, mapEntry(35, nil, bytesField(2, varintField(2, 2e9))), "field mts[0].value: Timestamp nanos"},
		{"duration signs", d, bytesField(28, cat(varintField(1, 1), varintField(2, math.MaxUint64))), "field du: Duration seconds 1 and nanos -1 have different signs"},
		{"duration nanos", d, bytesField(28, varintField(2, 1e9)), "field du: Duration nanos 1000000000 out of range"},
		{"duration beyond ns range", d, bytesField(28, varintField(1, 1e11)), "field du: Duration 100000000000s 0ns does not fit duration[ns]"},
		{"duration beyond 10000 years", d, bytesField(28, varintField(1, 1e12)), "field du: Duration seconds 1000000000000 out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := rows(t, tt.d, tt.rec)
			err := errs[0]
			if tt.want == "" { // must decode
				if err != nil {
					t.Fatalf("Append: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if !errors.Is(err, decode.ErrMalformed) {
				t.Errorf("error %v does not wrap ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "protobuf t.v") {
				t.Errorf("error %q does not name the message type", err)
			}
		})
	}
}

// deepGroups is an unknown group field nested n deep.
func deepGroups(n int) []byte {
	var b []byte
	for i := 0; i < n; i++ {
		b = append(b, tag(1000, protowire.StartGroupType)...)
	}
	for i := 0; i < n; i++ {
		b = append(b, tag(1000, protowire.EndGroupType)...)
	}
	return b
}

func tag(num int, typ protowire.Type) []byte {
	return protowire.AppendTag(nil, protowire.Number(num), typ)
}

// TestAllOrNothing appends good and bad records alternately: every bad one
// leaves every builder at its length (checked by rows), and the good rows
// come out intact.
func TestAllOrNothing(t *testing.T) {
	d, _ := newDecoder(t, allProto, "t.v1.All")
	good := cat(varintField(1, 1), strField(14, "s"), bytesField(18, varintField(1, 2)), packedVarints(19, 1, 2), mapEntry(22, strField(1, "k"), varintField(2, 1)), bytesField(27, varintField(1, 1)))
	bads := [][]byte{
		cat(good, strField(14, "\xff")),                                                             // fails at the end, after all fields were seen
		cat(varintField(1, 1), bytesField(21, varintField(1, 1)), []byte{0x08}),                     // after a list of messages
		cat(mapEntry(22, strField(1, "a"), varintField(2, 1)), bytesField(27, varintField(2, 2e9))), // in pass 1.5
		cat(packedVarints(19, 1, 2), varintField(19, 3), bytesField(18, []byte{0x80})),
	}
	var recs [][]byte
	for _, b := range bads {
		recs = append(recs, good, b)
	}
	recs = append(recs, good)
	got, errs := rows(t, d, recs...)
	for i := range recs {
		if (errs[i] != nil) != (i%2 == 1) {
			t.Fatalf("record %d: error %v", i, errs[i])
		}
		if i%2 == 0 && js(got[i]) != js(got[0]) {
			t.Fatalf("record %d: %s, want %s", i, js(got[i]), js(got[0]))
		}
	}
}

func TestRecursiveAndLimits(t *testing.T) {
	tests := []struct {
		name, src, msg, want string
	}{
		{"self", `syntax = "proto3"; package r; message Node { Node next = 1; }`, "r.Node", "message r.Node is recursive (r.Node.next refers back to it)"},
		{"through a list", `syntax = "proto3"; package r; message A { repeated B b = 1; } message B { A a = 1; }`, "r.A", "message r.A is recursive (r.A.b.a refers back to it)"},
		{"through a map", `syntax = "proto3"; package r; message A { map<string, A> kids = 1; }`, "r.A", "message r.A is recursive"},
		{"google.protobuf.Struct", `syntax = "proto3"; package r; import "google/protobuf/struct.proto"; message A { google.protobuf.Struct s = 1; }`, "r.A", "recursive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, _ := compile(t, map[string]string{"r.proto": tt.src}, "r.proto")
			_, err := New(Options{Descriptors: raw, Message: tt.msg})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
	// A message type used twice is not recursion.
	d, _ := newDecoder(t, `syntax = "proto3"; package r; message P { int32 x = 1; } message A { P a = 1; P b = 2; repeated P c = 3; }`, "r.A")
	got := row(t, d, cat(bytesField(1, varintField(1, 1)), bytesField(2, varintField(1, 2)), bytesField(3, nil)))
	if js(got) != `{"a":{"x":1},"b":{"x":2},"c":[{"x":0}]}` {
		t.Errorf("got %s", js(got))
	}
}

func TestSparseFieldNumbers(t *testing.T) {
	d, _ := newDecoder(t, `syntax = "proto3"; package s; message M { int32 a = 1; string b = 100000; int64 c = 536870911; }`, "s.M")
	if d.root.sparse == nil {
		t.Fatal("want the sparse field table")
	}
	got := row(t, d, cat(varintField(536870911, 3), strField(100000, "x"), varintField(1, 1), varintField(99999, 5)))
	if js(got) != `{"a":1,"b":"x","c":3}` {
		t.Errorf("got %s", js(got))
	}
}

func TestEnumAliasesAndSparse(t *testing.T) {
	d, _ := newDecoder(t, `syntax = "proto3"; package e;
enum E { option allow_alias = true; ZERO = 0; ONE = 1; UNO = 1; BIG = 1000000; NEG = -5; }
message M { E e = 1; repeated E r = 2; }`, "e.M")
	got := row(t, d, cat(packedVarints(2, 1, 1000000, uint64(math.MaxUint64-4), 3)))
	if js(got["r"]) != `["ONE","BIG","NEG","3"]` || js(got["e"]) != `"ZERO"` {
		t.Errorf("got %s", js(got))
	}
}

func TestTimeUnitMicroseconds(t *testing.T) {
	raw, _ := compile(t, map[string]string{"test.proto": allProto}, "test.proto")
	d, err := New(Options{Descriptors: raw, Message: "t.v1.All", TimeUnit: Microseconds})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Type().Field(26).Type.String(); got != "timestamp[us, tz=UTC]" {
		t.Fatalf("type %s", got)
	}
	got := row(t, d, cat(
		bytesField(27, cat(varintField(1, 253402300799), varintField(2, 999999999))), // 9999-12-31, beyond ns
		bytesField(28, cat(varintField(1, uint64(math.MaxUint64)), varintField(2, uint64(math.MaxUint64-1499)))),
	))
	if js(got["ts"]) != `"9999-12-31T23:59:59.999999Z"` || js(got["du"]) != `"-1000001us"` {
		t.Errorf("got ts %s du %s", js(got["ts"]), js(got["du"]))
	}
}

// TestWarmAppendAllocs: no allocation per record once the tape and the
// builders have grown.
func TestWarmAppendAllocs(t *testing.T) {
	d, _ := newDecoder(t, allProto, "t.v1.All")
	rec := cat(varintField(1, 1), strField(14, "s"), varintField(16, 99), bytesField(18, varintField(1, 2)),
		packedVarints(19, 1, 2), mapEntry(22, strField(1, "k"), varintField(2, 1)), mapEntry(22, strField(1, "k"), varintField(2, 2)),
		bytesField(27, varintField(1, 1)), bytesField(29, varintField(1, 1)), strField(24, "x"))
	b := newBuilder(d)
	defer b.Release()
	b.Reserve(2000)
	reserveData(b, 1<<20)
	for i := 0; i < 10; i++ {
		if err := d.Append(b, rec); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(500, func() {
		if err := d.Append(b, rec); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per Append, want 0", allocs)
	}
}

func TestBuilderOfWrongType(t *testing.T) {
	d, _ := newDecoder(t, allProto, "t.v1.All")
	d2, _ := newDecoder(t, proto2Proto, "t.v2.P2")
	b := newBuilder(d2)
	defer b.Release()
	err := d.Append(b, nil)
	if err == nil || errors.Is(err, decode.ErrMalformed) || b.Len() != 0 {
		t.Fatalf("error %v, length %d", err, b.Len())
	}
}

// TestEditions: presence and encodings come from the features of
// editions files too (explicit presence by default, IMPLICIT opt-in,
// DELIMITED messages as groups, packed repeated fields).
func TestEditions(t *testing.T) {
	d, _ := newDecoder(t, `edition = "2023";
package ed;
message M {
  message Sub { int32 x = 1; }
  int32 a = 1;
  int32 b = 2 [features.field_presence = IMPLICIT];
  Sub sub = 3 [features.message_encoding = DELIMITED];
  repeated int32 r = 4;
  string s = 5;
}`, "ed.M")
	for i, want := range []bool{true, false, true, false, true} {
		if f := d.Type().Field(i); f.Nullable != want {
			t.Errorf("%s: nullable %v, want %v", f.Name, f.Nullable, want)
		}
	}
	if js(row(t, d, nil)) != `{"a":null,"b":0,"r":[],"s":null,"sub":null}` {
		t.Errorf("empty: %s", js(row(t, d, nil)))
	}
	got := row(t, d, cat(varintField(1, 0), groupField(3, varintField(1, 4)), packedVarints(4, 1, 2), varintField(4, 3)))
	if js(got) != `{"a":0,"b":0,"r":[1,2,3],"s":null,"sub":{"x":4}}` {
		t.Errorf("got %s", js(got))
	}
	if _, errs := rows(t, d, bytesField(3, varintField(1, 4))); !errors.Is(errs[0], decode.ErrMalformed) ||
		!strings.Contains(errs[0].Error(), "field sub: wire type length-delimited (2), want start group (3)") {
		t.Errorf("delimited sent length-prefixed: %v", errs[0])
	}
}

func TestOtherWellKnownTypes(t *testing.T) {
	d, _ := newDecoder(t, `syntax = "proto3"; package w;
import "google/protobuf/any.proto";
import "google/protobuf/empty.proto";
import "google/protobuf/field_mask.proto";
message M { google.protobuf.Any any = 1; google.protobuf.Empty empty = 2; google.protobuf.FieldMask mask = 3; }`, "w.M")
	got := row(t, d, cat(bytesField(1, cat(strField(1, "type.googleapis.com/x.Y"), bytesField(2, []byte{8, 1}))), bytesField(2, nil), bytesField(3, cat(strField(1, "a.b"), strField(1, "c")))))
	if js(got) != `{"any":{"type_url":"type.googleapis.com/x.Y","value":"CAE="},"empty":{},"mask":{"paths":["a.b","c"]}}` {
		t.Errorf("got %s", js(got))
	}
	if got := row(t, d, nil); js(got) != `{"any":null,"empty":null,"mask":null}` {
		t.Errorf("absent: %s", js(got))
	}
}

// TestDescriptorsWithoutWellKnownImports: a set written without
// --include_imports still works when only google/protobuf files are
// missing.
func TestDescriptorsWithoutWellKnownImports(t *testing.T) {
	raw, _ := compile(t, map[string]string{"test.proto": allProto}, "test.proto")
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(raw, &set); err != nil {
		t.Fatal(err)
	}
	var kept []*descriptorpb.FileDescriptorProto
	for _, f := range set.File {
		if !strings.HasPrefix(f.GetName(), "google/") {
			kept = append(kept, f)
		}
	}
	if len(kept) != 1 {
		t.Fatalf("kept %d files", len(kept))
	}
	set.File = kept
	raw, _ = proto.Marshal(&set)
	d, err := New(Options{Descriptors: raw, Message: "t.v1.All"})
	if err != nil {
		t.Fatal(err)
	}
	if got := row(t, d, bytesField(27, varintField(1, 1))); js(got["ts"]) != `"1970-01-01T00:00:01Z"` {
		t.Errorf("ts = %s", js(got["ts"]))
	}
	// A missing import of the user's own is an error that says so.
	set.File[0].Dependency = append(set.File[0].Dependency, "shop/missing.proto")
	raw, _ = proto.Marshal(&set)
	if _, err := New(Options{Descriptors: raw, Message: "t.v1.All"}); err == nil || !strings.Contains(err.Error(), "--include_imports") {
		t.Errorf("error %v", err)
	}
}
