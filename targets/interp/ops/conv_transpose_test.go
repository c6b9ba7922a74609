package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/targets/interp/tensor"
)

// TestConvTransposeMatchesReference runs ConvTranspose against its
// definition computed in float64 (each input element times each tap,
// added at i·stride - pad + t·dilation): 1 to 3 spatial dimensions,
// strides, dilations, pads, output padding, groups, with one and several
// threads, on batches smaller than the thread count (each image split
// over the threads) and larger (images spread over them).
func TestConvTransposeMatchesReference(t *testing.T) {
	cases := []struct {
		n, c, m, group int
		in, kernel     []int
		strides, dil   []int
		pads, outPad   []int
		bias           bool
		threads        int
	}{
		{n: 1, c: 8, m: 8, group: 1, in: []int{9, 11}, kernel: []int{2, 2}, strides: []int{2, 2}, bias: true, threads: 2},
		{n: 1, c: 8, m: 1, group: 1, in: []int{9, 11}, kernel: []int{2, 2}, strides: []int{2, 2}, bias: true, threads: 2},
		{n: 1, c: 32, m: 16, group: 1, in: []int{20, 20}, kernel: []int{2, 2}, strides: []int{2, 2}, bias: true, threads: 2},
		{n: 3, c: 8, m: 8, group: 1, in: []int{9, 11}, kernel: []int{2, 2}, strides: []int{2, 2}, threads: 2},
		{n: 2, c: 6, m: 4, group: 2, in: []int{7, 5}, kernel: []int{3, 3}, strides: []int{1, 1}, pads: []int{1, 1, 1, 1}, bias: true, threads: 3},
		{n: 1, c: 4, m: 6, group: 2, in: []int{6, 7}, kernel: []int{3, 2}, strides: []int{3, 2}, dil: []int{2, 1}, pads: []int{2, 0, 1, 3}, outPad: []int{1, 1}, bias: true, threads: 2},
		{n: 1, c: 3, m: 5, group: 1, in: []int{8, 8}, kernel: []int{4, 4}, strides: []int{2, 2}, pads: []int{1, 1, 1, 1}, threads: 1},
		{n: 2, c: 3, m: 2, group: 1, in: []int{10}, kernel: []int{3}, strides: []int{2}, pads: []int{1, 0}, bias: true, threads: 3},
		{n: 1, c: 2, m: 3, group: 1, in: []int{3, 4, 5}, kernel: []int{2, 2, 3}, strides: []int{2, 1, 2}, pads: []int{0, 1, 1, 1, 0, 0}, threads: 2},
	}
	r := rand.New(rand.NewPCG(11, 12))
	for _, tc := range cases {
		name := fmt.Sprintf("n%d_c%d_m%d_g%d_in%v_k%v_s%v_t%d", tc.n, tc.c, tc.m, tc.group, tc.in, tc.kernel, tc.strides, tc.threads)
		t.Run(name, func(t *testing.T) {
			nd := len(tc.in)
			ones := func(v []int, n int) []int {
				if v != nil {
					return v
				}
				o := make([]int, n)
				for i := range o {
					o[i] = 1
				}
				return o
			}
			strides, dil := ones(tc.strides, nd), ones(tc.dil, nd)
			pads, outPad := tc.pads, tc.outPad
			if pads == nil {
				pads = make([]int, 2*nd)
			}
			if outPad == nil {
				outPad = make([]int, nd)
			}
			mg := tc.m / tc.group
			x := tensor.New(tensor.Float, append([]int{tc.n, tc.c}, tc.in...)...)
			w := tensor.New(tensor.Float, append([]int{tc.c, mg}, tc.kernel...)...)
			b := tensor.New(tensor.Float, tc.m)
			for _, d := range [][]float32{x.F32(), w.F32(), b.F32()} {
				for i := range d {
					d[i] = float32(r.NormFloat64())
				}
			}
			out := make([]int, nd)
			for d := range out {
				out[d] = strides[d]*(tc.in[d]-1) + outPad[d] + (tc.kernel[d]-1)*dil[d] + 1 - pads[d] - pads[nd+d]
			}
			want := convTransposeRef(x, w, b, tc.bias, tc.group, out, strides, dil, pads)
			attrs := []*potv1.Attribute{intsAttr("strides", strides), intsAttr("dilations", dil), intsAttr("pads", pads),
				intsAttr("output_padding", outPad), {Name: "group", Type: potv1.Attribute_TYPE_INT, I: int64(tc.group)}}
			in := []*tensor.Tensor{x, w}
			consts := []bool{false, true}
			if tc.bias {
				in, consts = append(in, b), append(consts, true)
			}
			got := runNode(t, "ConvTranspose", attrs, in, consts, tc.threads)
			sameValues(t, got, want)
		})
	}
}

// convTransposeRef is ConvTranspose by its definition, in float64.
func convTransposeRef(x, w, b *tensor.Tensor, bias bool, group int, out, strides, dil, pads []int) *tensor.Tensor {
	n, c, in, kernel := x.Shape[0], x.Shape[1], x.Shape[2:], w.Shape[2:]
	mg := w.Shape[1]
	m, cg := mg*group, c/group
	nd := len(in)
	inSize, outSize, taps := tensor.NumElements(in), tensor.NumElements(out), tensor.NumElements(kernel)
	acc := make([]float64, n*m*outSize)
	idx := func(flat int, dims []int) []int {
		v := make([]int, len(dims))
		for d := len(dims) - 1; d >= 0; d-- {
			v[d] = flat % dims[d]
			flat /= dims[d]
		}
		return v
	}
	for i := 0; i < n; i++ {
		for ic := 0; ic < c; ic++ {
			g := ic / cg
			for p := 0; p < inSize; p++ {
				pi := idx(p, in)
				xv := float64(x.F32()[(i*c+ic)*inSize+p])
				for oj := 0; oj < mg; oj++ {
					oc := g*mg + oj
					for t := 0; t < taps; t++ {
						ti := idx(t, kernel)
						off, ok := 0, true
						for d := 0; d < nd; d++ {
							o := pi[d]*strides[d] - pads[d] + ti[d]*dil[d]
							if o < 0 || o >= out[d] {
								ok = false
								break
							}
							off = off*out[d] + o
						}
						if ok {
							acc[(i*m+oc)*outSize+off] += xv * float64(w.F32()[(ic*mg+oj)*taps+t])
						}
					}
				}
			}
		}
	}
	y := tensor.New(tensor.Float, append([]int{n, m}, out...)...)
	for j := range acc {
		v := acc[j]
		if bias {
			v += float64(b.F32()[j/outSize%m])
		}
		y.F32()[j] = float32(v)
	}
	return y
}
