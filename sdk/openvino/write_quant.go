package openvino

import (
	"fmt"
	"math"
	"strconv"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/plan"
)

// fakeQuantize writes a quantizer that plan.Apply inserted (a pot
// FakeQuantize node named fq/ID): a FakeQuantize-1 layer with the plan's
// ranges, or, for a weight, the weight compressed to integers behind a
// Convert, a Subtract of the zero point (when not zero) and a Multiply by
// the scale, as POT's compress_model_weights writes it.
func (w *writer) fakeQuantize(n *potv1.Node) error {
	q := w.quantizers[n.GetName()]
	if q == nil {
		return fmt.Errorf("no quantizer of the plan for FakeQuantize node %q", n.GetName())
	}
	pr, err := plan.ParamsOf(q)
	if err != nil {
		return err
	}
	if q.GetLevelHigh()-q.GetLevelLow() >= 1<<24 {
		// Finer than float32: it changes no value (the QDQ export leaves
		// it out too).
		x, err := w.in(n, 0)
		if err != nil {
			return err
		}
		w.stats.Omitted++
		w.vals[n.GetOutputs()[0]] = x
		p := &x.layer.Output[x.port-len(x.layer.Input)]
		if p.Names == "" {
			p.Names = escapeName(n.GetOutputs()[0])
		} else {
			p.Names += "," + escapeName(n.GetOutputs()[0])
		}
		return nil
	}
	src := w.peek(n, 0)
	if src == nil {
		return fmt.Errorf("FakeQuantize without input")
	}
	perChannel := pr.Channels() > 1 || q.GetGranularity() == potv1.Granularity_GRANULARITY_PER_CHANNEL
	axis := int(q.GetAxis())
	rank := len(src.dims)
	if perChannel && (axis < 0 || axis >= rank || (src.dims[axis] >= 0 && src.dims[axis] != int64(pr.Channels()))) {
		return fmt.Errorf("quantizer %q: %d channels on axis %d of dims %v", q.GetId(), pr.Channels(), axis, src.dims)
	}
	// The ranges broadcast against the data: [1,C,1,1] on axis 1,
	// [C,1,1,1] on axis 0, all ones per tensor, as POT writes them.
	rdims := ones(rank)
	if perChannel {
		rdims[axis] = int64(pr.Channels())
	}
	if q.GetWeights() && src.konst != nil && !w.opts.KeepWeightsFloat {
		if st, ok := storageType(q); ok {
			return w.compress(n, q, pr, src, rdims, perChannel, st)
		}
	}
	x, err := w.in(n, 0)
	if err != nil {
		return err
	}
	ins := []*val{x}
	base := n.GetName()
	for i, r := range [][]float32{q.GetInputLow(), q.GetInputHigh(), q.GetOutputLow(), q.GetOutputHigh()} {
		c, err := w.f32Const(base+"/"+[]string{"input_low", "input_high", "output_low", "output_high"}[i], rdims, r)
		if err != nil {
			return err
		}
		ins = append(ins, c)
	}
	w.stats.FakeQuantize++
	return w.final(n, "FakeQuantize", "opset1", [][2]string{{"levels", strconv.FormatInt(q.GetLevels(), 10)}, numpy}, ins,
		&val{dims: x.dims, dt: x.dt})
}

// storageType is the integer type a weight quantizer's levels are stored
// in: i8 or u8, as the QDQ export stores them; false for wider levels,
// which stay a FakeQuantize on float weights.
func storageType(q *potv1.Quantizer) (potv1.DataType, bool) {
	lo, hi := q.GetLevelLow(), q.GetLevelHigh()
	switch {
	case lo >= 0 && hi <= 255:
		return potv1.DataType_DATA_TYPE_UINT8, true
	case lo >= -128 && hi <= 127:
		return potv1.DataType_DATA_TYPE_INT8, true
	}
	return 0, false
}

// compress writes a weight as integer levels: Const(i8/u8) → Convert(f32,
// rt_info decompression) → Subtract(zero point, when not zero) →
// Multiply(scale). The levels are those the QDQ export writes:
// round(w/scale) + zero, clamped to [0, levels-1], plus level_low, rounded
// as the target rounds (WriteOptions.Rounding).
func (w *writer) compress(n *potv1.Node, q *potv1.Quantizer, pr *plan.Params, src *val, rdims []int64, perChannel bool, st potv1.DataType) error {
	t := src.konst
	vals, err := graph.Float32s(t)
	if err != nil {
		return fmt.Errorf("weights %q: %w", t.GetName(), err)
	}
	dims := append([]int64{}, t.GetDims()...)
	channels, inner, outer := 1, len(vals), 1
	if perChannel {
		axis := int(q.GetAxis())
		channels = pr.Channels()
		inner = 1
		for i := axis + 1; i < len(dims); i++ {
			inner *= int(dims[i])
		}
		outer = len(vals) / (channels * inner)
	}
	data := make([]byte, len(vals))
	for o := 0; o < outer; o++ {
		for c := 0; c < channels; c++ {
			s, z := pr.Scale[c], pr.Zero[c]
			for k := 0; k < inner; k++ {
				i := (o*channels+c)*inner + k
				lvl := w.level(float64(vals[i]/s)) + float64(z)
				lvl = math.Max(0, math.Min(float64(pr.Levels-1), lvl))
				data[i] = byte(int64(lvl) + pr.LevelLow)
			}
		}
	}
	name := t.GetName()
	iv, err := w.newConst(name+"/quantized", st, dims, data)
	if err != nil {
		return err
	}
	cv, err := w.mid(n, "Convert", "Convert", "opset1", [][2]string{{"destination_type", "f32"}}, []*val{iv},
		&val{dims: dims, dt: potv1.DataType_DATA_TYPE_FLOAT})
	if err != nil {
		return err
	}
	w.net.Layers[len(w.net.Layers)-1].RTInfo = &RawElement{Inner: `<attribute name="decompression" version="0"/>`}
	zp := make([]float32, pr.Channels())
	nonzero := false
	for i, z := range pr.Zero {
		zp[i] = float32(int64(math.Round(float64(z))) + pr.LevelLow)
		nonzero = nonzero || zp[i] != 0
	}
	if !perChannel {
		zp = zp[:1]
	}
	x := cv
	if nonzero {
		zc, err := w.f32Const(name+"/zero_point", rdims, zp)
		if err != nil {
			return err
		}
		if x, err = w.mid(n, "Subtract", "Subtract", "opset1", [][2]string{numpy}, []*val{x, zc}, &val{dims: dims, dt: x.dt}); err != nil {
			return err
		}
	}
	scale := pr.OutScale
	if !perChannel {
		scale = scale[:1]
	}
	sc, err := w.f32Const(name+"/scale", rdims, scale)
	if err != nil {
		return err
	}
	w.stats.CompressedWeights++
	return w.final(n, "Multiply", "opset1", [][2]string{numpy}, []*val{x, sc}, &val{dims: dims, dt: x.dt})
}

// level rounds a weight divided by its scale as the target rounds.
func (w *writer) level(x float64) float64 { return w.round(x) }
