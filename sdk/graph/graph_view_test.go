package graph

import (
	"testing"

	"github.com/potgo/pot/proto/potv1"
)

func TestFloat32ViewMatchesFloat32s(t *testing.T) {
	w := FloatTensor("w", []int64{2, 2}, []float32{1, -2, 3.5, 4})
	v, err := Float32View(w)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := Float32s(w)
	for i := range c {
		if v[i] != c[i] {
			t.Fatalf("%v, want %v", v, c)
		}
	}
	w.Dims = []int64{3}
	if _, err := Float32View(w); err == nil {
		t.Error("dims disagreeing with the data were accepted")
	}
}

func TestWithoutInitializers(t *testing.T) {
	g := &potv1.Graph{
		Name:         "g",
		Nodes:        []*potv1.Node{{Name: "n", OpType: "Relu", Inputs: []string{"x"}, Outputs: []string{"y"}}},
		Initializers: []*potv1.Tensor{{Name: "w", Data: make([]byte, 8)}},
	}
	h := WithoutInitializers(g)
	if h.GetName() != "g" || len(h.GetNodes()) != 1 || h.GetNodes()[0] != g.GetNodes()[0] {
		t.Errorf("head lost or copied the graph's fields: %v", h)
	}
	if len(h.GetInitializers()) != 0 || len(g.GetInitializers()) != 1 {
		t.Errorf("initializers: head %d, graph %d; want 0 and 1", len(h.GetInitializers()), len(g.GetInitializers()))
	}
}
