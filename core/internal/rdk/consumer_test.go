package rdk

import (
	"strings"
	"testing"
)

func TestCheckProps(t *testing.T) {
	tests := []struct {
		name    string
		props   []Prop
		wantErr string
	}{
		{"valid", []Prop{{Key: "bootstrap.servers", Value: "h:1"}, {Key: "fetch.wait.max.ms", Value: "100"}}, ""},
		{"unknown", []Prop{{Key: "no.such.property", Value: "1"}}, `No such configuration property: "no.such.property"`},
		{"invalid value", []Prop{{Key: "fetch.wait.max.ms", Value: "soon"}}, `"fetch.wait.max.ms"`},
		{"out of range", []Prop{{Key: "fetch.wait.max.ms", Value: "-5"}}, `"fetch.wait.max.ms"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckProps(tc.props)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// FuzzConfigProps: whatever property names and values reach librdkafka's
// configuration (the C ABI passes them through), nothing crashes.
func FuzzConfigProps(f *testing.F) {
	for _, s := range [][2]string{
		{"bootstrap.servers", "localhost:9092"}, {"debug", "all"}, {"fetch.wait.max.ms", "100"},
		{"security.protocol", "SASL_SSL"}, {"sasl.mechanisms", "PLAIN"}, {"ssl.ca.location", "/nonexistent"},
		{"isolation.level", "read_uncommitted"}, {"queued.max.messages.kbytes", "99999999999"},
		{"client.rack", strings.Repeat("x", 5000)}, {"topic.metadata.refresh.interval.ms", "-1"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, k, v string) {
		if strings.IndexByte(k, 0) >= 0 || strings.IndexByte(v, 0) >= 0 {
			return // the C ABI's decoder rejects NUL bytes before this point
		}
		_ = CheckProps([]Prop{{Key: k, Value: v, User: true}})
	})
}

func TestLeaderInTransition(t *testing.T) {
	for code, want := range map[int32]bool{
		5: true, 6: true, 9: true, 74: true, 75: true, 78: true, // Kafka's codes for a moving leadership
		1: false, ErrTransport: false, ErrTimedOut: false, ErrUnknownTopicOrP: false, ErrTopicAuthFailed: false,
	} {
		if got := LeaderInTransition(code); got != want {
			t.Errorf("LeaderInTransition(%d %s) = %v, want %v", code, ErrName(code), got, want)
		}
	}
}
