package readcheck

import (
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/openvino"
	"github.com/potgo/pot/targets/interp/tensor"
)

func opTypes(g *potv1.Graph) string {
	var s []string
	for _, n := range g.Nodes {
		s = append(s, n.OpType)
	}
	return strings.Join(s, ",")
}

// TestUnary checks the elementwise activations against their formulas.
func TestUnary(t *testing.T) {
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	hsig := func(v float64) float64 { return math.Max(0, math.Min(1, v/6+0.5)) }
	sp := func(v float64) float64 { return math.Log1p(math.Exp(v)) }
	cases := []struct {
		typ, ver string
		attrs    []string
		ref      func(float64) float64
	}{
		{"ReLU", "opset1", nil, func(v float64) float64 { return math.Max(v, 0) }},
		{"Sigmoid", "opset1", nil, sig},
		{"Tanh", "opset1", nil, math.Tanh},
		{"Exp", "opset1", nil, math.Exp},
		{"Erf", "opset1", nil, math.Erf},
		{"Abs", "opset1", nil, math.Abs},
		{"Negative", "opset1", nil, func(v float64) float64 { return -v }},
		{"Floor", "opset1", nil, math.Floor},
		{"Ceiling", "opset1", nil, math.Ceil},
		{"Clamp", "opset1", []string{"min=-0.5", "max=1.25"}, func(v float64) float64 { return math.Max(-0.5, math.Min(1.25, v)) }},
		{"Elu", "opset1", []string{"alpha=0.7"}, func(v float64) float64 {
			if v > 0 {
				return v
			}
			return 0.7 * (math.Exp(v) - 1)
		}},
		{"SoftPlus", "opset4", nil, sp},
		{"HSwish", "opset4", nil, func(v float64) float64 { return v * hsig(v) }},
		{"HSigmoid", "opset5", nil, hsig},
		{"Swish", "opset4", nil, func(v float64) float64 { return v * sig(v) }},
		{"Mish", "opset4", nil, func(v float64) float64 { return v * math.Tanh(sp(v)) }},
		{"Gelu", "opset2", nil, func(v float64) float64 { return 0.5 * v * (1 + math.Erf(v/math.Sqrt2)) }},
		{"Gelu", "opset7", []string{"approximation_mode=tanh"}, func(v float64) float64 {
			return 0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v)))
		}},
		{"Gelu", "opset7", []string{"approximation_mode=erf"}, func(v float64) float64 { return 0.5 * v * (1 + math.Erf(v/math.Sqrt2)) }},
	}
	x := ramp(24, -4, 4)
	for _, c := range cases {
		t.Run(c.typ+"-"+c.ver, func(t *testing.T) {
			b := newIR()
			p := b.param(2, 3, 4)
			b.result(b.layer(c.typ, c.ver, c.attrs, []ref{p}, []int64{2, 3, 4})[0])
			g := b.graph(t)
			near(t, c.typ, run(t, g, x)[0], mapf(x, c.ref), 1e-5)
		})
	}
}

// TestSwishBeta checks Swish's optional beta input.
func TestSwishBeta(t *testing.T) {
	b := newIR()
	p := b.param(6)
	beta := b.f32(nil, 1.5)
	b.result(b.layer("Swish", "opset4", nil, []ref{p, beta}, []int64{6})[0])
	x := ramp(6, -3, 3)
	near(t, "swish", run(t, b.graph(t), x)[0], mapf(x, func(v float64) float64 { return v / (1 + math.Exp(-1.5*v)) }), 1e-6)
}

