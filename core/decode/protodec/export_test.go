package protodec

// Test helpers for the external test package (produce_roundtrip_test.go).
var (
	Compile     = compile
	Fill        = fill
	AllProto    = allProto
	Proto2Proto = proto2Proto
)
