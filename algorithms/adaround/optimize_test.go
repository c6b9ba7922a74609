package adaround

import (
	"compress/gzip"
	"context"
	"encoding/binary"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/potgo/pot/internal/testenv"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/sdk/plan"
)

// images reads the first n images of an idx3 file as a [n, 1, rows,
// cols] tensor, normalised with mean and std.
func images(t testing.TB, path string, n int, mean, std float64) ([]float32, []int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var hdr [4]uint32
	if err := binary.Read(z, binary.BigEndian, &hdr); err != nil || hdr[0] != 0x803 || int(hdr[1]) < n {
		t.Fatalf("%s: header %v, %v", path, hdr, err)
	}
	rows, cols := int(hdr[2]), int(hdr[3])
	raw := make([]byte, n*rows*cols)
	if _, err := io.ReadFull(z, raw); err != nil {
		t.Fatal(err)
	}
	out := make([]float32, len(raw))
	for i, b := range raw {
		out[i] = float32((float64(b)/255 - mean) / std)
	}
	return out, []int64{int64(n), 1, int64(rows), int64(cols)}
}

// firstConv returns a model's first Conv (which reads the image) and its
// graph index.
func firstConv(t testing.TB, model string) (*potv1.Graph, *graph.Index, *potv1.Node) {
	t.Helper()
	g, err := onnx.ReadGraph(testenv.Example("models", model))
	if err != nil {
		t.Fatal(err)
	}
	x := graph.NewIndex(g)
	for _, n := range x.Nodes() {
		if n.GetOpType() == "Conv" {
			return g, x, n
		}
	}
	t.Fatalf("%s has no Conv", model)
	return nil, nil, nil
}

// weightQuantizer is a quantizer of a Conv's weights over their min/max
// (per output channel or per tensor), as MinMaxQuantization makes one:
// symmetric with levels-1 steps over [-absmax, absmax], or asymmetric
// over [min, max] with zero on the grid.
func weightQuantizer(t testing.TB, x *graph.Index, n *potv1.Node, levels int64, perChannel, symmetric bool) *potv1.Quantizer {
	t.Helper()
	w := x.Initializer(n.GetInputs()[1])
	v, err := graph.Float32s(w)
	if err != nil {
		t.Fatal(err)
	}
	channels := 1
	if perChannel {
		channels = int(w.GetDims()[0])
	}
	per := len(v) / channels
	if symmetric && levels%2 == 0 {
		t.Fatalf("symmetric weights with %d levels: want an odd number", levels)
	}
	q := &potv1.Quantizer{Id: "w", Weights: true, Location: &potv1.Location{Tensor: n.GetInputs()[1], Node: n.GetName(), Input: 1},
		Levels: levels, Consumers: []string{n.GetName()}, Granularity: potv1.Granularity_GRANULARITY_PER_TENSOR}
	if symmetric {
		q.LevelLow, q.LevelHigh, q.Mode = -(levels / 2), levels-1-levels/2, potv1.QuantizationMode_QUANTIZATION_MODE_SYMMETRIC
	} else {
		q.LevelLow, q.LevelHigh, q.Mode = 0, levels-1, potv1.QuantizationMode_QUANTIZATION_MODE_ASYMMETRIC
	}
	if perChannel {
		q.Granularity = potv1.Granularity_GRANULARITY_PER_CHANNEL
	}
	for c := 0; c < channels; c++ {
		lo, hi := 0.0, 0.0
		for _, f := range v[c*per : (c+1)*per] {
			lo, hi = math.Min(lo, float64(f)), math.Max(hi, float64(f))
		}
		if symmetric {
			a := math.Max(-lo, hi) // levels is odd: zero in the middle
			lo, hi = -a, a
		} else {
			// Move the range so that zero is on the grid.
			s := (hi - lo) / float64(levels-1)
			z := math.Round(-lo / s)
			lo, hi = -z*s, (float64(levels-1)-z)*s
		}
		q.InputLow = append(q.InputLow, float32(lo))
		q.InputHigh = append(q.InputHigh, float32(hi))
	}
	q.OutputLow, q.OutputHigh = q.InputLow, q.InputHigh
	return q
}

