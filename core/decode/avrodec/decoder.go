package avrodec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/kafkars/kafkars/core/decode"
	"github.com/twmb/avro"
)

// Framing says how a record's bytes carry the Avro datum.
type Framing int

const (
	// Raw: the bytes are the datum alone, written with Options.Schema (or
	// Options.WriterSchema). The default.
	Raw Framing = iota
	// Confluent: magic byte 0, the writer schema's registry id as a
	// 4-byte big-endian integer, then the datum (what Confluent's and
	// Apicurio's serializers write).
	Confluent
)

func (f Framing) String() string {
	switch f {
	case Raw:
		return "raw"
	case Confluent:
		return "confluent"
	}
	return "Framing(" + strconv.Itoa(int(f)) + ")"
}

// Options configure a Decoder.
type Options struct {
	// Schema is the reader schema (Avro schema JSON): it fixes the Arrow
	// type of rows, and every writer schema is resolved against it. With
	// Raw framing it is also the writer schema unless WriterSchema is set.
	// Required unless Subject is set.
	Schema string
	// WriterSchema, with Raw framing only, is the schema the data was
	// written with when it differs from Schema (resolved against it as a
	// registry schema would be). Default: Schema.
	WriterSchema string
	// Framing of the records. Default: Raw.
	Framing Framing
	// Registry finds writer schemas by id. Required with Confluent
	// framing; also used for Subject and for schema references.
	Registry decode.Registry
	// Subject, with a Registry and no Schema: the reader schema is the
	// latest version of this subject when New is called (it does not
	// follow later versions: the Arrow type of a column cannot change).
	// Default: none.
	Subject string
}

// program is what a writer schema compiles to; err set: every record
// written with it is malformed, for the reason err gives.
type program struct {
	op  *pop
	seq []*pop // what runs: the top record's fields, or op itself
	err error
}

func newProgram(op *pop) *program {
	return &program{op: op, seq: appendFlat(nil, op)}
}

// Decoder decodes Avro datums into rows of an Arrow struct column. It
// implements decode.Decoder. Like every Decoder it is used by one
// goroutine at a time; it keeps a compiled program per writer schema id
// and scratch space, so a warm Decoder does not allocate per record.
type Decoder struct {
	framing  Framing
	registry decode.Registry
	root     *rnode
	typ      *arrow.StructType
	wrapped  bool // the reader schema is not a record: rows are {value: T}

	raw      *program           // Raw framing
	progs    map[int32]*program // Confluent framing, by schema id
	lastID   int32
	lastProg *program
	curID    int32 // id of the record being decoded, for errors

	// Scratch of the record being decoded.
	src      []byte
	tape     []uint64
	spans    []int
	budget   int
	spanFlag uint64
	uuid     [36]byte

	consts []byte // encoded defaults; spans with constSpan point here
	bound  *array.StructBuilder
}

var _ decode.Decoder = (*Decoder)(nil)

// New makes a Decoder. The reader schema is parsed, mapped to Arrow and
// checked here (a recursive schema, an unknown type or a decimal too wide
// for Arrow is an error); with Raw framing the writer schema is resolved
// against it here too. With Confluent framing writer schemas are looked up
// and resolved when their id is first seen.
func New(opts Options) (*Decoder, error) {
	d := &Decoder{framing: opts.Framing, registry: opts.Registry, progs: map[int32]*program{}}
	switch opts.Framing {
	case Raw:
	case Confluent:
		if opts.Registry == nil {
			return nil, errors.New("avrodec: Confluent framing needs a Registry to find writer schemas")
		}
		if opts.WriterSchema != "" {
			return nil, errors.New("avrodec: WriterSchema is for Raw framing; with Confluent framing the registry gives writer schemas")
		}
	default:
		return nil, fmt.Errorf("avrodec: unknown framing %d", int(opts.Framing))
	}
	var reader *snode
	var err error
	switch {
	case opts.Schema != "" && opts.Subject != "":
		return nil, errors.New("avrodec: set Schema or Subject, not both")
	case opts.Schema != "":
		if reader, err = parseSchema(opts.Schema, nil); err != nil {
			return nil, fmt.Errorf("avrodec: reader schema: %w", err)
		}
	case opts.Subject != "":
		if opts.Registry == nil {
			return nil, errors.New("avrodec: Subject needs a Registry")
		}
		s, err := opts.Registry.Latest(opts.Subject)
		if err != nil {
			return nil, fmt.Errorf("avrodec: latest schema of subject %q: %w", opts.Subject, err)
		}
		if reader, err = d.schemaOf(s); err != nil {
			return nil, fmt.Errorf("avrodec: subject %q (schema id %d): %w", opts.Subject, s.ID, err)
		}
	default:
		return nil, errors.New("avrodec: no reader schema: set Schema, or Registry and Subject")
	}
	if reader.kind != kRecord {
		d.wrapped = true
		reader = wrapValue(reader)
	}
	if d.root, err = buildReader(reader, ""); err != nil {
		return nil, fmt.Errorf("avrodec: reader schema: %w", err)
	}
	d.typ = d.root.dt.(*arrow.StructType)
	if opts.Framing == Raw {
		writer := reader
		if opts.WriterSchema != "" {
			if writer, err = parseSchema(opts.WriterSchema, nil); err != nil {
				return nil, fmt.Errorf("avrodec: writer schema: %w", err)
			}
			if d.wrapped {
				writer = wrapValue(writer)
			}
		}
		op, err := d.compile(writer, d.root, "")
		if err != nil {
			return nil, fmt.Errorf("avrodec: the writer schema cannot be read with the reader schema: %w", err)
		}
		d.raw = newProgram(op)
	}
	return d, nil
}

