package plan

import (
	"fmt"
	"math"

	"github.com/potgo/pot/proto/potv1"
)

// Params are the integer parameters of one quantizer, per channel (or one
// entry for per-tensor):
//
//	q = clamp(round(x / Scale) + Zero, 0, Levels-1)   (q is the level index)
//	y = (q - Zero) * OutScale
//
// The stored integer is q + LevelLow, and the ONNX zero point is
// Zero + LevelLow.
type Params struct {
	Levels   int64
	LevelLow int64
	Axis     int
	Scale    []float32
	Zero     []float32
	OutScale []float32
}

// Channels is the number of per-channel entries (1 for per-tensor).
func (p *Params) Channels() int { return len(p.Scale) }

// ParamsOf computes the integer parameters of a quantizer from its
// FakeQuantize ranges. Ranges must be non-empty (high > low) and contain
// zero on the level grid; pot's algorithms make them so.
func ParamsOf(q *potv1.Quantizer) (*Params, error) {
	n := len(q.GetInputLow())
	if n == 0 || len(q.GetInputHigh()) != n || len(q.GetOutputLow()) != n || len(q.GetOutputHigh()) != n {
		return nil, fmt.Errorf("quantizer %q: ranges have lengths %d/%d/%d/%d, want equal and non-zero", q.GetId(),
			len(q.GetInputLow()), len(q.GetInputHigh()), len(q.GetOutputLow()), len(q.GetOutputHigh()))
	}
	if q.GetLevels() < 2 {
		return nil, fmt.Errorf("quantizer %q: %d levels", q.GetId(), q.GetLevels())
	}
	p := &Params{Levels: q.GetLevels(), LevelLow: q.GetLevelLow(), Axis: int(q.GetAxis())}
	steps := float64(q.GetLevels() - 1)
	for c := 0; c < n; c++ {
		il, ih := float64(q.GetInputLow()[c]), float64(q.GetInputHigh()[c])
		ol, oh := float64(q.GetOutputLow()[c]), float64(q.GetOutputHigh()[c])
		if !(ih > il) || !(oh > ol) || math.IsInf(ih-il, 0) || math.IsInf(oh-ol, 0) {
			return nil, fmt.Errorf("quantizer %q: channel %d: empty or infinite range [%g, %g] -> [%g, %g]", q.GetId(), c, il, ih, ol, oh)
		}
		s := (ih - il) / steps
		z := math.Round(-il / s)
		z = math.Max(0, math.Min(steps, z))
		p.Scale = append(p.Scale, float32(s))
		p.Zero = append(p.Zero, float32(z))
		p.OutScale = append(p.OutScale, float32((oh-ol)/steps))
	}
	return p, nil
}
