package plugins

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
)

func testGraph(sizes ...int) *potv1.Graph {
	g := &potv1.Graph{Name: "g", Metadata: map[string]string{"k": "v"}, Opsets: []*potv1.OpsetImport{{Version: 13}},
		Nodes: []*potv1.Node{{Name: "n", OpType: "Identity", Inputs: []string{"x"}, Outputs: []string{"y"}}}}
	for i, n := range sizes {
		data := make([]byte, n)
		for j := range data {
			data[j] = byte(j*7 + i)
		}
		g.Initializers = append(g.Initializers, &potv1.Tensor{Name: string(rune('a' + i)), Dtype: potv1.DataType_DATA_TYPE_UINT8, Dims: []int64{int64(n)}, Data: data})
	}
	return g
}

func TestSendGraphRoundTrip(t *testing.T) {
	tests := []struct {
		name      string
		sizes     []int
		chunkSize int
		// chunks of tensor data expected
		tensorChunks int
	}{
		{"small tensors inline", []int{10, 100, 1000}, 0, 0},
		{"one large tensor", []int{5<<20 + 3}, 0, 3},
		{"inline budget exhausted", []int{60 << 10, 60 << 10, 60 << 10, 60 << 10, 60 << 10, 60 << 10, 60 << 10, 60 << 10, 60 << 10, 60 << 10, 60 << 10, 60 << 10, 60 << 10, 60 << 10, 60 << 10, 60 << 10, 60 << 10, 60 << 10}, 0, 1},
		{"custom chunk size", []int{1 << 20}, 256 << 10, 4},
		{"empty tensor", []int{0, 70 << 10}, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := testGraph(tc.sizes...)
			orig := proto.Clone(g)
			var r GraphReceiver
			tensorChunks := 0
			limit := tc.chunkSize
			if limit == 0 {
				limit = ChunkSize
			}
			err := SendGraph(g, tc.chunkSize, func(c *potv1.ModelChunk) error {
				if tc := c.GetTensor(); tc != nil {
					tensorChunks++
					if len(tc.GetData()) > limit {
						t.Errorf("chunk of %d bytes, limit %d", len(tc.GetData()), limit)
					}
				}
				return r.Add(proto.Clone(c).(*potv1.ModelChunk))
			})
			if err != nil {
				t.Fatal(err)
			}
			if tensorChunks != tc.tensorChunks {
				t.Errorf("%d tensor chunks, want %d", tensorChunks, tc.tensorChunks)
			}
			got, err := r.Graph()
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, orig) {
				t.Error("received graph differs from the sent one")
			}
			if !proto.Equal(g, orig) {
				t.Error("SendGraph modified its graph")
			}
		})
	}
}

// The graph travels in chunks of 1-4 MiB: a 2 MiB default, and whole
// chunks except the last of each tensor.
func TestChunkSizeInRange(t *testing.T) {
	if ChunkSize < 1<<20 || ChunkSize > 4<<20 {
		t.Fatalf("ChunkSize = %d", ChunkSize)
	}
	g := testGraph(9 << 20)
	var sizes []int
	SendGraph(g, 0, func(c *potv1.ModelChunk) error {
		if tc := c.GetTensor(); tc != nil {
			sizes = append(sizes, len(tc.GetData()))
		}
		return nil
	})
	for i, n := range sizes[:len(sizes)-1] {
		if n != ChunkSize {
			t.Errorf("chunk %d has %d bytes", i, n)
		}
	}
	if MaxMessageSize <= 4<<20 || MaxMessageSize < 2*ChunkSize {
		t.Errorf("MaxMessageSize %d does not raise gRPC's 4 MiB default", MaxMessageSize)
	}
}

