package protodec

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/kafkars/kafkars/core/decode"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Framing is how a message is wrapped in a Kafka key or value.
type Framing int

const (
	// Raw: the key or value is the encoded message and nothing else.
	Raw Framing = iota
	// Confluent: magic byte 0, the 4-byte big-endian schema id of the
	// writer's schema, the message-index path of the message type in
	// that schema (see decode.SplitMessageIndexes), then the message; as
	// written by Confluent's Protobuf serializers.
	Confluent
)

func (f Framing) String() string {
	switch f {
	case Raw:
		return "Raw"
	case Confluent:
		return "Confluent"
	}
	return fmt.Sprintf("Framing(%d)", int(f))
}

// Options configure a Decoder. The reader schema, which fixes the Arrow
// type, comes from Descriptors or, without them, from Registry and Subject.
type Options struct {
	// Descriptors is a serialized google.protobuf.FileDescriptorSet
	// holding Message and everything it imports (protoc
	// --descriptor_set_out=FILE --include_imports). Imports of
	// google/protobuf/*.proto missing from the set are taken from the
	// copies built into the protobuf module. Default: none, the reader
	// schema comes from Registry.
	Descriptors []byte
	// Message is the full name of the message type to decode, e.g.
	// "shop.v1.Order" (nested types as "shop.v1.Order.Item"). Required
	// with Descriptors. With a registry schema the default ("") is the
	// first message declared in the subject's file, the one Confluent's
	// serializers write as message-index path [0].
	Message string
	// Framing of the records. Default Raw.
	Framing Framing
	// Registry looks up schemas. With Confluent framing it resolves each
	// record's schema id to the writer's schema, to check that the
	// record's message-index path names Message (once per id: the result
	// is cached). Without Descriptors it also provides the reader schema
	// (see Subject). Default: none; then Confluent framing needs
	// Descriptors, and message-index paths are checked against the
	// Descriptors' own file.
	Registry decode.Registry
	// Subject is the registry subject whose latest version, looked up
	// once in New, is the reader schema (used with a Registry and no
	// Descriptors; it must be empty with Descriptors). Its references
	// (imports) are fetched by subject and version and compiled with it.
	Subject string
	// TimeUnit of Timestamp and Duration columns. Default Nanoseconds.
	TimeUnit TimeUnit
}

// Decoder decodes Protobuf messages into rows of an Arrow struct column.
// It implements decode.Decoder: use it from one goroutine at a time.
type Decoder struct {
	typ     *arrow.StructType
	root    *msgPlan
	msgName protoreflect.FullName
	framing Framing
	unit    TimeUnit

	// Confluent framing: which message-index path names the reader's
	// message, per writer schema id.
	reg        decode.Registry
	readerTree []msgTree // without a registry: the reader's file
	readerPath []int     // and the reader message's path in it
	writers    map[int32]*writer
	lastID     int32
	last       *writer

	// Scratch reused by every Append.
	data  []byte // the message being decoded (not kept after Append)
	slots []slot
	recs  []rec
	ents  []int32
	// emptySlots stand for the slots of an absent message (read only).
	emptySlots []slot
	idx        []int
	num        []byte
	sorter     entrySorter
	bound      *array.StructBuilder
}

// writer is what the decoder knows of one writer schema id.
type writer struct {
	tree []msgTree
	path []int // the path naming the reader's message; nil if none does
	err  error // malformed: the schema is not Protobuf or does not parse
}

var _ decode.Decoder = (*Decoder)(nil)

