package core

import (
	"strings"
	"testing"
	"time"
)

func TestDecodeSpec(t *testing.T) {
	tests := []struct {
		name    string
		spec    string
		wantErr string // substring; "" = success
	}{
		{"minimal", `{"config":{"bootstrap.servers":"h:1"},"topics":[{"name":"t","policy":"earliest"}]}`, ""},
		{"all options", `{"config":{"bootstrap.servers":"h:1"},"topics":[{"name":"t","policy":"absolute_time","time_ms":5}],
		  "cutoff_ms":10,"batch_size":5,"linger_ms":0,"max_buffered_messages":9,"max_buffered_bytes":99,
		  "include_headers":true,"startup_timeout_ms":100,"broker_down_timeout_ms":0}`, ""},
		{"unknown member", `{"topics":[],"bogus":1}`, `unknown field "bogus"`},
		{"config not string", `{"config":{"fetch.max.bytes":5},"topics":[]}`, `config property "fetch.max.bytes" must be a string`},
		{"topic without name", `{"topics":[{"policy":"earliest"}]}`, `topics[0]: missing 'name'`},
		{"topic without policy", `{"topics":[{"name":"t"}]}`, `topic "t": missing 'policy'`},
		{"relative without time", `{"topics":[{"name":"t","policy":"relative_time"}]}`, `requires 'time_ms'`},
		{"negative time", `{"topics":[{"name":"t","policy":"relative_time","time_ms":-1}]}`, `must be >= 0`},
		{"bad policy", `{"topics":[{"name":"t","policy":"first"}]}`, `unknown policy "first"`},
		{"float time", `{"topics":[{"name":"t","policy":"absolute_time","time_ms":1.5}]}`, `time_ms must be an integer`},
		{"batch size string", `{"batch_size":"10"}`, `batch_size must be an integer`},
		{"trailing data", `{"topics":[]} {}`, `trailing data`},
		{"not json", `nope`, `bad spec`},
		{"invalid utf8", "{\"topics\":[{\"name\":\"\xff\",\"policy\":\"earliest\"}]}", `not valid UTF-8`},
		{"nul in name", `{"topics":[{"name":"a\u0000b","policy":"earliest"}]}`, `NUL`},
		{"committed", `{"topics":[{"name":"t","policy":"committed"}],"subscribe":false}`, ""},
		{"committed, time fallback", `{"topics":[{"name":"t","policy":"committed","fallback":"relative_time","time_ms":60000}]}`, ""},
		{"committed, time fallback without time", `{"topics":[{"name":"t","policy":"committed","fallback":"absolute_time"}]}`, `fallback absolute_time requires 'time_ms'`},
		{"committed, bad fallback", `{"topics":[{"name":"t","policy":"committed","fallback":"committed"}]}`, `unknown fallback "committed"`},
		{"committed, empty fallback", `{"topics":[{"name":"t","policy":"committed","fallback":""}]}`, `fallback is empty`},
		{"fallback without committed", `{"topics":[{"name":"t","policy":"earliest","fallback":"latest"}]}`, `only for policy committed`},
		{"subscribe not bool", `{"topics":[{"name":"t","policy":"earliest"}],"subscribe":1}`, `subscribe must be true or false`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeOptions([]byte(tc.spec))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want it to contain %q", err, tc.wantErr)
			}
			if KindOf(err) != KindConfig {
				t.Fatalf("kind %v, want config", KindOf(err))
			}
		})
	}
}

func TestValidateOptions(t *testing.T) {
	tests := []struct {
		name, spec, wantErr string
	}{
		{"empty topics", `{"topics":[]}`, "topics is empty"},
		{"duplicate", `{"topics":[{"name":"a","policy":"earliest"},{"name":"a","policy":"latest"}]}`, `duplicate topic "a": listed twice`},
		{"batch size zero", `{"topics":[{"name":"a","policy":"earliest"}],"batch_size":0}`, "batch_size must be >= 1, got 0"},
		{"negative linger", `{"topics":[{"name":"a","policy":"earliest"}],"linger_ms":-1}`, "linger_ms must be >= 0"},
		{"negative cutoff", `{"topics":[{"name":"a","policy":"earliest"}],"cutoff_ms":-1}`, "cutoff_ms must be >= 0"},
		{"ok", `{"topics":[{"name":"a","policy":"earliest"}]}`, ""},
		{"committed without group.id", `{"topics":[{"name":"a","policy":"committed"}]}`, `topic "a" with policy committed (SourceTopic.from_committed) needs config['group.id']`},
		{"subscribe without group.id", `{"topics":[{"name":"a","policy":"earliest"}],"subscribe":true}`, `subscribe=True needs config['group.id']`},
		{"subscribe, empty group.id", `{"config":{"group.id":" "},"topics":[{"name":"a","policy":"earliest"}],"subscribe":true}`, `needs a non-empty config['group.id']`},
		{"subscribe with group.id", `{"config":{"group.id":"g"},"topics":[{"name":"a","policy":"earliest"}],"subscribe":true}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := DecodeOptions([]byte(tc.spec))
			if err == nil {
				err = o.Validate()
			}
			if err == nil {
				// what creation checks once connected settings exist
				if o.Config == nil {
					o.Config = map[string]string{}
				}
				o.Config["bootstrap.servers"] = "h:1"
				r, rerr := o.Resolve(time.Now())
				if rerr == nil {
					rerr = r.CheckGroup()
				}
				err = rerr
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// FuzzDecodeSpec: no input makes decoding or validation panic.
func FuzzDecodeSpec(f *testing.F) {
	for _, s := range []string{
		`{"config":{"bootstrap.servers":"h:1"},"topics":[{"name":"t","policy":"earliest"}]}`,
		`{"topics":[{"name":"t","policy":"relative_time","time_ms":100}],"batch_size":1}`,
		`{"topics":[{"name":"t","policy":"absolute_time","time_ms":1700000000000}],"cutoff_ms":5,"linger_ms":0}`,
		`{"config":{},"topics":[],"include_headers":true}`,
		`[]`, `null`, `{"topics":null}`, `{"batch_size":99999999999999999999}`,
		`{"topics":[{"name":"t","policy":"committed","fallback":"relative_time","time_ms":5}],"subscribe":true}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := DecodeOptions(data)
		if err != nil {
			if KindOf(err) != KindConfig {
				t.Fatalf("decode error of kind %v: %v", KindOf(err), err)
			}
			return
		}
		_ = o.Validate()
	})
}
