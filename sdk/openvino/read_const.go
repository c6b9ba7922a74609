package openvino

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/targets/interp/tensor"
)

// maxFold bounds the elements of a constant the reader computes (a
// broadcast of two constants could otherwise ask for far more memory
// than the .bin holds); a larger result stays a node.
const maxFold = 1 << 26

// elemBits is the storage size of an element of a data type, in bits.
func elemBits(dt potv1.DataType) int {
	switch dt {
	case potv1.DataType_DATA_TYPE_FLOAT, potv1.DataType_DATA_TYPE_INT32, potv1.DataType_DATA_TYPE_UINT32:
		return 32
	case potv1.DataType_DATA_TYPE_FLOAT16, potv1.DataType_DATA_TYPE_BFLOAT16, potv1.DataType_DATA_TYPE_INT16, potv1.DataType_DATA_TYPE_UINT16:
		return 16
	case potv1.DataType_DATA_TYPE_DOUBLE, potv1.DataType_DATA_TYPE_INT64, potv1.DataType_DATA_TYPE_UINT64:
		return 64
	case potv1.DataType_DATA_TYPE_INT8, potv1.DataType_DATA_TYPE_UINT8, potv1.DataType_DATA_TYPE_BOOL:
		return 8
	case potv1.DataType_DATA_TYPE_INT4, potv1.DataType_DATA_TYPE_UINT4:
		return 4
	}
	return 0
}

// numel counts the elements of static dims, failing on overflow.
func numel(dims []int64) (int64, error) {
	n := int64(1)
	for _, d := range dims {
		if d < 0 {
			return 0, fmt.Errorf("dynamic dimension in %v", dims)
		}
		if d != 0 && n > math.MaxInt64/d {
			return 0, fmt.Errorf("dims %v overflow", dims)
		}
		n *= d
	}
	return n, nil
}

// readConst reads a Const layer's tensor from the .bin.
func (r *reader) readConst(l *Layer, v *value) error {
	et, ok := l.Attr("element_type")
	if !ok {
		return fmt.Errorf("Const without element_type")
	}
	dt, err := DataType(et)
	if err != nil {
		return refuse("%v", err)
	}
	shape, ok := l.Attr("shape")
	var dims []int64
	if ok {
		if dims, err = ParseShape(shape); err != nil {
			return err
		}
	} else {
		dims = v.dims
	}
	n, err := numel(dims)
	if err != nil {
		return fmt.Errorf("shape: %w", err)
	}
	bits := int64(elemBits(dt))
	if bits == 0 || n > math.MaxInt64/64 {
		return refuse("element type %s is not read", et)
	}
	want := (n*bits + 7) / 8
	off, err := attrInt(l, "offset", 0)
	if err != nil {
		return err
	}
	size, err := attrInt(l, "size", want)
	if err != nil {
		return err
	}
	if off < 0 || size < 0 {
		return fmt.Errorf("offset %d, size %d: negative", off, size)
	}
	if size != want {
		return fmt.Errorf("size %d bytes, but %s%v needs %d", size, et, dims, want)
	}
	if off > int64(len(r.bin)) || size > int64(len(r.bin))-off {
		return fmt.Errorf("bytes [%d, %d) are outside the weights file (%d bytes)", off, off+size, len(r.bin))
	}
	v.dtype = dt
	v.dims = dims
	v.konst = &potv1.Tensor{Name: v.name, Dtype: dt, Dims: append([]int64(nil), dims...), Data: r.bin[off : off+size : off+size]}
	return nil
}

// attrInt reads an integer attribute, def when it is absent.
func attrInt(l *Layer, name string, def int64) (int64, error) {
	s, ok := l.Attr(name)
	if !ok {
		return def, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("attribute %s=%q is not an integer", name, s)
	}
	return v, nil
}

