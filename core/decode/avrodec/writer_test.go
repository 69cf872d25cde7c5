package avrodec

import "testing"

func TestSameEncoding(t *testing.T) {
	base := `{"type": "record", "name": "Order", "namespace": "shop", "fields": [{"name": "id", "type": "long"}, {"name": "s", "type": ["null", "string"], "default": null}]}`
	for _, tc := range []struct {
		name  string
		other string
		same  bool
	}{
		{"formatting", "{\n \"type\":\"record\",\"name\":\"shop.Order\",\n\"fields\":[{\"name\":\"id\",\"type\":{\"type\":\"long\"}},{\"name\":\"s\",\"type\":[\"null\",\"string\"]}]}", true},
		{"docs and defaults", `{"type": "record", "name": "Order", "namespace": "shop", "doc": "d", "fields": [{"name": "id", "type": "long", "doc": "x"}, {"name": "s", "type": ["null", "string"]}]}`, true},
		{"a field's type", `{"type": "record", "name": "Order", "namespace": "shop", "fields": [{"name": "id", "type": "int"}, {"name": "s", "type": ["null", "string"]}]}`, false},
		{"the union's order", `{"type": "record", "name": "Order", "namespace": "shop", "fields": [{"name": "id", "type": "long"}, {"name": "s", "type": ["string", "null"]}]}`, false},
		{"the name", `{"type": "record", "name": "Order", "namespace": "shop2", "fields": [{"name": "id", "type": "long"}, {"name": "s", "type": ["null", "string"]}]}`, false},
		{"a reference", `{"type": "record", "name": "Order", "namespace": "shop", "fields": [{"name": "id", "type": "other.Id"}]}`, false},
		{"not JSON", `{"type": `, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SameEncoding(base, tc.other); got != tc.same {
				t.Fatalf("SameEncoding = %v, want %v", got, tc.same)
			}
		})
	}
}
