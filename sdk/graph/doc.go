// Package graph helps algorithms read a pot.v1.Graph: an Index of
// producers, consumers and constants, the element type of every tensor
// (DataTypes, inferred from the graph inputs, initializers and per-operator
// rules), attribute getters, and float32 views of initializers.
package graph
