package ops

import (
	"fmt"
	"math"
	"slices"

	"github.com/potgo/pot/targets/interp/tensor"
)

func init() {
	register(DomainONNX, "NegativeLogLikelihoodLoss", 12, lossFactory(false))
	register(DomainONNX, "SoftmaxCrossEntropyLoss", 12, lossFactory(true))
}

// lossSpec holds the attributes shared by the two losses.
type lossSpec struct {
	op        string
	softmax   bool // SoftmaxCrossEntropyLoss: log-softmax the scores first
	reduction string
	ignore    int64
	hasIgnore bool
}

func lossFactory(softmax bool) Factory {
	return func(n *Node) (Kernel, error) {
		s := &lossSpec{op: n.OpType(), softmax: softmax, reduction: n.String("reduction", "mean")}
		switch s.reduction {
		case "none", "sum", "mean":
		default:
			return nil, Unsupported(n, "reduction %q is", s.reduction)
		}
		if n.Has("ignore_index") {
			s.ignore, s.hasIgnore = n.Int("ignore_index", 0), true
		}
		return KernelFunc(s.run), nil
	}
}

// run computes the loss. Inputs: scores or log-probabilities [N, C, d...],
// targets [N, d...], optional weights [C]. Outputs: the loss (per element
// for reduction "none", else a scalar) and, for SoftmaxCrossEntropyLoss,
// optionally the log-probabilities.
func (s *lossSpec) run(ctx *Context, in, out []*tensor.Tensor) error {
	if err := needInputs(in, 2); err != nil {
		return err
	}
	x, target := in[0], in[1]
	if !x.DType.IsFloat() {
		return errType(s.op, x.DType)
	}
	if len(x.Shape) < 2 {
		return fmt.Errorf("%s: input shape %v has rank below 2", s.op, x.Shape)
	}
	n, c := x.Shape[0], x.Shape[1]
	d := tensor.NumElements(x.Shape[2:])
	wantTarget := append([]int{n}, x.Shape[2:]...)
	if !slices.Equal(target.Shape, wantTarget) {
		return fmt.Errorf("%s: target shape %v, want %v", s.op, target.Shape, wantTarget)
	}
	if target.DType != tensor.Int32 && target.DType != tensor.Int64 {
		return fmt.Errorf("%s: target type %v, want int32 or int64", s.op, target.DType)
	}
	logp, err := x.Float64s()
	if err != nil {
		return fmt.Errorf("%s: %w", s.op, err)
	}
	labels, err := target.Int64s()
	if err != nil {
		return fmt.Errorf("%s: %w", s.op, err)
	}
	var weight []float64
	if len(in) > 2 && in[2] != nil {
		if in[2].Len() != c {
			return fmt.Errorf("%s: %d weights for %d classes", s.op, in[2].Len(), c)
		}
		if weight, err = in[2].Float64s(); err != nil {
			return fmt.Errorf("%s: weights: %w", s.op, err)
		}
	}
	if s.softmax {
		softmaxSlice(ctx, logp, logp, n, c, d, modeLogSoftmax)
		if len(out) > 1 && out[1] != nil {
			if err := Convert(tensor.From(x.Shape, logp), x.DType, out[1]); err != nil {
				return fmt.Errorf("%s: log_prob: %w", s.op, err)
			}
		}
	}
	loss := make([]float64, n*d)
	wsum := 0.0
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			t := labels[i*d+j]
			if s.hasIgnore && t == s.ignore {
				continue
			}
			if t < 0 || t >= int64(c) {
				return fmt.Errorf("%s: target %d is outside [0, %d)", s.op, t, c)
			}
			w := 1.0
			if weight != nil {
				w = weight[t]
			}
			loss[i*d+j] = -logp[(i*c+int(t))*d+j] * w
			wsum += w
		}
	}
	var res *tensor.Tensor
	switch s.reduction {
	case "none":
		res = tensor.From(target.Shape, loss)
	default:
		sum := 0.0
		for _, v := range loss {
			sum += v
		}
		if s.reduction == "mean" {
			if wsum == 0 {
				sum = math.NaN()
			} else {
				sum /= wsum
			}
		}
		res = tensor.Scalar(sum)
	}
	return Convert(res, x.DType, out[0])
}