// TestBinary checks the arithmetic layers with numpy broadcast.
func TestBinary(t *testing.T) {
	cases := []struct {
		typ string
		f   func(a, b float64) float64
	}{
		{"Add", func(a, b float64) float64 { return a + b }},
		{"Subtract", func(a, b float64) float64 { return a - b }},
		{"Multiply", func(a, b float64) float64 { return a * b }},
		{"Divide", func(a, b float64) float64 { return a / b }},
		{"Maximum", math.Max},
		{"Minimum", math.Min},
		{"Power", math.Pow},
		{"SquaredDifference", func(a, b float64) float64 { return (a - b) * (a - b) }},
	}
	x := ramp(6, 0.5, 3)
	y := []float32{1.5, -0.5, 2}
	for _, c := range cases {
		t.Run(c.typ, func(t *testing.T) {
			b := newIR()
			p := b.param(2, 3)
			k := b.f32([]int64{3}, y...)
			b.result(b.layer(c.typ, "opset1", []string{"auto_broadcast=numpy"}, []ref{p, k}, []int64{2, 3})[0])
			want := make([]float32, 6)
			for i := range want {
				want[i] = float32(c.f(float64(x[i]), float64(y[i%3])))
			}
			near(t, c.typ, run(t, b.graph(t), x)[0], want, 1e-5)
		})
	}
}

// TestConvolutionBias checks Convolution + a constant bias Add: one Conv
// node with the bias, asymmetric explicit pads and strides.
func TestConvolutionBias(t *testing.T) {
	b := newIR()
	p := b.param(1, 2, 5, 5)
	wv := ramp(3*2*3*3, -1, 1)
	w := b.f32([]int64{3, 2, 3, 3}, wv...)
	conv1 := b.layer("Convolution", "opset1", []string{"strides=2,2", "dilations=1,1", "pads_begin=1,0", "pads_end=0,1", "auto_pad=explicit"},
		[]ref{p, w}, []int64{1, 3, 2, 3})[0]
	bias := []float32{0.5, -1, 2}
	bk := b.f32([]int64{1, 3, 1, 1}, bias...)
	b.result(b.layer("Add", "opset1", []string{"auto_broadcast=numpy"}, []ref{conv1, bk}, []int64{1, 3, 2, 3})[0])
	g := b.graph(t)
	if got := opTypes(g); got != "Conv" {
		t.Fatalf("nodes %s, want one Conv", got)
	}
	if n := len(g.Nodes[0].Inputs); n != 3 {
		t.Fatalf("Conv has %d inputs, want 3 (with the bias)", n)
	}
	x := ramp(50, -2, 2)
	want, _, _ := conv(x, 1, 2, 5, 5, wv, 3, 3, 3, 1, 2, 1, 0, 0, 1, bias)
	near(t, "conv", run(t, g, x)[0], want, 1e-5)
}

// TestGroupConvolution checks the weights reshape and the group.
func TestGroupConvolution(t *testing.T) {
	b := newIR()
	p := b.param(1, 4, 4, 4)
	wv := ramp(2*3*2*3*3, -1, 1)
	w := b.f32([]int64{2, 3, 2, 3, 3}, wv...)
	b.result(b.layer("GroupConvolution", "opset1", []string{"strides=1,1", "dilations=1,1", "pads_begin=1,1", "pads_end=1,1"},
		[]ref{p, w}, []int64{1, 6, 4, 4})[0])
	x := ramp(64, -1, 3)
	want, _, _ := conv(x, 1, 4, 4, 4, wv, 6, 3, 3, 2, 1, 1, 1, 1, 1, nil)
	near(t, "group conv", run(t, b.graph(t), x)[0], want, 1e-5)
}

