package kafka

import (
	"errors"
	"net"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kafkars/kafkars/core"
)

func TestParseBootstrap(t *testing.T) {
	tests := []struct {
		in   string
		want []string // nil: not probed
	}{
		{"localhost:9092", []string{"localhost:9092"}},
		{"localhost", []string{"localhost:9092"}},
		{"a:1,b:2", []string{"a:1", "b:2"}},
		{" a:1 , b:2 ,", []string{"a:1", "b:2"}},
		{"a:1 b:2", []string{"a:1", "b:2"}},
		{"PLAINTEXT://broker1:9092,SSL://broker2:9093", []string{"broker1:9092", "broker2:9093"}},
		{"SASL_SSL://kafka.example.com:9094", []string{"kafka.example.com:9094"}},
		{"[::1]:9092", []string{"[::1]:9092"}},
		{"[::1]", []string{"[::1]:9092"}},
		{"PLAINTEXT://[fe80::1]:19092,127.0.0.1:1", []string{"[fe80::1]:19092", "127.0.0.1:1"}},
		{"", nil},
		{" , ", nil},
		{"::1:9092", nil},   // IPv6 without brackets
		{"[::1:9092", nil},  // unclosed bracket
		{"[::1]9092", nil},  // junk after the bracket
		{"host:port", nil},  // port not a number
		{"host:0", nil},     // port out of range
		{"host:70000", nil}, // port out of range
		{":9092", nil},      // no host
		{"a:1,b:notaport", nil},
	}
	for _, tt := range tests {
		got, ok := parseBootstrap(tt.in)
		if tt.want == nil {
			if ok {
				t.Errorf("parseBootstrap(%q) = %v, want not probed", tt.in, got)
			}
			continue
		}
		if !ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseBootstrap(%q) = %v, %v; want %v", tt.in, got, ok, tt.want)
		}
	}
}

// closedAddr is a local TCP address nobody listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestRefusedEverywhere(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0") // accepts (backlog), never answers
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	a, b := closedAddr(t), closedAddr(t)

	t.Run("every address refuses", func(t *testing.T) {
		servers := "PLAINTEXT://" + a + "," + b
		t0 := time.Now()
		err := refusedEverywhere(servers, "", 15*time.Second)
		if el := time.Since(t0); el > 500*time.Millisecond {
			t.Errorf("took %v", el)
		}
		var ce *core.Error
		if !errors.As(err, &ce) || ce.Kind != core.KindBrokerUnavailable {
			t.Fatalf("got %v, want a BrokerUnavailable error", err)
		}
		for _, want := range []string{a, b, "refused", servers} {
			if !strings.Contains(ce.Msg, want) {
				t.Errorf("message does not name %q: %s", want, ce.Msg)
			}
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("the cause is not ECONNREFUSED: %v", ce.Cause)
		}
	})
	t.Run("a host name lists what it resolved to", func(t *testing.T) {
		_, port, _ := net.SplitHostPort(a)
		err := refusedEverywhere("localhost:"+port, "v4", time.Second)
		if err == nil || !strings.Contains(err.Error(), "localhost:"+port+" (127.0.0.1:"+port+")") {
			t.Errorf("got %v", err)
		}
	})
	for _, tt := range []struct{ name, servers string }{
		{"one address accepts", a + "," + silent.Addr().String()},
		{"unresolvable name", "no-such-host.invalid:9092," + a},
		{"not parseable", "::1:9092"},
		{"empty", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := refusedEverywhere(tt.servers, "", time.Second); err != nil {
				t.Errorf("got %v, want nil (left to librdkafka)", err)
			}
		})
	}
	t.Run("the probe is bounded", func(t *testing.T) {
		t0 := time.Now()
		// an unresolvable name against a 50 ms budget
		_ = refusedEverywhere("no-such-host.invalid:9092", "", 50*time.Millisecond)
		if el := time.Since(t0); el > time.Second {
			t.Errorf("took %v", el)
		}
	})
}
