package adaround

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// Rectified sigmoid stretch of the paper: h(V) = clip(σ(V)(ζ−γ)+γ, 0, 1).
const (
	zeta  = 1.1
	gamma = -0.1
)

// Grid is the integer grid of a weight quantizer, per row of the weight
// matrix: level index q in [0, Levels-1], value (q − Zero[o])·Scale[o].
type Grid struct {
	Levels int64
	Scale  []float64 // per row
	Zero   []float64 // per row, an integer
}

// Problem is the rounding of one linear map W [O, K] whose input is x̃
// and whose reference is W·x, both given by their second moments over
// the calibration columns:
//
//	H = E[x̃ x̃ᵀ] (K×K), C = E[x̃ xᵀ] (K×K), R = E[x xᵀ] (K×K)
//
// so that the reconstruction error E‖W̃x̃ − Wx‖² is
// tr(W̃HW̃ᵀ) − 2tr(W̃CWᵀ) + tr(WRWᵀ).
//
// When there are fewer columns than half the inputs, the columns
// themselves are cheaper: Xq and Xf ([N, K], x̃ and x as rows) replace
// H, C and R.
type Problem struct {
	W    *mat.Dense // [O, K]
	Grid Grid
	H    *mat.SymDense // K×K
	C    *mat.Dense    // K×K
	R    *mat.SymDense // K×K
	// Xq and Xf are the columns, when H is nil.
	Xq, Xf *mat.Dense
}

// form computes the error's gradient core G = W̃H − W·Cᵀ (the gradient
// is 2G) and the error itself from G.
type form struct {
	p   *Problem
	b   mat.Dense // W·Cᵀ, or W·Xfᵀ [O, N] in the column form
	ref float64
	e   mat.Dense
}

func newForm(p *Problem) *form {
	f := &form{p: p}
	if p.H == nil {
		f.b.Mul(p.W, p.Xf.T())
		n, _ := p.Xf.Dims()
		f.ref = mat.Sum(elemMul(&f.b, &f.b)) / float64(n)
		return f
	}
	f.b.Mul(p.W, p.C.T())
	var wr mat.Dense
	wr.Mul(p.W, p.R)
	f.ref = mat.Sum(elemMul(p.W, &wr))
	return f
}

// grad writes G for W̃ = wq into g.
func (f *form) grad(wq, g *mat.Dense) {
	if f.p.H == nil {
		n, _ := f.p.Xq.Dims()
		f.e.Mul(wq, f.p.Xq.T())
		f.e.Sub(&f.e, &f.b)
		g.Mul(&f.e, f.p.Xq)
		g.Scale(1/float64(n), g)
		return
	}
	g.Mul(wq, f.p.H)
	g.Sub(g, &f.b)
}

// rows is the form restricted to some rows of W (its b's rows; the
// moments or columns are shared).
func (f *form) rows(rows []int) *form {
	_, c := f.b.Dims()
	sub := &form{p: f.p}
	sub.b.ReuseAs(len(rows), c)
	for a, r := range rows {
		sub.b.SetRow(a, f.b.RawRowView(r))
	}
	return sub
}

// gradRows writes into g the rows of G for the rows of W̃ = wq that f
// was restricted to (f.rows).
func (f *form) gradRows(wq *mat.Dense, rows []int, g *mat.Dense) {
	_, k := wq.Dims()
	w := mat.NewDense(len(rows), k, nil)
	for a, r := range rows {
		w.SetRow(a, wq.RawRowView(r))
	}
	f.grad(w, g)
}

// error is E‖W̃x̃ − Wx‖² for W̃ = wq.
func (f *form) error(wq *mat.Dense) float64 {
	if f.p.H == nil {
		n, _ := f.p.Xq.Dims()
		f.e.Mul(wq, f.p.Xq.T())
		f.e.Sub(&f.e, &f.b)
		return mat.Sum(elemMul(&f.e, &f.e)) / float64(n)
	}
	var wh mat.Dense
	wh.Mul(wq, f.p.H)
	return mat.Sum(elemMul(wq, &wh)) - 2*mat.Sum(elemMul(wq, &f.b)) + f.ref
}

// Options are the optimiser's settings (the paper's).
type Options struct {
	Iterations int
	// LearningRate of Adam.
	LearningRate float64
	// Lambda weighs the rounding regulariser.
	Lambda float64
	// BetaStart and BetaEnd bound the annealed β of the regulariser.
	BetaStart, BetaEnd float64
	// WarmUp is the share of the iterations without the regulariser.
	WarmUp float64
	// full runs every iteration, even once they can no longer change the
	// rounding (see settled); for tests.
	full bool
}

