package protodec

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/bufbuild/protocompile"
	"github.com/bufbuild/protocompile/parser"
	"github.com/bufbuild/protocompile/reporter"
	"github.com/kafkars/kafkars/core/decode"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// Where reader schemas come from: a serialized FileDescriptorSet, or .proto
// source text in a schema registry, compiled here.

// messageFromSet finds message name in a serialized FileDescriptorSet.
func messageFromSet(raw []byte, name string) (protoreflect.MessageDescriptor, error) {
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(raw, &set); err != nil {
		return nil, fmt.Errorf("protodec: Descriptors is not a serialized FileDescriptorSet: %w", err)
	}
	addWellKnown(&set)
	files, err := protodesc.NewFiles(&set)
	if err != nil {
		return nil, fmt.Errorf("protodec: Descriptors: %w (was the set written with --include_imports?)", err)
	}
	if name == "" {
		return nil, fmt.Errorf("protodec: Options.Message is required with Descriptors; the set defines %s", listMessages(files))
	}
	d, err := files.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		return nil, fmt.Errorf("protodec: Descriptors do not define message %q; they define %s", name, listMessages(files))
	}
	md, ok := d.(protoreflect.MessageDescriptor)
	if !ok {
		return nil, fmt.Errorf("protodec: %q is not a message", name)
	}
	return md, nil
}

// addWellKnown adds the google/protobuf/*.proto files a set imports but
// does not include (protoc without --include_imports), from the copies
// compiled into the protobuf module.
func addWellKnown(set *descriptorpb.FileDescriptorSet) {
	have := map[string]bool{}
	for _, f := range set.File {
		have[f.GetName()] = true
	}
	for i := 0; i < len(set.File); i++ {
		for _, dep := range set.File[i].Dependency {
			if have[dep] || !strings.HasPrefix(dep, "google/protobuf/") {
				continue
			}
			fd, err := protoregistry.GlobalFiles.FindFileByPath(dep)
			if err != nil {
				continue
			}
			have[dep] = true
			set.File = append(set.File, protodesc.ToFileDescriptorProto(fd))
		}
	}
}

// listMessages names the top-level messages of files outside
// google/protobuf, for error messages.
func listMessages(files *protoregistry.Files) string {
	var names []string
	files.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if strings.HasPrefix(fd.Path(), "google/protobuf/") {
			return true
		}
		for i := 0; i < fd.Messages().Len(); i++ {
			names = append(names, string(fd.Messages().Get(i).FullName()))
		}
		return true
	})
	sort.Strings(names)
	if len(names) == 0 {
		return "no messages"
	}
	if len(names) > 20 {
		names = append(names[:20], "...")
	}
	return strings.Join(names, ", ")
}

// maxReferences bounds the schemas one registry schema may pull in.
const maxReferences = 1000

// descriptorText reads a registry schema stored as a base64-encoded
// FileDescriptorProto. Confluent's registry answers with .proto text, but
// a registry that stores what the producer registered as is (Apicurio, for
// schemas registered by confluent-kafka-python's ProtobufSerializer)
// answers with the descriptor the serializer sent.
func descriptorText(text string) (*descriptorpb.FileDescriptorProto, bool) {
	t := strings.TrimSpace(text)
	if t == "" || strings.ContainsAny(t, " \n\t;{}") {
		return nil, false // .proto source
	}
	raw, err := base64.StdEncoding.DecodeString(t)
	if err != nil {
		return nil, false
	}
	var fdp descriptorpb.FileDescriptorProto
	if err := proto.Unmarshal(raw, &fdp); err != nil || (fdp.GetName() == "" && len(fdp.MessageType) == 0) {
		return nil, false
	}
	return &fdp, true
}