// TestMatMulGemm checks a linear layer (MatMul transpose_b + bias Add)
// becoming Gemm, and a MatMul of two inputs with transpose_a.
func TestMatMulGemm(t *testing.T) {
	b := newIR()
	p := b.param(2, 3)
	wv := ramp(4*3, -1, 1)
	w := b.f32([]int64{4, 3}, wv...)
	mm := b.layer("MatMul", "opset1", []string{"transpose_a=false", "transpose_b=true"}, []ref{p, w}, []int64{2, 4})[0]
	bias := []float32{1, 2, 3, 4}
	b.result(b.layer("Add", "opset1", nil, []ref{mm, b.f32([]int64{1, 4}, bias...)}, []int64{2, 4})[0])
	g := b.graph(t)
	if got := opTypes(g); got != "Gemm" {
		t.Fatalf("nodes %s, want Gemm", got)
	}
	x := ramp(6, -1, 2)
	want := make([]float32, 8)
	for i := range 2 {
		for j := range 4 {
			s := bias[j]
			for k := range 3 {
				s += x[i*3+k] * wv[j*3+k]
			}
			want[i*4+j] = s
		}
	}
	near(t, "gemm", run(t, g, x)[0], want, 1e-5)

	b = newIR()
	a, c := b.param(3, 2), b.param(3, 4)
	b.result(b.layer("MatMul", "opset1", []string{"transpose_a=true"}, []ref{a, c}, []int64{2, 4})[0])
	av, cv := ramp(6, -1, 1), ramp(12, 0, 2)
	want = make([]float32, 8)
	for i := range 2 {
		for j := range 4 {
			for k := range 3 {
				want[i*4+j] += av[k*2+i] * cv[k*4+j]
			}
		}
	}
	near(t, "matmul", run(t, b.graph(t), av, cv)[0], want, 1e-5)
}

// TestPools checks MaxPool with ceil rounding and AvgPool with and
// without exclude-pad.
func TestPools(t *testing.T) {
	x := ramp(25, -1, 1)
	pool := func(typ string, attrs []string, f func(vals []float32, inside int) float32, k, s, pad int, ceil bool) {
		t.Helper()
		b := newIR()
		p := b.param(1, 1, 5, 5)
		o := (5+2*pad-k)/s + 1
		if ceil {
			o = (5+2*pad-k+s-1)/s + 1
		}
		b.result(b.layer(typ, "opset1", attrs, []ref{p}, []int64{1, 1, int64(o), int64(o)})[0])
		want := make([]float32, o*o)
		for i := range o {
			for j := range o {
				var vals []float32
				inside := 0
				for u := range k {
					for v := range k {
						y, xx := i*s+u-pad, j*s+v-pad
						if y < -pad || xx < -pad || y >= 5+pad || xx >= 5+pad {
							continue
						}
						inside++
						if y >= 0 && xx >= 0 && y < 5 && xx < 5 {
							vals = append(vals, x[y*5+xx])
						}
					}
				}
				want[i*o+j] = f(vals, inside)
			}
		}
		near(t, typ+strings.Join(attrs, " "), run(t, b.graph(t), x)[0], want, 1e-6)
	}
	maxOf := func(v []float32, _ int) float32 {
		m := float32(math.Inf(-1))
		for _, x := range v {
			m = max(m, x)
		}
		return m
	}
	pool("MaxPool", []string{"kernel=2,2", "strides=2,2", "pads_begin=0,0", "pads_end=0,0", "rounding_type=ceil"}, maxOf, 2, 2, 0, true)
	mean := func(incl bool) func([]float32, int) float32 {
		return func(v []float32, inside int) float32 {
			var s float32
			for _, x := range v {
				s += x
			}
			if incl {
				return s / float32(inside)
			}
			return s / float32(len(v))
		}
	}
	pool("AvgPool", []string{"kernel=3,3", "strides=2,2", "pads_begin=1,1", "pads_end=1,1", "exclude-pad=true"}, mean(false), 3, 2, 1, false)
	pool("AvgPool", []string{"kernel=3,3", "strides=2,2", "pads_begin=1,1", "pads_end=1,1", "exclude-pad=false"}, mean(true), 3, 2, 1, false)
}

