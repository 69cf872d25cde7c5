package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/kafkars/kafkars/core/decode"
)

// realRegistry returns the URL of a real registry from KAFKARS_TEST_REGISTRY
// (python -m devtools.registry starts one and prints it) or skips.
func realRegistry(t *testing.T) string {
	t.Helper()
	u := os.Getenv("KAFKARS_TEST_REGISTRY")
	if u == "" {
		t.Skip("KAFKARS_TEST_REGISTRY is not set: start a registry with `python -m devtools.registry` and set it to the URL that prints")
	}
	return strings.TrimRight(u, "/")
}

// register registers a schema the way producers' serializers do and
// returns its id.
func register(t *testing.T, base, subject, schemaType, schema string, refs []decode.Reference) int32 {
	t.Helper()
	type ref struct {
		Name    string `json:"name"`
		Subject string `json:"subject"`
		Version int    `json:"version"`
	}
	req := struct {
		Schema     string `json:"schema"`
		SchemaType string `json:"schemaType,omitempty"`
		References []ref  `json:"references,omitempty"`
	}{Schema: schema, SchemaType: schemaType}
	for _, r := range refs {
		req.References = append(req.References, ref(r))
	}
	body, _ := json.Marshal(req)
	resp, err := http.Post(base+"/subjects/"+subject+"/versions", "application/vnd.schemaregistry.v1+json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	var got struct{ ID int32 }
	if resp.StatusCode != 200 || json.Unmarshal(answer, &got) != nil || got.ID == 0 {
		t.Fatalf("registering under %s: HTTP %d: %s", subject, resp.StatusCode, answer)
	}
	return got.ID
}

func TestRealRegistry(t *testing.T) {
	base := realRegistry(t)
	prefix := fmt.Sprintf("kafkars-go-%08x-", rand.Uint32()) // tests may share one registry

	v1 := `{"type":"record","name":"Trade","namespace":"t","fields":[{"name":"price","type":"double"}]}`
	v2 := `{"type":"record","name":"Trade","namespace":"t","fields":[{"name":"price","type":"double"},{"name":"qty","type":"long","default":0}]}`
	subject := prefix + "trades-value"
	id1 := register(t, base, subject, "", v1, nil)
	id2 := register(t, base, subject, "", v2, nil)
	otherProto := "syntax = \"proto3\";\npackage t;\nmessage Side { string name = 1; }\n"
	idOther := register(t, base, prefix+"side", "PROTOBUF", otherProto, nil)
	mainProto := "syntax = \"proto3\";\npackage t;\nimport \"side.proto\";\nmessage Order { t.Side side = 1; int64 qty = 2; }\n"
	refs := []decode.Reference{{Name: "side.proto", Subject: prefix + "side", Version: 1}}
	idProto := register(t, base, prefix+"orders-value", "PROTOBUF", mainProto, refs)
	idJSON := register(t, base, prefix+"json-value", "JSON", `{"type":"object","properties":{"a":{"type":"integer"}}}`, nil)
	t.Logf("registered ids: avro v1 %d, v2 %d, proto %d (imports %d), json %d", id1, id2, idProto, idOther, idJSON)

	c := newClient(t, Config{URL: base})
	tests := []struct {
		id   int32
		typ  string
		text string
		refs []decode.Reference
	}{
		{id1, "AVRO", "price", nil},
		{id2, "AVRO", "qty", nil},
		{idOther, "PROTOBUF", "message Side", nil},
		{idProto, "PROTOBUF", "message Order", refs},
		{idJSON, "JSON", `"integer"`, nil},
	}
	for _, tt := range tests {
		s, err := c.ByID(tt.id)
		if err != nil {
			t.Fatalf("ByID(%d): %v", tt.id, err)
		}
		if s.ID != tt.id || s.Type != tt.typ || !strings.Contains(s.Text, tt.text) || fmt.Sprint(s.References) != fmt.Sprint(tt.refs) {
			t.Errorf("ByID(%d) = %+v, want type %s, text with %q, references %v", tt.id, s, tt.typ, tt.text, tt.refs)
		}
	}
	for i := 0; i < 100; i++ {
		c.ByID(id1)
	}
	if c.Requests() != int64(len(tests)) {
		t.Errorf("%d requests for %d ids looked up 105 times", c.Requests(), len(tests))
	}

	latest, err := c.Latest(subject)
	if err != nil || latest.ID != id2 || latest.Version != 2 || latest.Subject != subject || latest.Type != "AVRO" {
		t.Fatalf("Latest: %+v, %v", latest, err)
	}
	first, err := c.Version(subject, 1)
	if err != nil || first.ID != id1 || first.Version != 1 || !strings.Contains(first.Text, "price") {
		t.Fatalf("Version 1: %+v, %v", first, err)
	}
	ref, err := c.Version(refs[0].Subject, refs[0].Version)
	if err != nil || ref.ID != idOther || ref.Type != "PROTOBUF" {
		t.Fatalf("the reference: %+v, %v", ref, err)
	}

	// What the real server answers for things that do not exist.
	missing := idJSON + 1000
	_, err = c.ByID(missing)
	t.Logf("unknown id: %v", err)
	if !errors.Is(err, decode.ErrMalformed) || !strings.Contains(err.Error(), fmt.Sprintf("schema id %d not found in the registry at %s", missing, base)) {
		t.Errorf("unknown id: want a malformed-record error naming id and URL, got %v", err)
	}
	_, err = c.Latest(prefix + "nope")
	t.Logf("unknown subject: %v", err)
	if err == nil || errors.Is(err, decode.ErrMalformed) || errors.Is(err, decode.ErrRegistry) || !strings.Contains(err.Error(), prefix+"nope") {
		t.Errorf("unknown subject: want a plain error naming it, got %v", err)
	}
	_, err = c.Version(subject, 9)
	t.Logf("unknown version: %v", err)
	if err == nil || errors.Is(err, decode.ErrMalformed) || errors.Is(err, decode.ErrRegistry) || !strings.Contains(err.Error(), subject) {
		t.Errorf("unknown version: want a plain error naming the subject, got %v", err)
	}

	// The same server under a wrong base path: a registry error, not
	// "malformed records".
	wrong := newClient(t, Config{URL: strings.TrimSuffix(base, "/apis/ccompat/v7") + "/nothing-here", MaxRetries: -1})
	_, err = wrong.ByID(id1)
	t.Logf("wrong base URL: %v", err)
	if !errors.Is(err, decode.ErrRegistry) || errors.Is(err, decode.ErrMalformed) {
		t.Errorf("wrong base URL: want a registry error, got %v", err)
	}
}
