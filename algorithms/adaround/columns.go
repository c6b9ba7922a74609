package adaround

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

// moments are the second moments of one group's input columns (see
// Problem) and their means.
type moments struct {
	H, R   *mat.SymDense
	C      *mat.Dense
	MeanQ  []float64 // E[x̃]
	MeanF  []float64 // E[x]
	Points int
	// Xq and Xf are the columns themselves (as rows) instead of H, C
	// and R when there are fewer than half as many as inputs.
	Xq, Xf *mat.Dense
}

// geometry says how a layer reads its input: the columns of each group
// are patches (Conv) or rows (Gemm, MatMul) of the input tensor.
type geometry struct {
	points int // columns per group
	// patch writes the input values of column p of group g into dst
	// (len cols); offsets index the flat input tensor, -1 for padding.
	patch func(p, g int, dst []int)
}

// convGeometry is the im2col of a 2-D convolution over an input of dims
// [N, C, H, W].
func (l *layer) convGeometry(dims []int64) (*geometry, error) {
	if len(dims) != 4 {
		return nil, fmt.Errorf("input dims %v, want [N, C, H, W]", dims)
	}
	n := l.node
	nb, c, h, w := int(dims[0]), int(dims[1]), int(dims[2]), int(dims[3])
	cg := int(l.dims[1])
	if c != cg*l.groups {
		return nil, fmt.Errorf("input of %d channels for %d groups of %d", c, l.groups, cg)
	}
	kh, kw := int(l.dims[2]), int(l.dims[3])
	st := graph.AttrInts(n, "strides", []int64{1, 1})
	dl := graph.AttrInts(n, "dilations", []int64{1, 1})
	pads := graph.AttrInts(n, "pads", []int64{0, 0, 0, 0})
	if len(st) != 2 || len(dl) != 2 || len(pads) != 4 {
		return nil, fmt.Errorf("strides %v, dilations %v, pads %v", st, dl, pads)
	}
	sh, sw, dh, dw := int(st[0]), int(st[1]), int(dl[0]), int(dl[1])
	pt, pl, pb, pr := int(pads[0]), int(pads[1]), int(pads[2]), int(pads[3])
	switch ap := graph.AttrString(n, "auto_pad", "NOTSET"); ap {
	case "NOTSET":
	case "VALID":
		pt, pl, pb, pr = 0, 0, 0, 0
	case "SAME_UPPER", "SAME_LOWER":
		same := func(in, s, k, d int) (int, int) {
			total := max(((in+s-1)/s-1)*s+(k-1)*d+1-in, 0)
			if ap == "SAME_UPPER" {
				return total / 2, total - total/2
			}
			return total - total/2, total / 2
		}
		pt, pb = same(h, sh, kh, dh)
		pl, pr = same(w, sw, kw, dw)
	default:
		return nil, fmt.Errorf("auto_pad %q", ap)
	}
	ho := (h+pt+pb-dh*(kh-1)-1)/sh + 1
	wo := (w+pl+pr-dw*(kw-1)-1)/sw + 1
	if ho < 1 || wo < 1 {
		return nil, fmt.Errorf("input dims %v give no output", dims)
	}
	return &geometry{points: nb * ho * wo, patch: func(p, g int, dst []int) {
		b, r := p/(ho*wo), p%(ho*wo)
		oy, ox := r/wo, r%wo
		i := 0
		for ci := 0; ci < cg; ci++ {
			plane := (b*c + g*cg + ci) * h * w
			for ky := 0; ky < kh; ky++ {
				y := oy*sh - pt + ky*dh
				for kx := 0; kx < kw; kx++ {
					xx := ox*sw - pl + kx*dw
					if y < 0 || y >= h || xx < 0 || xx >= w {
						dst[i] = -1
					} else {
						dst[i] = plane + y*w + xx
					}
					i++
				}
			}
		}
	}}, nil
}

// rowGeometry reads the last axis of the input as columns (Gemm, MatMul).
func (l *layer) rowGeometry(dims []int64) (*geometry, error) {
	if len(dims) < 2 || int(dims[len(dims)-1]) != l.cols {
		return nil, fmt.Errorf("input dims %v do not end with the weights' %d inputs", dims, l.cols)
	}
	k := l.cols
	return &geometry{points: int(graph.NumElements(dims)) / k, patch: func(p, _ int, dst []int) {
		for i := range dst {
			dst[i] = p*k + i
		}
	}}, nil
}

