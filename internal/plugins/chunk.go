package plugins

import (
	"bytes"
	"fmt"
	"io"
	"math"

	"github.com/potgo/pot/internal/filemap"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/onnx"
)

// inlineBudget is how many bytes of tensor data may travel inside the
// Graph message itself; tensors beyond it travel as chunks.
const inlineBudget = 1 << 20

// SendGraph streams g as ModelChunks: first the graph, with the data of
// large initializers left out, then those initializers' data in pieces of
// at most chunkSize bytes. g is not modified.
func SendGraph(g *potv1.Graph, chunkSize int, send func(*potv1.ModelChunk) error) error {
	if chunkSize <= 0 {
		chunkSize = ChunkSize
	}
	head := graph.WithoutInitializers(g)
	var later []*potv1.Tensor
	budget := inlineBudget
	for _, t := range g.GetInitializers() {
		if n := len(t.GetData()); n > 64<<10 || n > budget {
			later = append(later, t)
			head.Initializers = append(head.Initializers, &potv1.Tensor{
				Name: t.GetName(), Dtype: t.GetDtype(), Dims: t.GetDims(), DataSize: int64(n),
			})
			continue
		}
		budget -= len(t.GetData())
		head.Initializers = append(head.Initializers, t)
	}
	if err := send(&potv1.ModelChunk{Payload: &potv1.ModelChunk_Graph{Graph: head}}); err != nil {
		return err
	}
	for _, t := range later {
		data := t.GetData()
		for off := 0; off < len(data); off += chunkSize {
			end := min(off+chunkSize, len(data))
			c := &potv1.TensorChunk{Tensor: t.GetName(), Offset: int64(off), Data: data[off:end]}
			if err := send(&potv1.ModelChunk{Payload: &potv1.ModelChunk_Tensor{Tensor: c}}); err != nil {
				return err
			}
		}
		// Data read from a mapped file (ONNX external data) need not
		// stay resident once sent.
		filemap.Release(data)
	}
	return nil
}

// KnownTensors is implemented by a receiver of graphs (a target, the
// host) that already holds tensors a new graph may repeat, such as the
// weights of a loaded model that a sub-model reuses. KnownTensor returns
// the data held under name, or nil.
type KnownTensors interface {
	KnownTensor(name string) []byte
}

// maxPrealloc bounds what a GraphReceiver allocates for a tensor before
// its data arrives: the header's data_size is a claim.
const maxPrealloc = 64 << 20

// growFor makes room for n more bytes of a tensor of size bytes: the
// whole size once a quarter of it has arrived (a claim backed by data:
// one allocation, no copies beyond that quarter), else double.
func growFor(b []byte, n int, size int64) []byte {
	need := len(b) + n
	if need <= cap(b) {
		return b
	}
	c := int64(2 * cap(b))
	if int64(need) >= size/4 {
		c = size
	}
	c = min(max(c, int64(need)), size)
	nb := make([]byte, len(b), c)
	copy(nb, b)
	return nb
}

// GraphReceiver reassembles a graph from ModelChunks.
type GraphReceiver struct {
	// Known, when set, looks up data the receiver already holds (see
	// KnownTensors). A streamed tensor whose bytes all equal the known
	// data of its name shares that data instead of being allocated, so a
	// sub-model repeating a large model's weights costs no memory. The
	// shared data must not be modified.
	Known func(name string) []byte

	g        *potv1.Graph
	pending  map[string]*potv1.Tensor
	received map[string]int64
	// same holds, for a pending tensor whose chunks so far all equal its
	// known data, that data; its Data is allocated only on a difference.
	same map[string][]byte
}

