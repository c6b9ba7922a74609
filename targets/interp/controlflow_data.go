package interp

import "github.com/potgo/pot/targets/interp/tensor"

// Element moves of the control-flow operators, for every element type.

// moveBlocks copies blocks runs of n elements of src to dst (tensors of
// one element type): run i from src[sOff+i·sStep:] to dst[dOff+i·dStep:].
func moveBlocks(dst, src *tensor.Tensor, dOff, dStep, sOff, sStep, blocks, n int) {
	switch d := dst.Data.(type) {
	case []float32:
		blocksOf(d, src.Data.([]float32), dOff, dStep, sOff, sStep, blocks, n)
	case []float64:
		blocksOf(d, src.Data.([]float64), dOff, dStep, sOff, sStep, blocks, n)
	case []int8:
		blocksOf(d, src.Data.([]int8), dOff, dStep, sOff, sStep, blocks, n)
	case []int16:
		blocksOf(d, src.Data.([]int16), dOff, dStep, sOff, sStep, blocks, n)
	case []int32:
		blocksOf(d, src.Data.([]int32), dOff, dStep, sOff, sStep, blocks, n)
	case []int64:
		blocksOf(d, src.Data.([]int64), dOff, dStep, sOff, sStep, blocks, n)
	case []uint8:
		blocksOf(d, src.Data.([]uint8), dOff, dStep, sOff, sStep, blocks, n)
	case []uint16:
		blocksOf(d, src.Data.([]uint16), dOff, dStep, sOff, sStep, blocks, n)
	case []uint32:
		blocksOf(d, src.Data.([]uint32), dOff, dStep, sOff, sStep, blocks, n)
	case []uint64:
		blocksOf(d, src.Data.([]uint64), dOff, dStep, sOff, sStep, blocks, n)
	case []bool:
		blocksOf(d, src.Data.([]bool), dOff, dStep, sOff, sStep, blocks, n)
	case []string:
		blocksOf(d, src.Data.([]string), dOff, dStep, sOff, sStep, blocks, n)
	case []tensor.Float16Bits:
		blocksOf(d, src.Data.([]tensor.Float16Bits), dOff, dStep, sOff, sStep, blocks, n)
	case []tensor.BFloat16Bits:
		blocksOf(d, src.Data.([]tensor.BFloat16Bits), dOff, dStep, sOff, sStep, blocks, n)
	case []tensor.Int4Value:
		blocksOf(d, src.Data.([]tensor.Int4Value), dOff, dStep, sOff, sStep, blocks, n)
	case []tensor.Uint4Value:
		blocksOf(d, src.Data.([]tensor.Uint4Value), dOff, dStep, sOff, sStep, blocks, n)
	default:
		panic("runtime: moveBlocks on an unsupported element type")
	}
}

func blocksOf[T any](d, s []T, dOff, dStep, sOff, sStep, blocks, n int) {
	for i := range blocks {
		copy(d[dOff+i*dStep:dOff+i*dStep+n], s[sOff+i*sStep:sOff+i*sStep+n])
	}
}
