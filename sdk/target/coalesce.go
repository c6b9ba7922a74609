package target

import (
	"fmt"
	"time"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/targets/interp/tensor"
)

// Evaluate streams its results in responses at least responseInterval
// apart, each holding the consecutive batches computed since the last
// one (up to responseBytes of outputs), instead of one response per
// batch. A response costs more than its bytes: the gRPC writer
// goroutine wakes, the host answers with flow-control frames, and the
// threads of the batch's computation lose their CPUs around it. On a
// 2-core KVM guest, pot bench of resnet_fmnist on two threads (a 15 ms
// batch of 64, one response each) kept 1.78-1.82 CPUs busy where the
// same runs in process keep 1.96; with responses 100 ms apart, 1.90-1.91,
// and 20 rounds took 6.18 s instead of 6.76 s (means of six runs,
// alternated).
const (
	responseInterval = 100 * time.Millisecond
	responseBytes    = 1 << 20
)

// coalescer gathers the outputs of consecutive batches, batch-major
// ones of the same types and row shapes, and sends them no more often
// than every interval: a batch's outputs go out at once when the last
// send is that old, else they wait to be joined by the next batches'.
// flush sends what waits. The outputs are joined as runtime tensors
// (tensor.AppendRows) and encoded once, when sent.
type coalescer struct {
	send     func(*potv1.EvaluateResponse) error
	names    []string // of the outputs, in order
	interval time.Duration
	maxBytes int
	now      func() time.Time
	last     time.Time // of the last send; zero before the first

	// pending holds copies of the outputs of the batches that wait (the
	// session reuses its buffers), of samples samples from offset and
	// bytes bytes, when waiting; its tensors are reused after a send.
	pending         []*tensor.Tensor
	offset, samples int
	bytes           int
	waiting         bool
	merge           bool // whether the pending batches may take more
}

func newCoalescer(send func(*potv1.EvaluateResponse) error, names []string, interval time.Duration, maxBytes int) *coalescer {
	c := &coalescer{send: send, names: names, interval: interval, maxBytes: maxBytes, now: time.Now}
	c.pending = make([]*tensor.Tensor, len(names))
	for i := range c.pending {
		c.pending[i] = &tensor.Tensor{}
	}
	return c
}

// add takes the outputs (one per name) of the batch of samples from
// offset, the batch after the pending ones. They join the pending
// batches only when merge is set for both (their outputs are
// batch-major: not those of samples fed whole) and they continue them
// (continues); else the pending batches are sent first.
func (c *coalescer) add(offset, samples int, outs []*tensor.Tensor, merge bool) error {
	if len(outs) != len(c.pending) {
		return fmt.Errorf("evaluate: %d outputs for %d names", len(outs), len(c.pending))
	}
	size := dataBytes(outs)
	if c.waiting && !(merge && c.merge && c.continues(offset, samples, outs) && c.bytes+size <= c.maxBytes) {
		if err := c.flush(); err != nil {
			return err
		}
	}
	if c.waiting {
		for i, o := range outs {
			if err := c.pending[i].AppendRows(o); err != nil {
				return err // continues checked the rows
			}
		}
	} else {
		for i, o := range outs {
			c.pending[i].CopyFrom(o)
		}
		c.offset, c.samples, c.bytes, c.waiting = offset, 0, 0, true
	}
	c.samples += samples
	c.bytes += size
	c.merge = merge
	if t := c.now(); c.last.IsZero() || t.Sub(c.last) >= c.interval {
		return c.flush()
	}
	return nil
}

// continues reports whether outs, the outputs of samples samples from
// offset, continue the pending batches: the first follows their last
// sample, and every output has as many rows as its batch has samples
// and rows of the type and shape of the pending ones (an output of a
// sample fed whole, of any shape, does not qualify).
func (c *coalescer) continues(offset, samples int, outs []*tensor.Tensor) bool {
	if offset != c.offset+c.samples {
		return false
	}
	for i, o := range outs {
		p := c.pending[i]
		if !tensor.SameRows(p, o) || p.Shape[0] != c.samples || o.Shape[0] != samples {
			return false
		}
	}
	return true
}

// flush sends the pending batches' outputs, if any wait.
func (c *coalescer) flush() error {
	if !c.waiting {
		return nil
	}
	c.waiting = false
	c.last = c.now()
	r := &potv1.EvaluateResponse{Offset: int64(c.offset), Samples: int64(c.samples)}
	for i, t := range c.pending {
		r.Outputs = append(r.Outputs, tensor.ToProto(c.names[i], t))
	}
	return c.send(r)
}

// dataBytes is the size of the data of ts in memory (strings by their
// length).
func dataBytes(ts []*tensor.Tensor) int {
	n := 0
	for _, t := range ts {
		if s, ok := t.Data.([]string); ok {
			for _, v := range s {
				n += len(v)
			}
			continue
		}
		n += t.Len() * t.DType.Size()
	}
	return n
}