// TestShapes checks the data movement layers.
func TestShapes(t *testing.T) {
	x := ramp(24, 0, 23) // 2x3x4, value = index
	t.Run("Reshape+Transpose+Concat", func(t *testing.T) {
		b := newIR()
		p := b.param(2, 3, 4)
		rs := b.layer("Reshape", "opset1", []string{"special_zero=true"}, []ref{p, b.i64(0, -1)}, []int64{2, 12})[0]
		tr := b.layer("Transpose", "opset1", nil, []ref{rs, b.i64(1, 0)}, []int64{12, 2})[0]
		b.result(b.layer("Concat", "opset1", []string{"axis=0"}, []ref{tr, tr}, []int64{24, 2})[0])
		want := make([]float32, 48)
		for i := range 12 {
			for j := range 2 {
				want[i*2+j] = x[j*12+i]
				want[24+i*2+j] = x[j*12+i]
			}
		}
		near(t, "reshape", run(t, b.graph(t), x)[0], want, 0)
	})
	t.Run("StridedSlice", func(t *testing.T) {
		b := newIR()
		p := b.param(2, 3, 4)
		// x[1, :, ::-2] with begin_mask ignoring axis 1's begin and
		// end_mask axis 1 and 2's end.
		b.result(b.layer("StridedSlice", "opset1", []string{"begin_mask=0,1,0", "end_mask=0,1,1", "shrink_axis_mask=1,0,0",
			"new_axis_mask=0,0,0", "ellipsis_mask=0,0,0"}, []ref{p, b.i64(1, 5, -1), b.i64(2, 0, 0), b.i64(1, 1, -2)}, []int64{3, 2})[0])
		var want []float32
		for j := range 3 {
			for k := 3; k >= 0; k -= 2 {
				want = append(want, x[12+j*4+k])
			}
		}
		near(t, "strided slice", run(t, b.graph(t), x)[0], want, 0)
	})
	t.Run("Gather+Squeeze+Unsqueeze", func(t *testing.T) {
		b := newIR()
		p := b.param(2, 3, 4)
		gt := b.layer("Gather", "opset8", []string{"batch_dims=0"}, []ref{p, b.i64(2, 0), b.i64(1)}, []int64{2, 2, 4})[0]
		un := b.layer("Unsqueeze", "opset1", nil, []ref{gt, b.i64(0)}, []int64{1, 2, 2, 4})[0]
		b.result(b.layer("Squeeze", "opset1", nil, []ref{un, b.i64(0)}, []int64{2, 2, 4})[0])
		var want []float32
		for i := range 2 {
			for _, j := range []int{2, 0} {
				want = append(want, x[i*12+j*4:i*12+j*4+4]...)
			}
		}
		near(t, "gather", run(t, b.graph(t), x)[0], want, 0)
	})
	t.Run("Split+VariadicSplit", func(t *testing.T) {
		b := newIR()
		p := b.param(2, 3, 4)
		sp := b.layer("Split", "opset1", []string{"num_splits=2"}, []ref{p, b.i64(0)}, []int64{1, 3, 4}, []int64{1, 3, 4})
		vs := b.layer("VariadicSplit", "opset1", nil, []ref{sp[1], b.i64(2), b.i64(1, -1)}, []int64{1, 3, 1}, []int64{1, 3, 3})
		b.result(sp[0])
		b.result(vs[1])
		out := run(t, b.graph(t), x)
		near(t, "split", out[0], x[:12], 0)
		var want []float32
		for j := range 3 {
			want = append(want, x[12+j*4+1:12+j*4+4]...)
		}
		near(t, "variadic split", out[1], want, 0)
	})
	t.Run("ShapeOf+Convert", func(t *testing.T) {
		b := newIR()
		p := b.param(2, 3, 4)
		so := b.layerP("ShapeOf", "opset3", []string{"output_type=i32"}, []ref{p}, "I32", []int64{3})[0]
		b.result(b.layer("Convert", "opset1", []string{"destination_type=f32"}, []ref{so}, []int64{3})[0])
		near(t, "shape", run(t, b.graph(t), x)[0], []float32{2, 3, 4}, 0)
	})
}

