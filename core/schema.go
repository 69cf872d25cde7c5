package core

import "github.com/apache/arrow-go/v18/arrow"

// TimestampType is timestamp[ms, tz=UTC], the type of record timestamps.
var TimestampType = &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}

// HeadersType is list<struct<key: utf8, value: binary>> (optional; docs/design.md, "Batches").
var HeadersType = arrow.ListOfNonNullable(arrow.StructOf(
	arrow.Field{Name: "key", Type: arrow.BinaryTypes.String},
	arrow.Field{Name: "value", Type: arrow.BinaryTypes.Binary, Nullable: true},
))

var messageFields = []arrow.Field{
	{Name: "key", Type: arrow.BinaryTypes.Binary, Nullable: true},
	{Name: "value", Type: arrow.BinaryTypes.Binary, Nullable: true},
	{Name: "topic", Type: arrow.BinaryTypes.String},
	{Name: "partition", Type: arrow.PrimitiveTypes.Int32},
	{Name: "offset", Type: arrow.PrimitiveTypes.Int64},
	{Name: "timestamp", Type: TimestampType},
}

// MessageSchema is the "Batches" section's MESSAGE_SCHEMA, with the headers column when
// headers is true.
func MessageSchema(headers bool) *arrow.Schema {
	fs := append([]arrow.Field(nil), messageFields...)
	if headers {
		fs = append(fs, arrow.Field{Name: "headers", Type: HeadersType})
	}
	return arrow.NewSchema(fs, nil)
}

// PartitionStateSchema is the "State" section's partition state: exactly
// the nine columns of the Rust kafkars 0.0.8 PARTITION_STATE_SCHEMA, with
// its names, types, nullability and order, so that code written for it
// (and its schema equality checks) runs unchanged. kafkars' own figures are
// in PartitionStatsSchema.
var PartitionStateSchema = arrow.NewSchema([]arrow.Field{
	{Name: "topic", Type: arrow.BinaryTypes.String},
	{Name: "partition", Type: arrow.PrimitiveTypes.Int32},
	{Name: "replay_start_offset", Type: arrow.PrimitiveTypes.Int64},
	{Name: "replay_end_offset", Type: arrow.PrimitiveTypes.Int64},
	{Name: "consumed_offset", Type: arrow.PrimitiveTypes.Int64},
	{Name: "released_offset", Type: arrow.PrimitiveTypes.Int64},
	{Name: "last_consumed_timestamp", Type: TimestampType, Nullable: true},
	{Name: "is_live", Type: arrow.FixedWidthTypes.Boolean},
	{Name: "is_paused", Type: arrow.FixedWidthTypes.Boolean},
}, nil)

// PartitionStatsSchema is the "State" section's partition statistics:
// kafkars' per-partition figures that the Rust kafkars did not have, one
// row per partition in the same order as PartitionStateSchema's rows.
var PartitionStatsSchema = arrow.NewSchema([]arrow.Field{
	{Name: "topic", Type: arrow.BinaryTypes.String},
	{Name: "partition", Type: arrow.PrimitiveTypes.Int32},
	{Name: "held_messages", Type: arrow.PrimitiveTypes.Int64},
	{Name: "late_messages", Type: arrow.PrimitiveTypes.Int64},
	{Name: "malformed_records", Type: arrow.PrimitiveTypes.Int64},
	{Name: "is_caught_up", Type: arrow.FixedWidthTypes.Boolean},
	{Name: "topic_rank", Type: arrow.PrimitiveTypes.Int32},
}, nil)
