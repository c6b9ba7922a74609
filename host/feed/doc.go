// Package feed binds data to a model's inputs: which data feeds which
// input, in which shape and type, and how many samples one run of the
// model may hold.
//
// The contract, for every input X of rank R that the model does not give
// a default for:
//
//   - A constant (a descriptor's "constants" key or --constant) feeds X
//     the same value for every sample: a number fills X's shape (its
//     symbolic dimensions taken as 1), a nested list is X's exact value.
//   - An .npz array named X (a dataset.Named data set) feeds it: sample i
//     is X[i]. With X's rank it is fed as it is, its batch dimension
//     included (e.g. [1 512] for an input [batch samples], [2 1 128] for a
//     state [2 batch 128]); with one dimension less, a leading batch axis
//     is added and pot may batch several samples together. A scalar input
//     gets an array of shape [N].
//   - A data set of one array of samples (images, IDX, .npy) feeds the one
//     input left, with the same two rules, and the leniency pot always had
//     for images (dimensions of size 1 may be left out).
//
// Dynamic dimensions are free; anything else that does not match is
// refused naming both shapes. Inputs fed whole samples make every run
// hold one sample; otherwise a fixed first dimension (a batch of 1, or of
// N) fixes the batch, and the target pads a last partial batch.
package feed