// TestNormalization checks Softmax, MVN (6 and 2), the reductions and
// BatchNormInference against their formulas.
func TestNormalization(t *testing.T) {
	x := ramp(24, -2, 3) // 2x3x4
	rows := func(f func(row []float32) []float32) []float32 {
		var out []float32
		for i := 0; i < 24; i += 4 {
			out = append(out, f(x[i:i+4])...)
		}
		return out
	}
	softmax := rows(func(r []float32) []float32 {
		var s float64
		for _, v := range r {
			s += math.Exp(float64(v))
		}
		return mapf(r, func(v float64) float64 { return math.Exp(v) / s })
	})
	mvn := func(eps float64, inside bool) []float32 {
		return rows(func(r []float32) []float32 {
			var m, v float64
			for _, x := range r {
				m += float64(x) / 4
			}
			for _, x := range r {
				v += (float64(x) - m) * (float64(x) - m) / 4
			}
			d := math.Sqrt(v+eps) * 1
			if !inside {
				d = math.Sqrt(v) + eps
			}
			return mapf(r, func(x float64) float64 { return (x - m) / d })
		})
	}
	mean := rows(func(r []float32) []float32 { return []float32{(r[0] + r[1] + r[2] + r[3]) / 4} })
	sum := rows(func(r []float32) []float32 { return []float32{r[0] + r[1] + r[2] + r[3]} })
	maxr := rows(func(r []float32) []float32 { return []float32{max(r[0], r[1], r[2], r[3])} })
	one := func(typ, ver string, attrs []string, extra func(b *irb) []ref, out []int64, want []float32) {
		t.Run(typ+"-"+ver+strings.Join(attrs, ","), func(t *testing.T) {
			b := newIR()
			p := b.param(2, 3, 4)
			ins := []ref{p}
			if extra != nil {
				ins = append(ins, extra(b)...)
			}
			b.result(b.layer(typ, ver, attrs, ins, out)[0])
			near(t, typ, run(t, b.graph(t), x)[0], want, 1e-5)
		})
	}
	axesLast := func(b *irb) []ref { return []ref{b.i64(-1)} }
	one("Softmax", "opset8", []string{"axis=-1"}, nil, []int64{2, 3, 4}, softmax)
	one("Softmax", "opset1", []string{"axis=2"}, nil, []int64{2, 3, 4}, softmax)
	one("MVN", "opset6", []string{"normalize_variance=true", "eps=0.01", "eps_mode=inside_sqrt"}, axesLast, []int64{2, 3, 4}, mvn(0.01, true))
	one("MVN", "opset6", []string{"normalize_variance=true", "eps=0.01", "eps_mode=outside_sqrt"}, axesLast, []int64{2, 3, 4}, mvn(0.01, false))
	one("MVN", "opset2", []string{"normalize_variance=true", "eps=0.01", "across_channels=false"}, nil, []int64{2, 3, 4}, mvn(0.01, true))
	one("ReduceMean", "opset1", []string{"keep_dims=true"}, axesLast, []int64{2, 3, 1}, mean)
	one("ReduceSum", "opset1", []string{"keep_dims=false"}, axesLast, []int64{2, 3}, sum)
	one("ReduceMax", "opset1", []string{"keep_dims=false"}, axesLast, []int64{2, 3}, maxr)
	gamma, beta, mu, va := []float32{1, 2, 0.5}, []float32{0, 1, -1}, []float32{0.1, 0.2, 0.3}, []float32{1, 4, 0.25}
	var bn []float32
	for i, v := range x {
		c := i / 4 % 3
		bn = append(bn, float32((float64(v)-float64(mu[c]))/math.Sqrt(float64(va[c])+1e-3)*float64(gamma[c])+float64(beta[c])))
	}
	one("BatchNormInference", "opset5", []string{"epsilon=0.001"}, func(b *irb) []ref {
		return []ref{b.f32([]int64{3}, gamma...), b.f32([]int64{3}, beta...), b.f32([]int64{3}, mu...), b.f32([]int64{3}, va...)}
	}, []int64{2, 3, 4}, bn)
}

