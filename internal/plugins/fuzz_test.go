package plugins

import (
	"encoding/binary"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
)

// stream encodes messages as a fuzz input: each one's length as a
// uvarint, then its bytes.
func stream(t testing.TB, msgs ...proto.Message) []byte {
	t.Helper()
	var b []byte
	for _, m := range msgs {
		mb, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		b = binary.AppendUvarint(b, uint64(len(mb)))
		b = append(b, mb...)
	}
	return b
}

// messages splits a fuzz input made by stream, ignoring a truncated end.
func messages(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			break
		}
		out = append(out, b[k:k+int(n)])
		b = b[k+int(n):]
	}
	return out
}

// span is a byte range of a tensor that a chunk covered.
type span struct{ lo, hi int64 }

// FuzzGraphReceiver feeds arbitrary chunk streams to a GraphReceiver:
// nothing may panic or allocate more than the chunks hold, and a graph
// is only returned when every byte of every chunked tensor arrived, each
// once.
func FuzzGraphReceiver(f *testing.F) {
	var real []proto.Message
	if err := SendGraph(testGraph(10, 70<<10), 16<<10, func(c *potv1.ModelChunk) error {
		real = append(real, proto.Clone(c))
		return nil
	}); err != nil {
		f.Fatal(err)
	}
	f.Add(stream(f, real...))
	header := &potv1.ModelChunk{Payload: &potv1.ModelChunk_Graph{Graph: &potv1.Graph{Name: "g",
		Initializers: []*potv1.Tensor{{Name: "w", Dtype: potv1.DataType_DATA_TYPE_UINT8, Dims: []int64{10}, DataSize: 10}}}}}
	chunk := func(name string, off int64, n int) *potv1.ModelChunk {
		return &potv1.ModelChunk{Payload: &potv1.ModelChunk_Tensor{Tensor: &potv1.TensorChunk{Tensor: name, Offset: off, Data: make([]byte, n)}}}
	}
	f.Add(stream(f, header, chunk("w", 0, 4), chunk("w", 4, 6)))
	f.Add(stream(f, header, chunk("w", 5, 6)))
	f.Add(stream(f, chunk("w", 0, 1), header))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r GraphReceiver
		sent := map[string][]span{}
		for _, mb := range messages(b) {
			c := &potv1.ModelChunk{}
			if proto.Unmarshal(mb, c) != nil {
				return
			}
			if err := r.Add(c); err != nil {
				return
			}
			if tc := c.GetTensor(); tc != nil {
				sent[tc.GetTensor()] = append(sent[tc.GetTensor()], span{tc.GetOffset(), tc.GetOffset() + int64(len(tc.GetData()))})
			}
		}
		g, err := r.Graph()
		if err != nil {
			return
		}
		for _, tn := range g.GetInitializers() {
			spans := sent[tn.GetName()]
			if len(spans) == 0 {
				continue // inline
			}
			slices.SortFunc(spans, func(a, b span) int { return int(a.lo - b.lo) })
			end := int64(0)
			for _, s := range spans {
				if s.lo != end {
					t.Fatalf("tensor %q accepted with chunks %v: not each byte once", tn.GetName(), spans)
				}
				end = s.hi
			}
			if end != int64(len(tn.GetData())) || tn.GetDataSize() != 0 {
				t.Fatalf("tensor %q: chunks cover %d bytes, data has %d (data_size %d)", tn.GetName(), end, len(tn.GetData()), tn.GetDataSize())
			}
		}
	})
}

// FuzzDatasetReceiver feeds arbitrary chunk streams to a
// DatasetReceiver: nothing may panic, and a data set is only returned
// with as many samples as its header announced, every input stacked
// along its first dimension.
func FuzzDatasetReceiver(f *testing.F) {
	data := make([]byte, 6*3*4)
	d := &Dataset{Name: "calib", Inputs: []string{"x", "sr"}, Tensors: []*potv1.Tensor{
		{Name: "x", Dtype: potv1.DataType_DATA_TYPE_FLOAT, Dims: []int64{6, 1, 3}, Data: data},
		{Name: "sr", Dtype: potv1.DataType_DATA_TYPE_INT64, Dims: []int64{6}, Data: make([]byte, 6*8)}}}
	var real []proto.Message
	if err := SendDataset(d, func(c *potv1.DataChunk) error {
		real = append(real, proto.Clone(c))
		return nil
	}); err != nil {
		f.Fatal(err)
	}
	f.Add(stream(f, real...))
	header := &potv1.DataChunk{Payload: &potv1.DataChunk_Header_{Header: &potv1.DataChunk_Header{Name: "d", Inputs: []string{"x"}, Samples: 2}}}
	batch := func(dims ...int64) *potv1.DataChunk {
		return &potv1.DataChunk{Payload: &potv1.DataChunk_Batch_{Batch: &potv1.DataChunk_Batch{Inputs: []*potv1.Tensor{
			{Name: "x", Dtype: potv1.DataType_DATA_TYPE_UINT8, Dims: dims, Data: make([]byte, 4)}}}}}
	}
	f.Add(stream(f, header, batch(1, 4), batch(1, 4)))
	f.Add(stream(f, header, batch(2, 2)))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r DatasetReceiver
		for _, mb := range messages(b) {
			c := &potv1.DataChunk{}
			if proto.Unmarshal(mb, c) != nil {
				return
			}
			if err := r.Add(c); err != nil {
				return
			}
		}
		got, err := r.Dataset()
		if err != nil {
			return
		}
		n := got.Samples()
		if n != r.n {
			t.Fatalf("%d samples, the header announced %d", n, r.n)
		}
		for _, tn := range got.Tensors {
			if len(tn.GetDims()) == 0 || tn.GetDims()[0] != n {
				t.Fatalf("input %q has dims %v for %d samples", tn.GetName(), tn.GetDims(), n)
			}
			for _, d := range tn.GetDims() {
				if d < 0 {
					t.Fatalf("input %q has dims %v", tn.GetName(), tn.GetDims())
				}
			}
		}
	})
}
