package avrodec

import (
	"fmt"
	"strings"

	"github.com/twmb/avro"
)

// kind is an Avro type, after named references are resolved.
type kind uint8

const (
	kNull kind = iota
	kBoolean
	kInt
	kLong
	kFloat
	kDouble
	kBytes
	kString
	kRecord
	kEnum
	kArray
	kMap
	kUnion
	kFixed
)

var kindNames = [...]string{"null", "boolean", "int", "long", "float", "double", "bytes", "string", "record", "enum", "array", "map", "union", "fixed"}

func (k kind) String() string { return kindNames[k] }

// snode is one Avro schema node with named references resolved to the
// node they name. It is our own small tree (rather than the parsing
// library's) because both schema resolution and the Arrow mapping walk it
// many times and want plain pointers, resolved full names and only the
// logical types that are valid where they appear.
type snode struct {
	kind kind
	// logical is the logical type when it is valid on this node (Avro says
	// an invalid one is ignored, leaving the underlying type).
	logical          string
	precision, scale int // decimal

	name    string   // full name of a record, enum or fixed
	aliases []string // full names

	fields      []sfield // record
	symbols     []string // enum
	enumDefault int      // enum: index of the default symbol, -1 if none
	size        int      // fixed
	items       *snode   // array
	values      *snode   // map
	branches    []*snode // union
}

type sfield struct {
	name       string
	aliases    []string
	typ        *snode
	hasDefault bool
	def        any // as the parsing library typed it: int32, int64, []byte, map[string]any...
}

// typeName names a node in error messages: the full name of named types,
// the Avro type name otherwise (with its logical type).
func (n *snode) typeName() string {
	switch n.kind {
	case kRecord, kEnum, kFixed:
		if n.name == "" {
			return n.kind.String()
		}
		return n.kind.String() + " " + n.name
	case kArray:
		return "array<" + n.items.typeName() + ">"
	case kMap:
		return "map<" + n.values.typeName() + ">"
	case kUnion:
		s := make([]string, len(n.branches))
		for i, b := range n.branches {
			s[i] = b.typeName()
		}
		return "[" + strings.Join(s, ", ") + "]"
	}
	if n.logical != "" {
		return n.kind.String() + " (" + n.logical + ")"
	}
	return n.kind.String()
}

// shortName is the unqualified part of a full name.
func shortName(full string) string {
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		return full[i+1:]
	}
	return full
}

// parseSchema parses Avro schema JSON. Named types defined by referenced
// schemas must already be in cache (nil: no references).
func parseSchema(text string, cache *avro.SchemaCache) (*snode, error) {
	var s *avro.Schema
	var err error
	if cache != nil {
		s, err = cache.Parse(text)
	} else {
		s, err = avro.Parse(text)
	}
	if err != nil {
		return nil, err
	}
	root := s.Root()
	c := converter{named: map[string]*snode{}, building: map[string]bool{}, defs: map[string]*avro.SchemaNode{}}
	c.collect(root)
	return c.node(root, "", "")
}

type converter struct {
	named    map[string]*snode
	building map[string]bool // named types whose definition is being converted
	// defs holds every named type's definition, so that a reference that
	// comes before the definition (the parser accepts that) resolves.
	defs map[string]*avro.SchemaNode
}

func (c *converter) collect(n *avro.SchemaNode) {
	switch n.Type {
	case "record", "error", "enum", "fixed":
		full := fullName(n.Name, n.Namespace)
		if _, ok := c.defs[full]; !ok {
			c.defs[full] = n
		}
	}
	for i := range n.Fields {
		c.collect(&n.Fields[i].Type)
	}
	for i := range n.Branches {
		c.collect(&n.Branches[i])
	}
	if n.Items != nil {
		c.collect(n.Items)
	}
	if n.Values != nil {
		c.collect(n.Values)
	}
}

func fullName(name, ns string) string {
	if strings.Contains(name, ".") || ns == "" {
		return strings.TrimPrefix(name, ".")
	}
	return ns + "." + name
}

func namespaceOf(full string) string {
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		return full[:i]
	}
	return ""
}

var primitives = map[string]kind{
	"null": kNull, "boolean": kBoolean, "int": kInt, "long": kLong,
	"float": kFloat, "double": kDouble, "bytes": kBytes, "string": kString,
}

