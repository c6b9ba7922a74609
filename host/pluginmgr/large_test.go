package pluginmgr_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
)

// bigGraph is Y = X + W1 + W2 + W3 with initializers of perTensor bytes
// each, filled with seeded random floats.
func bigGraph(perTensor int) *potv1.Graph {
	n := int64(perTensor / 4)
	r := rand.New(rand.NewPCG(1, 2))
	dims := []int64{1, n}
	vi := func(name string) *potv1.ValueInfo {
		return &potv1.ValueInfo{Name: name, Dtype: potv1.DataType_DATA_TYPE_FLOAT, HasShape: true,
			Shape: []*potv1.Dim{{Value: &potv1.Dim_Size{Size: 1}}, {Value: &potv1.Dim_Size{Size: n}}}}
	}
	g := &potv1.Graph{Name: "big", Inputs: []*potv1.ValueInfo{vi("X")}, Outputs: []*potv1.ValueInfo{vi("Y")},
		Opsets: []*potv1.OpsetImport{{Version: 13}}, IrVersion: 8}
	prev := "X"
	for i, name := range []string{"W1", "W2", "W3"} {
		data := make([]byte, 4*n)
		for j := 0; j < len(data); j += 4 {
			v := r.Uint32() & 0x3fffffff // finite floats
			data[j], data[j+1], data[j+2], data[j+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
		}
		g.Initializers = append(g.Initializers, &potv1.Tensor{Name: name, Dtype: potv1.DataType_DATA_TYPE_FLOAT, Dims: dims, Data: data})
		out := []string{"A1", "A2", "Y"}[i]
		g.Nodes = append(g.Nodes, &potv1.Node{Name: "add" + name, OpType: "Add", Inputs: []string{prev, name}, Outputs: []string{out}})
		prev = out
	}
	return g
}

// A model of more than 64 MiB goes to a target plugin process and comes
// back intact (in 2 MiB chunks, through servers whose receive limit is
// raised above gRPC's 4 MiB).
func TestLargeGraphRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 72 MiB twice")
	}
	g := bigGraph(24 << 20)
	size := 0
	for _, in := range g.GetInitializers() {
		size += len(in.GetData())
	}
	if size <= 64<<20 {
		t.Fatalf("model of %d bytes", size)
	}
	dir := pluginDir(t)
	m := manager(t, dir, time.Minute, nil)
	ctx := context.Background()
	target, err := m.Target(ctx, "cpu")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, err := target.LoadModel(ctx, g)
	if err != nil {
		t.Fatal(err)
	}
	up := time.Since(start)
	if len(resp.GetUnsupported()) > 0 || resp.GetModelId() == "" {
		t.Fatalf("LoadModel: %v", resp)
	}
	start = time.Now()
	back, err := target.Model(ctx, resp.GetModelId())
	if err != nil {
		t.Fatal(err)
	}
	down := time.Since(start)
	mib := float64(size) / (1 << 20)
	t.Logf("%.0f MiB: host -> target %.2f s (%.0f MiB/s, including the target's compile), target -> host %.2f s (%.0f MiB/s)",
		mib, up.Seconds(), mib/up.Seconds(), down.Seconds(), mib/down.Seconds())
	if len(back.GetInitializers()) != 3 {
		t.Fatalf("%d initializers came back", len(back.GetInitializers()))
	}
	for i, in := range back.GetInitializers() {
		want := g.GetInitializers()[i]
		if in.GetName() != want.GetName() || !bytes.Equal(in.GetData(), want.GetData()) || in.GetDataSize() != 0 {
			t.Errorf("initializer %q (%d bytes) differs from what was sent", in.GetName(), len(in.GetData()))
		}
	}
	if !proto.Equal(back, g) {
		t.Error("the graph that came back differs from the one sent")
	}
}
