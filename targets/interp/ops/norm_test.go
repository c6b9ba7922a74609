package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/targets/interp/tensor"
)

func randF64(r *rand.Rand, shape ...int) *tensor.Tensor {
	d := make([]float64, tensor.NumElements(shape))
	for i := range d {
		d[i] = r.Float64()*4 - 2
	}
	return tensor.From(shape, d)
}

// runF64 runs op (opset 17) on float64 inputs and returns the output.
func runF64(t *testing.T, op string, attrs []*potv1.Attribute, in ...*tensor.Tensor) []float64 {
	t.Helper()
	p := &potv1.Node{Name: "n", OpType: op, Outputs: []string{"y"}, Attributes: attrs}
	for range in {
		p.Inputs = append(p.Inputs, "x")
	}
	f, ok := Lookup(DomainONNX, op, 17)
	if !ok {
		t.Fatalf("%s not registered", op)
	}
	k, err := f(NewNode(p, 17, nil))
	if err != nil {
		t.Fatal(err)
	}
	y := &tensor.Tensor{}
	if err := k.Run(NewContext(1), in, []*tensor.Tensor{y}); err != nil {
		t.Fatal(err)
	}
	if y.DType != tensor.Double {
		t.Fatalf("output type %v, want double", y.DType)
	}
	return y.Data.([]float64)
}

// TestNormalizationsDouble checks that double inputs are computed in
// double precision (a float32 path would miss by about 1e-7).
func TestNormalizationsDouble(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const n, c, sp = 2, 3, 5
	x := randF64(r, n, c, sp)
	xd := x.Data.([]float64)
	scale, bias, mean, variance := randF64(r, c), randF64(r, c), randF64(r, c), randF64(r, c)
	for i, v := range variance.Data.([]float64) {
		variance.Data.([]float64)[i] = math.Abs(v) + 0.5
	}
	check := func(name string, got []float64, want func(i int) float64) {
		t.Helper()
		for i, g := range got {
			if w := want(i); math.Abs(g-w) > 1e-12 {
				t.Fatalf("%s: y[%d] = %v, want %v", name, i, g, w)
			}
		}
	}
	s, b, m, v := scale.Data.([]float64), bias.Data.([]float64), mean.Data.([]float64), variance.Data.([]float64)
	check("BatchNormalization", runF64(t, "BatchNormalization", nil, x, scale, bias, mean, variance), func(i int) float64 {
		ch := i / sp % c
		return (xd[i]-m[ch])/math.Sqrt(v[ch]+1e-5)*s[ch] + b[ch]
	})
	// LayerNormalization over the last axis.
	lnScale, lnBias := randF64(r, sp), randF64(r, sp)
	check("LayerNormalization", runF64(t, "LayerNormalization", nil, x, lnScale, lnBias), func(i int) float64 {
		row := xd[i/sp*sp : i/sp*sp+sp]
		var mu, s2 float64
		for _, e := range row {
			mu += e / sp
		}
		for _, e := range row {
			s2 += (e - mu) * (e - mu) / sp
		}
		return (xd[i]-mu)/math.Sqrt(s2+1e-5)*lnScale.Data.([]float64)[i%sp] + lnBias.Data.([]float64)[i%sp]
	})
	check("LRN", runF64(t, "LRN", []*potv1.Attribute{{Name: "size", Type: potv1.Attribute_TYPE_INT, I: 3}}, x), func(i int) float64 {
		ch, pos, img := i/sp%c, i%sp, i/(sp*c)
		var ss float64
		for cc := max(0, ch-1); cc <= min(c-1, ch+1); cc++ {
			e := xd[(img*c+cc)*sp+pos]
			ss += e * e
		}
		return xd[i] / math.Pow(1+float64(float32(1e-4))/3*ss, float64(float32(0.75)))
	})
}
