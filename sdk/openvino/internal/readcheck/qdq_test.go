package readcheck

import (
	"math"
	"strconv"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/openvino"
)

// TestFakeQuantizeQDQ checks which activation FakeQuantize layers read as
// QuantizeLinear/DequantizeLinear (256 levels, output range = input
// range, zero on the grid), with which storage type and zero point, and
// that the pair computes FakeQuantize's values.
func TestFakeQuantizeQDQ(t *testing.T) {
	s := float32(0.02)
	for _, tc := range []struct {
		name           string
		levels         int64
		il, ih, ol, oh []float32
		ops            string
		dt             potv1.DataType
		zero           []int64
	}{
		{"symmetric signed", 256, []float32{-128 * s}, []float32{127 * s}, nil, nil, "QuantizeLinear,DequantizeLinear", potv1.DataType_DATA_TYPE_INT8, []int64{0}},
		{"unsigned", 256, []float32{0}, []float32{255 * s}, nil, nil, "QuantizeLinear,DequantizeLinear", potv1.DataType_DATA_TYPE_UINT8, []int64{0}},
		{"asymmetric", 256, []float32{-37 * s}, []float32{218 * s}, nil, nil, "QuantizeLinear,DequantizeLinear", potv1.DataType_DATA_TYPE_UINT8, []int64{37}},
		{"per channel", 256, []float32{-128 * s, -128 * 2 * s}, []float32{127 * s, 127 * 2 * s}, nil, nil, "QuantizeLinear,DequantizeLinear", potv1.DataType_DATA_TYPE_INT8, []int64{0, 0}},
		{"output range differs", 256, []float32{-128 * s}, []float32{127 * s}, []float32{-1}, []float32{1}, "", 0, nil},
		{"zero off the grid", 256, []float32{-37.5 * s}, []float32{217.5 * s}, nil, nil, "", 0, nil},
		{"narrow range", 255, []float32{-127 * s}, []float32{127 * s}, nil, nil, "", 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ol, oh := tc.ol, tc.oh
			if ol == nil {
				ol, oh = tc.il, tc.ih
			}
			c := int64(len(tc.il))
			d := []int64{1, c, 1}
			b := newIR()
			p := b.param(1, 2, 40)
			fq := b.layer("FakeQuantize", "opset1", []string{"levels=" + itoa(tc.levels), "auto_broadcast=numpy"},
				[]ref{p, b.f32(d, tc.il...), b.f32(d, tc.ih...), b.f32(d, ol...), b.f32(d, oh...)}, []int64{1, 2, 40})[0]
			b.result(fq)
			g := b.graph(t)
			got := opTypes(g)
			if tc.ops == "" {
				if got == "QuantizeLinear,DequantizeLinear" {
					t.Fatalf("read as QDQ, want the float decomposition")
				}
			} else {
				if got != tc.ops {
					t.Fatalf("nodes %s, want %s", got, tc.ops)
				}
				inits := map[string]*potv1.Tensor{}
				for _, in := range g.Initializers {
					inits[in.Name] = in
				}
				z := inits[g.Nodes[0].Inputs[2]]
				if z.Dtype != tc.dt || len(z.Data) != len(tc.zero) {
					t.Fatalf("zero point %v, want %v %v", z, tc.dt, tc.zero)
				}
				for i, want := range tc.zero {
					v := int64(z.Data[i])
					if tc.dt == potv1.DataType_DATA_TYPE_INT8 {
						v = int64(int8(z.Data[i]))
					}
					if v != want {
						t.Errorf("zero point %d: %d, want %d", i, v, want)
					}
				}
				if c > 1 && (len(g.Nodes[0].Attributes) != 1 || g.Nodes[0].Attributes[0].GetI() != 1) {
					t.Errorf("attributes %v, want axis 1", g.Nodes[0].Attributes)
				}
			}
			x := ramp(80, -4, 6)
			var want []float32
			for i, v := range x {
				ch := min(int64(i/40), c-1)
				want = append(want, fakeQuantize(v, tc.il[ch], tc.ih[ch], ol[ch], oh[ch], tc.levels))
			}
			near(t, "fake quantize", run(t, g, x)[0], want, 1e-5)
		})
	}
}

func itoa(v int64) string {
	return strconv.FormatInt(v, 10)
}