// fold computes a layer's outputs when they are constants.
func (r *reader) fold(l *Layer) error {
	if l.Type == "Const" {
		if len(l.Output) != 1 {
			return fmt.Errorf("Const with %d outputs", len(l.Output))
		}
		err := r.readConst(l, r.out(l, 0))
		if _, ok := err.(*refusal); ok {
			r.unsupported = append(r.unsupported, UnsupportedLayer{Name: l.Name, Type: l.Type, Version: l.Version, Reason: err.Error()})
			return nil
		}
		return err
	}
	if len(l.Output) != 1 || len(l.Input) == 0 {
		return nil
	}
	var ins []*potv1.Tensor
	for i := range l.Input {
		v := r.in(l, i)
		if v == nil || v.konst == nil {
			return nil
		}
		ins = append(ins, v.konst)
	}
	out := r.out(l, 0)
	var t *potv1.Tensor
	switch l.Type {
	case "Convert":
		dt, ok := l.Attr("destination_type")
		if !ok {
			return nil
		}
		to, err := DataType(dt)
		if err != nil || !foldableCast(ins[0].Dtype, to) {
			return nil
		}
		vals, err := decode(ins[0])
		if err != nil {
			return nil
		}
		t = encode(out.name, to, ins[0].Dims, vals)
	case "Add", "Subtract", "Multiply", "Divide":
		if len(ins) != 2 || ins[0].Dtype != potv1.DataType_DATA_TYPE_FLOAT || ins[1].Dtype != ins[0].Dtype {
			return nil
		}
		if ab, _ := l.Attr("auto_broadcast"); ab != "" && ab != "numpy" {
			return nil
		}
		t = foldBinary(l.Type, out.name, ins[0], ins[1])
		if t != nil && l.Type == "Multiply" {
			out.dq = r.dqChain(l)
		}
	case "Reshape", "Squeeze", "Unsqueeze":
		if !static(out.dims) || out.dims == nil {
			return nil
		}
		if n, err := numel(out.dims); err != nil || n != numelOf(ins[0]) {
			return nil
		}
		t = &potv1.Tensor{Name: out.name, Dtype: ins[0].Dtype, Dims: append([]int64(nil), out.dims...), Data: ins[0].Data}
		// Compressed weights stay compressed through a reshape (the
		// channels' flat layout is the same).
		out.dq = r.in(l, 0).dq
	case "FakeQuantize":
		if len(ins) != 5 {
			return nil
		}
		for _, in := range ins {
			if in.Dtype != potv1.DataType_DATA_TYPE_FLOAT {
				return nil
			}
		}
		levels, err := attrInt(l, "levels", 0)
		if err != nil || levels < 2 {
			return nil
		}
		t = foldFakeQuantize(out.name, ins, levels)
	}
	if t != nil {
		out.konst, out.dtype, out.dims = t, t.Dtype, t.Dims
	}
	return nil
}

func numelOf(t *potv1.Tensor) int64 {
	n, err := numel(t.GetDims())
	if err != nil {
		return -1
	}
	return n
}

func isFloat(dt potv1.DataType) bool {
	switch dt {
	case potv1.DataType_DATA_TYPE_FLOAT, potv1.DataType_DATA_TYPE_FLOAT16, potv1.DataType_DATA_TYPE_BFLOAT16, potv1.DataType_DATA_TYPE_DOUBLE:
		return true
	}
	return false
}

// foldableCast tells whether the reader computes a Convert between these
// types itself: to a float type from any numeric type (as decompression
// subgraphs do), or between integer types.
func foldableCast(from, to potv1.DataType) bool {
	if elemBits(from) == 0 || elemBits(to) == 0 || from == potv1.DataType_DATA_TYPE_BOOL || to == potv1.DataType_DATA_TYPE_BOOL {
		return false
	}
	return isFloat(to) || !isFloat(from)
}

// decode returns a numeric tensor's values.
func decode(t *potv1.Tensor) ([]float64, error) {
	n := numelOf(t)
	bits := int64(elemBits(t.Dtype))
	if n < 0 || bits == 0 || int64(len(t.Data)) != (n*bits+7)/8 || n > maxFold {
		return nil, fmt.Errorf("tensor %q: %d bytes for %v%v", t.Name, len(t.Data), t.Dtype, t.Dims)
	}
	d := t.Data
	out := make([]float64, n)
	for i := range out {
		switch t.Dtype {
		case potv1.DataType_DATA_TYPE_FLOAT:
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(d[4*i:])))
		case potv1.DataType_DATA_TYPE_FLOAT16:
			out[i] = float64(tensor.Float16Bits(binary.LittleEndian.Uint16(d[2*i:])).Float32())
		case potv1.DataType_DATA_TYPE_BFLOAT16:
			out[i] = float64(tensor.BFloat16Bits(binary.LittleEndian.Uint16(d[2*i:])).Float32())
		case potv1.DataType_DATA_TYPE_DOUBLE:
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(d[8*i:]))
		case potv1.DataType_DATA_TYPE_INT8:
			out[i] = float64(int8(d[i]))
		case potv1.DataType_DATA_TYPE_UINT8:
			out[i] = float64(d[i])
		case potv1.DataType_DATA_TYPE_INT16:
			out[i] = float64(int16(binary.LittleEndian.Uint16(d[2*i:])))
		case potv1.DataType_DATA_TYPE_UINT16:
			out[i] = float64(binary.LittleEndian.Uint16(d[2*i:]))
		case potv1.DataType_DATA_TYPE_INT32:
			out[i] = float64(int32(binary.LittleEndian.Uint32(d[4*i:])))
		case potv1.DataType_DATA_TYPE_UINT32:
			out[i] = float64(binary.LittleEndian.Uint32(d[4*i:]))
		case potv1.DataType_DATA_TYPE_INT64:
			out[i] = float64(int64(binary.LittleEndian.Uint64(d[8*i:])))
		case potv1.DataType_DATA_TYPE_UINT64:
			out[i] = float64(binary.LittleEndian.Uint64(d[8*i:]))
		case potv1.DataType_DATA_TYPE_UINT4, potv1.DataType_DATA_TYPE_INT4:
			b := d[i/2]
			if i%2 == 1 {
				b >>= 4
			}
			b &= 0xf
			if t.Dtype == potv1.DataType_DATA_TYPE_INT4 && b >= 8 {
				out[i] = float64(int(b) - 16)
			} else {
				out[i] = float64(b)
			}
		default:
			return nil, fmt.Errorf("tensor %q: type %v is not decoded", t.Name, t.Dtype)
		}
	}
	return out, nil
}