// compileDescriptors builds the file of a registry schema given as a
// descriptor (descriptorText), with the descriptors it references.
func compileDescriptors(reg decode.Registry, s *decode.Schema, main *descriptorpb.FileDescriptorProto) (protoreflect.FileDescriptor, error) {
	set := &descriptorpb.FileDescriptorSet{}
	seen := map[string]bool{}
	var collect func(refs []decode.Reference) error
	collect = func(refs []decode.Reference) error {
		for _, r := range refs {
			if seen[r.Name] {
				continue
			}
			seen[r.Name] = true
			if len(seen) > maxReferences {
				return fmt.Errorf("protodec: schema id %d references more than %d schemas", s.ID, maxReferences)
			}
			rs, err := reg.Version(r.Subject, r.Version)
			if err != nil {
				return fmt.Errorf("protodec: schema id %d imports %q (subject %q version %d): %w", s.ID, r.Name, r.Subject, r.Version, err)
			}
			fdp, ok := descriptorText(rs.Text)
			if !ok {
				return fmt.Errorf("protodec: schema id %d is a descriptor but its import %q (subject %q) is .proto text: mixing both forms is not supported", s.ID, r.Name, r.Subject)
			}
			if fdp.GetName() == "" {
				fdp.Name = proto.String(r.Name)
			}
			if err := collect(rs.References); err != nil {
				return err
			}
			set.File = append(set.File, fdp)
		}
		return nil
	}
	if err := collect(s.References); err != nil {
		return nil, err
	}
	if main.GetName() == "" {
		main.Name = proto.String(fmt.Sprintf("schema-%d.proto", s.ID))
	}
	set.File = append(set.File, main)
	addWellKnown(set)
	files, err := protodesc.NewFiles(set)
	if err != nil {
		return nil, fmt.Errorf("protodec: schema id %d (subject %q): %w", s.ID, s.Subject, err)
	}
	fd, err := files.FindFileByPath(main.GetName())
	if err != nil {
		return nil, fmt.Errorf("protodec: schema id %d: %w", s.ID, err)
	}
	return fd, nil
}

// compileRegistry compiles schema s of a registry, with the schemas it
// references (its imports, looked up by subject and version), and returns
// the compiled file of s.
func compileRegistry(reg decode.Registry, s *decode.Schema) (protoreflect.FileDescriptor, error) {
	if s.Type != "PROTOBUF" {
		return nil, fmt.Errorf("protodec: schema id %d (subject %q) is %s, not PROTOBUF", s.ID, s.Subject, typeName(s.Type))
	}
	if fdp, ok := descriptorText(s.Text); ok {
		return compileDescriptors(reg, s, fdp)
	}
	srcs := map[string]string{}
	var collect func(refs []decode.Reference, from string) error
	collect = func(refs []decode.Reference, from string) error {
		for _, r := range refs {
			if _, ok := srcs[r.Name]; ok {
				continue
			}
			if len(srcs) >= maxReferences {
				return fmt.Errorf("protodec: schema id %d references more than %d schemas", s.ID, maxReferences)
			}
			rs, err := reg.Version(r.Subject, r.Version)
			if err != nil {
				return fmt.Errorf("protodec: %s imports %q (subject %q version %d): %w", from, r.Name, r.Subject, r.Version, err)
			}
			srcs[r.Name] = rs.Text
			if err := collect(rs.References, strconv.Quote(r.Name)); err != nil {
				return err
			}
		}
		return nil
	}
	main := fmt.Sprintf("schema-%d.proto", s.ID)
	srcs[main] = s.Text
	if err := collect(s.References, fmt.Sprintf("schema id %d", s.ID)); err != nil {
		return nil, err
	}
	c := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
			Accessor: protocompile.SourceAccessorFromMap(srcs),
		}),
	}
	files, err := c.Compile(context.Background(), main)
	if err != nil {
		return nil, fmt.Errorf("protodec: compiling schema id %d (subject %q): %w", s.ID, s.Subject, err)
	}
	return files[0], nil
}

func typeName(t string) string {
	if t == "" {
		return "AVRO (no schemaType)"
	}
	return t
}

