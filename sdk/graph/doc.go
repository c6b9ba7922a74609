// Package graph helps algorithms read a pot.v1.Graph: an Index of
// producers, consumers and constants, attribute getters, and float32
// views of initializers.
package graph