// ints returns an integer tensor's values.
func ints(t *potv1.Tensor) ([]int64, error) {
	switch t.GetDtype() {
	case potv1.DataType_DATA_TYPE_INT64:
		n := numelOf(t)
		if n < 0 || int64(len(t.Data)) != 8*n {
			return nil, fmt.Errorf("tensor %q: %d bytes for %v", t.Name, len(t.Data), t.Dims)
		}
		out := make([]int64, n)
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint64(t.Data[8*i:]))
		}
		return out, nil
	case potv1.DataType_DATA_TYPE_INT32, potv1.DataType_DATA_TYPE_INT8, potv1.DataType_DATA_TYPE_UINT8, potv1.DataType_DATA_TYPE_INT16,
		potv1.DataType_DATA_TYPE_UINT16, potv1.DataType_DATA_TYPE_UINT32, potv1.DataType_DATA_TYPE_UINT64:
		v, err := decode(t)
		if err != nil {
			return nil, err
		}
		out := make([]int64, len(v))
		for i, x := range v {
			out[i] = int64(x)
		}
		return out, nil
	}
	return nil, fmt.Errorf("tensor %q is %v, not an integer tensor", t.GetName(), t.GetDtype())
}

// encode builds a tensor of type dt from values (integer types truncate).
func encode(name string, dt potv1.DataType, dims []int64, v []float64) *potv1.Tensor {
	bits := elemBits(dt)
	d := make([]byte, (len(v)*bits+7)/8)
	for i, x := range v {
		switch dt {
		case potv1.DataType_DATA_TYPE_FLOAT:
			binary.LittleEndian.PutUint32(d[4*i:], math.Float32bits(float32(x)))
		case potv1.DataType_DATA_TYPE_FLOAT16:
			binary.LittleEndian.PutUint16(d[2*i:], uint16(tensor.ToFloat16(float32(x))))
		case potv1.DataType_DATA_TYPE_BFLOAT16:
			binary.LittleEndian.PutUint16(d[2*i:], uint16(tensor.ToBFloat16(float32(x))))
		case potv1.DataType_DATA_TYPE_DOUBLE:
			binary.LittleEndian.PutUint64(d[8*i:], math.Float64bits(x))
		case potv1.DataType_DATA_TYPE_INT8, potv1.DataType_DATA_TYPE_UINT8:
			d[i] = byte(int64(x))
		case potv1.DataType_DATA_TYPE_INT16, potv1.DataType_DATA_TYPE_UINT16:
			binary.LittleEndian.PutUint16(d[2*i:], uint16(int64(x)))
		case potv1.DataType_DATA_TYPE_INT32, potv1.DataType_DATA_TYPE_UINT32:
			binary.LittleEndian.PutUint32(d[4*i:], uint32(int64(x)))
		case potv1.DataType_DATA_TYPE_INT64, potv1.DataType_DATA_TYPE_UINT64:
			binary.LittleEndian.PutUint64(d[8*i:], uint64(int64(x)))
		case potv1.DataType_DATA_TYPE_INT4, potv1.DataType_DATA_TYPE_UINT4:
			b := byte(int64(x)) & 0xf
			if i%2 == 1 {
				b <<= 4
			}
			d[i/2] |= b
		}
	}
	return &potv1.Tensor{Name: name, Dtype: dt, Dims: append([]int64{}, dims...), Data: d}
}

