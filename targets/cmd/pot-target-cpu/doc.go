// Command pot-target-cpu is pot's CPU target plugin: float32 execution
// and int8 quantization on the shared runtime, with the CPU hardware
// config of POT.
package main