// Add takes the next chunk.
func (r *GraphReceiver) Add(c *potv1.ModelChunk) error {
	switch p := c.GetPayload().(type) {
	case *potv1.ModelChunk_Graph:
		if r.g != nil {
			return fmt.Errorf("graph stream: a second graph header")
		}
		r.g = p.Graph
		r.pending = map[string]*potv1.Tensor{}
		r.received = map[string]int64{}
		r.same = map[string][]byte{}
		for _, t := range r.g.GetInitializers() {
			if t.GetDataSize() > 0 && len(t.GetData()) == 0 {
				r.pending[t.GetName()] = t
				if r.Known != nil {
					if k := r.Known(t.GetName()); int64(len(k)) == t.GetDataSize() {
						r.same[t.GetName()] = k
					}
				}
			}
		}
	case *potv1.ModelChunk_Tensor:
		if r.g == nil {
			return fmt.Errorf("graph stream: tensor data before the graph")
		}
		tc := p.Tensor
		t, ok := r.pending[tc.GetTensor()]
		if !ok {
			return fmt.Errorf("graph stream: data for unknown tensor %q", tc.GetTensor())
		}
		// Chunks come in order (SendGraph sends them so): each starts
		// where the previous ended, so that no byte is sent twice or
		// skipped, and the data grows with what arrives rather than
		// being allocated at the size the header claims.
		size, got := t.GetDataSize(), r.received[tc.GetTensor()]
		end := tc.GetOffset() + int64(len(tc.GetData()))
		if tc.GetOffset() < 0 || tc.GetOffset() > size || int64(len(tc.GetData())) > size-tc.GetOffset() {
			return fmt.Errorf("graph stream: tensor %q chunk [%d, %d) outside its %d bytes", tc.GetTensor(), tc.GetOffset(), end, size)
		}
		if tc.GetOffset() != got {
			return fmt.Errorf("graph stream: tensor %q chunk at offset %d, want %d (chunks come in order)", tc.GetTensor(), tc.GetOffset(), got)
		}
		if k, ok := r.same[tc.GetTensor()]; ok {
			if bytes.Equal(k[got:end], tc.GetData()) {
				r.received[tc.GetTensor()] = end
				filemap.Release(k[got:end]) // compared; need not stay resident
				return nil
			}
			// A difference: from here on, a copy of its own. The chunks
			// received so far equal k, so k is their content; k's size
			// is the tensor's, so the claim is backed.
			delete(r.same, tc.GetTensor())
			t.Data = make([]byte, got, size)
			copy(t.Data, k[:got])
		}
		if t.Data == nil {
			t.Data = make([]byte, 0, min(size, maxPrealloc))
		}
		t.Data = growFor(t.Data, len(tc.GetData()), size)
		t.Data = append(t.Data, tc.GetData()...)
		r.received[tc.GetTensor()] = end
	default:
		return fmt.Errorf("graph stream: empty chunk")
	}
	return nil
}

// RecvGraph reads a graph from a stream of chunks until io.EOF; known,
// when not nil, is GraphReceiver.Known.
func RecvGraph(recv func() (*potv1.ModelChunk, error), known ...func(string) []byte) (*potv1.Graph, error) {
	var r GraphReceiver
	if len(known) > 0 {
		r.Known = known[0]
	}
	var since int
	for {
		c, err := recv()
		if err == io.EOF {
			return r.Graph()
		}
		if err != nil {
			return nil, err
		}
		if err := r.Add(c); err != nil {
			return nil, err
		}
		// Keep the garbage of a large stream (its chunks) in check while
		// the live heap grows (see tuneGC).
		if since += len(c.GetTensor().GetData()); since >= 64<<20 {
			since = 0
			tuneGC()
		}
	}
}

// knownOf returns impl's KnownTensor, or nil.
func knownOf(impl any) func(string) []byte {
	if k, ok := impl.(KnownTensors); ok {
		return k.KnownTensor
	}
	return nil
}

// RecvDataset reads a data set from a stream of chunks until io.EOF.
func RecvDataset(recv func() (*potv1.DataChunk, error)) (*Dataset, error) {
	var r DatasetReceiver
	for {
		c, err := recv()
		if err == io.EOF {
			return r.Dataset()
		}
		if err != nil {
			return nil, err
		}
		if err := r.Add(c); err != nil {
			return nil, err
		}
	}
}

// Graph returns the reassembled graph once every chunk has arrived.
func (r *GraphReceiver) Graph() (*potv1.Graph, error) {
	if r.g == nil {
		return nil, fmt.Errorf("graph stream: no graph received")
	}
	for name, t := range r.pending {
		if got := r.received[name]; got != t.GetDataSize() {
			return nil, fmt.Errorf("graph stream: tensor %q: received %d of %d bytes", name, got, t.GetDataSize())
		}
		if k, ok := r.same[name]; ok {
			t.Data = k
		}
		t.DataSize = 0
	}
	return r.g, nil
}

// maxBatchBytes bounds one data batch message.
const maxBatchBytes = ChunkSize

// SendDataset streams d as DataChunks: a header, then batches of samples
// of at most about ChunkSize bytes.
func SendDataset(d *Dataset, send func(*potv1.DataChunk) error) error {
	n := d.Samples()
	for i, t := range d.Tensors {
		if len(t.GetDims()) == 0 || t.GetDims()[0] != n {
			return fmt.Errorf("data set %q: input %d has dims %v, want %d samples first", d.Name, i, t.GetDims(), n)
		}
	}
	if err := send(&potv1.DataChunk{Payload: &potv1.DataChunk_Header_{Header: &potv1.DataChunk_Header{Name: d.Name, Inputs: d.Inputs, Samples: n}}}); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	var perSample int64
	for _, t := range d.Tensors {
		perSample += int64(len(t.GetData())) / n
	}
	step := max(int64(1), maxBatchBytes/max(perSample, 1))
	for lo := int64(0); lo < n; lo += step {
		hi := min(lo+step, n)
		b := &potv1.DataChunk_Batch{}
		for _, t := range d.Tensors {
			sz := int64(len(t.GetData())) / n
			dims := append([]int64{hi - lo}, t.GetDims()[1:]...)
			b.Inputs = append(b.Inputs, &potv1.Tensor{Name: t.GetName(), Dtype: t.GetDtype(), Dims: dims, Data: t.GetData()[lo*sz : hi*sz]})
		}
		if err := send(&potv1.DataChunk{Payload: &potv1.DataChunk_Batch_{Batch: b}}); err != nil {
			return err
		}
	}
	return nil
}

