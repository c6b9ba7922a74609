// Package graph helps algorithms read a pot.v1.Graph: an Index of
// producers, consumers and constants over the graph and its subgraphs
// (the branches and bodies of control-flow nodes) with the scope of each
// node, the element type of every tensor (ValueType: declared, constant,
// or inferred through each operator's rule), walks over every scope,
// attribute getters, and float32 views of initializers.
package graph
