package protodec

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/kafkars/kafkars/core/decode"
	"google.golang.org/protobuf/encoding/protowire"
)

// recordError is a malformed record: what is wrong and where. The path is
// collected while the scan unwinds (innermost element first), so that the
// success path never formats anything.
type recordError struct {
	msg   string     // the message type decoded, e.g. shop.v1.Order
	path  []pathElem // innermost first
	cause string
}

type pathElem struct {
	name  string
	index int32 // element of a repeated field, -1 for none
}

func (e *recordError) Error() string {
	var b strings.Builder
	b.WriteString("protobuf ")
	b.WriteString(e.msg)
	if len(e.path) > 0 {
		b.WriteString(": field ")
		for i := len(e.path) - 1; i >= 0; i-- {
			b.WriteString(e.path[i].name)
			if e.path[i].index >= 0 {
				b.WriteByte('[')
				b.WriteString(strconv.Itoa(int(e.path[i].index)))
				b.WriteByte(']')
			}
			if i > 0 {
				b.WriteByte('.')
			}
		}
	}
	b.WriteString(": ")
	b.WriteString(e.cause)
	return b.String()
}

func (e *recordError) Unwrap() error { return decode.ErrMalformed }

// malformed returns a record error without a path yet.
func malformed(format string, args ...any) *recordError {
	return &recordError{cause: fmt.Sprintf(format, args...)}
}

// in adds a path element to err as the scan unwinds out of field f.
func in(err error, f *fieldPlan, index int32) error {
	if re, ok := err.(*recordError); ok {
		re.path = append(re.path, pathElem{f.name, index})
	}
	return err
}

// wireName names a wire type the way the protobuf documentation does.
func wireName(t protowire.Type) string {
	switch t {
	case protowire.VarintType:
		return "varint (0)"
	case protowire.Fixed64Type:
		return "fixed64 (1)"
	case protowire.BytesType:
		return "length-delimited (2)"
	case protowire.StartGroupType:
		return "start group (3)"
	case protowire.EndGroupType:
		return "end group (4)"
	case protowire.Fixed32Type:
		return "fixed32 (5)"
	}
	return "invalid (" + strconv.Itoa(int(t)) + ")"
}

// kindName names a value kind for messages.
func kindName(k kind) string {
	switch k {
	case kBool:
		return "bool"
	case kInt32:
		return "int32"
	case kSint32:
		return "sint32"
	case kUint32:
		return "uint32"
	case kInt64:
		return "int64"
	case kSint64:
		return "sint64"
	case kUint64:
		return "uint64"
	case kSfixed32:
		return "sfixed32"
	case kFixed32:
		return "fixed32"
	case kFloat:
		return "float"
	case kSfixed64:
		return "sfixed64"
	case kFixed64:
		return "fixed64"
	case kDouble:
		return "double"
	case kString:
		return "string"
	case kBytes:
		return "bytes"
	case kEnum:
		return "enum"
	case kTimestamp:
		return "google.protobuf.Timestamp"
	case kDuration:
		return "google.protobuf.Duration"
	case kWrapper:
		return "wrapper"
	}
	return "message"
}
