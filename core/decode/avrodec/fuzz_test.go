package avrodec

import (
	"errors"
	"slices"
	"testing"

	"github.com/kafkars/kafkars/core/decode"
)

// fuzzSchema has a field of every kind the decoder handles.
const fuzzSchema = `{"type":"record","name":"F","namespace":"z","fields":[
	{"name":"b","type":"boolean"},
	{"name":"i","type":"int"},
	{"name":"l","type":"long"},
	{"name":"f","type":"float"},
	{"name":"d","type":"double"},
	{"name":"s","type":"string"},
	{"name":"by","type":"bytes"},
	{"name":"fx","type":{"type":"fixed","name":"Fx","size":3}},
	{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B","C"]}},
	{"name":"n","type":["null","string"]},
	{"name":"u","type":["null","int","string",{"type":"record","name":"In","fields":[{"name":"x","type":"long"}]}]},
	{"name":"a","type":{"type":"array","items":{"type":"record","name":"It","fields":[{"name":"k","type":"string"},{"name":"v","type":["null","double"]}]}}},
	{"name":"m","type":{"type":"map","values":{"type":"array","items":"null"}}},
	{"name":"ts","type":{"type":"long","logicalType":"timestamp-micros"}},
	{"name":"dt","type":{"type":"int","logicalType":"date"}},
	{"name":"dec","type":{"type":"bytes","logicalType":"decimal","precision":20,"scale":4}},
	{"name":"dec2","type":{"type":"fixed","name":"D","size":20,"logicalType":"decimal","precision":45,"scale":2}},
	{"name":"uu","type":{"type":"fixed","name":"U","size":16,"logicalType":"uuid"}}]}`

// fuzzReader reads fuzzSchema-written data with resolution at work:
// reordered and dropped fields, promotions, a default, enum default,
// union remapping, time unit conversion.
const fuzzReader = `{"type":"record","name":"F","namespace":"z","fields":[
	{"name":"m","type":{"type":"map","values":{"type":"array","items":"null"}}},
	{"name":"i","type":"double"},
	{"name":"s","type":"bytes"},
	{"name":"by","type":"string"},
	{"name":"e","type":{"type":"enum","name":"E","symbols":["C","A","Z"],"default":"Z"}},
	{"name":"u","type":["null","long","string",{"type":"record","name":"In","fields":[{"name":"x","type":"double"},{"name":"y","type":"int","default":1}]}]},
	{"name":"new","type":["null","string"],"default":null},
	{"name":"a","type":{"type":"array","items":{"type":"record","name":"It","fields":[{"name":"v","type":["null","double"]}]}}},
	{"name":"ts","type":{"type":"long","logicalType":"timestamp-nanos"}},
	{"name":"l","type":"float"}]}`

func FuzzAppend(f *testing.F) {
	full := map[string]any{
		"b": true, "i": int32(-7), "l": int64(1) << 40, "f": float32(1.5), "d": 2.5, "s": "héllo", "by": []byte{0, 1},
		"fx": []byte("abc"), "e": "B", "n": "x", "u": map[string]any{"In": map[string]any{"x": int64(3)}},
		"a": []any{map[string]any{"k": "k1", "v": 1.0}, map[string]any{"k": "k2", "v": nil}},
		"m": map[string]any{"q": []any{nil, nil}}, "ts": int64(1_700_000_000_000_000), "dt": int32(19000),
		"dec": []byte{0x12, 0x34}, "dec2": make([]byte, 20), "uu": make([]byte, 16),
	}
	valid := encode(f, fuzzSchema, full)
	full["u"], full["n"], full["a"], full["m"] = "str", nil, []any{}, map[string]any{}
	valid2 := encode(f, fuzzSchema, full)
	for _, seed := range [][]byte{valid, valid2, valid[:len(valid)/2], append(slices.Clone(valid), 0), {}, {0xff, 0xff, 0xff}} {
		f.Add(byte(0), seed)
		f.Add(byte(1), seed)
	}

	raw, err := New(Options{Schema: fuzzSchema})
	if err != nil {
		f.Fatal(err)
	}
	resolved, err := New(Options{Schema: fuzzReader, WriterSchema: fuzzSchema})
	if err != nil {
		f.Fatal(err)
	}
	rawB, resB := newBuilder(raw), newBuilder(resolved)
	f.Cleanup(func() { rawB.Release(); resB.Release() })
	// The seeds must decode, or the fuzzer starts from nothing useful.
	for _, d := range []*Decoder{raw, resolved} {
		b := newBuilder(d)
		for _, v := range [][]byte{valid, valid2} {
			if err := d.Append(b, v); err != nil {
				f.Fatalf("seed: %v", err)
			}
		}
		b.Release()
	}

	f.Fuzz(func(t *testing.T, which byte, data []byte) {
		d, b := raw, rawB
		if which&1 == 1 {
			d, b = resolved, resB
		}
		if b.Len() > 10_000 {
			b.NewArray().Release()
		}
		before := lengths(b)
		err := d.Append(b, data)
		after := lengths(b)
		if err != nil {
			if !errors.Is(err, decode.ErrMalformed) {
				t.Fatalf("error is not malformed: %v", err)
			}
			if !slices.Equal(before, after) {
				t.Fatalf("lengths %v after error %v, were %v", after, err, before)
			}
			return
		}
		if after[0] != before[0]+1 {
			t.Fatalf("%d rows after a successful append, were %d", after[0], before[0])
		}
		for i := 1; i < len(after); i++ {
			if after[i] < before[i] {
				t.Fatalf("builder %d shrank", i)
			}
		}
	})
}
