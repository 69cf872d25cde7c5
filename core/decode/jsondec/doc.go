// Package jsondec decodes JSON records (Kafka keys or values) into rows of
// an Arrow struct column, directed by the column's type. It implements
// decode.Decoder.
//
//	dec, err := jsondec.New(structType, jsondec.Options{})
//	...
//	err = dec.Append(builder, recordBytes) // one row, or none
//
// # Records
//
// A record is one JSON object (RFC 8259), optionally surrounded by
// whitespace; anything else after the object (a second object, a stray
// character) makes the record malformed, as does a byte-order mark.
// The object's members fill the struct's fields:
//
//   - A member matches the field whose name equals its name after
//     unescaping, byte for byte (case matters).
//   - A missing member, or a member whose value is null, gives a null;
//     for a non-nullable field that makes the record malformed, unless
//     Options.ZeroForMissing asks for the type's zero value instead.
//   - A member that is not a field is ignored by default, after checking
//     that it is well-formed JSON (Options.DisallowUnknownMembers makes it
//     malformed instead).
//   - A member that appears twice is malformed: RFC 8259 leaves the
//     meaning of duplicate names open and parsers disagree (first wins,
//     last wins), so rather than guess which value the producer meant,
//     the record is reported.
//
// Nested structs follow the same rules. Nesting of objects and arrays is
// bounded by Options.MaxDepth (default 128), so a hostile record cannot
// exhaust the stack.
//
// # Types
//
//	bool                  true or false
//	int8..int64,          a JSON number written as an integer (no fraction,
//	uint8..uint64         no exponent: 3.0 and 1e3 are malformed), within
//	                      the type's range; "-0" is 0
//	float32, float64      any JSON number, correctly rounded; beyond the
//	                      type's range is malformed, underflow gives 0
//	utf8, large_utf8      a string; escapes decoded, \uXXXX including
//	                      surrogate pairs; a lone surrogate, a bad escape,
//	                      an unescaped control character or invalid UTF-8
//	                      is malformed
//	binary, large_binary  a string holding base64 (standard or URL-safe
//	                      alphabet, padding optional), because that is how
//	                      JSON producers write bytes (Jackson, Go's
//	                      encoding/json, the Protobuf JSON mapping, Kafka
//	                      Connect); Options.Binary = RawString stores the
//	                      UTF-8 bytes of the string instead
//	fixed_size_binary(n)  as binary, and it must be n bytes
//	timestamp(unit, tz)   a JSON integer counting the unit since the Unix
//	                      epoch (exact, never through a float), or an
//	                      RFC 3339 / ISO 8601 string
//	                      YYYY-MM-DD[(T|t| )hh:mm[:ss[(.|,)fraction]]][Z|±hh:mm|±hhmm|±hh]:
//	                      the offset is applied, no offset means UTC, a date
//	                      alone is its midnight. The column's time zone
//	                      (or its absence) does not change the instant.
//	                      Fraction digits finer than the unit must be zero
//	                      (Options.TruncateTimestamps drops them instead);
//	                      leap seconds and instants the unit cannot hold in
//	                      64 bits are malformed
//	date32, date64        "YYYY-MM-DD", or a JSON integer (days for date32,
//	                      milliseconds for date64)
//	decimal32/64/128/256  a JSON number or a string holding one, converted
//	                      exactly from its digits (no float on the way):
//	                      more decimal places than the scale, or more
//	                      digits than the precision, is malformed, never
//	                      rounded
//	list, large_list      an array; elements of the element type
//	fixed_size_list(n)    an array of exactly n elements
//	struct                an object, as above
//	map<utf8|large_utf8,  an object; each member is one entry, in order.
//	    T>                Duplicate names are kept, since an Arrow map may
//	                      hold them and dropping one would lose data
//
// With Options.QuotedNumbers, integer and float fields also accept their
// number inside a string ("42"; "NaN", "Infinity", "-Infinity" for
// floats), as the Protobuf JSON mapping writes 64-bit integers.
//
// Not supported (New fails, naming the field and its type): float16,
// time32, time64, duration, intervals, dictionary-encoded fields,
// string_view and binary_view, list_view, unions, run-end encoded arrays,
// extension types, null, maps with keys other than strings or with
// keys_sorted set, and structs with no fields or two fields of one name.
//
// # Errors
//
// An error caused by the record wraps decode.ErrMalformed and names the
// field's path and what was expected against what was found:
//
//	field "price": expected a number, got a string
//	field "legs[2].qty": 3.5 is not an integer
//	field "tags["env"]": expected a string, got a number
//	field "ts": "2024-13-01T00:00:00Z" is not a valid timestamp: month 13 out of range
//	invalid JSON at offset 93: data after the JSON object
//
// A builder whose type is not the decoder's is a programming error, not a
// malformed record.
//
// # All-or-nothing rows
//
// Append parses and checks the whole record first, converting every value
// and writing it to a tape: a flat, reused slice of slots, each naming the
// builder that will get the value and holding the value itself (or the
// span of a string in the input). Only when the record is known good is
// the tape replayed into the builders, which cannot fail. A bad record
// therefore never leaves a partial row, at the cost of one pass over a few
// slots per row rather than a rollback of every builder on error.
//
// # Performance
//
// The parser is written by hand for this job: it is directed by the
// schema, so it converts each value as it scans it to exactly the type
// the column needs, and never builds a generic JSON tree. Member names are
// matched in schema order first, with one or two 8-byte comparisons of
// the name, its closing quote and the colon; string bytes are checked and
// integers and fractions read eight at a time (SWAR); floats take the
// exact fast path of
// Clinger's algorithm when mantissa and power of ten are exact, and
// strconv otherwise. Scratch space is reused, so a warm decoder does not
// allocate, and the builders' reservations (Reserve, ReserveData) are used
// without per-value checks when they leave room.
//
// On the trade record it is optimised for,
//
//	{"symbol":"AAPL","price":187.23,"qty":100,"side":"buy","ts":1732000000123,"venue":"XNAS"}
//
// into struct<symbol: utf8, price: float64, qty: int64, side: utf8,
// ts: timestamp[ms, tz=UTC], venue: utf8>, BenchmarkTrade (10 000 varied
// records appended to one reserved StructBuilder, one goroutine, AMD EPYC
// shared with other jobs, best and median of 7 runs; instructions per
// record counted under valgrind with the collector off, which the
// machine's load does not skew but which leaves out the cost of garbage)
// gives:
//
//	                                       ns/record   instr.  allocs
//	jsondec                                 157 / 178    2.9k       0
//	fastjson (reused Parser) + appends      334 / 368    5.5k       0
//	goccy/go-json into a struct + appends   339 / 487    4.5k       1
//	bytedance/sonic into a struct + appends ~530                    2
//	arrow-go RecordBuilder.UnmarshalJSON   1484 / 1877   17k       31
//	encoding/json into a struct + appends  1622 / 1843   18k        6
//	arrow-go StructBuilder.UnmarshalJSON   1613 / 2958   14k       26
//
// (sonic was measured in a separate module, to keep its dependencies out
// of this one.) jsondec thus decodes about 6 M trade records per second on
// one core, without allocating.
//
// The third-party parsers are not dependencies of this package: they
// appear only in its benchmark, for the comparison.
package jsondec
