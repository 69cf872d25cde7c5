package avrodec

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
)

// TestNoAllocWarm: once warm, Append allocates nothing (into builders
// reserved up front), for plain trades and for a record that needs
// resolution (reordered fields, a default, a skipped field, unions, a map).
func TestNoAllocWarm(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	recs := trades(t, 100)
	d, _ := tradeDecoder(t)

	writer := `{"type":"record","name":"R","fields":[{"name":"m","type":{"type":"map","values":"long"}},{"name":"gone","type":{"type":"array","items":"string"}},{"name":"u","type":["null","int","string"]},{"name":"s","type":"string"}]}`
	reader := `{"type":"record","name":"R","fields":[{"name":"s","type":"string"},{"name":"d","type":["null","string"],"default":null},{"name":"u","type":["null","long","string"]},{"name":"m","type":{"type":"map","values":"double"}}]}`
	reg := newRegistry()
	reg.add(5, "", writer)
	d2, err := New(Options{Schema: reader, Framing: Confluent, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	var recs2 [][]byte
	for _, u := range []any{nil, int32(3), "x"} {
		recs2 = append(recs2, framed(5, encode(t, writer, map[string]any{"m": map[string]any{"a": int64(1), "b": int64(2)}, "gone": []any{"p", "q"}, "u": u, "s": "str"})))
	}

	for _, c := range []struct {
		name string
		d    *Decoder
		recs [][]byte
	}{{"trades", d, recs}, {"resolved", d2, recs2}} {
		t.Run(c.name, func(t *testing.T) {
			b := newBuilder(c.d)
			defer b.Release()
			reserveAll(b, 200_000)
			run := func() {
				for _, r := range c.recs {
					if err := c.d.Append(b, r); err != nil {
						t.Fatal(err)
					}
				}
			}
			run() // warm: programs compiled, scratch grown
			if n := testing.AllocsPerRun(100, run); n != 0 {
				t.Fatalf("%v allocations per %d records", n, len(c.recs))
			}
		})
	}
}

// reserveAll reserves n values in b and every builder under it.
func reserveAll(b array.Builder, n int) {
	b.Reserve(n)
	switch b := b.(type) {
	case *array.StructBuilder:
		for i := range b.NumField() {
			reserveAll(b.FieldBuilder(i), n)
		}
	case *array.ListBuilder:
		reserveAll(b.ValueBuilder(), 4*n)
	case *array.MapBuilder:
		reserveAll(b.KeyBuilder(), 4*n)
		reserveAll(b.ItemBuilder(), 4*n)
	case *array.StringBuilder:
		b.ReserveData(16 * n)
	}
}