// f32 builds a float32 tensor.
func f32(name string, dims []int64, v []float32) *potv1.Tensor {
	d := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(d[4*i:], math.Float32bits(x))
	}
	return &potv1.Tensor{Name: name, Dtype: potv1.DataType_DATA_TYPE_FLOAT, Dims: append([]int64{}, dims...), Data: d}
}

// f32s decodes a float32 tensor.
func f32s(t *potv1.Tensor) []float32 {
	v := make([]float32, len(t.Data)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return v
}

// i64 builds an int64 tensor.
func i64(name string, dims []int64, v []int64) *potv1.Tensor {
	d := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(d[8*i:], uint64(x))
	}
	return &potv1.Tensor{Name: name, Dtype: potv1.DataType_DATA_TYPE_INT64, Dims: append([]int64{}, dims...), Data: d}
}

// broadcastShape is numpy's broadcast of two static shapes.
func broadcastShape(a, b []int64) ([]int64, bool) {
	n := max(len(a), len(b))
	out := make([]int64, n)
	for i := range n {
		x, y := int64(1), int64(1)
		if j := i - (n - len(a)); j >= 0 {
			x = a[j]
		}
		if j := i - (n - len(b)); j >= 0 {
			y = b[j]
		}
		switch {
		case x == y, y == 1:
			out[i] = x
		case x == 1:
			out[i] = y
		default:
			return nil, false
		}
	}
	return out, true
}

// broadcastIndex maps a flat index of shape out to the flat index of an
// operand of shape in (numpy broadcast).
func broadcastIndex(out, in []int64) func(int64) int64 {
	n := len(out)
	strides := make([]int64, n)
	s := int64(1)
	for i := len(in) - 1; i >= 0; i-- {
		j := i + n - len(in)
		if in[i] != 1 {
			strides[j] = s
		}
		s *= in[i]
	}
	return func(flat int64) int64 {
		idx := int64(0)
		for i := n - 1; i >= 0; i-- {
			c := flat % out[i]
			flat /= out[i]
			idx += c * strides[i]
		}
		return idx
	}
}

// foldBinary computes a float32 elementwise operation of two constants
// with numpy broadcast; nil when the shapes do not broadcast or the
// result is too large.
func foldBinary(op, name string, a, b *potv1.Tensor) *potv1.Tensor {
	dims, ok := broadcastShape(a.Dims, b.Dims)
	if !ok {
		return nil
	}
	n, err := numel(dims)
	if err != nil || n > maxFold || int64(len(a.Data)) != 4*numelOf(a) || int64(len(b.Data)) != 4*numelOf(b) {
		return nil
	}
	x, y := f32s(a), f32s(b)
	ia, ib := broadcastIndex(dims, a.Dims), broadcastIndex(dims, b.Dims)
	out := make([]float32, n)
	for i := range out {
		p, q := x[ia(int64(i))], y[ib(int64(i))]
		switch op {
		case "Add":
			out[i] = p + q
		case "Subtract":
			out[i] = p - q
		case "Multiply":
			out[i] = p * q
		case "Divide":
			out[i] = p / q
		}
	}
	return f32(name, dims, out)
}

// fakeQuantize is FakeQuantize-1 of one value, as its specification
// gives it: x at or below min(il, ih) is ol, above max(il, ih) is oh,
// else round((x - il) / (ih - il) * (levels - 1)) / (levels - 1) *
// (oh - ol) + ol, rounding half to even.
func fakeQuantize(x, il, ih, ol, oh float32, levels int64) float32 {
	switch {
	case x <= min(il, ih):
		return ol
	case x > max(il, ih):
		return oh
	}
	l := float32(levels - 1)
	q := float32(math.RoundToEven(float64((x - il) / (ih - il) * l)))
	return q/l*(oh-ol) + ol
}

// foldFakeQuantize computes FakeQuantize of constants.
func foldFakeQuantize(name string, ins []*potv1.Tensor, levels int64) *potv1.Tensor {
	dims := ins[0].Dims
	for _, t := range ins[1:] {
		d, ok := broadcastShape(dims, t.Dims)
		if !ok {
			return nil
		}
		dims = d
	}
	n, err := numel(dims)
	if err != nil || n > maxFold {
		return nil
	}
	var vals [5][]float32
	var idx [5]func(int64) int64
	for i, t := range ins {
		if int64(len(t.Data)) != 4*numelOf(t) {
			return nil
		}
		vals[i], idx[i] = f32s(t), broadcastIndex(dims, t.Dims)
	}
	out := make([]float32, n)
	for i := range out {
		var v [5]float32
		for k := range v {
			v[k] = vals[k][idx[k](int64(i))]
		}
		out[i] = fakeQuantize(v[0], v[1], v[2], v[3], v[4], levels)
	}
	return f32(name, dims, out)
}