// TestQuantizedConvBias checks the QDQ form of a quantized convolution:
// a per-tensor activation FakeQuantize, compressed symmetric weights and
// a bias Add read as Conv(DequantizeLinear…) with the bias as int32
// levels of scale s_x·s_w, as the QDQ export stores it; the outputs are
// the float computation's within the bias rounding.
func TestQuantizedConvBias(t *testing.T) {
	b := newIR()
	p := b.param(1, 2, 4, 4)
	s := float32(0.05)
	fq := b.layer("FakeQuantize", "opset1", []string{"levels=256", "auto_broadcast=numpy"},
		[]ref{p, b.f32([]int64{1, 1, 1, 1}, -128*s), b.f32([]int64{1, 1, 1, 1}, 127*s), b.f32([]int64{1, 1, 1, 1}, -128*s), b.f32([]int64{1, 1, 1, 1}, 127*s)},
		[]int64{1, 2, 4, 4})[0]
	raw := make([]byte, 3*2*3*3)
	for i := range raw {
		raw[i] = byte(int8(i*7%41 - 20))
	}
	wq := b.konst("i8", []int64{3, 2, 3, 3}, raw)
	wf := b.layer("Convert", "opset1", []string{"destination_type=f32"}, []ref{wq}, []int64{3, 2, 3, 3})[0]
	ws := []float32{0.01, 0.02, 0.015}
	w := b.layer("Multiply", "opset1", []string{"auto_broadcast=numpy"}, []ref{wf, b.f32([]int64{3, 1, 1, 1}, ws...)}, []int64{3, 2, 3, 3})[0]
	cv := b.layer("Convolution", "opset1", []string{"strides=1,1", "dilations=1,1", "pads_begin=1,1", "pads_end=1,1", "auto_pad=explicit"},
		[]ref{fq, w}, []int64{1, 3, 4, 4})[0]
	bias := []float32{0.3, -0.7, 0.001}
	b.result(b.layer("Add", "opset1", []string{"auto_broadcast=numpy"}, []ref{cv, b.f32([]int64{1, 3, 1, 1}, bias...)}, []int64{1, 3, 4, 4})[0])
	g, err := openvino.ToGraph(b.net, b.bin)
	if err != nil {
		t.Fatal(err)
	}
	if got := opTypes(g); got != "QuantizeLinear,DequantizeLinear,DequantizeLinear,DequantizeLinear,Conv" {
		t.Fatalf("nodes %s", got)
	}
	inits := map[string]*potv1.Tensor{}
	for _, in := range g.Initializers {
		inits[in.Name] = in
	}
	conv0 := g.Nodes[len(g.Nodes)-1]
	var bdq *potv1.Node
	for _, n := range g.Nodes {
		if len(n.Outputs) > 0 && n.Outputs[0] == conv0.Inputs[2] {
			bdq = n
		}
	}
	if bdq == nil || bdq.OpType != "DequantizeLinear" {
		t.Fatalf("the bias is not dequantized: %v", conv0.Inputs)
	}
	bi := inits[bdq.Inputs[0]]
	if bi.Dtype != potv1.DataType_DATA_TYPE_INT32 {
		t.Fatalf("bias levels are %v", bi.Dtype)
	}
	scales := f32s(inits[bdq.Inputs[1]])
	for i := range bias {
		want := s * ws[i]
		lv := int32(uint32(bi.Data[4*i]) | uint32(bi.Data[4*i+1])<<8 | uint32(bi.Data[4*i+2])<<16 | uint32(bi.Data[4*i+3])<<24)
		if scales[i] != want || float64(lv) != math.RoundToEven(float64(bias[i]/want)) {
			t.Errorf("bias %d: level %d scale %g, want round(%g/%g)", i, lv, scales[i], bias[i], want)
		}
	}
	// Against the float computation of the same quantized values.
	x := ramp(32, -3, 3)
	xq := make([]float32, len(x))
	for i, v := range x {
		xq[i] = fakeQuantize(v, -128*s, 127*s, -128*s, 127*s, 256)
	}
	wv := make([]float32, len(raw))
	for i, r := range raw {
		wv[i] = float32(int8(r)) * ws[i/18]
	}
	want, _, _ := conv(xq, 1, 2, 4, 4, wv, 3, 3, 3, 1, 1, 1, 1, 1, 1, bias)
	near(t, "quantized conv", run(t, g, x)[0], want, 1e-3)
}
