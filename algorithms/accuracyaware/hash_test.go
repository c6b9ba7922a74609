package accuracyaware

import (
	"bytes"
	"crypto/sha256"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
)

func TestHashGraphSeesDataAndStructure(t *testing.T) {
	g := &potv1.Graph{Name: "g", Nodes: []*potv1.Node{{Name: "n", OpType: "Relu", Inputs: []string{"x"}, Outputs: []string{"y"}}},
		Initializers: []*potv1.Tensor{{Name: "w", Dtype: potv1.DataType_DATA_TYPE_UINT8, Dims: []int64{3}, Data: []byte{1, 2, 3}}}}
	sum := func(g *potv1.Graph) []byte {
		h := sha256.New()
		if err := hashGraph(h, g); err != nil {
			t.Fatal(err)
		}
		return h.Sum(nil)
	}
	base := sum(g)
	if !bytes.Equal(base, sum(proto.Clone(g).(*potv1.Graph))) {
		t.Error("equal graphs hash differently")
	}
	data := proto.Clone(g).(*potv1.Graph)
	data.Initializers[0].Data[2] = 4
	node := proto.Clone(g).(*potv1.Graph)
	node.Nodes[0].OpType = "Sigmoid"
	for name, other := range map[string]*potv1.Graph{"data": data, "node": node} {
		if bytes.Equal(base, sum(other)) {
			t.Errorf("a change of %s leaves the hash", name)
		}
	}
}