// node converts n; ns is the enclosing namespace, path names n in errors.
func (c *converter) node(n *avro.SchemaNode, ns, path string) (*snode, error) {
	if k, ok := primitives[n.Type]; ok {
		out := &snode{kind: k}
		out.setLogical(n)
		return out, nil
	}
	switch n.Type {
	case "record", "error", "enum", "fixed":
		full := fullName(n.Name, n.Namespace)
		if c.building[full] {
			return nil, recursionErr(full, path)
		}
		if done, ok := c.named[full]; ok && c.defs[full] == n {
			return done, nil // converted already, where a forward reference needed it
		}
	}
	switch n.Type {
	case "record", "error":
		full := fullName(n.Name, n.Namespace)
		out := &snode{kind: kRecord, name: full, aliases: qualify(n.Aliases, namespaceOf(full))}
		if err := c.define(full, out); err != nil {
			return nil, err
		}
		c.building[full] = true
		childNS := namespaceOf(full)
		for i := range n.Fields {
			f := &n.Fields[i]
			fp := joinPath(path, f.Name)
			t, err := c.node(&f.Type, childNS, fp)
			if err != nil {
				return nil, err
			}
			out.fields = append(out.fields, sfield{name: f.Name, aliases: f.Aliases, typ: t, hasDefault: f.HasDefault, def: f.Default})
		}
		delete(c.building, full)
		return out, nil
	case "enum":
		full := fullName(n.Name, n.Namespace)
		out := &snode{kind: kEnum, name: full, aliases: qualify(n.Aliases, namespaceOf(full)), symbols: n.Symbols, enumDefault: -1}
		if n.HasEnumDefault {
			for i, s := range n.Symbols {
				if s == n.EnumDefault {
					out.enumDefault = i
				}
			}
		}
		return out, c.define(full, out)
	case "fixed":
		full := fullName(n.Name, n.Namespace)
		out := &snode{kind: kFixed, name: full, aliases: qualify(n.Aliases, namespaceOf(full)), size: n.Size}
		out.setLogical(n)
		return out, c.define(full, out)
	case "array":
		items, err := c.node(n.Items, ns, path+"[]")
		if err != nil {
			return nil, err
		}
		return &snode{kind: kArray, items: items}, nil
	case "map":
		values, err := c.node(n.Values, ns, path+"{}")
		if err != nil {
			return nil, err
		}
		return &snode{kind: kMap, values: values}, nil
	case "union":
		out := &snode{kind: kUnion}
		for i := range n.Branches {
			b, err := c.node(&n.Branches[i], ns, path)
			if err != nil {
				return nil, err
			}
			out.branches = append(out.branches, b)
		}
		return out, nil
	}
	// A reference to a named type: a dotted name is a full name, a bare
	// one is looked up in the enclosing namespace, then the null one.
	candidates := []string{n.Type}
	if !strings.Contains(n.Type, ".") && ns != "" {
		candidates = []string{ns + "." + n.Type, n.Type}
	}
	for _, full := range candidates {
		if c.building[full] {
			return nil, recursionErr(full, path)
		}
		if t, ok := c.named[full]; ok {
			return t, nil
		}
		if def, ok := c.defs[full]; ok {
			return c.node(def, ns, path)
		}
	}
	return nil, fmt.Errorf("unknown type %q at %s", n.Type, path)
}

func recursionErr(full, path string) error {
	return fmt.Errorf("recursive schema: %s contains itself (at %s); recursive types have no Arrow column layout", full, orTop(path))
}

func (c *converter) define(full string, n *snode) error {
	if _, dup := c.named[full]; dup {
		return fmt.Errorf("type %s is defined twice", full)
	}
	c.named[full] = n
	return nil
}

func qualify(names []string, ns string) []string {
	out := make([]string, len(names))
	for i, a := range names {
		out[i] = fullName(a, ns)
	}
	return out
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// setLogical keeps the logical type of n when it is valid on the
// underlying type; Avro says an invalid logical type is ignored.
func (out *snode) setLogical(n *avro.SchemaNode) {
	lt := n.LogicalType
	ok := false
	switch lt {
	case "date", "time-millis":
		ok = out.kind == kInt
	case "time-micros", "timestamp-millis", "timestamp-micros", "timestamp-nanos",
		"local-timestamp-millis", "local-timestamp-micros", "local-timestamp-nanos":
		ok = out.kind == kLong
	case "uuid":
		ok = out.kind == kString || (out.kind == kFixed && out.size == 16)
	case "decimal":
		// The parser validated precision and scale; a decimal that cannot
		// fit its fixed size is rejected there too.
		ok = (out.kind == kBytes || out.kind == kFixed) && n.Precision > 0
		out.precision, out.scale = n.Precision, n.Scale
	}
	if ok {
		out.logical = lt
	} else {
		out.precision, out.scale = 0, 0
	}
}
