// Package readcheck holds the tests of the IR reader (sdk/openvino) that
// run the graphs it builds on pot's interpreter. They live apart from
// the reader so that the reader's fuzz target is not linked with the
// interpreter (fuzzing instruments every package of its binary).
package readcheck