// TestFakeQuantize checks the decomposition against FakeQuantize's
// formula, per channel, and its folding on constant weights.
func TestFakeQuantize(t *testing.T) {
	b := newIR()
	p := b.param(1, 2, 3)
	il, ih := []float32{-1, 0}, []float32{1, 2}
	ol, oh := []float32{-1, -0.5}, []float32{1, 2.5}
	d := []int64{1, 2, 1}
	fq := b.layer("FakeQuantize", "opset1", []string{"levels=5", "auto_broadcast=numpy"},
		[]ref{p, b.f32(d, il...), b.f32(d, ih...), b.f32(d, ol...), b.f32(d, oh...)}, []int64{1, 2, 3})[0]
	b.result(fq)
	x := []float32{-2, 0.3, 0.75, -0.1, 1.26, 5}
	var want []float32
	for i, v := range x {
		c := i / 3
		want = append(want, fakeQuantize(v, il[c], ih[c], ol[c], oh[c], 5))
	}
	// The reference itself, by hand: channel 0 has steps of 0.5.
	if want[1] != 0.5 || want[0] != -1 || want[5] != 2.5 {
		t.Fatalf("reference FakeQuantize gives %v", want)
	}
	near(t, "fake quantize", run(t, b.graph(t), x)[0], want, 1e-6)

	// On a constant it folds: weights FakeQuantize → initializer.
	b = newIR()
	p = b.param(1, 3)
	w := b.f32([]int64{2, 3}, 0.1, -0.4, 0.9, 1.5, -2, 0.26)
	one := []int64{}
	wq := b.layer("FakeQuantize", "opset1", []string{"levels=3"}, []ref{w, b.f32(one, -1), b.f32(one, 1), b.f32(one, -1), b.f32(one, 1)}, []int64{2, 3})[0]
	b.result(b.layer("MatMul", "opset1", []string{"transpose_b=true"}, []ref{p, wq}, []int64{1, 2})[0])
	g := b.graph(t)
	if got := opTypes(g); got != "MatMul" {
		t.Fatalf("nodes %s, want the weights' FakeQuantize folded", got)
	}
	out := run(t, g, []float32{1, 1, 1})[0]
	near(t, "folded weights", out, []float32{0 + 0 + 1, 1 - 1 + 0}, 0)
}

func f16bytes(v ...float32) []byte {
	raw := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(raw[2*i:], uint16(tensor.ToFloat16(x)))
	}
	return raw
}

