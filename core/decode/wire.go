package decode

import (
	"encoding/binary"
	"fmt"
)

// The Confluent wire format, as written by Confluent's serializers (and
// Apicurio's in Confluent-compatible mode): magic byte 0, the schema id as
// a 4-byte big-endian integer, then the payload. Protobuf payloads carry,
// between the id and the message, the index path of the message type in
// its .proto file: a zigzag varint count followed by that many zigzag
// varint indexes, where a count of 0 means [0] (the first message).

// MagicByte starts every Confluent-framed record.
const MagicByte = 0

// SplitConfluent returns the schema id and the payload of a
// Confluent-framed record.
func SplitConfluent(data []byte) (id int32, payload []byte, err error) {
	if len(data) < 5 {
		return 0, nil, Malformed(fmt.Sprintf("Confluent wire format: %d bytes, need at least 5 (magic byte and schema id)", len(data)))
	}
	if data[0] != MagicByte {
		return 0, nil, Malformed(fmt.Sprintf("Confluent wire format: magic byte is 0x%02x, not 0x00 (not written by a schema-registry serializer?)", data[0]))
	}
	return int32(binary.BigEndian.Uint32(data[1:5])), data[5:], nil
}

// AppendConfluent appends the framing for schema id to dst (for tests and
// producers).
func AppendConfluent(dst []byte, id int32) []byte {
	dst = append(dst, MagicByte)
	return binary.BigEndian.AppendUint32(dst, uint32(id))
}

// maxIndexes bounds the message-index path (nesting depth of the message
// type in its file); real schemas are a few levels deep.
const maxIndexes = 64

// SplitMessageIndexes reads the Protobuf message-index path at the start of
// payload (after SplitConfluent). It appends the indexes to dst (reuse it
// to avoid allocation) and returns them with the rest of the payload.
func SplitMessageIndexes(dst []int, payload []byte) (indexes []int, rest []byte, err error) {
	n, k := binary.Varint(payload)
	if k <= 0 {
		return dst, nil, Malformed("Confluent Protobuf framing: truncated message-index count")
	}
	payload = payload[k:]
	if n == 0 {
		return append(dst, 0), payload, nil
	}
	if n < 0 || n > maxIndexes {
		return dst, nil, Malformed(fmt.Sprintf("Confluent Protobuf framing: message-index count %d out of range", n))
	}
	for i := int64(0); i < n; i++ {
		v, k := binary.Varint(payload)
		if k <= 0 {
			return dst, nil, Malformed("Confluent Protobuf framing: truncated message index")
		}
		if v < 0 {
			return dst, nil, Malformed(fmt.Sprintf("Confluent Protobuf framing: negative message index %d", v))
		}
		dst = append(dst, int(v))
		payload = payload[k:]
	}
	return dst, payload, nil
}

// AppendMessageIndexes appends the message-index path for indexes to dst
// (the [0] path as the single byte 0, as Confluent's serializers do).
func AppendMessageIndexes(dst []byte, indexes []int) []byte {
	if len(indexes) == 1 && indexes[0] == 0 {
		return append(dst, 0)
	}
	dst = binary.AppendVarint(dst, int64(len(indexes)))
	for _, i := range indexes {
		dst = binary.AppendVarint(dst, int64(i))
	}
	return dst
}
