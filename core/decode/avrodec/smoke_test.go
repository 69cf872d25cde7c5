package avrodec

import (
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/avro"
)

func TestSmoke(t *testing.T) {
	schema := `{"type":"record","name":"R","fields":[
	{"name":"s","type":"string"},{"name":"d","type":"double"},{"name":"l","type":"long"},
	{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}},
	{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
	{"name":"o","type":["null","int"]},
	{"name":"u","type":["null","int","string"]},
	{"name":"m","type":{"type":"map","values":"long"}},
	{"name":"a","type":{"type":"array","items":"string"}},
	{"name":"dec","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},
	{"name":"uu","type":{"type":"fixed","name":"U","size":16,"logicalType":"uuid"}}
	]}`
	s := avro.MustParse(schema)
	v := map[string]any{"s": "hi", "d": 1.5, "l": int64(7), "e": "B", "ts": time.UnixMilli(1000).UTC(), "o": int32(3), "u": "x",
		"m": map[string]any{"k": int64(1)}, "a": []any{"p", "q"}, "dec": []byte{0x01, 0x00}, "uu": [16]byte{1, 2, 3}}
	data, err := s.Encode(v)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewBuilder(memory.NewGoAllocator(), d.Type()).(*array.StructBuilder)
	if err := d.Append(b, data); err != nil {
		t.Fatal(err)
	}
	arr := b.NewArray()
	j, _ := arr.MarshalJSON()
	fmt.Println(d.Type(), string(j))
}
