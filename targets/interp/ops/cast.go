package ops

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/potgo/pot/targets/interp/tensor"
)

func init() {
	register(DomainONNX, "Cast", 1, castFactory)
	register(DomainONNX, "Cast", 6, castFactory)
	register(DomainONNX, "CastLike", 15, castLikeFactory)
}

// castTypeNames maps the opset 1 string form of Cast's "to" attribute.
var castTypeNames = map[string]tensor.DType{
	"FLOAT": tensor.Float, "UINT8": tensor.Uint8, "INT8": tensor.Int8, "UINT16": tensor.Uint16,
	"INT16": tensor.Int16, "INT32": tensor.Int32, "INT64": tensor.Int64, "STRING": tensor.String,
	"BOOL": tensor.Bool, "FLOAT16": tensor.Float16, "DOUBLE": tensor.Double, "UINT32": tensor.Uint32,
	"UINT64": tensor.Uint64, "BFLOAT16": tensor.BFloat16,
}

func castFactory(n *Node) (Kernel, error) {
	var to tensor.DType
	if a := n.Attr("to"); a != nil && len(a.GetS()) > 0 {
		dt, ok := castTypeNames[strings.ToUpper(string(a.GetS()))]
		if !ok {
			return nil, Unsupported(n, "target type %q is", a.GetS())
		}
		to = dt
	} else {
		to = tensor.DType(n.Int("to", 0))
	}
	if !castable(to) {
		return nil, Unsupported(n, "target type %v is", to)
	}
	n.Int("saturate", 1)
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		if err := needInputs(in, 1); err != nil {
			return err
		}
		return Convert(in[0], to, out[0])
	}), nil
}

func castLikeFactory(n *Node) (Kernel, error) {
	n.Int("saturate", 1)
	return KernelFunc(func(ctx *Context, in, out []*tensor.Tensor) error {
		if err := needInputs(in, 2); err != nil {
			return err
		}
		return Convert(in[0], in[1].DType, out[0])
	}), nil
}

// castable reports whether Convert handles dt as a target type.
func castable(dt tensor.DType) bool {
	switch dt {
	case tensor.Float, tensor.Double, tensor.Float16, tensor.BFloat16, tensor.Bool, tensor.String,
		tensor.Int8, tensor.Int16, tensor.Int32, tensor.Int64,
		tensor.Uint8, tensor.Uint16, tensor.Uint32, tensor.Uint64:
		return true
	}
	return false
}

// Convert makes out a copy of src converted to element type to, as ONNX
// Cast does: floats to integers truncate toward zero, to Float16 and
// BFloat16 round to nearest even, to Bool test for non-zero, and strings
// parse and print numbers ("NaN", "INF", "-INF" for the special values).
func Convert(src *tensor.Tensor, to tensor.DType, out *tensor.Tensor) error {
	if !castable(to) {
		return fmt.Errorf("cast to %v is not supported", to)
	}
	if src.DType == to {
		out.CopyFrom(src)
		return nil
	}
	out.Reset(to, src.Shape)
	switch d := src.Data.(type) {
	case []float32:
		return castFrom(d, out)
	case []float64:
		return castFrom(d, out)
	case []int8:
		return castFrom(d, out)
	case []int16:
		return castFrom(d, out)
	case []int32:
		return castFrom(d, out)
	case []int64:
		return castFrom(d, out)
	case []uint8:
		return castFrom(d, out)
	case []uint16:
		return castFrom(d, out)
	case []uint32:
		return castFrom(d, out)
	case []uint64:
		return castFrom(d, out)
	case []bool:
		u := make([]uint8, len(d))
		for i, v := range d {
			if v {
				u[i] = 1
			}
		}
		return castFrom(u, out)
	case []tensor.Float16Bits, []tensor.BFloat16Bits:
		if to == tensor.Float {
			halfValues(src, func(int) []float32 { return out.F32() })
			return nil
		}
		f, _ := halfToF32(src)
		return castFrom(f, out)
	case []tensor.Int4Value:
		v := make([]int8, len(d))
		for i, x := range d {
			v[i] = int8(x)
		}
		return castFrom(v, out)
	case []tensor.Uint4Value:
		v := make([]uint8, len(d))
		for i, x := range d {
			v[i] = uint8(x)
		}
		return castFrom(v, out)
	case []string:
		f := make([]float64, len(d))
		for i, s := range d {
			v, err := parseNumber(s)
			if err != nil {
				return fmt.Errorf("cast: element %d: %w", i, err)
			}
			f[i] = v
		}
		return castFrom(f, out)
	}
	return fmt.Errorf("cast from %v is not supported", src.DType)
}

// castFrom converts src into out, already reset to its type and shape.
func castFrom[S tensor.Number](src []S, out *tensor.Tensor) error {
	switch d := out.Data.(type) {
	case []float32:
		convertSlice(d, src)
	case []float64:
		convertSlice(d, src)
	case []int8:
		convertSlice(d, src)
	case []int16:
		convertSlice(d, src)
	case []int32:
		convertSlice(d, src)
	case []int64:
		convertSlice(d, src)
	case []uint8:
		convertSlice(d, src)
	case []uint16:
		convertSlice(d, src)
	case []uint32:
		convertSlice(d, src)
	case []uint64:
		convertSlice(d, src)
	case []bool:
		for i, v := range src {
			d[i] = v != 0
		}
	case []tensor.Float16Bits:
		if f, ok := any(src).([]float32); ok {
			f32sToHalf(d, f)
			break
		}
		for i, v := range src {
			d[i] = tensor.ToFloat16(float32(v))
		}
	case []tensor.BFloat16Bits:
		for i, v := range src {
			d[i] = tensor.ToBFloat16(float32(v))
		}
	case []string:
		for i, v := range src {
			d[i] = formatNumber(v)
		}
	default:
		return fmt.Errorf("cast to %v is not supported", out.DType)
	}
	return nil
}

// convertSlice converts numbers with Go's conversion rules.
func convertSlice[D, S tensor.Number](dst []D, src []S) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = D(v)
	}
}

// formatNumber prints a number the way ONNX's Cast to string does: the
// shortest representation that reads back exactly.
func formatNumber[S tensor.Number](v S) string {
	switch x := any(v).(type) {
	case float32:
		return formatFloat(float64(x), 32)
	case float64:
		return formatFloat(x, 64)
	}
	if v < 0 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatUint(uint64(v), 10)
}

func formatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "INF"
	case math.IsInf(f, -1):
		return "-INF"
	}
	return strconv.FormatFloat(f, 'g', -1, bits)
}

// parseNumber reads a number for Cast from string, accepting "NaN",
// "INF", "+INF" and "-INF" in any case.
func parseNumber(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return v, nil // ±Inf or 0, as C's strtod gives
		}
		return 0, fmt.Errorf("cannot parse %q as a number", s)
	}
	return v, nil
}
