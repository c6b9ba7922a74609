// Package stats computes the statistics a target reduces activations to
// during CollectStatistics, as POT's range estimators define them: a
// Reducer turns one sample's tensor into one value (or one per channel),
// an Aggregator combines those values over the samples.
//
// An Accumulator streams: it sees each sample once and keeps only the
// per-sample reduced values (one float per channel per sample) where the
// aggregator needs them (median, *_no_outliers, hl_estimator), and a
// running value otherwise, so memory never holds activations.
package stats
