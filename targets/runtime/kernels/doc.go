// Package kernels holds the runtime's float32 compute kernels: a packed,
// cache-blocked matrix multiplication (Sgemm and the pre-packed PackedA
// used by convolutions), and the convolution helpers built on it.
//
// The inner loops are micro-kernels that compute a tile of 6 (or 4) rows
// by 16 columns. On amd64 with AVX2 and FMA they are Go assembly; every
// other platform, and builds with the noasm tag, use pure-Go twins with
// the same semantics, which also serve as the oracle in tests.
package kernels