// Result is the learned rounding of a Problem.
type Result struct {
	// Levels are the level indices q of W̃, [O, K] row-major.
	Levels []int64
	// Values are W̃ = (q − Zero)·Scale, row-major.
	Values []float64
	// Nearest and Learned are the reconstruction errors E‖W̃x̃ − Wx‖²
	// (summed over the O outputs) with rounding to nearest and with the
	// learned rounding; Reference is E‖Wx‖², their scale.
	Nearest, Learned, Reference float64
	// Undecided counts the h(V) that were not 0 or 1 at the end, before
	// the final rounding (with the regulariser, none should be).
	Undecided int
	// Iterations run: fewer than asked when the rest could not change
	// the rounding of any row.
	Iterations int
	// RowIterations sums the rows (outputs) that each iteration
	// computed: rows stop one by one once their rounding is settled.
	RowIterations int
}

func sigmoid(v float64) float64 { return 1 / (1 + math.Exp(-v)) }

// rectified is h(V) and dh/dV.
func rectified(v float64) (h, dh float64) {
	s := sigmoid(v)
	h = s*(zeta-gamma) + gamma
	switch {
	case h <= 0:
		return 0, 0
	case h >= 1:
		return 1, 0
	}
	return h, s * (1 - s) * (zeta - gamma)
}

// inverse is the V for which h(V) = f (f in (0, 1)).
func inverse(f float64) float64 {
	f = math.Min(math.Max(f, 0.01), 0.99)
	return -math.Log((zeta-gamma)/(f-gamma) - 1)
}

// saturation is |V| beyond which h(V) is 0 or 1: σ(V) ≤ −γ/(ζ−γ).
var saturation = math.Log((zeta-gamma)/-gamma - 1)

// settled reports whether the remaining iterations cannot change the
// rounding: every h(V) is 0 or 1 (the caller checked), so every gradient
// is 0 from now on (both terms have the factor dh/dV) and Adam only
// carries V on by its momentum, m1 decaying by β1 and m2 by β2 per step.
// The whole of that drift is at most step·Σ(β1/√β2)^t with step =
// lr/(1−β1^t)·|m1|/√m2 (the bias correction of m2 only shrinks it); when
// twice that drift leaves every V saturated, h(V) stays where it is and
// so does the rounding, so stopping now gives the result of running on.
// scale is lr/(1−β1^t) of the current step.
func settled(v, m1, m2 []float64, scale float64) bool {
	const b1, b2 = 0.9, 0.999
	drift := scale / (1 - b1/math.Sqrt(b2))
	for i := range v {
		if m1[i] == 0 {
			if math.Abs(v[i]) < saturation+1e-6 {
				return false
			}
			continue
		}
		if m2[i] <= 0 || math.Abs(v[i])-2*drift*math.Abs(m1[i])/math.Sqrt(m2[i]) < saturation+1e-6 {
			return false
		}
	}
	return true
}

func elemMul(a, b *mat.Dense) *mat.Dense {
	var m mat.Dense
	m.MulElem(a, b)
	return &m
}

