package runtime

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/targets/runtime/ops"
	"github.com/potgo/pot/targets/runtime/tensor"
)

// The operators that carry tensors in attributes (Constant) decode them
// with FromProto.
func init() { ops.DecodeTensor = FromProto }

// FromProto decodes a wire tensor. It checks that the byte length matches
// the dims, so a corrupt tensor is an error, not a crash.
func FromProto(p *potv1.Tensor) (*tensor.Tensor, error) {
	dt := tensor.DType(p.GetDtype())
	shape := make([]int, len(p.GetDims()))
	n := 1
	for i, d := range p.GetDims() {
		if d < 0 || d > math.MaxInt32 {
			return nil, fmt.Errorf("tensor %q: bad dimension %d", p.GetName(), d)
		}
		shape[i] = int(d)
		// Check before multiplying: n <= 4*MaxInt32 times d <= MaxInt32
		// can overflow.
		if d > 0 && n > math.MaxInt32*4/int(d) {
			return nil, fmt.Errorf("tensor %q: %v elements is too many", p.GetName(), p.GetDims())
		}
		n *= int(d)
	}
	if dt == tensor.String {
		if len(p.GetStringData()) != n {
			return nil, fmt.Errorf("tensor %q: %d strings for shape %v", p.GetName(), len(p.GetStringData()), shape)
		}
		s := make([]string, n)
		for i, b := range p.GetStringData() {
			s[i] = string(b)
		}
		return tensor.From(shape, s), nil
	}
	if !dt.Supported() {
		return nil, fmt.Errorf("tensor %q: element type %v is not supported", p.GetName(), dt)
	}
	raw := p.GetData()
	want := n * dt.Size()
	if dt == tensor.Int4 || dt == tensor.Uint4 {
		want = (n + 1) / 2
	}
	if len(raw) != want {
		return nil, fmt.Errorf("tensor %q: %d data bytes for %v%v (want %d)", p.GetName(), len(raw), dt, shape, want)
	}
	t := tensor.NewHeld(dt, shape...)
	le := binary.LittleEndian
	switch d := t.Data.(type) {
	case []float32:
		for i := range d {
			d[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
		}
	case []float64:
		for i := range d {
			d[i] = math.Float64frombits(le.Uint64(raw[8*i:]))
		}
	case []int8:
		for i := range d {
			d[i] = int8(raw[i])
		}
	case []uint8:
		copy(d, raw)
	case []bool:
		for i := range d {
			d[i] = raw[i] != 0
		}
	case []int16:
		for i := range d {
			d[i] = int16(le.Uint16(raw[2*i:]))
		}
	case []uint16:
		for i := range d {
			d[i] = le.Uint16(raw[2*i:])
		}
	case []tensor.Float16Bits:
		for i := range d {
			d[i] = tensor.Float16Bits(le.Uint16(raw[2*i:]))
		}
	case []tensor.BFloat16Bits:
		for i := range d {
			d[i] = tensor.BFloat16Bits(le.Uint16(raw[2*i:]))
		}
	case []int32:
		for i := range d {
			d[i] = int32(le.Uint32(raw[4*i:]))
		}
	case []uint32:
		for i := range d {
			d[i] = le.Uint32(raw[4*i:])
		}
	case []int64:
		for i := range d {
			d[i] = int64(le.Uint64(raw[8*i:]))
		}
	case []uint64:
		for i := range d {
			d[i] = le.Uint64(raw[8*i:])
		}
	case []tensor.Int4Value:
		for i := range d {
			v := raw[i/2] >> (4 * uint(i%2)) & 0xf
			d[i] = tensor.Int4Value(int8(v<<4) >> 4)
		}
	case []tensor.Uint4Value:
		for i := range d {
			d[i] = tensor.Uint4Value(raw[i/2] >> (4 * uint(i%2)) & 0xf)
		}
	}
	return t, nil
}

// ToProto encodes a tensor for the wire.
func ToProto(name string, t *tensor.Tensor) *potv1.Tensor {
	p := &potv1.Tensor{Name: name, Dtype: potv1.DataType(t.DType)}
	p.Dims = make([]int64, len(t.Shape))
	for i, d := range t.Shape {
		p.Dims[i] = int64(d)
	}
	if s, ok := t.Data.([]string); ok {
		p.StringData = make([][]byte, len(s))
		for i, v := range s {
			p.StringData[i] = []byte(v)
		}
		return p
	}
	n := t.Len() * t.DType.Size()
	if t.DType == tensor.Int4 || t.DType == tensor.Uint4 {
		n = (t.Len() + 1) / 2
	}
	raw := make([]byte, n)
	le := binary.LittleEndian
	switch d := t.Data.(type) {
	case []float32:
		for i, v := range d {
			le.PutUint32(raw[4*i:], math.Float32bits(v))
		}
	case []float64:
		for i, v := range d {
			le.PutUint64(raw[8*i:], math.Float64bits(v))
		}
	case []int8:
		for i, v := range d {
			raw[i] = byte(v)
		}
	case []uint8:
		copy(raw, d)
	case []bool:
		for i, v := range d {
			if v {
				raw[i] = 1
			}
		}
	case []int16:
		for i, v := range d {
			le.PutUint16(raw[2*i:], uint16(v))
		}
	case []uint16:
		for i, v := range d {
			le.PutUint16(raw[2*i:], v)
		}
	case []tensor.Float16Bits:
		for i, v := range d {
			le.PutUint16(raw[2*i:], uint16(v))
		}
	case []tensor.BFloat16Bits:
		for i, v := range d {
			le.PutUint16(raw[2*i:], uint16(v))
		}
	case []int32:
		for i, v := range d {
			le.PutUint32(raw[4*i:], uint32(v))
		}
	case []uint32:
		for i, v := range d {
			le.PutUint32(raw[4*i:], v)
		}
	case []int64:
		for i, v := range d {
			le.PutUint64(raw[8*i:], uint64(v))
		}
	case []uint64:
		for i, v := range d {
			le.PutUint64(raw[8*i:], v)
		}
	case []tensor.Int4Value:
		for i, v := range d {
			raw[i/2] |= (byte(v) & 0xf) << (4 * uint(i%2))
		}
	case []tensor.Uint4Value:
		for i, v := range d {
			raw[i/2] |= (byte(v) & 0xf) << (4 * uint(i%2))
		}
	}
	p.Data = raw
	return p
}
