package decode

// Schema is a schema as a Confluent-compatible schema registry stores it.
type Schema struct {
	ID int32
	// Type is "AVRO", "PROTOBUF" or "JSON" (the registry omits it for
	// Avro; the client fills it in).
	Type       string
	Text       string
	References []Reference
	// Subject and Version are set when the schema was looked up by
	// subject (Latest, Version); zero otherwise.
	Subject string
	Version int
}

// Reference names another schema that a schema imports (Protobuf imports,
// Avro named types defined elsewhere).
type Reference struct {
	Name    string // the import name, e.g. "other.proto"
	Subject string
	Version int
}

// Registry looks schemas up. Implementations cache: one request per new
// id, never one per record. Errors of the registry itself wrap ErrRegistry;
// an id or subject that does not exist wraps ErrMalformed when it came
// from a record (ByID) and is a plain error otherwise.
type Registry interface {
	// ByID returns the schema registered under id.
	ByID(id int32) (*Schema, error)
	// Latest returns the latest version registered under subject.
	Latest(subject string) (*Schema, error)
	// Version returns one version of a subject (for references).
	Version(subject string, version int) (*Schema, error)
}