// DatasetReceiver reassembles a data set from DataChunks.
type DatasetReceiver struct {
	d *Dataset
	n int64
}

// Add takes the next chunk.
func (r *DatasetReceiver) Add(c *potv1.DataChunk) error {
	switch p := c.GetPayload().(type) {
	case *potv1.DataChunk_Header_:
		if r.d != nil {
			return fmt.Errorf("data stream: a second header")
		}
		if p.Header.GetSamples() < 0 {
			return fmt.Errorf("data stream: header announces %d samples", p.Header.GetSamples())
		}
		r.d = &Dataset{Name: p.Header.GetName(), Inputs: p.Header.GetInputs()}
		r.n = p.Header.GetSamples()
	case *potv1.DataChunk_Batch_:
		if r.d == nil {
			return fmt.Errorf("data stream: samples before the header")
		}
		ins := p.Batch.GetInputs()
		if len(ins) != len(r.d.Inputs) {
			return fmt.Errorf("data stream: batch of %d inputs, header names %d", len(ins), len(r.d.Inputs))
		}
		if err := r.checkBatch(ins); err != nil {
			return err
		}
		if r.d.Tensors == nil {
			for _, t := range ins {
				dims := append([]int64{0}, t.GetDims()[1:]...)
				acc := &potv1.Tensor{Name: t.GetName(), Dtype: t.GetDtype(), Dims: dims}
				r.d.Tensors = append(r.d.Tensors, acc)
			}
		}
		for i, t := range ins {
			acc := r.d.Tensors[i]
			if t.GetDtype() != acc.GetDtype() || len(t.GetDims()) != len(acc.GetDims()) || len(t.GetDims()) == 0 {
				return fmt.Errorf("data stream: input %d changes type or rank between batches", i)
			}
			for k := 1; k < len(t.GetDims()); k++ {
				if t.GetDims()[k] != acc.GetDims()[k] {
					return fmt.Errorf("data stream: input %d: sample shape %v differs from %v", i, t.GetDims()[1:], acc.GetDims()[1:])
				}
			}
			acc.Dims[0] += t.GetDims()[0]
			// The header's sample count is a claim on the size: growFor
			// allocates it whole once a quarter has arrived, instead of
			// copying the data at every growth of append.
			claim := int64(math.MaxInt64)
			if d0 := t.GetDims()[0]; d0 > 0 {
				if per := int64(len(t.GetData())) / d0; per > 0 && r.n <= math.MaxInt64/per {
					claim = per * r.n
				}
			}
			acc.Data = append(growFor(acc.Data, len(t.GetData()), claim), t.GetData()...)
		}
	default:
		return fmt.Errorf("data stream: empty chunk")
	}
	return nil
}

// checkBatch checks that the inputs of a batch hold the same number of
// samples, which with the samples received so far stay within the
// header's, and data of the size their dims and types say.
func (r *DatasetReceiver) checkBatch(ins []*potv1.Tensor) error {
	if len(ins) == 0 {
		return fmt.Errorf("data stream: a batch without inputs")
	}
	for i, t := range ins {
		dims := t.GetDims()
		if len(dims) == 0 {
			return fmt.Errorf("data stream: input %d of a batch is a scalar, want samples first", i)
		}
		if dims[0] != ins[0].GetDims()[0] {
			return fmt.Errorf("data stream: batch inputs hold %d and %d samples", ins[0].GetDims()[0], dims[0])
		}
		n, err := elements(dims)
		if err != nil {
			return fmt.Errorf("data stream: input %d: %w", i, err)
		}
		if t.GetDtype() == potv1.DataType_DATA_TYPE_STRING {
			return fmt.Errorf("data stream: input %d holds strings", i)
		}
		if want := onnx.RawSize(int32(t.GetDtype()), n); want < 0 || int64(len(t.GetData())) != want {
			return fmt.Errorf("data stream: input %d has %d data bytes for %v of dims %v", i, len(t.GetData()), t.GetDtype(), dims)
		}
	}
	if got := r.d.Samples(); ins[0].GetDims()[0] > r.n-got {
		return fmt.Errorf("data stream: %d more samples after %d, the header announced %d", ins[0].GetDims()[0], got, r.n)
	}
	return nil
}

// elements is the element count of dims, which must be non-negative and
// not overflow.
func elements(dims []int64) (int64, error) {
	n := int64(1)
	for _, d := range dims {
		if d < 0 || d > 0 && n > math.MaxInt64/d {
			return 0, fmt.Errorf("bad dims %v", dims)
		}
		n *= d
	}
	return n, nil
}

// Dataset returns the reassembled data set.
func (r *DatasetReceiver) Dataset() (*Dataset, error) {
	if r.d == nil {
		return nil, fmt.Errorf("data stream: no header received")
	}
	if got := r.d.Samples(); got != r.n && !(r.n == 0 && len(r.d.Tensors) == 0) {
		return nil, fmt.Errorf("data stream: received %d of %d samples", got, r.n)
	}
	return r.d, nil
}
