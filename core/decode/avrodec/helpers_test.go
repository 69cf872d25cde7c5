package avrodec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/kafkars/kafkars/core/decode"
	"github.com/twmb/avro"
)

// memRegistry is an in-memory decode.Registry that counts requests.
type memRegistry struct {
	mu       sync.Mutex
	byID     map[int32]*decode.Schema
	subjects map[string][]*decode.Schema // versions, 1-based
	calls    map[string]int              // "id:7", "latest:s", "version:s:1"
	fail     error                       // returned by every call when set
}

func newRegistry() *memRegistry {
	return &memRegistry{byID: map[int32]*decode.Schema{}, subjects: map[string][]*decode.Schema{}, calls: map[string]int{}}
}

// add registers text under id (and as the next version of subject, if
// given).
func (r *memRegistry) add(id int32, subject, text string, refs ...decode.Reference) {
	s := &decode.Schema{ID: id, Type: "AVRO", Text: text, References: refs}
	r.byID[id] = s
	if subject != "" {
		r.subjects[subject] = append(r.subjects[subject], s)
	}
}

func (r *memRegistry) count(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[key]
}

func (r *memRegistry) ByID(id int32) (*decode.Schema, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls["id:"+strconv.Itoa(int(id))]++
	if r.fail != nil {
		return nil, r.fail
	}
	s, ok := r.byID[id]
	if !ok {
		return nil, decode.Malformed(fmt.Sprintf("schema registry: schema id %d not found", id))
	}
	return s, nil
}

func (r *memRegistry) Latest(subject string) (*decode.Schema, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls["latest:"+subject]++
	if r.fail != nil {
		return nil, r.fail
	}
	vs := r.subjects[subject]
	if len(vs) == 0 {
		return nil, fmt.Errorf("schema registry: subject %q not found", subject)
	}
	s := *vs[len(vs)-1]
	s.Subject, s.Version = subject, len(vs)
	return &s, nil
}

func (r *memRegistry) Version(subject string, version int) (*decode.Schema, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls["version:"+subject+":"+strconv.Itoa(version)]++
	if r.fail != nil {
		return nil, r.fail
	}
	vs := r.subjects[subject]
	if version < 1 || version > len(vs) {
		return nil, fmt.Errorf("schema registry: subject %q version %d not found", subject, version)
	}
	s := *vs[version-1]
	s.Subject, s.Version = subject, version
	return &s, nil
}

// encode writes v (Go values as twmb/avro takes them) with schema.
func encode(t testing.TB, schema string, v any) []byte {
	t.Helper()
	s, err := avro.Parse(schema)
	if err != nil {
		t.Fatalf("parse %s: %v", schema, err)
	}
	b, err := s.Encode(v)
	if err != nil {
		t.Fatalf("encode %v: %v", v, err)
	}
	return b
}

func framed(id int32, datum []byte) []byte {
	return append(decode.AppendConfluent(nil, id), datum...)
}

func newBuilder(d *Decoder) *array.StructBuilder {
	return array.NewBuilder(memory.NewGoAllocator(), d.Type()).(*array.StructBuilder)
}

// rowsJSON finishes b and returns its rows as JSON (object keys sorted).
func rowsJSON(t testing.TB, b *array.StructBuilder) string {
	t.Helper()
	arr := b.NewArray()
	defer arr.Release()
	j, err := arr.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	out, err := normJSON(j)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// normJSON re-encodes JSON with object keys sorted, numbers kept exact.
func normJSON(j []byte) (string, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	out, err := json.Marshal(v)
	return string(out), err
}

// jsonOf is the JSON of one value from GetOneForMarshal.
func jsonOf(v any) (string, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return normJSON(j)
}

// lengths returns the length of b and of every builder under it.
func lengths(b array.Builder) []int {
	out := []int{b.Len()}
	switch b := b.(type) {
	case *array.StructBuilder:
		for i := range b.NumField() {
			out = append(out, lengths(b.FieldBuilder(i))...)
		}
	case *array.ListBuilder:
		out = append(out, lengths(b.ValueBuilder())...)
	case *array.MapBuilder:
		out = append(out, lengths(b.KeyBuilder())...)
		out = append(out, lengths(b.ItemBuilder())...)
	}
	return out
}

// record wraps field types into a record schema "R" with fields f0, f1...
func record(types ...string) string {
	s := `{"type":"record","name":"R","namespace":"t","fields":[`
	for i, ty := range types {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprintf(`{"name":"f%d","type":%s}`, i, ty)
	}
	return s + "]}"
}