// TestDecompression checks that FP16 weights (Const f16 → Convert) fold
// into one f32 initializer and compressed int8 weights (Const i8 →
// Convert → Subtract → Multiply) read by a MatMul become the integers
// behind a DequantizeLinear that computes the same values.
func TestDecompression(t *testing.T) {
	b := newIR()
	p := b.param(1, 3)
	w16 := b.konst("f16", []int64{2, 3}, f16bytes(0.5, -1.25, 2, 0.1, 3, -0.75))
	w := b.layer("Convert", "opset1", []string{"destination_type=f32"}, []ref{w16}, []int64{2, 3})[0]
	mm := b.layer("MatMul", "opset1", []string{"transpose_b=true"}, []ref{p, w}, []int64{1, 2})[0]
	raw := []byte{10, 0xfb, 127, 0, 1, 0x80}
	q := b.konst("i8", []int64{2, 3}, raw)
	qf := b.layer("Convert", "opset1", []string{"destination_type=f32"}, []ref{q}, []int64{2, 3})[0]
	zp := b.layer("Convert", "opset1", []string{"destination_type=f32"}, []ref{b.konst("u8", []int64{2, 1}, []byte{2, 0})}, []int64{2, 1})[0]
	sub := b.layer("Subtract", "opset1", nil, []ref{qf, zp}, []int64{2, 3})[0]
	w2 := b.layer("Multiply", "opset1", nil, []ref{sub, b.f32([]int64{2, 1}, 0.5, 0.25)}, []int64{2, 3})[0]
	b.result(b.layer("MatMul", "opset1", nil, []ref{mm, w2}, []int64{1, 3})[0])
	g, err := openvino.ToGraph(b.net, b.bin)
	if err != nil {
		t.Fatal(err)
	}
	if got := opTypes(g); got != "MatMul,DequantizeLinear,MatMul" {
		t.Fatalf("nodes %s, want the fp16 weights folded and the int8 ones dequantized", got)
	}
	inits := map[string]*potv1.Tensor{}
	for _, in := range g.Initializers {
		inits[in.Name] = in
	}
	dq := g.Nodes[1]
	ints, scale, zero := inits[dq.Inputs[0]], inits[dq.Inputs[1]], inits[dq.Inputs[2]]
	if ints == nil || ints.Dtype != potv1.DataType_DATA_TYPE_INT8 || string(ints.Data) != string(raw) {
		t.Errorf("integers %v, want the IR's i8 bytes", ints)
	}
	if zero == nil || zero.Dtype != potv1.DataType_DATA_TYPE_INT8 || string(zero.Data) != "\x02\x00" || len(dq.Attributes) != 1 || dq.Attributes[0].GetI() != 0 {
		t.Errorf("zero point %v, attributes %v: want int8 [2 0] on axis 0", zero, dq.Attributes)
	}
	near(t, "scale", f32s(scale), []float32{0.5, 0.25}, 0)
	// transpose_b of a constant transposes the constant: [3, 2].
	want16 := []float32{0.5, tensor.RoundFloat16(0.1), -1.25, 3, 2, -0.75}
	near(t, "fp16 weights", f32s(inits[g.Nodes[0].Inputs[1]]), want16, 0)
	wantQ := []float32{(10 - 2) * 0.5, (-5 - 2) * 0.5, (127 - 2) * 0.5, 0, 0.25, -128 * 0.25}
	x := []float32{1, -2, 0.5}
	var h [2]float32
	for j := range h {
		for k := range x {
			h[j] += x[k] * want16[k*2+j]
		}
	}
	var want []float32
	for j := 0; j < 3; j++ {
		want = append(want, h[0]*wantQ[j]+h[1]*wantQ[3+j])
	}
	near(t, "int8 weights", run(t, g, x)[0], want, 1e-5)
}

// TestDynamicShapes checks that dynamic dims become named dims and the
// model runs at another batch size.
func TestDynamicShapes(t *testing.T) {
	b := newIR()
	p := b.param(-1, 3, -1)
	b.result(b.layer("ReLU", "opset1", nil, []ref{p}, []int64{-1, 3, -1})[0])
	g := b.graph(t)
	in := g.Inputs[0]
	if in.Shape[0].GetParam() != "N" || in.Shape[1].GetSize() != 3 || in.Shape[2].GetParam() == "" {
		t.Fatalf("input shape %v", in.Shape)
	}
	if out := g.Outputs[0]; out.Shape[0].GetParam() == "" || !out.HasShape {
		t.Fatalf("output shape %v", out.Shape)
	}
	x := []float32{-1, 2, -3}
	near(t, "relu", run(t, g, x)[0], []float32{0, 2, 0}, 0)
}

