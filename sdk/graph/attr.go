package graph

import (
	"github.com/potgo/pot/proto/potv1"
)

// Attr returns a node attribute, or nil.
func Attr(n *potv1.Node, name string) *potv1.Attribute {
	for _, a := range n.GetAttributes() {
		if a.GetName() == name {
			return a
		}
	}
	return nil
}

// HasAttr reports whether a node has an attribute, of any type.
func HasAttr(n *potv1.Node, name string) bool { return Attr(n, name) != nil }

// AttrInt returns an integer attribute or def.
func AttrInt(n *potv1.Node, name string, def int64) int64 {
	if a := Attr(n, name); a != nil {
		return a.GetI()
	}
	return def
}

// AttrFloat returns a float attribute or def.
func AttrFloat(n *potv1.Node, name string, def float32) float32 {
	if a := Attr(n, name); a != nil {
		return a.GetF()
	}
	return def
}

// AttrInts returns an integer-list attribute or def.
func AttrInts(n *potv1.Node, name string, def []int64) []int64 {
	if a := Attr(n, name); a != nil {
		return a.GetInts()
	}
	return def
}

// AttrString returns a string attribute or def.
func AttrString(n *potv1.Node, name, def string) string {
	if a := Attr(n, name); a != nil {
		return string(a.GetS())
	}
	return def
}

// IntAttr builds an integer attribute.
func IntAttr(name string, v int64) *potv1.Attribute {
	return &potv1.Attribute{Name: name, Type: potv1.Attribute_TYPE_INT, I: v}
}

// FloatAttr builds a float attribute.
func FloatAttr(name string, v float32) *potv1.Attribute {
	return &potv1.Attribute{Name: name, Type: potv1.Attribute_TYPE_FLOAT, F: v}
}

// StringAttr builds a string attribute.
func StringAttr(name, v string) *potv1.Attribute {
	return &potv1.Attribute{Name: name, Type: potv1.Attribute_TYPE_STRING, S: []byte(v)}
}

// IntsAttr builds an integer-list attribute holding a copy of v.
func IntsAttr(name string, v []int64) *potv1.Attribute {
	return &potv1.Attribute{Name: name, Type: potv1.Attribute_TYPE_INTS, Ints: append([]int64(nil), v...)}
}

// FloatsAttr builds a float-list attribute holding a copy of v.
func FloatsAttr(name string, v []float32) *potv1.Attribute {
	return &potv1.Attribute{Name: name, Type: potv1.Attribute_TYPE_FLOATS, Floats: append([]float32(nil), v...)}
}
