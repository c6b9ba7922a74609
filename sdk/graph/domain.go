package graph

import "github.com/potgo/pot/proto/potv1"

// IsONNXDomain reports whether d names the default ONNX domain: "" or
// its alias "ai.onnx".
func IsONNXDomain(d string) bool { return d == "" || d == "ai.onnx" }

// IsONNX reports whether n is an operator of the default ONNX domain.
func IsONNX(n *potv1.Node) bool { return IsONNXDomain(n.GetDomain()) }

// CanonicalDomain is d with the default ONNX domain written "": the key
// of a table of operators or opsets by domain.
func CanonicalDomain(d string) string {
	if IsONNXDomain(d) {
		return ""
	}
	return d
}
