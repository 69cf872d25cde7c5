// Package avrodec decodes Avro datums, raw or in the Confluent wire format
// with a schema registry, straight into Arrow struct builders.
//
// # Use
//
//	d, err := avrodec.New(avrodec.Options{
//		Framing:  avrodec.Confluent,
//		Registry: reg,             // a decode.Registry
//		Subject:  "trades-value",  // reader schema: the subject's latest version
//	})
//	b := array.NewBuilder(mem, d.Type()).(*array.StructBuilder)
//	err = d.Append(b, record.Value) // one row, or b untouched and an error
//
// With Raw framing the bytes are the datum alone and Options.Schema is both
// reader and writer schema (Options.WriterSchema, if set, is the writer).
//
// # How it decodes
//
// A Decoder compiles, for each writer schema (per registry id with
// Confluent framing, cached: one registry request per new id), a small
// program that follows the writer schema and knows what the reader wants:
// which fields to skip, which defaults to insert, which promotions to
// apply, how enum symbols and union branches map. Running it is a switch
// over a tree of ops, with no reflection and no Go value per field.
//
// Each record is decoded in two phases. The first reads the whole datum,
// checks everything (lengths, UTF-8, indexes, leftover bytes) and records
// the values on a tape reused across records: numbers as bits, strings
// and bytes as spans into the datum. Only then does the second phase
// append the tape to the builders, and it cannot fail. So a bad record
// never leaves a partial row, and a warm Decoder does not allocate.
//
// # Arrow types
//
// Rows are the reader schema's top-level record (a non-record reader
// schema is wrapped: rows are {value: T}). Fields are nullable exactly
// when their Avro type is a union with a null branch.
//
//	null                          null
//	boolean                       bool
//	int, long                     int32, int64
//	float, double                 float32, float64
//	string, uuid                  utf8 (a fixed(16) uuid as its canonical text)
//	bytes                         binary
//	fixed(n)                      fixed_size_binary(n)
//	enum                          utf8 (the symbol)
//	array<T>                      list<T>
//	map<T>                        map<utf8, T>
//	record                        struct
//	[null, T], [T, null]          T, nullable
//	[T]                           T
//	[null?, T1, T2, ...]          struct<T1, T2, ...>, one nullable field per
//	                              non-null branch named after its type, only
//	                              the written one set; null struct for null
//	date                          date32
//	time-millis, time-micros      time32[ms], time64[us]
//	timestamp-millis/micros/nanos timestamp[ms/us/ns, tz=UTC]
//	local-timestamp-*             timestamp[ms/us/ns] (no time zone)
//	decimal(p, s) (bytes, fixed)  decimal128(p, s); decimal256 when p > 38
//
// Other logical types (duration) and logical types that are invalid where
// they appear are ignored, as Avro says: the column has the underlying
// type. A logicalType written on a record field rather than on its type is
// ignored too, as Avro's Java implementation does.
//
// Enums are utf8 rather than dictionary-encoded: polars, DuckDB and pandas
// all read utf8 without ceremony, while dictionary columns whose
// dictionaries differ between batches must be unified before they can be
// concatenated or compared. Symbols are short, and casting to a
// categorical afterwards is cheap where wanted.
//
// # Schema resolution
//
// Writer schemas are resolved against the reader schema as the Avro
// specification says: record fields are matched by name or by a reader
// field's alias; writer-only fields are skipped (arrays and maps whose
// blocks carry their byte size are skipped without looking inside);
// reader-only fields take their default (a field with no default makes the
// writer schema unreadable); int, long and float are promoted to wider
// numbers and string and bytes to each other; enum symbols are mapped by
// name, unknown ones to the reader enum's default; a writer union is
// resolved branch by branch and a writer non-union against the matching
// reader union branch; named types match by unqualified name or alias.
// Two time values of different units (timestamp-micros written, read as
// timestamp-millis) are converted rather than reinterpreted. Decimals must
// have the same scale.
//
// A writer schema that cannot be resolved makes every record written with
// it malformed (the error names the schema id and why), decided once per
// id. A writer union branch the reader cannot take makes only the records
// that use it malformed.
//
// # Malformed records
//
// Errors caused by a record's bytes wrap decode.ErrMalformed and name the
// field path and the cause: a truncated datum, bytes left over after it, a
// wrong magic byte, a schema id the registry does not know, invalid UTF-8,
// negative or oversized lengths and counts (counts are bounded by the
// bytes left, so a lying count cannot make us allocate), union or enum
// indexes out of range, varint overflow, a decimal wider than its
// precision. Registry errors other than "not found" are returned as they
// are, not as malformed records, and the id is asked for again next time.
//
// # Dependencies
//
// Schemas are parsed with github.com/twmb/avro: it is maintained, has one
// dependency (klauspost/compress, already in our module graph through
// arrow-go, which moved its own Avro support onto it), validates names,
// defaults and logical types, and resolves registry references through its
// SchemaCache. github.com/hamba/avro/v2 was the other candidate; it is no
// longer maintained and brings reflect2 and json-iterator. We use twmb/avro
// for parsing only; decoding into Arrow is our own schema-directed code,
// because decoding to Go values first allocates for every record.
//
// # Performance
//
// A trade record of six fields (two strings, a double, a long, an enum, a
// timestamp-millis), Confluent-framed, decodes in 110 to 145 ns of CPU
// time on one core of the development machine (measured while other jobs
// shared it; about 1 600 instructions, a quarter of them in the Arrow
// builders' appends), that is 7 to 9 million records a second, with no
// allocation. Decoding the same record to Go values with twmb/avro takes
// about 8 300 instructions and 10 allocations before anything reaches
// Arrow. See BenchmarkAppendTrade and BenchmarkGenericDecodeTrade.
//
// Recursive schemas have no Arrow layout and are rejected by New (for the
// reader) or make their schema id malformed (for a writer).
package avrodec