// Optimize learns the rounding of p with AdaRound.
func Optimize(ctx context.Context, p *Problem, o Options) (*Result, error) {
	rows, k := p.W.Dims()
	if len(p.Grid.Scale) != rows || len(p.Grid.Zero) != rows {
		return nil, fmt.Errorf("grid of %d rows for %d weight rows", len(p.Grid.Scale), rows)
	}
	switch {
	case p.H != nil:
		if hk := p.H.SymmetricDim(); hk != k {
			return nil, fmt.Errorf("second moments of %d inputs for %d weight columns", hk, k)
		}
	case p.Xq == nil || p.Xf == nil:
		return nil, fmt.Errorf("neither second moments nor columns")
	default:
		if _, c := p.Xq.Dims(); c != k {
			return nil, fmt.Errorf("columns of %d inputs for %d weight columns", c, k)
		}
	}
	top := float64(p.Grid.Levels - 1)
	// floor(W/s) + zero and the fractional part, per weight.
	base := make([]float64, rows*k)
	frac := make([]float64, rows*k)
	for o := 0; o < rows; o++ {
		s, z := p.Grid.Scale[o], p.Grid.Zero[o]
		for j := 0; j < k; j++ {
			x := p.W.At(o, j) / s
			f := math.Floor(x)
			base[o*k+j] = f + z
			frac[o*k+j] = x - f
		}
	}
	value := func(q float64, o int) float64 {
		q = math.Min(math.Max(q, 0), top)
		return (q - p.Grid.Zero[o]) * p.Grid.Scale[o]
	}
	f := newForm(p)

	wq := mat.NewDense(rows, k, nil)
	for o := 0; o < rows; o++ {
		for j := 0; j < k; j++ {
			wq.Set(o, j, value(math.RoundToEven(base[o*k+j]+frac[o*k+j]), o))
		}
	}
	res := &Result{Reference: f.ref, Nearest: f.error(wq)}

	// Adam on V.
	n := rows * k
	v := make([]float64, n)
	m1 := make([]float64, n)
	m2 := make([]float64, n)
	for i := range v {
		v[i] = inverse(frac[i])
	}
	const b1, b2, eps = 0.9, 0.999, 1e-8
	warm := int(o.WarmUp * float64(o.Iterations))
	hv := make([]float64, n)
	dh := make([]float64, n)
	clamped := make([]bool, n)
	// Rows (outputs) are independent: row o of the gradient depends on
	// row o of W̃ only. A row whose rounding has settled (see settled)
	// stops; the others go on, on the rows of the problem still active.
	active := make([]int, rows)
	for r := range active {
		active[r] = r
	}
	var grad, subGrad mat.Dense
	var sub *form
	subRows := -1 // the active rows sub was made for
	// The reconstruction term is a mean over the outputs, as the
	// regulariser's λ assumes (the paper's and AIMET's MSE).
	norm := 2 / float64(rows)
	for it := 0; it < o.Iterations && len(active) > 0; it++ {
		if it%64 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		scale := o.LearningRate / (1 - math.Pow(b1, float64(it+1)))
		kept := active[:0]
		for _, row := range active {
			saturated := true
			for i := row * k; i < (row+1)*k; i++ {
				hv[i], dh[i] = rectified(v[i])
				saturated = saturated && dh[i] == 0
				q := base[i] + hv[i]
				wq.Set(row, i%k, value(q, row))
				// A clamped weight's error does not depend on V; the
				// regulariser still decides its h.
				clamped[i] = q < 0 || q > top
			}
			if !saturated || it == 0 || o.full || !settled(v[row*k:(row+1)*k], m1[row*k:(row+1)*k], m2[row*k:(row+1)*k], scale) {
				kept = append(kept, row)
			}
		}
		active = kept
		if len(active) == 0 {
			break
		}
		res.Iterations++
		res.RowIterations += len(active)
		// dLoss/dW̃ = 2(W̃H − B), on the active rows.
		var g blas64.General
		if len(active) == rows {
			f.grad(wq, &grad)
			g = grad.RawMatrix()
		} else {
			if subRows != len(active) {
				sub = f.rows(active)
				subRows = len(active)
				subGrad = mat.Dense{}
			}
			sub.gradRows(wq, active, &subGrad)
			g = subGrad.RawMatrix()
		}
		reg := it >= warm
		beta := 0.0
		if reg {
			t := float64(it-warm) / math.Max(1, float64(o.Iterations-warm))
			beta = o.BetaEnd + 0.5*(o.BetaStart-o.BetaEnd)*(1+math.Cos(t*math.Pi))
		}
		t := float64(it + 1)
		c1 := 1 - math.Pow(b1, t)
		c2 := 1 - math.Pow(b2, t)
		for a, row := range active {
			for i := row * k; i < (row+1)*k; i++ {
				gi := 0.0
				if !clamped[i] {
					gi = norm * g.Data[a*g.Stride+i%k] * p.Grid.Scale[row] * dh[i]
				}
				if reg && dh[i] != 0 {
					d := 2*hv[i] - 1
					gi += -o.Lambda * beta * math.Pow(math.Abs(d), beta-1) * math.Copysign(2, d) * dh[i]
				}
				m1[i] = b1*m1[i] + (1-b1)*gi
				m2[i] = b2*m2[i] + (1-b2)*gi*gi
				v[i] -= o.LearningRate * (m1[i] / c1) / (math.Sqrt(m2[i]/c2) + eps)
			}
		}
	}
	res.Levels = make([]int64, n)
	res.Values = make([]float64, n)
	for i := range v {
		h, _ := rectified(v[i])
		if h > 0 && h < 1 {
			res.Undecided++
		}
		up := 0.0
		if h >= 0.5 {
			up = 1
		}
		row := i / k
		q := math.Min(math.Max(base[i]+up, 0), top)
		res.Levels[i] = int64(q)
		res.Values[i] = value(q, row)
		wq.Set(row, i%k, res.Values[i])
	}
	res.Learned = f.error(wq)
	return res, nil
}
