package gna

import (
	"fmt"

	"github.com/potgo/pot/targets/interp/ops"
	"github.com/potgo/pot/targets/interp/tensor"
)

// layer is what GnaAffine and GnaConv read alike: the int16 input grid,
// the constant weights with their grid, and the bias.
type layer struct {
	xScale   float64
	xLo, xHi int64
	wSteps   []float64 // one, or one per output channel
	wLo, wHi int64
	w        *tensor.Tensor
	wv       []float32
}

func readLayer(n *ops.Node) (*layer, error) {
	l := &layer{}
	xs, xLo, xHi, err := gridAttrs(n, "x")
	if err != nil {
		return nil, err
	}
	if l.xScale, err = scale1(n, xs, "input"); err != nil {
		return nil, err
	}
	l.xLo, l.xHi = xLo, xHi
	if l.wSteps, l.wLo, l.wHi, err = gridAttrs(n, "w"); err != nil {
		return nil, err
	}
	if l.w = n.Const(1); l.w == nil {
		return nil, ops.Unsupported(n, "non-constant weights are")
	}
	if l.wv, err = floats32(l.w, "W"); err != nil {
		return nil, err
	}
	return l, nil
}

// checkChannels checks the weight steps against the output channels.
func (l *layer) checkChannels(channels int) error {
	if len(l.wSteps) != 1 && len(l.wSteps) != channels {
		return fmt.Errorf("%d weight steps for %d output channels", len(l.wSteps), channels)
	}
	return nil
}

// step is output channel c's weight step.
func (l *layer) step(c int) float64 {
	if len(l.wSteps) == 1 {
		return l.wSteps[0]
	}
	return l.wSteps[c]
}

// weight is a weight's integer on channel c's grid.
func (l *layer) weight(i, c int) int16 { return int16(toInt(l.wv[i], l.step(c), l.wLo, l.wHi)) }

// bias reads the optional constant bias (input 2), one value or one per
// output channel, times beta, as int32 on the accumulator grids.
func (l *layer) bias(n *ops.Node, accScale []float64, beta float64) ([]int64, error) {
	out := make([]int64, len(accScale))
	if !n.HasInput(2) {
		return out, nil
	}
	b := n.Const(2)
	if b == nil {
		return nil, ops.Unsupported(n, "a non-constant bias is")
	}
	bv, err := floats32(b, "B")
	if err != nil {
		return nil, err
	}
	if len(bv) != 1 && len(bv) != len(out) {
		return nil, ops.Unsupported(n, "a bias of shape %v for %d output channels is", b.Shape, len(out))
	}
	for c := range out {
		v := bv[0]
		if len(bv) > 1 {
			v = bv[c]
		}
		out[c] = toInt(float32(beta*float64(v)), accScale[c], Int32Lo, Int32Hi)
	}
	return out, nil
}
