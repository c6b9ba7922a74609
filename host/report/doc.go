// Package report writes what a quantization run did, for people and for
// programs: report.json, and report.html, one self-contained page (no
// script, no external resource) with charts drawn by gonum/plot and
// embedded as SVG images:
//
//   - a summary table: model, target, preset, algorithm, the metric of the
//     float and the quantized model and its drop, the file sizes before
//     and after, and the time taken;
//   - per-layer SQNR of the quantized model's outputs against the float
//     model's on a few calibration samples, as ONNX Runtime's
//     qdq_loss_debug and AIMET's QuantAnalyzer report it (Layers computes
//     it through a target's Infer with intermediate outputs);
//   - the range of every activation quantizer;
//   - the accuracy-aware trajectory, the metric drop after each iteration
//     of reverting layers to float, when the run had one;
//   - the algorithm reports (of the run's algorithm, or of each of a
//     chain), as JSON and their "tables" (the sdk.ReportTable convention,
//     read by ParseTables) as HTML tables.
package report
