package readcheck

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/openvino"
	rt "github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/tensor"
)

// irb builds an IR document and its .bin for tests.
type irb struct {
	net *openvino.Net
	bin []byte
}

// ref is an output port of a layer being built.
type ref struct {
	layer, port int
	dims        []int64
	prec        string
}

func newIR() *irb { return &irb{net: &openvino.Net{Name: "test", Version: 11}} }

func dimStrings(d []int64) []string {
	out := make([]string, len(d))
	for i, v := range d {
		if v < 0 {
			out[i] = "-1"
		} else {
			out[i] = fmt.Sprint(v)
		}
	}
	return out
}

// layer adds a layer of opset ver with attributes "k=v" reading ins and
// with outputs of these dims (FP32 unless prec says otherwise).
func (b *irb) layer(typ, ver string, attrs []string, ins []ref, outs ...[]int64) []ref {
	return b.layerP(typ, ver, attrs, ins, "FP32", outs...)
}

func (b *irb) layerP(typ, ver string, attrs []string, ins []ref, prec string, outs ...[]int64) []ref {
	id := len(b.net.Layers)
	l := &openvino.Layer{ID: id, Name: fmt.Sprintf("%s_%d", strings.ToLower(typ), id), Type: typ, Version: ver}
	for _, a := range attrs {
		k, v, _ := strings.Cut(a, "=")
		l.SetAttr(k, v)
	}
	for i, in := range ins {
		l.Input = append(l.Input, openvino.Port{ID: i, Precision: in.prec, Dims: dimStrings(in.dims)})
		b.net.Edges = append(b.net.Edges, openvino.Edge{FromLayer: in.layer, FromPort: in.port, ToLayer: id, ToPort: i})
	}
	var refs []ref
	for j, d := range outs {
		p := len(ins) + j
		l.Output = append(l.Output, openvino.Port{ID: p, Precision: prec, Dims: dimStrings(d)})
		refs = append(refs, ref{id, p, d, prec})
	}
	b.net.Layers = append(b.net.Layers, l)
	return refs
}

func (b *irb) param(dims ...int64) ref {
	return b.layer("Parameter", "opset1", []string{"element_type=f32", "shape=" + openvino.FormatShape(dims)}, nil, dims)[0]
}

// konst adds a Const of raw bytes.
func (b *irb) konst(et string, dims []int64, raw []byte) ref {
	off := len(b.bin)
	b.bin = append(b.bin, raw...)
	prec := map[string]string{"f32": "FP32", "f16": "FP16", "i64": "I64", "i32": "I32", "i8": "I8", "u8": "U8"}[et]
	return b.layerP("Const", "opset1", []string{"element_type=" + et, "shape=" + openvino.FormatShape(dims),
		fmt.Sprintf("offset=%d", off), fmt.Sprintf("size=%d", len(raw))}, nil, prec, dims)[0]
}

func (b *irb) f32(dims []int64, v ...float32) ref {
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
	}
	return b.konst("f32", dims, raw)
}

func (b *irb) i64(v ...int64) ref {
	raw := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(x))
	}
	return b.konst("i64", []int64{int64(len(v))}, raw)
}

func (b *irb) result(in ref) {
	b.layer("Result", "opset1", nil, []ref{in})
}

// graph maps the document.
func (b *irb) graph(t *testing.T) *potv1.Graph {
	t.Helper()
	g, err := openvino.ToGraph(b.net, b.bin)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// run runs a graph on pot's interpreter and returns its outputs.
func run(t *testing.T, g *potv1.Graph, inputs ...[]float32) [][]float32 {
	t.Helper()
	p, err := rt.Compile(g, rt.Options{Threads: 1})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	defer p.Close()
	var ins []*tensor.Tensor
	for i, in := range g.Inputs {
		var shape []int
		for _, d := range in.Shape {
			s := d.GetSize()
			if d.GetParam() != "" {
				s = 1
			}
			shape = append(shape, int(s))
		}
		ins = append(ins, tensor.From(shape, inputs[i]))
	}
	s := p.NewSession()
	var names []string
	for _, o := range g.Outputs {
		names = append(names, o.Name)
	}
	if err := s.Watch(names, func(string, *tensor.Tensor) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.Run(context.Background(), ins); err != nil {
		t.Fatalf("run: %v", err)
	}
	var out [][]float32
	for _, n := range names {
		v := s.Value(n)
		if v == nil {
			t.Fatalf("no output %s", n)
		}
		out = append(out, append([]float32(nil), v.F32()...))
	}
	return out
}

// ramp returns n values spread over [lo, hi].
func ramp(n int, lo, hi float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = lo + (hi-lo)*float32(i)/float32(max(n-1, 1))
	}
	return v
}

func mapf(x []float32, f func(float64) float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(f(float64(v)))
	}
	return out
}

func near(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i]) - float64(want[i])); !(d <= tol*(1+math.Abs(float64(want[i])))) {
			t.Fatalf("%s[%d] = %v, want %v (all: %v, want %v)", what, i, got[i], want[i], got, want)
		}
	}
}

// conv is a reference convolution (NCHW, 2-D, groups, pads and strides).
func conv(x []float32, n, c, h, w int, k []float32, o, kh, kw, group, stride int, pt, pl, pb, pr int, bias []float32) ([]float32, int, int) {
	oh := (h+pt+pb-kh)/stride + 1
	ow := (w+pl+pr-kw)/stride + 1
	cg := c / group
	og := o / group
	out := make([]float32, n*o*oh*ow)
	for b := range n {
		for oc := range o {
			g := oc / og
			for i := range oh {
				for j := range ow {
					var s float32
					for ic := range cg {
						for u := range kh {
							for v := range kw {
								y, xx := i*stride+u-pt, j*stride+v-pl
								if y < 0 || y >= h || xx < 0 || xx >= w {
									continue
								}
								s += x[((b*c+g*cg+ic)*h+y)*w+xx] * k[((oc*cg+ic)*kh+u)*kw+v]
							}
						}
					}
					if bias != nil {
						s += bias[oc]
					}
					out[((b*o+oc)*oh+i)*ow+j] = s
				}
			}
		}
	}
	return out, oh, ow
}

// fakeQuantize is FakeQuantize-1 of one value, as its specification
// gives it.
func fakeQuantize(x, il, ih, ol, oh float32, levels int64) float32 {
	switch {
	case x <= min(il, ih):
		return ol
	case x > max(il, ih):
		return oh
	}
	l := float32(levels - 1)
	q := float32(math.RoundToEven(float64((x - il) / (ih - il) * l)))
	return q/l*(oh-ol) + ol
}

func f32s(t *potv1.Tensor) []float32 {
	v := make([]float32, len(t.Data)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return v
}
