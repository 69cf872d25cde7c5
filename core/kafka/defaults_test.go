package kafka

import (
	"strings"
	"testing"
	"time"

	"github.com/kafkars/kafkars/core"
	"github.com/kafkars/kafkars/core/internal/rdk"
)

func TestProps(t *testing.T) {
	mb := int64(64 << 20)
	small := int64(1 << 20)
	tests := []struct {
		name string
		opts core.Options
		want map[string]string // property -> value applied last
	}{
		{"defaults", core.Options{}, map[string]string{
			"enable.auto.commit": "false", "fetch.queue.backoff.ms": "1", "fetch.wait.max.ms": "100",
			"queued.min.messages": "20000", "queued.max.messages.kbytes": "16384", "enable.partition.eof": "true"}},
		{"the user's setting wins", core.Options{Config: map[string]string{"fetch.queue.backoff.ms": "0", "group.id": "mine"}},
			map[string]string{"fetch.queue.backoff.ms": "0", "group.id": "mine"}},
		{"prefetch from the byte budget", core.Options{MaxBufferedBytes: &mb}, map[string]string{"queued.max.messages.kbytes": "16384"}},
		{"prefetch at least 1 MiB", core.Options{MaxBufferedBytes: &small}, map[string]string{"queued.max.messages.kbytes": "1024"}},
		{"partition EOF is forced", core.Options{Config: map[string]string{"enable.partition.eof": "false"}},
			map[string]string{"enable.partition.eof": "true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.opts
			if o.Config == nil {
				o.Config = map[string]string{}
			}
			o.Config["bootstrap.servers"] = "h:1"
			o.Topics = []core.TopicSpec{{Name: "t", Policy: core.Earliest}}
			s, err := o.Resolve(time.Now())
			if err != nil {
				t.Fatal(err)
			}
			ps := props(s)
			got := map[string]string{}
			for _, p := range ps {
				got[p.Key] = p.Value
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			if err := rdk.CheckProps(ps); err != nil {
				t.Errorf("librdkafka rejects the properties: %v", err)
			}
		})
	}
}

func TestProducerProps(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  map[string]string
		want string // the enable.idempotence value applied last
		user bool
	}{
		{"default", map[string]string{"bootstrap.servers": "h:1"}, "true", false},
		{"user wins", map[string]string{"bootstrap.servers": "h:1", "enable.idempotence": "false", "acks": "1"}, "false", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got *rdk.Prop
			for _, p := range producerProps(c.cfg) {
				if p.Key == "enable.idempotence" {
					if got != nil {
						t.Fatalf("enable.idempotence set twice")
					}
					got = &p
				}
			}
			if got == nil || got.Value != c.want || got.User != c.user {
				t.Fatalf("enable.idempotence: %+v, want %q (user %v)", got, c.want, c.user)
			}
			if err := rdk.CheckProps(producerProps(c.cfg)); err != nil {
				t.Fatal(err)
			}
		})
	}
	if _, err := DecodeProducerOptions([]byte(`{"config": {"bootstrap.servers": "h:1"}, "linger": 5}`)); err == nil {
		t.Fatal("an unknown member must be an error")
	}
	if _, err := DecodeProducerOptions([]byte(`{"config": {}}`)); err == nil || !strings.Contains(err.Error(), "bootstrap.servers") {
		t.Fatalf("missing bootstrap.servers: %v", err)
	}
}
