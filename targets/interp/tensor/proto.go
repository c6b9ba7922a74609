package tensor

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/potgo/pot/proto/potv1"
)

// nativeLittleEndian tells whether the machine's byte order is that of
// the wire format, so float32 data can be read in place.
var nativeLittleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// FromProtoShared is FromProto without a copy where the layout allows:
// float32 data on a little-endian machine, 4-byte aligned, and int8 or
// uint8 data are viewed in place, so the tensor shares p's bytes. The
// tensor must then not be modified, and p's data must not change while
// the tensor is in use. Other types are copied as by FromProto. Programs
// use it for initializers, which they only read: a model's weights are
// then held once, by the graph, however many programs are compiled from
// it.
func FromProtoShared(p *potv1.Tensor) (*Tensor, error) {
	raw := p.GetData()
	dt := DType(p.GetDtype())
	size := dt.Size()
	switch {
	case len(raw) == 0 || !nativeLittleEndian:
		return FromProto(p)
	case dt == Float && uintptr(unsafe.Pointer(&raw[0]))%4 == 0:
	case dt == Int8 || dt == Uint8:
	default:
		return FromProto(p)
	}
	shape, n, err := protoShape(p)
	if err != nil {
		return nil, err
	}
	if len(raw) != size*n {
		return nil, fmt.Errorf("tensor %q: %d data bytes for %v%v (want %d)", p.GetName(), len(raw), dt, shape, size*n)
	}
	switch dt {
	case Float:
		return From(shape, unsafe.Slice((*float32)(unsafe.Pointer(&raw[0])), n)), nil
	case Int8:
		return From(shape, unsafe.Slice((*int8)(unsafe.Pointer(&raw[0])), n)), nil
	}
	return From(shape, raw[:n:n]), nil
}

// ToProtoShared is ToProto without a copy for float32 (on a
// little-endian machine), int8 and uint8 tensors: the wire tensor's data
// is a view of t's. For tensors that stay unchanged (compiled
// constants), never for buffers a session reuses.
func ToProtoShared(name string, t *Tensor) *potv1.Tensor {
	var raw []byte
	switch d := t.Data.(type) {
	case []float32:
		if nativeLittleEndian && len(d) > 0 {
			raw = unsafe.Slice((*byte)(unsafe.Pointer(&d[0])), 4*len(d))
		}
	case []int8:
		if len(d) > 0 {
			raw = unsafe.Slice((*byte)(unsafe.Pointer(&d[0])), len(d))
		}
	case []uint8:
		raw = d
	}
	if raw == nil {
		return ToProto(name, t)
	}
	p := &potv1.Tensor{Name: name, Dtype: potv1.DataType(t.DType), Dims: make([]int64, len(t.Shape)), Data: raw}
	for i, d := range t.Shape {
		p.Dims[i] = int64(d)
	}
	return p
}

// protoShape checks and converts a wire tensor's dims.
func protoShape(p *potv1.Tensor) ([]int, int, error) {
	shape := make([]int, len(p.GetDims()))
	n := 1
	for i, d := range p.GetDims() {
		if d < 0 || d > math.MaxInt32 {
			return nil, 0, fmt.Errorf("tensor %q: bad dimension %d", p.GetName(), d)
		}
		shape[i] = int(d)
		// Check before multiplying: n <= 4*MaxInt32 times d <= MaxInt32
		// can overflow.
		if d > 0 && n > math.MaxInt32*4/int(d) {
			return nil, 0, fmt.Errorf("tensor %q: %v elements is too many", p.GetName(), p.GetDims())
		}
		n *= int(d)
	}
	return shape, n, nil
}

// FromProto decodes a wire tensor. It checks that the byte length matches
// the dims, so a corrupt tensor is an error, not a crash.
func FromProto(p *potv1.Tensor) (*Tensor, error) {
	dt := DType(p.GetDtype())
	shape, n, err := protoShape(p)
	if err != nil {
		return nil, err
	}
	if dt == String {
		if len(p.GetStringData()) != n {
			return nil, fmt.Errorf("tensor %q: %d strings for shape %v", p.GetName(), len(p.GetStringData()), shape)
		}
		s := make([]string, n)
		for i, b := range p.GetStringData() {
			s[i] = string(b)
		}
		return From(shape, s), nil
	}
	if !dt.Supported() {
		return nil, fmt.Errorf("tensor %q: element type %v is not supported", p.GetName(), dt)
	}
	raw := p.GetData()
	want := n * dt.Size()
	if dt == Int4 || dt == Uint4 {
		want = (n + 1) / 2
	}
	if len(raw) != want {
		return nil, fmt.Errorf("tensor %q: %d data bytes for %v%v (want %d)", p.GetName(), len(raw), dt, shape, want)
	}
	t := NewHeld(dt, shape...)
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
	case []Float16Bits:
		for i := range d {
			d[i] = Float16Bits(le.Uint16(raw[2*i:]))
		}
	case []BFloat16Bits:
		for i := range d {
			d[i] = BFloat16Bits(le.Uint16(raw[2*i:]))
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
	case []Int4Value:
		for i := range d {
			v := raw[i/2] >> (4 * uint(i%2)) & 0xf
			d[i] = Int4Value(int8(v<<4) >> 4)
		}
	case []Uint4Value:
		for i := range d {
			d[i] = Uint4Value(raw[i/2] >> (4 * uint(i%2)) & 0xf)
		}
	}
	return t, nil
}

// ToProto encodes a tensor for the wire.
func ToProto(name string, t *Tensor) *potv1.Tensor {
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
	if t.DType == Int4 || t.DType == Uint4 {
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
	case []Float16Bits:
		for i, v := range d {
			le.PutUint16(raw[2*i:], uint16(v))
		}
	case []BFloat16Bits:
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
	case []Int4Value:
		for i, v := range d {
			raw[i/2] |= (byte(v) & 0xf) << (4 * uint(i%2))
		}
	case []Uint4Value:
		for i, v := range d {
			raw[i/2] |= (byte(v) & 0xf) << (4 * uint(i%2))
		}
	}
	p.Data = raw
	return p
}
