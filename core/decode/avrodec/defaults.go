package avrodec

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
)

// encodeDefault appends the Avro binary encoding of a field default v (as
// the schema parser typed it) for schema s. A union default is taken by
// the first branch whose Go type it has (the parser already picked it),
// else by the first branch that accepts it.
func encodeDefault(dst []byte, s *snode, v any) ([]byte, error) {
	switch s.kind {
	case kNull:
		if v != nil {
			return nil, fmt.Errorf("null default is %v", v)
		}
		return dst, nil
	case kBoolean:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("boolean default is %T", v)
		}
		if b {
			return append(dst, 1), nil
		}
		return append(dst, 0), nil
	case kInt, kLong:
		n, ok := toInt64(v)
		if !ok || (s.kind == kInt && (n < math.MinInt32 || n > math.MaxInt32)) {
			return nil, fmt.Errorf("%s default is %T %v", s.kind, v, v)
		}
		return binary.AppendVarint(dst, n), nil
	case kFloat, kDouble:
		f, ok := toFloat64(v)
		if !ok {
			return nil, fmt.Errorf("%s default is %T", s.kind, v)
		}
		if s.kind == kFloat {
			return binary.LittleEndian.AppendUint32(dst, math.Float32bits(float32(f))), nil
		}
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f)), nil
	case kString:
		str, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("string default is %T", v)
		}
		dst = binary.AppendVarint(dst, int64(len(str)))
		return append(dst, str...), nil
	case kBytes, kFixed:
		b, ok := toBytes(v)
		if !ok {
			return nil, fmt.Errorf("%s default is %T", s.kind, v)
		}
		if s.kind == kFixed {
			if len(b) != s.size {
				return nil, fmt.Errorf("fixed(%d) default has %d bytes", s.size, len(b))
			}
			return append(dst, b...), nil
		}
		dst = binary.AppendVarint(dst, int64(len(b)))
		return append(dst, b...), nil
	case kEnum:
		str, ok := v.(string)
		i := slices.Index(s.symbols, str)
		if !ok || i < 0 {
			return nil, fmt.Errorf("enum default %v is not a symbol", v)
		}
		return binary.AppendVarint(dst, int64(i)), nil
	case kArray:
		items, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("array default is %T", v)
		}
		if len(items) > 0 {
			dst = binary.AppendVarint(dst, int64(len(items)))
			for _, it := range items {
				var err error
				if dst, err = encodeDefault(dst, s.items, it); err != nil {
					return nil, err
				}
			}
		}
		return append(dst, 0), nil
	case kMap:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("map default is %T", v)
		}
		if len(m) > 0 {
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			slices.Sort(keys) // a stable order for a constant
			dst = binary.AppendVarint(dst, int64(len(m)))
			for _, k := range keys {
				dst = binary.AppendVarint(dst, int64(len(k)))
				dst = append(dst, k...)
				var err error
				if dst, err = encodeDefault(dst, s.values, m[k]); err != nil {
					return nil, err
				}
			}
		}
		return append(dst, 0), nil
	case kRecord:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("record default is %T", v)
		}
		for _, f := range s.fields {
			fv, ok := m[f.name]
			if !ok {
				if !f.hasDefault {
					return nil, fmt.Errorf("record default has no field %q", f.name)
				}
				fv = f.def
			}
			var err error
			if dst, err = encodeDefault(dst, f.typ, fv); err != nil {
				return nil, fmt.Errorf("field %s: %w", f.name, err)
			}
		}
		return dst, nil
	case kUnion:
		for _, strict := range []bool{true, false} {
			for i, b := range s.branches {
				if strict && !goTypeFits(b.kind, v) {
					continue
				}
				enc, err := encodeDefault(binary.AppendVarint(slices.Clip(dst), int64(i)), b, v)
				if err == nil {
					return enc, nil
				}
			}
		}
		return nil, fmt.Errorf("union default %v fits no branch of %s", v, s.typeName())
	}
	return nil, fmt.Errorf("no default for %s", s.kind)
}

// goTypeFits reports whether v has the Go type the schema parser gives a
// default of kind k.
func goTypeFits(k kind, v any) bool {
	switch v.(type) {
	case nil:
		return k == kNull
	case bool:
		return k == kBoolean
	case int32:
		return k == kInt
	case int64:
		return k == kLong
	case float32:
		return k == kFloat
	case float64:
		return k == kDouble
	case string:
		return k == kString || k == kEnum
	case []byte:
		return k == kBytes || k == kFixed
	case []any:
		return k == kArray
	case map[string]any:
		return k == kRecord || k == kMap
	}
	return false
}

func toInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case int:
		return int64(n), true
	case float64:
		if n == math.Trunc(n) && math.Abs(n) < 1<<63 {
			return int64(n), true
		}
	case float32:
		return toInt64(float64(n))
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

func toFloat64(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// toBytes takes []byte, or a string of code points 0-255 (how Avro JSON
// spells bytes).
func toBytes(v any) ([]byte, bool) {
	switch b := v.(type) {
	case []byte:
		return b, true
	case string:
		out := make([]byte, 0, len(b))
		for _, r := range b {
			if r > 255 {
				return nil, false
			}
			out = append(out, byte(r))
		}
		return out, true
	}
	return nil, false
}
