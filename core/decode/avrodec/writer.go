package avrodec

// writer.go: a parsed Avro schema for writers (core/produce's encoder for a
// schema the user gives): the same parser and named-type resolution the
// decoder uses, handed out as a plain exported tree, with every field
// default already in Avro's binary encoding.

import (
	"bytes"
	"fmt"

	"github.com/twmb/avro"
)

// Node is one node of a parsed writer schema. Named types referenced twice
// are the same *Node; recursive schemas are rejected by ParseWriter.
type Node struct {
	// Type is the Avro type: null, boolean, int, long, float, double,
	// bytes, string, record, enum, array, map, union or fixed.
	Type string
	// Logical is the logical type when it is valid here (decimal, date,
	// time-millis, time-micros, timestamp-millis/-micros/-nanos,
	// local-timestamp-*, uuid), "" otherwise.
	Logical          string
	Precision, Scale int // decimal

	Name     string   // full name of a record, enum or fixed
	Fields   []Field  // record
	Symbols  []string // enum
	Size     int      // fixed
	Items    *Node    // array
	Values   *Node    // map
	Branches []*Node  // union
}

// Field is one field of a record.
type Field struct {
	Name string
	Type *Node
	// Default is the field default in Avro's binary encoding, nil when the
	// field has none.
	Default []byte
}

// ParseWriter parses Avro schema JSON for writing.
func ParseWriter(text string) (*Node, error) {
	s, err := parseSchema(text, nil)
	if err != nil {
		return nil, err
	}
	return exportNode(s, map[*snode]*Node{}, "")
}

func exportNode(s *snode, done map[*snode]*Node, path string) (*Node, error) {
	if n, ok := done[s]; ok {
		return n, nil
	}
	n := &Node{Type: s.kind.String(), Logical: s.logical, Precision: s.precision, Scale: s.scale,
		Name: s.name, Symbols: s.symbols, Size: s.size}
	done[s] = n
	var err error
	switch s.kind {
	case kRecord:
		for _, f := range s.fields {
			fp := joinPath(path, f.name)
			ft, err := exportNode(f.typ, done, fp)
			if err != nil {
				return nil, err
			}
			out := Field{Name: f.name, Type: ft}
			if f.hasDefault {
				if out.Default, err = encodeDefault([]byte{}, f.typ, f.def); err != nil {
					return nil, fmt.Errorf("the default of field %s: %w", fp, err)
				}
			}
			n.Fields = append(n.Fields, out)
		}
	case kArray:
		n.Items, err = exportNode(s.items, done, path+"[]")
	case kMap:
		n.Values, err = exportNode(s.values, done, path+"{}")
	case kUnion:
		for _, b := range s.branches {
			bn, err := exportNode(b, done, path)
			if err != nil {
				return nil, err
			}
			n.Branches = append(n.Branches, bn)
		}
	}
	return n, err
}

// SameEncoding reports whether two Avro schemas (JSON) have the same
// Parsing Canonical Form, so that datums of one are datums of the other:
// they differ at most in docs, defaults, aliases and formatting. A schema
// that does not parse on its own (it references others) is never the same.
func SameEncoding(a, b string) bool {
	sa, err := avro.Parse(a)
	if err != nil {
		return false
	}
	sb, err := avro.Parse(b)
	if err != nil {
		return false
	}
	return bytes.Equal(sa.Canonical(), sb.Canonical())
}
