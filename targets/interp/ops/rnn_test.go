package ops

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/potgo/pot/internal/testenv"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/targets/interp/tensor"
)

func rnnRand(r *rand.Rand, scale float32, shape ...int) *tensor.Tensor {
	t := tensor.New(tensor.Float, shape...)
	for i := range t.F32() {
		t.F32()[i] = scale * float32(r.NormFloat64())
	}
	return t
}

// rnnNode builds a recurrent layer; constW makes W and R compile-time
// constants (packed), otherwise they are run-time inputs.
func rnnNode(t testing.TB, op string, opset int64, attrs []*potv1.Attribute, in []*tensor.Tensor, constW bool) Kernel {
	t.Helper()
	p := &potv1.Node{Name: "rnn", OpType: op, Attributes: attrs, Outputs: []string{"Y", "Y_h", "Y_c"}}
	consts := make([]*tensor.Tensor, len(in))
	for i, v := range in {
		name := ""
		if v != nil {
			name = fmt.Sprintf("in%d", i)
		}
		p.Inputs = append(p.Inputs, name)
		if constW && (i == 1 || i == 2) {
			consts[i] = v
		}
	}
	f, ok := Lookup(DomainONNX, op, opset)
	if !ok {
		t.Fatalf("%s-%d not registered", op, opset)
	}
	k, err := f(NewNode(p, opset, consts))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var strAttr = graph.StringAttr

var intAttr = graph.IntAttr

// TestRNNPackedMatchesFed checks that constant (packed at compile time)
// and run-time weights give the same outputs, for every layer kind and
// direction, with ragged sequence lengths.
func TestRNNPackedMatchesFed(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const seq, batch, in, hid = 5, 3, 4, 6
	for _, tc := range []struct {
		op    string
		gates int
		attrs []*potv1.Attribute
	}{
		{"RNN", 1, nil},
		{"GRU", 3, nil},
		{"GRU", 3, []*potv1.Attribute{intAttr("linear_before_reset", 1)}},
		{"LSTM", 4, nil},
	} {
		for _, dir := range []string{"forward", "reverse", "bidirectional"} {
			t.Run(tc.op+"/"+dir+fmt.Sprint(len(tc.attrs)), func(t *testing.T) {
				dirs := 1
				if dir == "bidirectional" {
					dirs = 2
				}
				attrs := append([]*potv1.Attribute{strAttr("direction", dir), intAttr("hidden_size", hid)}, tc.attrs...)
				ins := []*tensor.Tensor{
					rnnRand(r, 1, seq, batch, in), rnnRand(r, 0.5, dirs, tc.gates*hid, in),
					rnnRand(r, 0.5, dirs, tc.gates*hid, hid), rnnRand(r, 0.3, dirs, 2*tc.gates*hid),
					tensor.From([]int{batch}, []int32{5, 2, 4}), rnnRand(r, 1, dirs, batch, hid),
				}
				if tc.op == "LSTM" {
					ins = append(ins, rnnRand(r, 1, dirs, batch, hid), rnnRand(r, 0.5, dirs, 3*hid))
				}
				ctx := NewContext(1)
				defer ctx.Close()
				var got [2][]*tensor.Tensor
				for i, constW := range []bool{true, false} {
					k := rnnNode(t, tc.op, 14, attrs, ins, constW)
					got[i] = []*tensor.Tensor{{}, {}, {}}
					if err := k.Run(ctx, ins, got[i]); err != nil {
						t.Fatal(err)
					}
				}
				for o := range 3 {
					a, b := got[0][o], got[1][o]
					if tc.op != "LSTM" && o == 2 {
						continue
					}
					if !slices.Equal(a.Shape, b.Shape) {
						t.Fatalf("output %d: shapes %v and %v", o, a.Shape, b.Shape)
					}
					for i := range a.F32() {
						if d := a.F32()[i] - b.F32()[i]; d > 1e-5 || d < -1e-5 {
							t.Fatalf("output %d element %d: packed %g, fed %g", o, i, a.F32()[i], b.F32()[i])
						}
					}
				}
				// Past a sequence's end Y is zero.
				y := got[0][0].F32()
				for s := 2; s < seq; s++ {
					for d := range dirs {
						off := ((s*dirs+d)*batch + 1) * hid
						for _, v := range y[off : off+hid] {
							if v != 0 {
								t.Fatalf("Y at step %d of a sequence of 2: %g, want 0", s, v)
							}
						}
					}
				}
			})
		}
	}
}

func TestRNNErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	x, w, rr := rnnRand(r, 1, 2, 1, 3), rnnRand(r, 1, 1, 16, 3), rnnRand(r, 1, 1, 16, 4)
	for _, tc := range []struct {
		name        string
		attrs       []*potv1.Attribute
		in          []*tensor.Tensor
		unsupported bool
		want        string
	}{
		{"direction", []*potv1.Attribute{strAttr("direction", "sideways")}, nil, false, "direction"},
		{"activation count", []*potv1.Attribute{{Name: "activations", Type: potv1.Attribute_TYPE_STRINGS, Strings: [][]byte{[]byte("Tanh")}}}, nil, false, "activations"},
		{"unknown activation", []*potv1.Attribute{{Name: "activations", Type: potv1.Attribute_TYPE_STRINGS, Strings: [][]byte{[]byte("Sigmoid"), []byte("Gelu"), []byte("Tanh")}}}, nil, true, "Gelu"},
		{"clip", []*potv1.Attribute{{Name: "clip", Type: potv1.Attribute_TYPE_FLOAT, F: -1}}, nil, false, "clip"},
		{"hidden size", []*potv1.Attribute{intAttr("hidden_size", 5)}, []*tensor.Tensor{x, w, rr}, false, "hidden_size"},
		{"W shape", nil, []*tensor.Tensor{x, rnnRand(r, 1, 1, 12, 3), rr}, false, "W of shape"},
		{"sequence_lens", nil, []*tensor.Tensor{x, w, rr, nil, tensor.From([]int{1}, []int32{3})}, false, "sequence_lens"},
		{"initial_h", nil, []*tensor.Tensor{x, w, rr, nil, nil, rnnRand(r, 1, 1, 2, 4)}, false, "initial_h"},
		{"float64", nil, []*tensor.Tensor{tensor.New(tensor.Double, 2, 1, 3), w, rr}, false, "float32"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &potv1.Node{Name: "lstm", OpType: "LSTM", Inputs: []string{"x", "w", "r"}, Outputs: []string{"y"}, Attributes: tc.attrs}
			f, _ := Lookup(DomainONNX, "LSTM", 14)
			k, err := f(NewNode(p, 14, nil))
			if err == nil && tc.in != nil {
				ctx := NewContext(1)
				defer ctx.Close()
				err = k.Run(ctx, tc.in, []*tensor.Tensor{{}})
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
			if IsUnsupported(err) != tc.unsupported {
				t.Fatalf("IsUnsupported(%v) = %v", err, !tc.unsupported)
			}
		})
	}
}