func TestGraphReceiverErrors(t *testing.T) {
	header := &potv1.ModelChunk{Payload: &potv1.ModelChunk_Graph{Graph: &potv1.Graph{
		Initializers: []*potv1.Tensor{{Name: "w", DataSize: 10}}}}}
	chunk := func(name string, off int64, n int) *potv1.ModelChunk {
		return &potv1.ModelChunk{Payload: &potv1.ModelChunk_Tensor{Tensor: &potv1.TensorChunk{Tensor: name, Offset: off, Data: make([]byte, n)}}}
	}
	tests := []struct {
		name   string
		chunks []*potv1.ModelChunk
		want   string
	}{
		{"nothing", nil, "no graph received"},
		{"data first", []*potv1.ModelChunk{chunk("w", 0, 1)}, "tensor data before the graph"},
		{"two headers", []*potv1.ModelChunk{header, header}, "a second graph header"},
		{"unknown tensor", []*potv1.ModelChunk{header, chunk("v", 0, 1)}, `unknown tensor "v"`},
		{"out of range", []*potv1.ModelChunk{header, chunk("w", 5, 6)}, "outside its 10 bytes"},
		{"negative offset", []*potv1.ModelChunk{header, chunk("w", -1, 1)}, "outside its 10 bytes"},
		{"short", []*potv1.ModelChunk{header, chunk("w", 0, 4)}, "received 4 of 10 bytes"},
		// Overlapping chunks once added up to the size with bytes 5-9
		// never sent.
		{"overlap", []*potv1.ModelChunk{header, chunk("w", 0, 5), chunk("w", 0, 5)}, `tensor "w" chunk at offset 0, want 5 (chunks come in order)`},
		{"out of order", []*potv1.ModelChunk{header, chunk("w", 5, 5), chunk("w", 0, 5)}, `chunk at offset 5, want 0`},
		{"offset overflowing", []*potv1.ModelChunk{header, chunk("w", math.MaxInt64, 2)}, "outside its 10 bytes"},
		// A header claiming 4 EiB once made the receiver allocate them.
		{"huge data_size", []*potv1.ModelChunk{{Payload: &potv1.ModelChunk_Graph{Graph: &potv1.Graph{
			Initializers: []*potv1.Tensor{{Name: "w", DataSize: math.MaxInt64}}}}}, chunk("w", 0, 4)}, "received 4 of 9223372036854775807 bytes"},
		{"empty chunk", []*potv1.ModelChunk{header, {}}, "empty chunk"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r GraphReceiver
			var err error
			for _, c := range tc.chunks {
				if err = r.Add(proto.Clone(c).(*potv1.ModelChunk)); err != nil {
					break
				}
			}
			if err == nil {
				_, err = r.Graph()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestDatasetRoundTrip(t *testing.T) {
	const n, per = 1000, 3000 // 12 MB of float32: several batches
	data := make([]byte, n*per*4)
	for i := range data {
		data[i] = byte(i * 31)
	}
	d := &Dataset{Name: "calib", Inputs: []string{"x"}, Tensors: []*potv1.Tensor{{Name: "x", Dtype: potv1.DataType_DATA_TYPE_FLOAT, Dims: []int64{n, 1, per}, Data: data}}}
	var r DatasetReceiver
	batches := 0
	err := SendDataset(d, func(c *potv1.DataChunk) error {
		if b := c.GetBatch(); b != nil {
			batches++
			if sz := proto.Size(b); sz > ChunkSize+1024 {
				t.Errorf("batch of %d bytes", sz)
			}
		}
		return r.Add(c)
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Dataset()
	if err != nil {
		t.Fatal(err)
	}
	if batches < 5 || got.Samples() != n || !bytes.Equal(got.Tensors[0].GetData(), data) || got.Name != "calib" {
		t.Errorf("%d batches, %d samples, name %q", batches, got.Samples(), got.Name)
	}
	if dims := got.Tensors[0].GetDims(); len(dims) != 3 || dims[1] != 1 || dims[2] != per {
		t.Errorf("dims %v", dims)
	}
	// The header's sample count sized the data once a quarter of it had
	// arrived (growFor), rather than append growing it chunk by chunk.
	if c := cap(got.Tensors[0].GetData()); c != len(data) {
		t.Errorf("data of %d bytes held in a buffer of %d", len(data), c)
	}
	bad := &Dataset{Name: "bad", Inputs: []string{"x"}, Tensors: []*potv1.Tensor{{Name: "x", Dims: []int64{}}}}
	if err := SendDataset(bad, func(*potv1.DataChunk) error { return nil }); err == nil {
		t.Error("a scalar data set was sent")
	}
}

// A streamed tensor equal to a known one shares its data; one differing
// in any chunk gets its own copy with the right content.
func TestGraphReceiverSharesKnownTensors(t *testing.T) {
	g := testGraph(3<<20, 3<<20)
	held := map[string][]byte{
		"a": append([]byte(nil), g.Initializers[0].Data...), // equal
		"b": append([]byte(nil), g.Initializers[1].Data...), // differs in the last chunk
	}
	held["b"][len(held["b"])-1] ^= 1
	r := GraphReceiver{Known: func(name string) []byte { return held[name] }}
	if err := SendGraph(g, 1<<20, r.Add); err != nil {
		t.Fatal(err)
	}
	got, err := r.Graph()
	if err != nil {
		t.Fatal(err)
	}
	a, b := got.Initializers[0].Data, got.Initializers[1].Data
	if &a[0] != &held["a"][0] {
		t.Error("tensor a, equal to the known data, was copied")
	}
	if &b[0] == &held["b"][0] || !bytes.Equal(b, g.Initializers[1].Data) {
		t.Error("tensor b, differing from the known data, does not hold its own bytes")
	}
}

func TestDatasetReceiverErrors(t *testing.T) {
	header := &potv1.DataChunk{Payload: &potv1.DataChunk_Header_{Header: &potv1.DataChunk_Header{Name: "d", Inputs: []string{"x"}, Samples: 2}}}
	batch := func(data int, dims ...int64) *potv1.DataChunk {
		return &potv1.DataChunk{Payload: &potv1.DataChunk_Batch_{Batch: &potv1.DataChunk_Batch{Inputs: []*potv1.Tensor{
			{Name: "x", Dtype: potv1.DataType_DATA_TYPE_FLOAT, Dims: dims, Data: make([]byte, data)}}}}}
	}
	tests := []struct {
		name   string
		chunks []*potv1.DataChunk
		want   string // "" when the data set arrives
	}{
		{"two batches", []*potv1.DataChunk{header, batch(8, 1, 2), batch(8, 1, 2)}, ""},
		// A scalar batch input once panicked the receiver.
		{"scalar input", []*potv1.DataChunk{header, batch(4)}, "input 0 of a batch is a scalar"},
		{"negative samples", []*potv1.DataChunk{header, batch(0, -1, 2), batch(24, 3, 2)}, "bad dims [-1 2]"},
		{"data shorter than dims", []*potv1.DataChunk{header, batch(4, 2, 2)}, "input 0 has 4 data bytes"},
		{"more samples than announced", []*potv1.DataChunk{header, batch(24, 3, 2)}, "3 more samples after 0, the header announced 2"},
		// A batch of no inputs for a header of none once panicked the
		// check above.
		{"no inputs", []*potv1.DataChunk{{Payload: &potv1.DataChunk_Header_{Header: &potv1.DataChunk_Header{Samples: 1}}},
			{Payload: &potv1.DataChunk_Batch_{Batch: &potv1.DataChunk_Batch{}}}}, "a batch without inputs"},
		{"negative header", []*potv1.DataChunk{{Payload: &potv1.DataChunk_Header_{Header: &potv1.DataChunk_Header{Samples: -1}}}}, "header announces -1 samples"},
		{"fewer samples than announced", []*potv1.DataChunk{header, batch(8, 1, 2)}, "received 1 of 2 samples"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r DatasetReceiver
			var err error
			for _, c := range tc.chunks {
				if err = r.Add(c); err != nil {
					break
				}
			}
			if err == nil {
				_, err = r.Dataset()
			}
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// BenchmarkDatasetReceive streams and reassembles 48 MB of samples (40
// images of 3×320×320 float32).
func BenchmarkDatasetReceive(b *testing.B) {
	const n, per = 40, 3 * 320 * 320
	d := &Dataset{Name: "x", Inputs: []string{"x"}, Tensors: []*potv1.Tensor{{Name: "x", Dtype: potv1.DataType_DATA_TYPE_FLOAT, Dims: []int64{n, per}, Data: make([]byte, n*per*4)}}}
	b.SetBytes(n * per * 4)
	for b.Loop() {
		var r DatasetReceiver
		if err := SendDataset(d, r.Add); err != nil {
			b.Fatal(err)
		}
	}
}
