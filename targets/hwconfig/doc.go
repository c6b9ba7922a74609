// Package hwconfig holds the hardware quantization configs of the
// built-in targets (cpu, gpu, vpu, gna), in the layout of POT's
// configs/hardware/*.json with ONNX operator names; sdk/hwconfig parses
// them.
package hwconfig