func (l *layer) geometry(dims []int64) (*geometry, error) {
	if l.node.GetOpType() == "Conv" {
		return l.convGeometry(dims)
	}
	return l.rowGeometry(dims)
}

// chunk is how many columns are multiplied at once.
const chunk = 2048

// collect computes the moments of every group from the float input xf
// and the quantized model's input xq (same dims), over at most
// maxColumns columns drawn with rng.
func (l *layer) collect(xf, xq []float32, dims []int64, maxColumns int, rng *rand.Rand) ([]*moments, error) {
	geo, err := l.geometry(dims)
	if err != nil {
		return nil, err
	}
	if len(xf) != len(xq) || int64(len(xf)) != graph.NumElements(dims) {
		return nil, fmt.Errorf("float input of %d values, quantized %d, dims %v", len(xf), len(xq), dims)
	}
	pts := make([]int, geo.points)
	for i := range pts {
		pts[i] = i
	}
	if maxColumns > 0 && len(pts) > maxColumns {
		rng.Shuffle(len(pts), func(i, j int) { pts[i], pts[j] = pts[j], pts[i] })
		pts = pts[:maxColumns]
	}
	k := l.cols
	out := make([]*moments, l.groups)
	off := make([]int, k)
	for g := range out {
		m := &moments{MeanQ: make([]float64, k), MeanF: make([]float64, k), Points: len(pts)}
		keep := 2*len(pts) < k
		step := chunk
		if keep {
			step = len(pts)
		} else {
			m.H, m.R, m.C = mat.NewSymDense(k, nil), mat.NewSymDense(k, nil), mat.NewDense(k, k, nil)
		}
		for lo := 0; lo < len(pts); lo += step {
			hi := min(lo+step, len(pts))
			aq := mat.NewDense(hi-lo, k, nil)
			af := mat.NewDense(hi-lo, k, nil)
			for r, p := range pts[lo:hi] {
				geo.patch(p, g, off)
				rq, rf := aq.RawRowView(r), af.RawRowView(r)
				for j, o := range off {
					if o >= 0 {
						rq[j], rf[j] = float64(xq[o]), float64(xf[o])
						m.MeanQ[j] += rq[j]
						m.MeanF[j] += rf[j]
					}
				}
			}
			if keep {
				m.Xq, m.Xf = aq, af
				continue
			}
			blas64.Syrk(blas.Trans, 1, aq.RawMatrix(), 1, m.H.RawSymmetric())
			blas64.Syrk(blas.Trans, 1, af.RawMatrix(), 1, m.R.RawSymmetric())
			blas64.Gemm(blas.Trans, blas.NoTrans, 1, aq.RawMatrix(), af.RawMatrix(), 1, m.C.RawMatrix())
		}
		n := float64(len(pts))
		if !keep {
			m.H.ScaleSym(1/n, m.H)
			m.R.ScaleSym(1/n, m.R)
			m.C.Scale(1/n, m.C)
		}
		for j := range m.MeanQ {
			m.MeanQ[j] /= n
			m.MeanF[j] /= n
		}
		out[g] = m
	}
	return out, nil
}

// fakeQuantize applies a quantizer to x in place (POT's formula, the
// target's: round half to even), channels on axis 1 of dims.
func fakeQuantize(x []float32, dims []int64, scale, zero, outScale []float32, levels int64) {
	c, inner := 1, 1
	if len(scale) > 1 && len(dims) > 1 {
		c = int(dims[1])
		for _, d := range dims[2:] {
			inner *= int(d)
		}
	}
	top := float64(levels - 1)
	for i, v := range x {
		ch := 0
		if c > 1 {
			ch = (i / inner) % c
		}
		q := math.RoundToEven(float64(v)/float64(scale[ch])) + float64(zero[ch])
		q = min(max(q, 0), top)
		x[i] = float32((q - float64(zero[ch])) * float64(outScale[ch]))
	}
}

// tensorValues returns a float tensor's values (a copy) and dims.
func tensorValues(t *potv1.Tensor) ([]float32, []int64, error) {
	v, err := graph.Float32s(t)
	if err != nil {
		return nil, nil, fmt.Errorf("tensor %q: %w", t.GetName(), err)
	}
	return v, t.GetDims(), nil
}
