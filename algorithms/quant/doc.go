// Package quant holds what pot's quantization algorithms share: their
// parameters (POT's names and defaults), hardware-config-driven placement
// of quantizers, range estimation and the FakeQuantize range formulas of
// POT's MinMaxQuantization.
package quant