// TestRefusal checks that every unmappable layer is listed in one typed
// error, with its name, type and version.
func TestRefusal(t *testing.T) {
	b := newIR()
	p := b.param(1, 4)
	a := b.layer("NonMaxSuppression", "opset9", nil, []ref{p}, []int64{1, 4})[0]
	g8 := b.layer("Gather", "opset8", []string{"batch_dims=1"}, []ref{a, b.i64(0), b.i64(1)}, []int64{1, 1})[0]
	x := b.layer("ReLU", "experimental", nil, []ref{g8}, []int64{1, 1})[0]
	rs := b.layer("Reshape", "opset1", []string{"special_zero=false"}, []ref{x, b.i64(0, 1)}, []int64{0, 1})[0]
	ab := b.layer("Add", "opset1", []string{"auto_broadcast=pdpd"}, []ref{rs, rs}, []int64{0, 1})[0]
	b.result(ab)
	_, err := openvino.ToGraph(b.net, b.bin)
	var ue *openvino.UnsupportedLayersError
	if !errors.As(err, &ue) {
		t.Fatalf("error %v, want *UnsupportedLayersError", err)
	}
	want := []string{"NonMaxSuppression", "Gather", "ReLU", "Reshape", "Add"}
	if len(ue.Layers) != len(want) {
		t.Fatalf("%d layers refused, want %d: %v", len(ue.Layers), len(want), err)
	}
	for i, w := range want {
		if ue.Layers[i].Type != w || ue.Layers[i].Name == "" || ue.Layers[i].Reason == "" {
			t.Errorf("refused layer %d = %+v, want a %s", i, ue.Layers[i], w)
		}
	}
	for _, s := range []string{"opset9", "batch_dims 1", "experimental", "special_zero false", "pdpd"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
}

// TestHostile checks malformed documents fail with an error.
func TestHostile(t *testing.T) {
	base := func() *irb {
		b := newIR()
		p := b.param(1, 3)
		w := b.f32([]int64{3}, 1, 2, 3)
		b.result(b.layer("Add", "opset1", nil, []ref{p, w}, []int64{1, 3})[0])
		return b
	}
	cases := map[string]func(b *irb){
		"offset beyond bin": func(b *irb) { b.net.Layers[1].SetAttr("offset", "100") },
		"huge offset":       func(b *irb) { b.net.Layers[1].SetAttr("offset", "9223372036854775800") },
		"size mismatch":     func(b *irb) { b.net.Layers[1].SetAttr("size", "8") },
		"negative size":     func(b *irb) { b.net.Layers[1].SetAttr("size", "-12") },
		"huge shape":        func(b *irb) { b.net.Layers[1].SetAttr("shape", "4294967296,4294967296,4294967296") },
		"bad shape":         func(b *irb) { b.net.Layers[1].SetAttr("shape", "3,x") },
		"edge to missing port": func(b *irb) {
			b.net.Edges = append(b.net.Edges, openvino.Edge{FromLayer: 0, FromPort: 0, ToLayer: 2, ToPort: 7})
		},
		"edge from input port": func(b *irb) { b.net.Edges[0].FromPort = 5 },
		"two edges into a port": func(b *irb) {
			b.net.Edges = append(b.net.Edges, openvino.Edge{FromLayer: 1, FromPort: 0, ToLayer: 2, ToPort: 0})
		},
		"unfed input": func(b *irb) { b.net.Edges = b.net.Edges[1:] },
		"cycle": func(b *irb) {
			b.net.Layers[0].Input = []openvino.Port{{ID: 5}}
			b.net.Edges = append(b.net.Edges, openvino.Edge{FromLayer: 2, FromPort: 2, ToLayer: 0, ToPort: 5})
		},
		"duplicate id":  func(b *irb) { b.net.Layers[1].ID = 0 },
		"no result":     func(b *irb) { b.net.Layers = b.net.Layers[:3]; b.net.Edges = b.net.Edges[:2] },
		"nil layer":     func(b *irb) { b.net.Layers[1] = nil },
		"bad dim":       func(b *irb) { b.net.Layers[2].Output[0].Dims = []string{"-7"} },
		"bad attr":      func(b *irb) { b.net.Layers[1].SetAttr("offset", "zero") },
		"no bin at all": func(b *irb) { b.bin = nil },
	}
	for name, mut := range cases {
		t.Run(name, func(t *testing.T) {
			b := base()
			if _, err := openvino.ToGraph(b.net, b.bin); err != nil {
				t.Fatalf("base: %v", err)
			}
			mut(b)
			if g, err := openvino.ToGraph(b.net, b.bin); err == nil {
				t.Fatalf("no error; graph %s", opTypes(g))
			} else {
				t.Log(err)
			}
		})
	}
}
