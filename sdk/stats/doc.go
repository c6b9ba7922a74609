// Package stats computes the statistics a target reduces activations to
// during CollectStatistics, as POT's range estimators define them: a
// Reducer turns one sample's tensor into one value (or one per channel),
// an Aggregator combines those values over the samples.
//
// An Accumulator streams: it sees each sample once and keeps only the
// per-sample reduced values (one float per channel per sample) where the
// aggregator needs them (median, *_no_outliers, hl_estimator), and a
// running value otherwise, so memory never holds activations.
//
// On amd64 with AVX2 the min, max and abs-max reducers run in assembly
// (reduce_amd64.s), to the same bits as the Go loops: abs-max takes the
// largest bit pattern, in any order; min and max fall back to the Go
// loops in the cases where their order decides the result (a NaN or an
// infinity among the values, or a zero result with a -0 among them).
// The noasm build tag keeps the Go loops.
package stats
