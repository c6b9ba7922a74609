package ops

import "fmt"

// arity is the number of leading inputs an operator requires from
// opset since on (until the next entry): ONNX's mandatory inputs, which
// kernels read without checking. A node that leaves one out (fewer
// inputs, or an empty name) is refused when its kernel is built.
type arity struct {
	since    int64
	required int
}

// requiredInputs lists the operators whose kernels read their required
// inputs unchecked. Operators not listed check their inputs themselves
// (needInputs).
var requiredInputs = map[string][]arity{
	"/Compress":                      {{1, 2}},
	"/ConstantOfShape":               {{1, 1}},
	"/DequantizeLinear":              {{1, 2}},
	"/DynamicQuantizeLinear":         {{1, 1}},
	"/Expand":                        {{1, 2}},
	"/EyeLike":                       {{1, 1}},
	"/Flatten":                       {{1, 1}},
	"/Gather":                        {{1, 2}},
	"/GatherElements":                {{1, 2}},
	"/GatherND":                      {{1, 2}},
	"/NonZero":                       {{1, 1}},
	"/OneHot":                        {{1, 3}},
	"/Pad":                           {{1, 1}, {11, 2}},
	"/QuantizeLinear":                {{1, 2}},
	"/Range":                         {{1, 3}},
	"/Reshape":                       {{1, 1}, {5, 2}},
	"/Resize":                        {{1, 1}, {10, 2}, {11, 1}},
	"/ReverseSequence":               {{1, 2}},
	"/Scatter":                       {{1, 3}},
	"/ScatterElements":               {{1, 3}},
	"/ScatterND":                     {{1, 3}},
	"/Shape":                         {{1, 1}},
	"/Size":                          {{1, 1}},
	"/Slice":                         {{1, 1}, {10, 3}},
	"/Split":                         {{1, 1}},
	"/Squeeze":                       {{1, 1}},
	"/Tile":                          {{1, 3}, {6, 2}},
	"/Transpose":                     {{1, 1}},
	"/Trilu":                         {{1, 1}},
	"/Unique":                        {{1, 1}},
	"/Unsqueeze":                     {{1, 1}, {13, 2}},
	"/Upsample":                      {{1, 1}, {9, 2}},
	"com.microsoft/DequantizeLinear": {{1, 2}},
	"com.microsoft/QuantizeLinear":   {{1, 2}},
}

// required is the number of inputs an operator requires at an opset.
func required(domain, opType string, opset int64) int {
	n := 0
	for _, a := range requiredInputs[key(domain, opType)] {
		if a.since <= opset {
			n = a.required
		}
	}
	return n
}

// checkArity returns an error when the node leaves out one of the first
// n inputs.
func checkArity(nd *Node, n int) error {
	for i := 0; i < n; i++ {
		if !nd.HasInput(i) {
			return fmt.Errorf("input %d is missing: %s needs %d", i, nd.OpType(), n)
		}
	}
	return nil
}