// New makes a Decoder. It fails if the options are inconsistent, the
// schema cannot be loaded or compiled, or the message type cannot be a
// struct column (it is recursive, or nests more than 100 deep).
func New(opts Options) (*Decoder, error) {
	if opts.Framing != Raw && opts.Framing != Confluent {
		return nil, fmt.Errorf("protodec: unknown framing %v", opts.Framing)
	}
	if opts.TimeUnit != Nanoseconds && opts.TimeUnit != Microseconds {
		return nil, fmt.Errorf("protodec: unknown time unit %v", opts.TimeUnit)
	}
	d := &Decoder{framing: opts.Framing, unit: opts.TimeUnit, writers: map[int32]*writer{}}
	var md protoreflect.MessageDescriptor
	var err error
	switch {
	case len(opts.Descriptors) > 0:
		if opts.Subject != "" {
			return nil, errors.New("protodec: give the reader schema either as Descriptors or as a registry Subject, not both")
		}
		if md, err = messageFromSet(opts.Descriptors, opts.Message); err != nil {
			return nil, err
		}
		if opts.Framing == Confluent && opts.Registry == nil {
			d.readerTree = treeOf(md.ParentFile().Messages())
			d.readerPath = pathOf(d.readerTree, md.FullName())
		}
	case opts.Registry != nil && opts.Subject != "":
		s, err := opts.Registry.Latest(opts.Subject)
		if err != nil {
			return nil, fmt.Errorf("protodec: reader schema of subject %q: %w", opts.Subject, err)
		}
		fd, err := compileRegistry(opts.Registry, s)
		if err != nil {
			return nil, err
		}
		if md, err = findMessage(fd, opts.Message); err != nil {
			return nil, fmt.Errorf("%w (subject %q)", err, opts.Subject)
		}
		if md.ParentFile().Path() == fd.Path() {
			// Records written with this very schema need no lookup.
			t := treeOf(fd.Messages())
			d.writers[s.ID] = &writer{tree: t, path: pathOf(t, md.FullName())}
		}
	case opts.Registry != nil:
		return nil, errors.New("protodec: with a Registry and no Descriptors, Subject names the reader schema and is required")
	default:
		return nil, errors.New("protodec: no reader schema: give Descriptors, or a Registry and a Subject")
	}
	if opts.Framing == Confluent {
		d.reg = opts.Registry
	}
	p := planner{unit: opts.TimeUnit}
	if d.root, err = p.message(md, string(md.FullName())); err != nil {
		return nil, err
	}
	d.typ, d.msgName = d.root.st, md.FullName()
	return d, nil
}

// Type is the struct type of decoded rows: one child per field of the
// message, in declaration order, named as in the .proto file.
func (d *Decoder) Type() *arrow.StructType { return d.typ }

// Append decodes one message and appends it to b as a row; on error b is
// unchanged. See the package documentation for the rules.
func (d *Decoder) Append(b *array.StructBuilder, data []byte) error {
	payload := data
	if d.framing == Confluent {
		var err error
		if payload, err = d.unframe(data); err != nil {
			return err
		}
	}
	if len(payload) > math.MaxInt32 {
		return &recordError{msg: string(d.msgName), cause: fmt.Sprintf("%d bytes, more than 2 GiB", len(payload))}
	}
	d.data = payload
	d.slots, d.recs = d.slots[:0], d.recs[:0]
	root := d.newInst(d.root)
	_, err := d.scan(d.root, root, 0, len(payload), 0, 0)
	if err == nil && d.root.check {
		err = d.check(d.root, root)
	}
	if err == nil && b != d.bound {
		err = d.bind(b)
	}
	if err != nil {
		d.data = nil
		if cap(d.recs) > maxKeep || cap(d.slots) > maxKeep {
			d.recs, d.slots = nil, nil
		}
		if re, ok := err.(*recordError); ok {
			re.msg = string(d.msgName)
		}
		return err
	}
	d.emitMsg(d.root, root, b)
	d.data = nil
	if cap(d.recs) > maxKeep || cap(d.slots) > maxKeep {
		d.recs, d.slots = nil, nil // one huge record does not pin its tape
	}
	return nil
}

// maxKeep bounds the tape kept between records, in slots or recs (32 or
// 24 bytes each): records needing more than that grow it for themselves.
const maxKeep = 1 << 20

