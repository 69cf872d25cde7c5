package jsondec

import (
	"math/rand/v2"
	"testing"
)

// FuzzAppend feeds arbitrary bytes to a decoder of every type. It must not
// panic; a failed Append must leave the builder as it was (appendChecked);
// and the builder must stay usable and produce a valid array.
func FuzzAppend(f *testing.F) {
	g := &gen{rand.New(rand.NewPCG(3, 4))}
	for range 20 {
		rec, _ := g.object(nil, richType)
		f.Add(rec, uint8(0))
	}
	for _, s := range []string{
		`{}`, `{"id":1,"req":""}`, `{"id":1,"req":"x","legs":[{"qty":1},{"qty":2.5}]}`,
		`{"id":1,"req":"\ud83d\ude00","ts":"2024-11-19T07:06:40.123456+05:30","dec":"-1.5e-2"}`,
		`{"id":1,"req":"x","attrs":{"a":1,"a":2},"meta":{"inner":{"y":[true,null]}}}`,
		`{"id":-9223372036854775808,"req":"x","u64":18446744073709551615,"f32":3.4e38}`,
		`{"id":1,"req":"x","bin":"aGVsbG8=","fbin":"AQIDBA==","d32":"2024-02-29"}`,
		`{"id":1,"req":"x","unknown":[[[[[[{"a":[1,2,{"b":null}]}]]]]]]}`,
		`[`, `{"id":`, `{"id":1e5}`, "{\"req\":\"\xff\"}", `{"req":"\u12"}`, `{"id":1}x`,
	} {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(0xff))
	}
	good := []byte(`{"id":1,"req":"ok"}`)
	f.Fuzz(func(t *testing.T, data []byte, flags uint8) {
		opts := Options{
			DisallowUnknownMembers: flags&1 != 0,
			ZeroForMissing:         flags&2 != 0,
			QuotedNumbers:          flags&4 != 0,
			TruncateTimestamps:     flags&8 != 0,
			Binary:                 BinaryEncoding(flags >> 4 & 1),
			MaxDepth:               int(flags >> 5), // 0 (default) to 7
		}
		if opts.MaxDepth != 0 && opts.MaxDepth < 4 {
			opts.MaxDepth = 4 // richType nests 4 deep
		}
		dec, err := New(richType, opts)
		if err != nil {
			t.Fatal(err)
		}
		b := newBuilder(richType)
		defer b.Release()
		if err := appendChecked(t, dec, b, good); err != nil {
			t.Fatal(err)
		}
		_ = appendChecked(t, dec, b, data)
		if err := appendChecked(t, dec, b, good); err != nil {
			t.Fatal(err)
		}
		finish(t, b)
	})
}