// realLayer is the first Conv of a shared model with a weight quantizer,
// and the moments of its real input (calibration images).
func realLayer(t testing.TB, model, data string, mean, std float64, q func(*graph.Index, *potv1.Node) *potv1.Quantizer) (*layer, *plan.Params, []float32, []*moments) {
	t.Helper()
	_, x, n := firstConv(t, model)
	wq := q(x, n)
	l, reason := newLayer(x, n, wq)
	if reason != "" {
		t.Fatalf("layer %s: %s", n.GetName(), reason)
	}
	pr, err := plan.ParamsOf(wq)
	if err != nil {
		t.Fatal(err)
	}
	w, err := graph.Float32s(x.Initializer(l.weight))
	if err != nil {
		t.Fatal(err)
	}
	in, dims := images(t, testenv.Example("data", data), 64, mean, std)
	mom, err := l.collect(in, in, dims, 8192, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	return l, pr, w, mom
}

// On the first layer of the shared models, with its real input, the
// learned rounding reconstructs the output better than rounding to
// nearest, every h(V) ends at 0 or 1, and every weight lies on its
// quantizer's grid, one step from floor(W/s) at most.
func TestOptimizeRealLayer(t *testing.T) {
	tests := []struct {
		name, model, data string
		mean, std         float64
		levels            int64
		perChannel, sym   bool
		wantGain          float64 // learned error at most this share of nearest's
	}{
		{"mobilenet 4-bit per channel", "mobilenet_fmnist.onnx", "fmnist/calib-1000-images-idx3-ubyte.gz", 0.286, 0.353, 15, true, true, 0.8},
		{"mobilenet 8-bit per channel", "mobilenet_fmnist.onnx", "fmnist/calib-1000-images-idx3-ubyte.gz", 0.286, 0.353, 255, true, true, 1},
		{"lenet 2-bit per tensor asymmetric", "lenet_mnist.onnx", "mnist/calib-1000-images-idx3-ubyte.gz", 0.1307, 0.3081, 4, false, false, 1},
		{"lenet 4-bit per tensor", "lenet_mnist.onnx", "mnist/calib-1000-images-idx3-ubyte.gz", 0.1307, 0.3081, 15, false, true, 0.8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, pr, w, mom := realLayer(t, tc.model, tc.data, tc.mean, tc.std, func(x *graph.Index, n *potv1.Node) *potv1.Quantizer {
				return weightQuantizer(t, x, n, tc.levels, tc.perChannel, tc.sym)
			})
			o := defaults().options()
			per := l.rows / l.groups
			for gi, m := range mom {
				lo, hi := gi*per, (gi+1)*per
				wm := make([]float64, 0, per*l.cols)
				for r := lo; r < hi; r++ {
					for j := 0; j < l.cols; j++ {
						wm = append(wm, float64(w[l.index(r, j)]))
					}
				}
				p := &Problem{W: mat.NewDense(per, l.cols, wm), Grid: l.grid(pr, lo, hi), H: m.H, C: m.C, R: m.R}
				res, err := Optimize(context.Background(), p, o)
				if err != nil {
					t.Fatal(err)
				}
				if res.Undecided != 0 {
					t.Errorf("group %d: %d h(V) not binary at the end", gi, res.Undecided)
				}
				// Stopping once the rounding is settled gives what every
				// iteration gives.
				full := o
				full.full = true
				all, err := Optimize(context.Background(), p, full)
				if err != nil {
					t.Fatal(err)
				}
				if all.Iterations != o.Iterations || !slices.Equal(all.Levels, res.Levels) || all.Learned != res.Learned {
					t.Errorf("group %d: %d iterations give error %g, all %d give %g, or other levels", gi, res.Iterations, res.Learned, all.Iterations, all.Learned)
				}
				if all.RowIterations != o.Iterations*per || res.RowIterations > all.RowIterations {
					t.Errorf("row iterations %d, all %d", res.RowIterations, all.RowIterations)
				}
				t.Logf("group %d: settled after %d of %d iterations, %.0f%% of the row iterations", gi, res.Iterations, o.Iterations, 100*float64(res.RowIterations)/float64(all.RowIterations))
				if !(res.Learned <= res.Nearest*tc.wantGain) || !(res.Nearest > 0) {
					t.Errorf("group %d: error %g learned, %g nearest: want at most %g of it", gi, res.Learned, res.Nearest, tc.wantGain)
				}
				t.Logf("group %d: relative error nearest %.3g, learned %.3g", gi, res.Nearest/res.Reference, res.Learned/res.Reference)
				for i, v := range res.Values {
					r := i / l.cols
					s, z := p.Grid.Scale[r], p.Grid.Zero[r]
					q := res.Levels[i]
					if q < 0 || q > tc.levels-1 || v != (float64(q)-z)*s {
						t.Fatalf("weight %d: value %g level %d: not (q-%g)*%g in [0, %d]", i, v, q, z, s, tc.levels-1)
					}
					if f := math.Floor(wm[i]/s) + z; float64(q) != min(max(f, 0), float64(tc.levels-1)) && float64(q) != min(f+1, float64(tc.levels-1)) {
						t.Fatalf("weight %d = %g: level %d, floor %g", i, wm[i], q, f)
					}
				}
			}
		})
	}
}

// h(V) starts at the fractional part it is initialised with.
func TestRectifiedInverse(t *testing.T) {
	for _, f := range []float64{0.02, 0.25, 0.5, 0.75, 0.98} {
		if h, _ := rectified(inverse(f)); math.Abs(h-f) > 1e-12 {
			t.Errorf("h(inverse(%g)) = %g", f, h)
		}
	}
}