// TestLSTMNoAllocs checks that repeated runs at one shape do not
// allocate.
func TestLSTMNoAllocs(t *testing.T) {
	if testenv.Race {
		t.Skip("the race detector makes sync.Pool drop items at random")
	}
	r := rand.New(rand.NewPCG(5, 6))
	ins := []*tensor.Tensor{rnnRand(r, 1, 8, 1, 64), rnnRand(r, 0.1, 1, 256, 64), rnnRand(r, 0.1, 1, 256, 64), rnnRand(r, 0.1, 1, 512)}
	k := rnnNode(t, "LSTM", 14, []*potv1.Attribute{intAttr("hidden_size", 64)}, ins, true)
	ctx := NewContext(1)
	defer ctx.Close()
	out := []*tensor.Tensor{{}, {}, {}}
	if n := testing.AllocsPerRun(20, func() {
		if err := k.Run(ctx, ins, out); err != nil {
			t.Fatal(err)
		}
	}); n > 0 {
		t.Fatalf("%v allocations per run", n)
	}
}

// BenchmarkLSTM runs silero_vad's LSTM layer (64 inputs, 64 hidden
// units, batch 1) over 64 time steps; ns/step is the time per step.
func BenchmarkLSTM(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	const steps = 64
	for _, batch := range []int{1, 16} {
		b.Run(fmt.Sprintf("batch%d", batch), func(b *testing.B) {
			ins := []*tensor.Tensor{rnnRand(r, 1, steps, batch, 64), rnnRand(r, 0.1, 1, 256, 64), rnnRand(r, 0.1, 1, 256, 64), rnnRand(r, 0.1, 1, 512)}
			k := rnnNode(b, "LSTM", 14, []*potv1.Attribute{intAttr("hidden_size", 64)}, ins, true)
			ctx := NewContext(1)
			defer ctx.Close()
			out := []*tensor.Tensor{{}, {}, {}}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := k.Run(ctx, ins, out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*steps), "ns/step")
		})
	}
}
