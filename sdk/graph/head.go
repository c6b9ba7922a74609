package graph

import (
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/potgo/pot/proto/potv1"
)

// WithoutInitializers returns a shallow copy of g without its
// initializers: every other field is shared with g (nodes, inputs,
// value infos), so it is cheap whatever the size of the weights, and
// must not be modified where g must not be.
func WithoutInitializers(g *potv1.Graph) *potv1.Graph {
	head := &potv1.Graph{}
	src, dst := g.ProtoReflect(), head.ProtoReflect()
	src.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Name() != "initializers" {
			dst.Set(fd, v)
		}
		return true
	})
	return head
}
