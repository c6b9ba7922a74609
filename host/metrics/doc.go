// Package metrics computes accuracy measures on the host from model
// outputs: top-1 and top-5 accuracy against labels, annotation-free
// agreement between the quantized and the float model, and, comparing the
// quantized model's outputs with the float model's, SQNR, cosine
// similarity, MSE and PSNR.
//
// Each measure is a Metric: an accumulator fed batch by batch with Add,
// giving an aggregate Value and one value per sample (PerSample, used to
// rank samples in accuracy-aware quantization). Metrics are created by
// name from a registry (New("top1"), New("psnr:255")) whose Info says
// whether higher is better and what a Batch must carry; Default picks
// top1 for labelled data and agreement otherwise.
//
// The single-sample functions (Argmax, InTopK, SQNR, Cosine, MSE, PSNR)
// are exported for other uses such as per-layer error reports.
package metrics
