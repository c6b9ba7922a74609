package alignment

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/potgo/pot/algorithms/quant"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/graph"
)

// conv1x1 applies a 1×1 convolution to one pixel of c channels.
func conv1x1(w, b, x []float32, out int) []float64 {
	in := len(x)
	y := make([]float64, out)
	for o := 0; o < out; o++ {
		y[o] = float64(b[o])
		for i := 0; i < in; i++ {
			y[o] += float64(w[o*in+i]) * float64(x[i])
		}
	}
	return y
}

func TestAlignKeepsTheFunction(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const cin, c, cout = 3, 4, 2
	rnd := func(n int, scale float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64() * scale)
		}
		return v
	}
	w1, b1, w2, b2 := rnd(c*cin, 1), rnd(c, 1), rnd(cout*c, 1), rnd(cout, 1)
	g := &potv1.Graph{
		Initializers: []*potv1.Tensor{
			graph.FloatTensor("w1", []int64{c, cin, 1, 1}, w1), graph.FloatTensor("b1", []int64{c}, b1),
			graph.FloatTensor("w2", []int64{cout, c, 1, 1}, w2), graph.FloatTensor("b2", []int64{cout}, b2),
		},
		Nodes: []*potv1.Node{
			{Name: "p", OpType: "Conv", Inputs: []string{"x", "w1", "b1"}, Outputs: []string{"a"}},
			{Name: "q", OpType: "Conv", Inputs: []string{"a", "w2", "b2"}, Outputs: []string{"y"}},
		},
	}
	x := graph.NewIndex(g)
	ps := pairs(x)
	if len(ps) != 1 || ps[0].producer.GetName() != "p" || ps[0].consumer.GetName() != "q" {
		t.Fatalf("pairs = %v", ps)
	}
	// Channel ranges of a: very different widths and centres.
	amin := []float32{-1, 5, -40, 0}
	amax := []float32{1, 6, 40, 0}
	ups, err := align(x, &potv1.QuantizationPlan{}, ps[0], amin, amax)
	if err != nil {
		t.Fatal(err)
	}
	nw := map[string][]float32{}
	for _, u := range ups {
		nw[u.GetName()], _ = graph.Float32s(u)
	}
	for trial := 0; trial < 20; trial++ {
		in := rnd(cin, 3)
		a := conv1x1(w1, b1, in, c)
		a32 := make([]float32, c)
		for i := range a {
			a32[i] = float32(a[i])
		}
		want := conv1x1(w2, b2, a32, cout)
		na := conv1x1(nw["w1"], nw["b1"], in, c)
		na32 := make([]float32, c)
		for i := range na {
			na32[i] = float32(na[i])
		}
		got := conv1x1(nw["w2"], nw["b2"], na32, cout)
		for o := range want {
			if math.Abs(got[o]-want[o]) > 1e-3*math.Max(1, math.Abs(want[o])) {
				t.Fatalf("output %d: %g after alignment, %g before", o, got[o], want[o])
			}
		}
	}
	// The aligned channels are centred and of equal width (within the
	// clip): channel 1's range [5, 6] moves to [-0.5, 0.5]·(median/1).
	if na := conv1x1(nw["w1"], nw["b1"], make([]float32, cin), c); math.Abs(na[1]-(float64(b1[1])-5.5)/(1.0/2)) > 1e-3 {
		// b1' = (b1 - mean)/sf with sf = 1/median(2, 1, 80) = 1/2
		t.Errorf("channel 1 bias %g, want %g", na[1], (float64(b1[1])-5.5)*2)
	}
}

func TestPairsNeedsLinearChain(t *testing.T) {
	g := &potv1.Graph{
		Initializers: []*potv1.Tensor{
			graph.FloatTensor("w1", []int64{2, 2, 1, 1}, make([]float32, 4)), graph.FloatTensor("b1", []int64{2}, make([]float32, 2)),
			graph.FloatTensor("w2", []int64{2, 2, 1, 1}, make([]float32, 4)), graph.FloatTensor("b2", []int64{2}, make([]float32, 2)),
		},
		Nodes: []*potv1.Node{
			{Name: "p", OpType: "Conv", Inputs: []string{"x", "w1", "b1"}, Outputs: []string{"a"}},
			{Name: "r", OpType: "Relu", Inputs: []string{"a"}, Outputs: []string{"ar"}},
			{Name: "q", OpType: "Conv", Inputs: []string{"ar", "w2", "b2"}, Outputs: []string{"y"}},
		},
	}
	if ps := pairs(graph.NewIndex(g)); len(ps) != 0 {
		t.Errorf("a ReLU between the convolutions must prevent alignment: %v", ps)
	}
}

// statsHost answers Align's statistics: per-channel ranges of width 1
// around a different centre per channel.
type statsHost struct {
	sdk.Host
	g *potv1.Graph
}

func (h statsHost) Graph(context.Context, string) (*potv1.Graph, error) { return h.g, nil }

func (statsHost) DataInfo(context.Context) (*potv1.DataInfoResponse, error) {
	return &potv1.DataInfoResponse{CalibrationSamples: 2}, nil
}

func (statsHost) CollectStatistics(_ context.Context, req *potv1.StatisticsRequest) (*potv1.StatisticsResponse, error) {
	resp := &potv1.StatisticsResponse{Samples: 2}
	for _, p := range req.GetProbes() {
		v := []float32{-1, 4, -20, 0}
		if strings.HasPrefix(p.GetId(), "max") {
			v = []float32{1, 5, 20, 1}
		}
		resp.Values = append(resp.Values, &potv1.StatisticValue{ProbeId: p.GetId(), Values: v, Samples: 2})
	}
	return resp, nil
}

// TestAlignNeedRescale: the consumers Align rescales are added to the
// plan's need_rescale, after those of the incoming plan (typed, or an
// older plugin's metadata, which is then dropped).
func TestAlignNeedRescale(t *testing.T) {
	g := &potv1.Graph{
		Initializers: []*potv1.Tensor{
			graph.FloatTensor("w1", []int64{4, 3, 1, 1}, make([]float32, 12)), graph.FloatTensor("b1", []int64{4}, make([]float32, 4)),
			graph.FloatTensor("w2", []int64{2, 4, 1, 1}, make([]float32, 8)), graph.FloatTensor("b2", []int64{2}, make([]float32, 2)),
		},
		Nodes: []*potv1.Node{
			{Name: "p", OpType: "Conv", Inputs: []string{"x", "w1", "b1"}, Outputs: []string{"a"}},
			{Name: "q", OpType: "Conv", Inputs: []string{"a", "w2", "b2"}, Outputs: []string{"y"}},
		},
	}
	p, err := quant.ParseParams(nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   *potv1.QuantizationPlan
		want []string
	}{
		{"empty plan", &potv1.QuantizationPlan{}, []string{"q"}},
		{"typed", &potv1.QuantizationPlan{NeedRescale: []string{"p"}}, []string{"p", "q"}},
		{"older plugin's metadata", &potv1.QuantizationPlan{Metadata: map[string]string{"need_rescale": "p"}}, []string{"p", "q"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := Align(context.Background(), statsHost{g: g}, &sdk.RunRequest{ModelID: "m", Plan: tc.in}, p)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(out.GetNeedRescale(), tc.want) || out.GetMetadata()["need_rescale"] != "" {
				t.Errorf("need_rescale %q, metadata %v; want %q", out.GetNeedRescale(), out.GetMetadata(), tc.want)
			}
			if len(tc.in.GetNeedRescale()) > 1 {
				t.Errorf("the incoming plan was modified")
			}
		})
	}
}
