package kernels

import "fmt"

// QDepthwise is a depthwise 2-D convolution (one group per input
// channel, Mult output channels per group) of uint8 levels with int8
// weights. Accumulation is exact int32 in both models: CPU kernels for
// depthwise convolutions multiply along channels and widen each product,
// so there is no pair of steps to saturate.
type QDepthwise struct {
	C, Mult, KH, KW int
	// w[tap*M + m]: the weight of output channel m at kernel tap.
	w []int32
}

// NewQDepthwise takes weights w[m][1][kh][kw] (ONNX layout) for M =
// C·mult output channels.
func NewQDepthwise(w []int8, C, mult, KH, KW int) (*QDepthwise, error) {
	M := C * mult
	if C < 1 || mult < 1 || KH < 1 || KW < 1 || len(w) != M*KH*KW {
		return nil, fmt.Errorf("int8 depthwise convolution: %d weights for %d×1×%d×%d", len(w), M, KH, KW)
	}
	d := &QDepthwise{C: C, Mult: mult, KH: KH, KW: KW, w: make([]int32, M*KH*KW)}
	taps := KH * KW
	for m := 0; m < M; m++ {
		for t := 0; t < taps; t++ {
			d.w[t*M+m] = int32(w[m*taps+t])
		}
	}
	return d, nil
}

// RunImage convolves one image x (channels-last [H][W][C] when
// xChannelsLast, else [C][H][W]) of levels with per-channel zero points
// zp (one value, or C). Padding contributes nothing (it is the zero
// point). acc is scratch of at least M int32.
func (d *QDepthwise) RunImage(g *QConvGeom, x []uint8, xChannelsLast bool, zp []int32, acc []int32, out *QOut) {
	C, M := d.C, d.C*d.Mult
	acc = acc[:M]
	P := g.OH * g.OW
	var one [qNR]int32
	for oh := 0; oh < g.OH; oh++ {
		for ow := 0; ow < g.OW; ow++ {
			clear(acc)
			for kh := 0; kh < d.KH; kh++ {
				ih := oh*g.SH - g.PadT + kh*g.DH
				if ih < 0 || ih >= g.H {
					continue
				}
				for kw := 0; kw < d.KW; kw++ {
					iw := ow*g.SW - g.PadL + kw*g.DW
					if iw < 0 || iw >= g.W {
						continue
					}
					wt := d.w[(kh*d.KW+kw)*M : (kh*d.KW+kw+1)*M]
					for m := range acc {
						c := m / d.Mult
						var v uint8
						if xChannelsLast {
							v = x[(ih*g.W+iw)*C+c]
						} else {
							v = x[(c*g.H+ih)*g.W+iw]
						}
						z := zp[0]
						if len(zp) > 1 {
							z = zp[c]
						}
						acc[m] += (int32(v) - z) * wt[m]
					}
				}
			}
			p := oh*g.OW + ow
			for c0 := 0; c0 < M; c0 += qNR {
				n := min(qNR, M-c0)
				copy(one[:n], acc[c0:c0+n])
				out.store(one[:], 1, c0, n, p, P, M)
			}
		}
	}
}
