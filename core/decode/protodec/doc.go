// Package protodec decodes Protobuf messages into rows of an Arrow struct
// column, implementing decode.Decoder.
//
// # Schemas
//
// The reader schema, fixed when the Decoder is made, decides the Arrow
// type. It comes from a serialized FileDescriptorSet (Options.Descriptors,
// as protoc --descriptor_set_out --include_imports writes it) or from a
// schema registry, where Protobuf schemas are .proto source text whose
// imports are references to other subjects and versions: New fetches
// them through decode.Registry.Version and compiles the lot.
//
// Dependencies, and why: google.golang.org/protobuf (the Go team's
// reference implementation) for descriptors (protodesc, protoreflect) and
// the wire-format primitives (protowire); github.com/bufbuild/protocompile
// (a pure-Go .proto compiler, maintained by Buf and used by their CLI) to
// compile registry schemas without protoc, with the google/protobuf/*.proto
// imports built in.
//
// # Decoding
//
// Messages are decoded straight from the wire format into the Arrow
// builders, directed by the reader schema, without building message
// objects (dynamicpb allocates for every message and every nested one,
// and is more than ten times slower here: see BenchmarkTrade). Fields are
// matched by number, which is how Protobuf defines compatibility between
// the writer's and the reader's schema: fields the reader does not know
// are skipped, fields the writer did not send are absent.
//
// Fields arrive in any order and may repeat, while Append must add a whole
// row or nothing. So decoding takes two passes. Pass 1 validates every
// byte the row depends on and records where each field's values are, on a
// tape of slots (one per field of each message instance) and records
// (one per element of repeated fields), reused from record to record.
// Pass 1.5 checks what depends on all the occurrences of a field
// (Timestamp and Duration ranges). Pass 2 appends from the tape in schema
// order and cannot fail. A record that fails leaves every builder as it
// was; one that decodes allocates nothing once the tape has grown.
//
// The encoding rules followed, as protobuf-go and the other runtimes do:
//   - For a non-repeated field occurring several times the last value
//     wins; occurrences of an embedded message are merged (scalars last
//     wins, repeated fields concatenated, sub-messages merged), which is
//     what the encoding defines for the concatenation of two messages.
//   - Repeated numeric, bool and enum fields are accepted packed and
//     unpacked, whatever the schema says, even mixed in one record.
//   - In a oneof the member seen last is set and the others are null; a
//     message member seen again is merged unless another member came in
//     between.
//   - Map entries missing their key or value get the default (an empty
//     message for message values); when a key repeats, the last entry
//     wins. The surviving entries keep their order on the wire.
//   - A proto2 required field that is missing is null, not an error (as
//     with protobuf-go's AllowPartial): whether it matters is the
//     reader's business, and the rest of the row is good.
//
// # Arrow mapping
//
// A message is a struct with one child per field, in declaration order,
// named as in the .proto file (oneof members included, as children of the
// message that holds the oneof). Values:
//
//	int32, sint32, sfixed32   int32
//	int64, sint64, sfixed64   int64
//	uint32, fixed32           uint32
//	uint64, fixed64           uint64
//	bool, float, double       bool, float32, float64
//	string                    utf8
//	bytes                     binary
//	enum                      utf8: the value's name (the first one for
//	                          aliases); a number the reader's enum does
//	                          not have is written in decimal ("7"), kept
//	                          rather than lost, for open and closed enums
//	message, group            struct
//	repeated T                list<T> (elements not null)
//	map<K, V>                 map<K, V> (values not null)
//	google.protobuf.Timestamp timestamp[ns, tz=UTC] (see TimeUnit)
//	google.protobuf.Duration  duration[ns]
//	google.protobuf.*Value    the wrapped type (Int64Value: int64, ...)
//
// Other well-known types (Any, Empty, FieldMask, ...) are messages like
// any other. Struct, Value and ListValue are recursive, like every
// recursive message type: Arrow types cannot recurse, so New rejects them
// and names the field that loops.
//
// Nullability follows field presence: fields with presence (proto3
// optional, proto2 optional and required, oneof members, message fields,
// editions explicit presence) are nullable and null when absent; fields
// without (proto3 and editions implicit-presence scalars) are not
// nullable and hold the default value when absent; repeated fields and
// maps are empty when absent. A wrapper-type field is null when absent and
// the default value when present but empty.
//
// Timestamps are nanoseconds by default: that is the precision the type
// carries and what pandas uses; the price is the range of an int64 of
// nanoseconds (1677 to 2262), outside which a value is malformed.
// Options.TimeUnit = Microseconds trades the last digits for the full
// range of years 1 to 9999.
//
// # Framing and writer schemas
//
// With Confluent framing a record starts with magic byte 0, the writer's
// schema id and the message-index path of the writer's message type in
// that schema. With a Registry, each new id is looked up once and parsed
// (not compiled: its imports are not needed) to turn the path into a
// message name. The path must name the reader's message (same full name):
// a record of another message type is malformed, not decoded as whatever
// it names. Decoding it by field number against the reader's type would
// give a wrong row instead of an error, and decoding it with its own type
// is impossible since the Arrow type was fixed at New. Without a Registry
// (Descriptors only) the path is checked against the file of the
// Descriptors that defines the message: the producer's file is assumed to
// declare its messages in the same order. The schema id is otherwise not
// used: the reader's schema decodes every record.
//
// # Malformed records
//
// Errors caused by a record's bytes wrap decode.ErrMalformed and read
// "protobuf <message>: field <path>: <cause>", the path naming repeated
// elements by index (items[2].price). Malformed are: truncated tags,
// varints, lengths, fixed values and groups; varints longer than 10 bytes;
// field number 0; a wire type that does not match a known field's type
// (protobuf-go would keep such a field as unknown; a writer that changed a
// field's type incompatibly is better reported than silently dropped);
// wire types 6 and 7; invalid UTF-8 in string fields, in proto2 files
// too, since an Arrow utf8 column cannot hold it; an embedded message
// whose fields run past its length; unbalanced group tags; nesting deeper
// than 100 (through unknown groups: the schema itself is limited at New);
// Timestamp and Duration values outside their documented range or the
// column's unit; bad Confluent framing or message-index paths; schema ids
// the registry does not know, or whose schema is not Protobuf or does not
// parse. A registry that cannot be reached is not a malformed record: that
// error wraps decode.ErrRegistry instead, and the next record retries.
package protodec
