package core

import (
	"errors"
	"fmt"
)

// Kind classifies errors; the C ABI returns it as the status code and the
// Python wrapper maps it to an exception class. Values are part of the C
// ABI (capi/kafkars.h): never renumber.
type Kind int32

const (
	KindOK                Kind = 0
	KindConfig            Kind = 1 // bad argument or librdkafka property
	KindTopicNotFound     Kind = 2 // a topic does not exist (or was deleted)
	KindBrokerUnavailable Kind = 3 // no broker reachable in time
	KindKafka             Kind = 4 // any other error reported by Kafka/librdkafka
	KindClosed            Kind = 5 // the manager was closed
	KindInternal          Kind = 6 // a bug in kafkars: please report
	KindDecode            Kind = 7 // a key or value could not be decoded (malformed, or its schema unavailable)
	KindProduce           Kind = 8 // a record could not be written (the message names its row)
)

func (k Kind) String() string {
	switch k {
	case KindOK:
		return "ok"
	case KindConfig:
		return "config"
	case KindTopicNotFound:
		return "topic not found"
	case KindBrokerUnavailable:
		return "broker unavailable"
	case KindKafka:
		return "kafka"
	case KindClosed:
		return "closed"
	case KindInternal:
		return "internal"
	case KindDecode:
		return "decode"
	case KindProduce:
		return "produce"
	}
	return fmt.Sprintf("kind(%d)", int32(k))
}

// Error is every error kafkars returns. Msg names the culprit (property,
// topic, partition, broker address) and is complete on its own; Cause, when
// set, is the error it came from (a librdkafka error, a decoder's error),
// kept for errors.Is and errors.As rather than flattened into text.
type Error struct {
	Kind  Kind
	Msg   string
	Cause error
}

func (e *Error) Error() string { return e.Msg }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

// KindOf returns the kind of err (KindInternal for foreign errors).
func KindOf(err error) Kind {
	if err == nil {
		return KindOK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// ErrClosed is returned by every method of a closed Manager.
var ErrClosed = &Error{Kind: KindClosed, Msg: "the ConsumerManager is closed; create a new one"}