// wrapValue wraps a non-record top-level schema in a one-field record
// "value", so rows are always structs.
func wrapValue(s *snode) *snode {
	return &snode{kind: kRecord, fields: []sfield{{name: "value", typ: s}}}
}

// Type is the struct type of rows: the reader record's fields, or a single
// field "value" when the reader schema is not a record.
func (d *Decoder) Type() *arrow.StructType { return d.typ }

// Append decodes one record and appends it to b as a row, or leaves b as
// it was and returns an error (wrapping decode.ErrMalformed when the
// record's bytes are at fault).
func (d *Decoder) Append(b *array.StructBuilder, data []byte) error {
	prog := d.raw
	if d.framing == Confluent {
		if len(data) < 5 || data[0] != decode.MagicByte {
			_, _, err := decode.SplitConfluent(data)
			return fmt.Errorf("avro: %w", err)
		}
		id := int32(binary.BigEndian.Uint32(data[1:5]))
		data = data[5:]
		if id == d.lastID && d.lastProg != nil {
			prog = d.lastProg
		} else {
			var err error
			if prog, err = d.programFor(id); err != nil {
				return err
			}
		}
		d.curID = id
	}
	if prog.err != nil {
		return prog.err
	}
	if b != d.bound {
		if !arrow.TypeEqual(b.Type(), d.typ) {
			return fmt.Errorf("avrodec: builder of type %s, decoder makes %s", b.Type(), d.typ)
		}
		d.root.bind(b)
		d.bound = b
	}
	if len(data) > maxSpanOff {
		return decode.Malformed(fmt.Sprintf("avro: datum of %d bytes is larger than 2 GiB", len(data)))
	}
	// d.src keeps the last record's bytes referenced until the next call:
	// clearing it would cost a second write barrier per record while the
	// garbage collector marks.
	d.src = data
	d.tape = d.tape[:0]
	d.budget = zeroBudget(len(data))
	end, err := d.run(prog.seq, 0)
	if err == nil && end != len(data) {
		err = d.malformed(prog.op, end, "%d bytes left over after the datum", len(data)-end)
	}
	if err != nil {
		return err
	}
	d.emit(d.root, 0)
	return nil
}

// programFor returns the program for writer schema id, looking the schema
// up once. A schema the registry does not have, or that cannot be read
// with the reader schema, gives a program whose err makes every record
// with that id malformed: decided once. Other registry errors are returned
// (not malformed, not cached: the next record asks again).
func (d *Decoder) programFor(id int32) (*program, error) {
	if p, ok := d.progs[id]; ok {
		d.lastID, d.lastProg = id, p
		return p, nil
	}
	p := &program{}
	s, err := d.registry.ByID(id)
	switch {
	case err != nil && errors.Is(err, decode.ErrMalformed):
		p.err = decode.Malformed(fmt.Sprintf("avro: schema id %d: %v", id, err))
	case err != nil:
		return nil, fmt.Errorf("avro: looking up schema id %d: %w", id, err)
	default:
		w, err := d.schemaOf(s)
		if err != nil {
			if errors.Is(err, decode.ErrRegistry) {
				return nil, fmt.Errorf("avro: schema id %d: %w", id, err)
			}
			p.err = decode.Malformed(fmt.Sprintf("avro: schema id %d: %v", id, err))
			break
		}
		if d.wrapped {
			w = wrapValue(w)
		}
		op, err := d.compile(w, d.root, "")
		if err != nil {
			p.err = decode.Malformed(fmt.Sprintf("avro: schema id %d cannot be read with the reader schema: %v", id, err))
			break
		}
		p = newProgram(op)
	}
	d.progs[id] = p
	d.lastID, d.lastProg = id, p
	return p, nil
}

// maxRefDepth bounds chains of schema references.
const maxRefDepth = 32

// schemaOf parses a registry schema, first loading the schemas it
// references (depth first, so named types are defined before use).
func (d *Decoder) schemaOf(s *decode.Schema) (*snode, error) {
	if s.Type != "" && s.Type != "AVRO" {
		return nil, fmt.Errorf("a %s schema, not AVRO", s.Type)
	}
	if len(s.References) == 0 {
		return parseSchema(s.Text, nil)
	}
	var cache avro.SchemaCache
	seen := map[string]bool{}
	var load func(refs []decode.Reference, depth int) error
	load = func(refs []decode.Reference, depth int) error {
		if depth > maxRefDepth {
			return fmt.Errorf("schema references nest deeper than %d", maxRefDepth)
		}
		for _, ref := range refs {
			key := ref.Subject + "\x00" + strconv.Itoa(ref.Version)
			if seen[key] {
				continue
			}
			seen[key] = true
			rs, err := d.registry.Version(ref.Subject, ref.Version)
			if err != nil {
				return fmt.Errorf("reference %q (subject %q version %d): %w", ref.Name, ref.Subject, ref.Version, err)
			}
			if err := load(rs.References, depth+1); err != nil {
				return err
			}
			if _, err := cache.Parse(rs.Text); err != nil {
				return fmt.Errorf("reference %q (subject %q version %d): %w", ref.Name, ref.Subject, ref.Version, err)
			}
		}
		return nil
	}
	if d.registry == nil {
		return nil, errors.New("the schema has references but there is no Registry")
	}
	if err := load(s.References, 1); err != nil {
		return nil, err
	}
	return parseSchema(s.Text, &cache)
}
