package protodec

// writer.go: the message type a producer writes, found the way a reader's
// is, for core/produce's Protobuf encoder. A producer needs one more thing
// than a reader: with Confluent framing, the id of the schema that defines
// the message and the message's index path in it.

import (
	"fmt"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/kafkars/kafkars/core/decode"
)

// MessageFromDescriptors finds message name in a serialized
// FileDescriptorSet (as protoc --include_imports --descriptor_set_out
// writes it), with its message-index path in the file that defines it.
func MessageFromDescriptors(raw []byte, name string) (protoreflect.MessageDescriptor, []int, error) {
	md, err := messageFromSet(raw, name)
	if err != nil {
		return nil, nil, err
	}
	return md, pathOf(treeOf(md.ParentFile().Messages()), md.FullName()), nil
}

// MessageFromRegistry compiles the latest schema of subject (with the
// schemas it imports) and finds message name in it ("" for its first
// message, as the Confluent serializers default to). It returns the
// schema's id and the message's index path. The message must be defined
// in the subject's own schema, not only imported by it: a record's
// schema id and path must point at the file that defines its type.
func MessageFromRegistry(reg decode.Registry, subject, name string) (protoreflect.MessageDescriptor, int32, []int, error) {
	s, err := reg.Latest(subject)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("protobuf: the latest schema of subject %q: %w", subject, err)
	}
	fd, err := compileRegistry(reg, s)
	if err != nil {
		return nil, 0, nil, err
	}
	md, err := findMessage(fd, name)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("%w (subject %q, schema id %d)", err, subject, s.ID)
	}
	if md.ParentFile().Path() != fd.Path() {
		return nil, 0, nil, fmt.Errorf("protobuf: message %q is imported by the schema of subject %q (id %d), not defined in it: "+
			"produce under the subject whose schema defines it", md.FullName(), subject, s.ID)
	}
	return md, s.ID, pathOf(treeOf(fd.Messages()), md.FullName()), nil
}
