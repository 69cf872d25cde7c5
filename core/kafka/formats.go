package kafka

// formats.go: typed columns from the topics' format declarations. One
// registry client per distinct registry configuration is shared by every
// decoder that uses it, so a schema id is fetched once per manager however
// many topics carry it. Reader schemas are fixed here, at creation: the
// batch schema cannot change during the life of a manager.

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/kafkars/kafkars/core"
	"github.com/kafkars/kafkars/core/decode"
	"github.com/kafkars/kafkars/core/decode/avrodec"
	"github.com/kafkars/kafkars/core/decode/jsondec"
	"github.com/kafkars/kafkars/core/decode/protodec"
	"github.com/kafkars/kafkars/core/decode/registry"
)

// typedColumns builds the decoders of every declared format, in topic
// order, values before keys.
func typedColumns(s *core.Settings) ([]core.TypedColumn, error) {
	regs := map[core.RegistrySpec]*registry.Client{}
	var cols []core.TypedColumn
	for rank, t := range s.Topics {
		for _, kf := range []struct {
			f   *core.Format
			key bool
		}{{t.Value, false}, {t.Key, true}} {
			if kf.f == nil {
				continue
			}
			dec, err := newDecoder(t.Name, kf.key, kf.f, regs)
			if err != nil {
				return nil, err
			}
			onErr := kf.f.OnError
			if onErr == "" {
				onErr = core.OnErrorRaise
			}
			cols = append(cols, core.TypedColumn{
				Name: core.ColumnName(t.Name, kf.key, kf.f), Topic: int32(rank), Key: kf.key,
				OnError: onErr, KeepRaw: kf.f.KeepRaw == nil || *kf.f.KeepRaw, Decoder: dec,
			})
		}
	}
	return cols, nil
}

func newDecoder(topic string, key bool, f *core.Format, regs map[core.RegistrySpec]*registry.Client) (decode.Decoder, error) {
	which := "value"
	if key {
		which = "key"
	}
	where := fmt.Sprintf("topic %q: %s format %s", topic, which, f.Format)
	var reg decode.Registry
	if f.Registry != nil {
		c, ok := regs[*f.Registry]
		if !ok {
			var err error
			c, err = registry.New(registry.Config{
				URL: f.Registry.URL, BasicAuthUserInfo: f.Registry.BasicAuth, BearerToken: f.Registry.BearerToken,
				RequestTimeout: time.Duration(f.Registry.TimeoutMs) * time.Millisecond, CAFile: f.Registry.CAFile,
			})
			if err != nil {
				return nil, configErr(where, err)
			}
			regs[*f.Registry] = c
		}
		reg = c
	}
	subject := f.Subject
	if subject == "" && reg != nil {
		subject = topic + "-" + which // the serializers' default (TopicNameStrategy)
	}
	framingConfluent := f.Framing == "confluent" || (f.Framing == "" && reg != nil)
	var dec decode.Decoder
	var err error
	switch f.Format {
	case "json":
		var st *arrow.StructType
		if st, err = readArrowSchema(f.ArrowSchema); err != nil {
			return nil, configErr(where, err)
		}
		dec, err = jsondec.New(st, jsondec.Options{})
	case "avro":
		o := avrodec.Options{Schema: f.Schema, Registry: reg}
		if framingConfluent {
			o.Framing = avrodec.Confluent
		}
		if f.Schema == "" {
			o.Subject = subject
		}
		dec, err = avrodec.New(o)
	case "protobuf":
		o := protodec.Options{Descriptors: f.Descriptors, Message: f.Message, Registry: reg}
		if framingConfluent {
			o.Framing = protodec.Confluent
		}
		if len(f.Descriptors) == 0 {
			o.Subject = subject
		}
		dec, err = protodec.New(o)
	default:
		return nil, configErr(where, fmt.Errorf("unknown format"))
	}
	if err != nil {
		if errors.Is(err, decode.ErrRegistry) {
			return nil, &core.Error{Kind: core.KindDecode, Cause: err, Msg: where + ": " + err.Error()}
		}
		return nil, configErr(where, err)
	}
	return dec, nil
}

func configErr(where string, err error) error {
	return &core.Error{Kind: core.KindConfig, Cause: err, Msg: where + ": " + err.Error()}
}

// readArrowSchema reads an IPC-serialised schema (pyarrow's
// Schema.serialize()) as the struct type of rows.
func readArrowSchema(b []byte) (*arrow.StructType, error) {
	r, err := ipc.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("reading the Arrow schema: %w", err)
	}
	defer r.Release()
	return arrow.StructOf(r.Schema().Fields()...), nil
}
