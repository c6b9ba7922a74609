package target

import (
	"slices"
	"time"

	"github.com/potgo/pot/proto/potv1"
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

// coalescer merges the responses of consecutive batches, batch-major
// outputs of the same names, types and row shapes, and sends them no
// more often than every interval: a batch's response goes out at once
// when the last send is that old, else it waits to be merged with the
// next ones. flush sends what waits.
type coalescer struct {
	send     func(*potv1.EvaluateResponse) error
	interval time.Duration
	maxBytes int
	now      func() time.Time
	last     time.Time // of the last send; zero before the first
	pending  *potv1.EvaluateResponse
	merge    bool // whether pending may take more batches
}

func newCoalescer(send func(*potv1.EvaluateResponse) error, interval time.Duration, maxBytes int) *coalescer {
	return &coalescer{send: send, interval: interval, maxBytes: maxBytes, now: time.Now}
}

// add takes the response of the batch after the pending ones; it is
// sent on its own, never merged, unless merge is set (and the outputs
// are batch-major: not those of samples fed whole).
func (c *coalescer) add(r *potv1.EvaluateResponse, merge bool) error {
	switch {
	case c.pending == nil:
		c.pending = r
	case merge && c.merge && mergeable(c.pending, r, c.maxBytes):
		appendResponse(c.pending, r)
	default:
		if err := c.flush(); err != nil {
			return err
		}
		c.pending = r
	}
	c.merge = merge
	if t := c.now(); c.last.IsZero() || t.Sub(c.last) >= c.interval {
		return c.flush()
	}
	return nil
}

// flush sends the pending response, if any.
func (c *coalescer) flush() error {
	r := c.pending
	if r == nil {
		return nil
	}
	c.pending = nil
	c.last = c.now()
	return c.send(r)
}

// mergeable reports whether b continues a (its first sample follows a's
// last) with outputs that concatenate along their first dimension, and
// both together stay within maxBytes of output data. An output whose
// first dimension is not the response's samples (a sample fed whole,
// its output of any shape) does not merge, nor does one of strings or
// of 4-bit values (two to a byte, so rows need not start on one).
func mergeable(a, b *potv1.EvaluateResponse, maxBytes int) bool {
	if b.GetOffset() != a.GetOffset()+a.GetSamples() || len(a.GetOutputs()) != len(b.GetOutputs()) {
		return false
	}
	size := 0
	for i, x := range a.GetOutputs() {
		y := b.GetOutputs()[i]
		dx, dy := x.GetDims(), y.GetDims()
		if x.GetName() != y.GetName() || x.GetDtype() != y.GetDtype() ||
			len(dx) == 0 || len(dx) != len(dy) || dx[0] != a.GetSamples() || dy[0] != b.GetSamples() ||
			!slices.Equal(dx[1:], dy[1:]) ||
			len(x.GetStringData()) > 0 || len(y.GetStringData()) > 0 || x.GetDataSize() != 0 || y.GetDataSize() != 0 ||
			x.GetDtype() == potv1.DataType_DATA_TYPE_INT4 || x.GetDtype() == potv1.DataType_DATA_TYPE_UINT4 {
			return false
		}
		size += len(x.GetData()) + len(y.GetData())
	}
	return size <= maxBytes
}

// appendResponse appends b's rows to a (mergeable(a, b)).
func appendResponse(a, b *potv1.EvaluateResponse) {
	a.Samples += b.GetSamples()
	for i, x := range a.GetOutputs() {
		y := b.GetOutputs()[i]
		x.Data = append(x.Data, y.GetData()...)
		x.Dims[0] += y.GetDims()[0]
	}
}
