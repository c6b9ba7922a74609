package graph

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/targets/interp/tensor"
)

const (
	tHalf  = potv1.DataType_DATA_TYPE_FLOAT16
	tBHalf = potv1.DataType_DATA_TYPE_BFLOAT16
)

// typeAttrs are the attributes of ONNX operators that name an element
// type: Cast's "to", the "dtype" of EyeLike and the random generators,
// DequantizeLinear's "output_dtype".
var typeAttrs = map[string]bool{"to": true, "dtype": true, "output_dtype": true}

// WidenHalf makes a graph that computes in float16 or bfloat16 compute
// in float32, in place: every 16-bit float initializer, Constant value
// and tensor attribute becomes the float32 tensor of the same values
// (exactly: float32 holds every half and bfloat16), every value declared
// 16-bit float is declared float32, and so is every type attribute that
// asks for one (a Cast to float16 becomes a Cast to float32), in the
// subgraphs too. The result computes what the model computes, less the
// rounding to 16 bits after each operator.
//
// Quantizing a model exported in float16 means quantizing this float32
// twin: a QDQ model's scales, and the quantizers' statistics, are
// float32. It returns how many tensors, values and attributes changed (0:
// the graph has no 16-bit floats).
func WidenHalf(g *potv1.Graph) (int, error) {
	n := 0
	for _, t := range g.GetInitializers() {
		ok, err := widenTensor(t)
		if err != nil {
			return n, fmt.Errorf("initializer %q: %w", t.GetName(), err)
		}
		n += b2i(ok)
	}
	for _, vis := range [][]*potv1.ValueInfo{g.GetInputs(), g.GetOutputs(), g.GetValueInfo()} {
		for _, v := range vis {
			if v.GetDtype() == tHalf || v.GetDtype() == tBHalf {
				v.Dtype = tFloat
				n++
			}
		}
	}
	for _, node := range g.GetNodes() {
		for _, a := range node.GetAttributes() {
			if typeAttrs[a.GetName()] && IsONNX(node) && a.GetType() == potv1.Attribute_TYPE_INT &&
				(a.GetI() == int64(tHalf) || a.GetI() == int64(tBHalf)) {
				a.I = int64(tFloat)
				n++
			}
			for _, t := range append([]*potv1.Tensor{a.GetT()}, a.GetTensors()...) {
				if t == nil {
					continue
				}
				ok, err := widenTensor(t)
				if err != nil {
					return n, fmt.Errorf("node %q attribute %s: %w", node.GetName(), a.GetName(), err)
				}
				n += b2i(ok)
			}
			for _, sg := range append([]*potv1.Graph{a.GetG()}, a.GetGraphs()...) {
				if sg == nil {
					continue
				}
				k, err := WidenHalf(sg)
				n += k
				if err != nil {
					return n, fmt.Errorf("node %q attribute %s: %w", node.GetName(), a.GetName(), err)
				}
			}
		}
	}
	return n, nil
}

// widenTensor turns a float16 or bfloat16 tensor into the float32 one of
// the same values; it reports whether t was one.
func widenTensor(t *potv1.Tensor) (bool, error) {
	dt := t.GetDtype()
	if dt != tHalf && dt != tBHalf {
		return false, nil
	}
	count := NumElements(t.GetDims())
	raw := t.GetData()
	if int64(len(raw)) != 2*count {
		return false, fmt.Errorf("%v tensor of shape %v holds %d bytes, want %d", dt, t.GetDims(), len(raw), 2*count)
	}
	out := make([]byte, 4*count)
	for i := range count {
		h := binary.LittleEndian.Uint16(raw[2*i:])
		var f float32
		if dt == tHalf {
			f = tensor.Float16Bits(h).Float32()
		} else {
			f = tensor.BFloat16Bits(h).Float32()
		}
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(f))
	}
	t.Dtype, t.Data, t.DataSize = tFloat, out, 0
	return true, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
