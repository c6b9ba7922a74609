package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkQConv measures int8 convolutions of resnet_fmnist's shapes
// and of mobilenet_fmnist's pointwise ones (pwCtoMxW: C→M 1×1 on a W×W
// image), one image per iteration, requantized to channels-last uint8;
// GOP/s counts a multiply-add as two operations. The pointwise layers
// run below the 3×3 layers' rate: their sums are short (16 to 160
// terms), so each output's requantization weighs more, and those with
// 24 or 40 outputs leave their last block of 16 channels half empty.
func BenchmarkQConv(b *testing.B) {
	shapes := []struct {
		name                 string
		C, H, M, K, S, P, OH int
	}{
		{"stem1x28", 1, 28, 16, 3, 1, 1, 28},
		{"16x28", 16, 28, 16, 3, 1, 1, 28},
		{"32x14", 32, 14, 32, 3, 1, 1, 14},
		{"64x7", 64, 7, 64, 3, 1, 1, 7},
		{"1x1s2_32x14", 32, 14, 64, 1, 2, 0, 7},
		{"pw16to16x28", 16, 28, 16, 1, 1, 0, 28},
		{"pw16to64x28", 16, 28, 64, 1, 1, 0, 28},
		{"pw64to24x14", 64, 14, 24, 1, 1, 0, 14},
		{"pw24to96x14", 24, 14, 96, 1, 1, 0, 14},
		{"pw96to24x14", 96, 14, 24, 1, 1, 0, 14},
		{"pw40to160x7", 40, 7, 160, 1, 1, 0, 7},
		{"pw160to40x7", 160, 7, 40, 1, 1, 0, 7},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, sh := range shapes {
		for _, model := range []QModel{QExact, QSaturating} {
			for _, mode := range qKernelModes {
				if mode.asm && !hasQAsm() || mode.asm && mode.quad && !hasQVNNI || mode.quad && (model != QExact || !mode.asm) {
					continue
				}
				b.Run(fmt.Sprintf("%s/%v/%s", sh.name, model, mode.name), func(b *testing.B) {
					was, wasQuad := UseQAssembly(mode.asm), useQuadKernel(mode.quad)
					defer func() { UseQAssembly(was); useQuadKernel(wasQuad) }()
					w := randI8(r, sh.M*sh.C*sh.K*sh.K, 127)
					k, err := NewQConvKernel(w, sh.M, sh.C, sh.K, sh.K, model)
					if err != nil {
						b.Fatal(err)
					}
					M := sh.M
					bias, zp, lo, hi, real := make([]int32, M), make([]int32, M), make([]int32, M), make([]int32, M), make([]float64, M)
					for i := range real {
						real[i], hi[i] = 1e-4, 255
					}
					req, err := NewQRequant(bias, real, zp, lo, hi)
					if err != nil {
						b.Fatal(err)
					}
					g := QConvGeom{H: sh.H, W: sh.H, OH: sh.OH, OW: sh.OH, SH: sh.S, SW: sh.S, DH: 1, DW: 1, PadT: sh.P, PadL: sh.P, PadB: sh.P, PadR: sh.P}
					x := randU8(r, sh.H*sh.H*sh.C)
					y := make([]uint8, sh.OH*sh.OH*M)
					out := QOut{Req: req, U8: y, ChannelsLast: true}
					var s QScratch
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						k.RunImage(&g, x, true, 3, &s, &out)
					}
					ops := 2 * float64(sh.OH*sh.OH*M*sh.C*sh.K*sh.K) * float64(b.N)
					b.ReportMetric(ops/b.Elapsed().Seconds()/1e9, "GOP/s")
				})
			}
		}
	}
}
