package avrodec

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/kafkars/kafkars/core/decode"
)

// TestOneRequestPerID: 10 000 records over three writer schema ids (the
// reader is the subject's latest) make one registry request per id.
func TestOneRequestPerID(t *testing.T) {
	v1 := `{"type":"record","name":"T","fields":[{"name":"sym","type":"string"}]}`
	v2 := `{"type":"record","name":"T","fields":[{"name":"sym","type":"string"},{"name":"px","type":"float","default":0}]}`
	v3 := `{"type":"record","name":"T","fields":[{"name":"sym","type":"string"},{"name":"px","type":"double","default":0},{"name":"venue","type":["null","string"],"default":null}]}`
	reg := newRegistry()
	reg.add(11, "t-value", v1)
	reg.add(12, "t-value", v2)
	reg.add(13, "t-value", v3)
	d, err := New(Options{Subject: "t-value", Framing: Confluent, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.Type().String(), "struct<sym: utf8, px: float64, venue: utf8 nullable>"; got != want {
		t.Fatalf("type %s, want %s (the latest version)", got, want)
	}
	recs := [][]byte{
		framed(11, encode(t, v1, map[string]any{"sym": "A"})),
		framed(12, encode(t, v2, map[string]any{"sym": "B", "px": float32(1.5)})),
		framed(13, encode(t, v3, map[string]any{"sym": "C", "px": 2.5, "venue": "X"})),
	}
	b := newBuilder(d)
	defer b.Release()
	for i := range 10_000 {
		// Runs of ids, and alternation, both happen in real topics.
		r := recs[i%3]
		if i >= 5000 {
			r = recs[(i/100)%3]
		}
		if err := d.Append(b, r); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []int{11, 12, 13} {
		if n := reg.count(fmt.Sprintf("id:%d", id)); n != 1 {
			t.Errorf("schema id %d: %d registry requests, want 1", id, n)
		}
	}
	if n := reg.count("latest:t-value"); n != 1 {
		t.Errorf("latest asked %d times, want 1", n)
	}
	arr := b.NewStructArray()
	defer arr.Release()
	if arr.Len() != 10_000 {
		t.Fatalf("%d rows", arr.Len())
	}
	for i, want := range []string{`{"px":0,"sym":"A","venue":null}`, `{"px":1.5,"sym":"B","venue":null}`, `{"px":2.5,"sym":"C","venue":"X"}`} {
		got, err := jsonOf(arr.GetOneForMarshal(i))
		if err != nil || got != want {
			t.Errorf("row %d: %s (%v), want %s", i, got, err, want)
		}
	}
}

// TestRegistryErrors: registry failures are not malformed records and are
// not remembered; "not found" is malformed and remembered.
func TestRegistryErrors(t *testing.T) {
	schema := record(`"int"`)
	reg := newRegistry()
	reg.add(1, "", schema)
	d, err := New(Options{Schema: schema, Framing: Confluent, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	b := newBuilder(d)
	defer b.Release()
	data := framed(1, []byte{4})
	reg.fail = fmt.Errorf("%w: connection refused", decode.ErrRegistry)
	for range 2 {
		err := d.Append(b, data)
		if !errors.Is(err, decode.ErrRegistry) || errors.Is(err, decode.ErrMalformed) || !strings.Contains(err.Error(), "schema id 1") {
			t.Fatalf("error %v, want a registry error naming the id, not malformed", err)
		}
	}
	reg.fail = errors.New("some other failure") // neither registry nor malformed
	if err := d.Append(b, data); err == nil || errors.Is(err, decode.ErrMalformed) {
		t.Fatalf("error %v, want a non-malformed error", err)
	}
	reg.fail = nil
	if err := d.Append(b, data); err != nil {
		t.Fatalf("after the registry recovered: %v", err)
	}
	if n := reg.count("id:1"); n != 4 {
		t.Errorf("%d requests, want 4 (failures are asked again)", n)
	}
	if b.Len() != 1 {
		t.Errorf("%d rows, want 1", b.Len())
	}
}

// TestReferences: a writer schema that uses a named type registered under
// another subject (a schema reference) is resolved through the registry.
func TestReferences(t *testing.T) {
	side := `{"type":"enum","name":"Side","namespace":"m","symbols":["BUY","SELL"]}`
	money := `{"type":"record","name":"Money","namespace":"m","fields":[{"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},{"name":"side","type":"m.Side"}]}`
	order := `{"type":"record","name":"Order","namespace":"m","fields":[{"name":"id","type":"long"},{"name":"price","type":"m.Money"}]}`
	full := `{"type":"record","name":"Order","namespace":"m","fields":[{"name":"id","type":"long"},{"name":"price","type":{"type":"record","name":"Money","fields":[{"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},{"name":"side","type":{"type":"enum","name":"Side","symbols":["BUY","SELL"]}}]}}]}`
	reg := newRegistry()
	reg.add(1, "side", side)
	reg.add(2, "money", money, decode.Reference{Name: "m.Side", Subject: "side", Version: 1})
	reg.add(3, "order-value", order, decode.Reference{Name: "m.Money", Subject: "money", Version: 1})
	d, err := New(Options{Subject: "order-value", Framing: Confluent, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	b := newBuilder(d)
	defer b.Release()
	data := framed(3, encode(t, full, map[string]any{"id": int64(7), "price": map[string]any{"amount": []byte{0x30, 0x39}, "side": "SELL"}}))
	if err := d.Append(b, data); err != nil {
		t.Fatal(err)
	}
	if got, want := rowsJSON(t, b), `[{"id":7,"price":{"amount":"123.45","side":"SELL"}}]`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}

	// A reference the registry cannot give for a registry reason is not a
	// malformed record.
	reg.add(4, "", order, decode.Reference{Name: "m.Money", Subject: "money", Version: 1})
	reg.fail = fmt.Errorf("%w: timeout", decode.ErrRegistry)
	if err := d.Append(b, framed(4, []byte{})); !errors.Is(err, decode.ErrRegistry) || errors.Is(err, decode.ErrMalformed) {
		t.Fatalf("error %v", err)
	}
	reg.fail = nil
	// A reference that does not exist makes the id malformed.
	reg.add(5, "", order, decode.Reference{Name: "m.Money", Subject: "money", Version: 9})
	if err := d.Append(b, framed(5, []byte{})); !errors.Is(err, decode.ErrMalformed) || !strings.Contains(err.Error(), "schema id 5") {
		t.Fatalf("error %v", err)
	}
}

// TestConfluentKeyNotRecord: a key subject whose schema is a plain string
// (what Confluent's serializers register for string keys) gives rows
// {value: utf8}; a writer id of another non-record type is resolved too.
func TestConfluentKeyNotRecord(t *testing.T) {
	reg := newRegistry()
	reg.add(1, "t-key", `"string"`)
	reg.add(2, "", `"bytes"`)
	reg.add(3, "", `"int"`)
	d, err := New(Options{Subject: "t-key", Framing: Confluent, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	b := newBuilder(d)
	defer b.Release()
	for _, data := range [][]byte{framed(1, encode(t, `"string"`, "k1")), framed(2, encode(t, `"bytes"`, []byte("k2")))} {
		if err := d.Append(b, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Append(b, framed(3, []byte{2})); !errors.Is(err, decode.ErrMalformed) || !strings.Contains(err.Error(), "schema id 3") {
		t.Fatalf("error %v", err)
	}
	if got, want := rowsJSON(t, b), `[{"value":"k1"},{"value":"k2"}]`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
