// Package decode turns the bytes of Kafka keys and values into typed rows
// of Arrow struct columns.
//
// Decoding happens in the Go core, on the goroutine that builds a batch,
// straight from the bytes the merge holds into Arrow builders: Python never
// sees a record one at a time. Each format lives in its own package
// (jsondec, avrodec, protodec); the schema registry client is in registry.
// This package holds what they share: the Decoder contract, the Confluent
// wire format and the errors.
//
// The contract that makes per-topic malformed-record policies possible is
// all-or-nothing rows: a Decoder either appends one complete row or leaves
// the builder exactly as it was. The engine can then raise (rows before the
// bad record are delivered), skip it, or append a null row and the error
// text, without ever producing a half-written row.
package decode

import (
	"errors"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Decoder decodes encoded records into rows of one Arrow struct column.
// A Decoder is used by one goroutine at a time; it may keep scratch space
// between calls (and should: no allocation per record once warm).
type Decoder interface {
	// Type is the struct type of decoded rows, fixed when the decoder is
	// made.
	Type() *arrow.StructType
	// Append decodes data and appends it to b as one valid (non-null) row.
	// b was made with array.NewBuilder(mem, Type()).
	//
	// On error b is exactly as it was before the call: same length, no
	// partial row in any child. The error describes what is wrong with
	// the data (the caller adds topic, partition and offset). Errors
	// caused by the data wrap ErrMalformed; anything else (a registry
	// that cannot be reached) does not, and is not subject to the
	// malformed-record policy.
	Append(b *array.StructBuilder, data []byte) error
}

// ErrMalformed is wrapped by every error caused by the bytes of a record:
// truncated or invalid encoding, a wrong magic byte, an unknown schema id,
// a value of the wrong type, invalid UTF-8 in a string field.
var ErrMalformed = errors.New("malformed record")

// ErrRegistry is wrapped by errors of talking to a schema registry (not
// reachable, an HTTP error other than "not found"). They are not malformed
// records: the manager fails with them whatever the policy.
var ErrRegistry = errors.New("schema registry")

// Malformed returns an error that wraps ErrMalformed with the given text.
func Malformed(text string) error { return &malformedError{text} }

type malformedError struct{ text string }

func (e *malformedError) Error() string        { return e.text }
func (e *malformedError) Unwrap() error        { return ErrMalformed }
func (e *malformedError) Is(target error) bool { return target == ErrMalformed }
