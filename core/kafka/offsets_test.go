package kafka

import (
	"strings"
	"testing"
	"time"

	"github.com/kafkars/kafkars/core"
)

func TestDecodeOffsetsQuery(t *testing.T) {
	tests := []struct {
		name, query, wantErr string
		timeout              time.Duration
	}{
		{"minimal", `{"config":{"bootstrap.servers":"h:1"},"topics":["a"]}`, "", DefaultOffsetsTimeoutMs * time.Millisecond},
		{"all", `{"config":{"bootstrap.servers":"h:1"},"topics":["a","b"],"times_ms":[0,5],"max_timestamps":true,"timeout_ms":7}`, "", 7 * time.Millisecond},
		{"unknown member", `{"topics":["a"],"until":1}`, `unknown field "until"`, 0},
		{"negative time", `{"topics":["a"],"times_ms":[3,-1]}`, "times_ms[1] must be >= 0", 0},
		{"zero timeout", `{"topics":["a"],"timeout_ms":0}`, "timeout_ms must be >= 1", 0},
		{"time not an integer", `{"topics":["a"],"times_ms":[1.5]}`, "bad offsets query", 0},
		{"trailing", `{"topics":["a"]} 1`, "trailing data", 0},
		{"not utf-8", "{\"topics\":[\"\xff\"]}", "not valid UTF-8", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := DecodeOffsetsQuery([]byte(tc.query))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || core.KindOf(err) != core.KindConfig {
					t.Fatalf("error %v, want a config error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if q.Timeout != tc.timeout {
				t.Fatalf("timeout %v, want %v", q.Timeout, tc.timeout)
			}
		})
	}
}

// Offsets checks its arguments before it connects: errors name the culprit.
func TestOffsetsArguments(t *testing.T) {
	tests := []struct {
		name    string
		q       OffsetsQuery
		wantErr string
	}{
		{"no broker", OffsetsQuery{Topics: []string{"a"}}, "bootstrap.servers"},
		{"no topic", OffsetsQuery{Config: map[string]string{"bootstrap.servers": "h:1"}}, "topics is empty"},
		{"twice", OffsetsQuery{Config: map[string]string{"bootstrap.servers": "h:1"}, Topics: []string{"a", "a"}}, `duplicate topic "a"`},
		{"bad property", OffsetsQuery{Config: map[string]string{"bootstrap.servers": "h:1", "no.such.property": "1"}, Topics: []string{"a"}, Timeout: time.Second}, "no.such.property"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Offsets(tc.q)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || core.KindOf(err) != core.KindConfig {
				t.Fatalf("error %v, want a config error containing %q", err, tc.wantErr)
			}
		})
	}
}
