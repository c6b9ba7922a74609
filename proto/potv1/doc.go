// Package potv1 is the generated Go code of pot's graph protocol, major
// version 1 (protobuf package pot.v1, sources in proto/pot/v1): the Graph
// and QuantizationPlan messages and the Target, Algorithm and Host
// services. Regenerate with `make proto`.
package potv1
