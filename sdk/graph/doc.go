// Package graph is the toolkit for reading and rewriting a pot.v1.Graph:
// an Index of producers, consumers and constants over the graph and its
// subgraphs (the branches and bodies of control-flow nodes) with the
// scope of each node, or over one graph alone (NewScopeIndex); the
// element type of every tensor (ValueType: declared, constant, or
// inferred through each operator's rule); walks over every scope;
// attribute getters and constructors; float32 and int64 tensor codecs
// (with float32 views of large initializers); the default ONNX domain;
// and, for rewrites, unique new names (Namer), the removal of what
// nothing reads (RemoveUnused) and a topological Sort.
package graph
