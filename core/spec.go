package core

// spec.go: the only place where bytes from the caller become Options: the
// JSON spec of the C ABI's kafkars_manager_new. Strict (unknown members are
// errors) and fuzzed (FuzzDecodeSpec): no input may panic or hang.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

type topicJSON struct {
	Name     *string         `json:"name"`
	Policy   *string         `json:"policy"`
	TimeMs   json.RawMessage `json:"time_ms"`
	Fallback *string         `json:"fallback"`
	Key      *Format         `json:"key"`
	Value    *Format         `json:"value"`
	// the offsets policy (ranges.go)
	Ranges    json.RawMessage `json:"ranges"`
	MinTimeMs *int64          `json:"min_time_ms"`
}

type specJSON struct {
	Config              map[string]json.RawMessage `json:"config"`
	Topics              []topicJSON                `json:"topics"`
	CutoffMs            *int64                     `json:"cutoff_ms"`
	BatchSize           *int                       `json:"batch_size"`
	LingerMs            *int                       `json:"linger_ms"`
	MaxBufferedMessages *int                       `json:"max_buffered_messages"`
	MaxBufferedBytes    *int64                     `json:"max_buffered_bytes"`
	IncludeHeaders      *bool                      `json:"include_headers"`
	HeadersLayout       *string                    `json:"headers_layout"`
	StartupTimeoutMs    *int                       `json:"startup_timeout_ms"`
	BrokerDownTimeoutMs *int                       `json:"broker_down_timeout_ms"`
	Late                *string                    `json:"late"`
	OrderingTimestamp   *bool                      `json:"ordering_timestamp"`
	BinaryView          *bool                      `json:"binary_view"`
	LiveOrder           *string                    `json:"live_order"`
	MaxIdleMs           *int                       `json:"max_idle_ms"`
	Subscribe           *bool                      `json:"subscribe"`
}

func specErr(format string, args ...any) error {
	return &Error{Kind: KindConfig, Msg: fmt.Sprintf(format, args...)}
}

// DecodeOptions parses the JSON spec of kafkars_manager_new (documented in
// capi/kafkars.h). Every error is a KindConfig *Error naming the member.
func DecodeOptions(data []byte) (Options, error) {
	var o Options
	if !utf8.Valid(data) {
		return o, specErr("spec is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s specJSON
	if err := dec.Decode(&s); err != nil {
		return o, specErr("bad spec: %s", describeJSONError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return o, specErr("bad spec: trailing data after the JSON object")
	}
	if s.Config != nil {
		o.Config = make(map[string]string, len(s.Config))
		for k, raw := range s.Config {
			var v string
			if err := json.Unmarshal(raw, &v); err != nil {
				return o, specErr("config property %q must be a string, got %s", k, truncate(string(raw), 40))
			}
			if bytes.IndexByte([]byte(k), 0) >= 0 || bytes.IndexByte([]byte(v), 0) >= 0 {
				return o, specErr("config property %q contains a NUL byte", k)
			}
			o.Config[k] = v
		}
	}
	for i, t := range s.Topics {
		ts, err := decodeTopic(i, t)
		if err != nil {
			return o, err
		}
		o.Topics = append(o.Topics, ts)
	}
	o.CutoffMs = s.CutoffMs
	o.BatchSize = s.BatchSize
	o.LingerMs = s.LingerMs
	o.MaxBufferedMessages = s.MaxBufferedMessages
	o.MaxBufferedBytes = s.MaxBufferedBytes
	if s.IncludeHeaders != nil {
		o.IncludeHeaders = *s.IncludeHeaders
	}
	o.StartupTimeoutMs = s.StartupTimeoutMs
	o.BrokerDownTimeoutMs = s.BrokerDownTimeoutMs
	if s.HeadersLayout != nil {
		o.Headers = HeadersLayout(*s.HeadersLayout)
	}
	if s.Late != nil {
		o.Late = LatePolicy(*s.Late)
	}
	if s.OrderingTimestamp != nil {
		o.OrderingTimestamp = *s.OrderingTimestamp
	}
	if s.BinaryView != nil {
		o.BinaryView = *s.BinaryView
	}
	if s.LiveOrder != nil {
		o.LiveOrder = *s.LiveOrder
	}
	o.MaxIdleMs = s.MaxIdleMs
	if s.Subscribe != nil {
		o.Subscribe = *s.Subscribe
	}
	return o, nil
}

func decodeTopic(i int, t topicJSON) (TopicSpec, error) {
	var ts TopicSpec
	if t.Name == nil {
		return ts, specErr("topics[%d]: missing 'name'", i)
	}
	ts.Name = *t.Name
	if bytes.IndexByte([]byte(ts.Name), 0) >= 0 {
		return ts, specErr("topics[%d]: name contains a NUL byte", i)
	}
	if t.Policy == nil {
		return ts, specErr("topic %q: missing 'policy'", ts.Name)
	}
	ts.Policy = Policy(*t.Policy)
	if t.Fallback != nil {
		ts.Fallback = Policy(*t.Fallback)
		if ts.Fallback == "" {
			return ts, specErr("topic %q: fallback is empty (expected earliest, latest, relative_time or absolute_time)", ts.Name)
		}
	}
	ts.Key, ts.Value = t.Key, t.Value
	if err := decodeRanges(&ts, t.Ranges, t.MinTimeMs); err != nil {
		return ts, err
	}
	hasTime := len(t.TimeMs) > 0 && string(t.TimeMs) != "null"
	if hasTime {
		if err := json.Unmarshal(t.TimeMs, &ts.TimeMs); err != nil {
			return ts, specErr("topic %q: time_ms must be an integer (milliseconds), got %s", ts.Name, truncate(string(t.TimeMs), 40))
		}
	}
	switch ts.StartPolicy() {
	case RelativeTime, AbsoluteTime:
		if !hasTime {
			if ts.Policy == FromCommitted {
				return ts, specErr("topic %q: fallback %s requires 'time_ms'", ts.Name, ts.Fallback)
			}
			return ts, specErr("topic %q: policy %s requires 'time_ms'", ts.Name, ts.Policy)
		}
	}
	if err := ts.Validate(); err != nil {
		return ts, err
	}
	return ts, nil
}

func describeJSONError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "spec"
		}
		return fmt.Sprintf("%s must be %s, got JSON %s", field, jsonKind(te.Type.Kind().String()), te.Value)
	}
	return err.Error()
}

func jsonKind(k string) string {
	switch k {
	case "int", "int32", "int64":
		return "an integer"
	case "bool":
		return "true or false"
	case "string":
		return "a string"
	case "map":
		return "an object"
	case "slice":
		return "a list"
	case "ptr":
		return "a value"
	}
	return "a " + k
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