// findMessage finds message name in fd or the files it imports; "" means
// the first message of fd, which is what the Confluent serializers write
// as the [0] message-index path.
func findMessage(fd protoreflect.FileDescriptor, name string) (protoreflect.MessageDescriptor, error) {
	if name == "" {
		if fd.Messages().Len() == 0 {
			return nil, errors.New("protodec: the schema defines no message")
		}
		return fd.Messages().Get(0), nil
	}
	seen := map[string]bool{}
	var find func(fd protoreflect.FileDescriptor) protoreflect.MessageDescriptor
	find = func(fd protoreflect.FileDescriptor) protoreflect.MessageDescriptor {
		if seen[fd.Path()] {
			return nil
		}
		seen[fd.Path()] = true
		if md := findIn(fd.Messages(), protoreflect.FullName(name)); md != nil {
			return md
		}
		for i := 0; i < fd.Imports().Len(); i++ {
			if md := find(fd.Imports().Get(i).FileDescriptor); md != nil {
				return md
			}
		}
		return nil
	}
	if md := find(fd); md != nil {
		return md, nil
	}
	var names []string
	for _, t := range treeOf(fd.Messages()) {
		names = append(names, string(t.name))
	}
	return nil, fmt.Errorf("protodec: the schema does not define message %q; its top-level messages are %s", name, strings.Join(names, ", "))
}

func findIn(mds protoreflect.MessageDescriptors, name protoreflect.FullName) protoreflect.MessageDescriptor {
	for i := 0; i < mds.Len(); i++ {
		md := mds.Get(i)
		if md.FullName() == name {
			return md
		}
		if strings.HasPrefix(string(name), string(md.FullName())+".") {
			if r := findIn(md.Messages(), name); r != nil {
				return r
			}
		}
	}
	return nil
}

// msgTree is the message declarations of a file: what a Confluent
// message-index path indexes (top-level messages, then nested ones,
// in declaration order, map entry messages included).
type msgTree struct {
	name   protoreflect.FullName
	nested []msgTree
}

func treeOf(mds protoreflect.MessageDescriptors) []msgTree {
	t := make([]msgTree, mds.Len())
	for i := range t {
		md := mds.Get(i)
		t[i] = msgTree{md.FullName(), treeOf(md.Messages())}
	}
	return t
}

func treeOfProto(prefix string, mds []*descriptorpb.DescriptorProto) []msgTree {
	t := make([]msgTree, len(mds))
	for i, md := range mds {
		name := md.GetName()
		if prefix != "" {
			name = prefix + "." + name
		}
		t[i] = msgTree{protoreflect.FullName(name), treeOfProto(name, md.NestedType)}
	}
	return t
}

// parseTree parses .proto source text far enough to know its messages:
// a writer schema is only needed to turn a message-index path into a
// message name, so its imports need not be fetched or compiled.
func parseTree(name, text string) ([]msgTree, error) {
	if fdp, ok := descriptorText(text); ok {
		return treeOfProto(fdp.GetPackage(), fdp.MessageType), nil
	}
	h := reporter.NewHandler(nil)
	node, err := parser.Parse(name, strings.NewReader(text), h)
	if err != nil {
		return nil, err
	}
	res, err := parser.ResultFromAST(node, false, h)
	if err != nil {
		return nil, err
	}
	fdp := res.FileDescriptorProto()
	return treeOfProto(fdp.GetPackage(), fdp.MessageType), nil
}

// pathOf is the message-index path of message name in t, nil if absent.
func pathOf(t []msgTree, name protoreflect.FullName) []int {
	for i := range t {
		if t[i].name == name {
			return []int{i}
		}
		if strings.HasPrefix(string(name), string(t[i].name)+".") {
			if p := pathOf(t[i].nested, name); p != nil {
				return append([]int{i}, p...)
			}
		}
	}
	return nil
}

// nameAt is the message a message-index path names in t.
func nameAt(t []msgTree, path []int) (protoreflect.FullName, bool) {
	var name protoreflect.FullName
	for _, i := range path {
		if i < 0 || i >= len(t) {
			return "", false
		}
		name, t = t[i].name, t[i].nested
	}
	return name, name != ""
}
