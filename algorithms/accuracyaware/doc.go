// Package accuracyaware implements POT's AccuracyAwareQuantization: run
// the base algorithm (DefaultQuantization), and while the accuracy drop
// exceeds maximal_drop, return to float precision the quantizer group
// whose reversal helps most — ranked by evaluating each reversal on the
// samples the quantization hurts most — re-ranking when a reversal does
// not help and stepping back when it makes things worse.
//
// With tune_hyperparams, a grid search over the base algorithm's
// hyperparameters (preset, activation range estimators, then bias
// correction; POT's ParamsGridSearch, NNCF's HyperparameterTuner) runs
// first, each trial scored on the ranking subset; the best is adopted
// when it also lowers the drop on the full set (tune.go).
//
// The search state is checkpointed through the host after every
// iteration, so a killed run resumes where it stopped and ends with the
// same result. On GNA, reverting means switching a layer's weights from
// int8 to int16 against an all-int16 baseline.
package accuracyaware
