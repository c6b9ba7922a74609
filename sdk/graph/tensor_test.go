package graph_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/potgo/pot/internal/testenv"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

// TestTensorCodecs decodes the weights of LeNet and the shape constants
// of the transformer PyTorch exported (examples/models), refuses tensors
// of another type or whose data disagrees with their dims, and encodes
// the decoded values back to the same bytes.
func TestTensorCodecs(t *testing.T) {
	vit := readGraph(t, testenv.Example("models", "vit_fmnist.onnx"))
	vx, lx := graph.NewIndex(vit), graph.NewIndex(lenet(t))
	truncated := func(c *potv1.Tensor) *potv1.Tensor {
		return &potv1.Tensor{Name: c.GetName(), Dtype: c.GetDtype(), Dims: c.GetDims(), Data: c.GetData()[:len(c.GetData())-1]}
	}
	for _, tc := range []struct {
		name   string
		tensor *potv1.Tensor
		int64s bool
		want   string // the values, or the error
	}{
		{"a 1-D shape constant", vx.Constant("/Constant_3_output_0"), true, "[-1]"},
		{"a scalar", vx.Constant("/enc/layers.0/self_attn/Constant_3_output_0"), true, "[4]"},
		{"the first weights of LeNet", lx.Constant("c1.weight"), false, "400 values, [0.030111626 0.14654948 -0.15403897"},
		{"a bias", lx.Constant("f2.bias"), false, "10 values, [0.08740738 0.085759856 -0.04569184"},
		{"int64 as float", vx.Constant("/Constant_3_output_0"), false, "is DATA_TYPE_INT64, not float32"},
		{"float as int64", lx.Constant("f2.bias"), true, "is DATA_TYPE_FLOAT, not int64"},
		{"truncated float", truncated(lx.Constant("f2.bias")), false, "39 data bytes for dims [10]"},
		{"truncated int64", truncated(vx.Constant("/Constant_3_output_0")), true, "7 data bytes for dims [1]"},
	} {
		if tc.tensor == nil {
			t.Fatalf("%s: no such tensor", tc.name)
		}
		var got string
		var encoded *potv1.Tensor
		if tc.int64s {
			v, err := graph.Int64s(tc.tensor)
			got = fmt.Sprint(v)
			if err != nil {
				got = err.Error()
			} else {
				encoded = graph.Int64Tensor(tc.tensor.GetName(), tc.tensor.GetDims(), v)
			}
		} else {
			v, err := graph.Float32s(tc.tensor)
			got = fmt.Sprintf("%d values, %v", len(v), v)
			if err != nil {
				got = err.Error()
			} else {
				encoded = graph.FloatTensor(tc.tensor.GetName(), tc.tensor.GetDims(), v)
			}
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s: decoded %.60s, want %s", tc.name, got, tc.want)
		}
		if encoded != nil && (!bytes.Equal(encoded.GetData(), tc.tensor.GetData()) || encoded.GetDtype() != tc.tensor.GetDtype() ||
			fmt.Sprint(encoded.GetDims()) != fmt.Sprint(tc.tensor.GetDims())) {
			t.Errorf("%s: encoding the values back gives %v %v, %d bytes", tc.name, encoded.GetDtype(), encoded.GetDims(), len(encoded.GetData()))
		}
	}
}
