// Package plan holds helpers for QuantizationPlans: validation, the
// integer parameters (scale, zero point) a quantizer stands for, and
// Apply, which turns a graph and a plan into a graph with FakeQuantize
// nodes that any float runtime can execute to simulate quantization.
package plan