// bind points the plan at the builders of b, once per builder.
func (d *Decoder) bind(b *array.StructBuilder) error {
	if !arrow.TypeEqual(b.Type(), d.typ) {
		return fmt.Errorf("protodec: builder of type %s, want %s (make it with array.NewBuilder(mem, Type()))", b.Type(), d.typ)
	}
	bindMsg(d.root, b)
	d.bound = b
	return nil
}

// unframe checks the Confluent framing of a record and returns the
// message inside.
//
// The schema id and message-index path name the writer's message type;
// the record is decoded with the reader's message type, by field number,
// which is how Protobuf defines compatibility between the two. So the
// path must name a message with the reader's full name: a record of
// another type (topics with several record types) is malformed, because
// decoding it by field number would produce a wrong row rather than an
// error, and it cannot be decoded as what it is either: its type is not
// the struct type fixed at New.
func (d *Decoder) unframe(data []byte) ([]byte, error) {
	id, payload, err := decode.SplitConfluent(data)
	if err != nil {
		return nil, fmt.Errorf("protobuf %s: %w", d.msgName, err)
	}
	d.idx, payload, err = decode.SplitMessageIndexes(d.idx[:0], payload)
	if err != nil {
		return nil, fmt.Errorf("protobuf %s: %w", d.msgName, err)
	}
	want := d.readerPath
	var w *writer
	if d.reg != nil {
		if w = d.last; w == nil || id != d.lastID {
			if w, err = d.writer(id); err != nil {
				return nil, err
			}
			d.last, d.lastID = w, id
		}
		if w.err != nil {
			return nil, w.err
		}
		want = w.path
	}
	if !slices.Equal(d.idx, want) {
		return nil, d.pathError(id, w)
	}
	return payload, nil
}

func (d *Decoder) pathError(id int32, w *writer) error {
	if d.reg == nil {
		if name, ok := nameAt(d.readerTree, d.idx); ok {
			return &recordError{msg: string(d.msgName), cause: fmt.Sprintf(
				"message-index path %v names %s in the Descriptors' file, not %s (path %v)", d.idx, name, d.msgName, d.readerPath)}
		}
		return &recordError{msg: string(d.msgName), cause: fmt.Sprintf(
			"message-index path %v names no message in the Descriptors' file (%s is %v)", d.idx, d.msgName, d.readerPath)}
	}
	if w.path == nil {
		return &recordError{msg: string(d.msgName), cause: fmt.Sprintf(
			"writer schema id %d does not define %s", id, d.msgName)}
	}
	if name, ok := nameAt(w.tree, d.idx); ok {
		return &recordError{msg: string(d.msgName), cause: fmt.Sprintf(
			"message-index path %v names %s in writer schema id %d, not %s", d.idx, name, id, d.msgName)}
	}
	return &recordError{msg: string(d.msgName), cause: fmt.Sprintf(
		"message-index path %v names no message in writer schema id %d", d.idx, id)}
}

// writer looks up and caches writer schema id.
func (d *Decoder) writer(id int32) (*writer, error) {
	if w, ok := d.writers[id]; ok {
		return w, nil
	}
	s, err := d.reg.ByID(id)
	if err != nil {
		if errors.Is(err, decode.ErrMalformed) {
			// An id the registry does not know: the record's fault. Not
			// cached: the registry decides how to cache misses.
			return nil, fmt.Errorf("protobuf %s: writer schema id %d: %w", d.msgName, id, err)
		}
		return nil, fmt.Errorf("protodec: writer schema id %d: %w", id, err)
	}
	w := &writer{}
	if s.Type != "PROTOBUF" {
		w.err = &recordError{msg: string(d.msgName), cause: fmt.Sprintf("writer schema id %d is %s, not PROTOBUF", id, typeName(s.Type))}
	} else if w.tree, err = parseTree(fmt.Sprintf("schema-%d.proto", id), s.Text); err != nil {
		w.err = &recordError{msg: string(d.msgName), cause: fmt.Sprintf("writer schema id %d does not parse: %v", id, err)}
	} else {
		w.path = pathOf(w.tree, d.msgName)
	}
	d.writers[id] = w
	return w, nil
}
