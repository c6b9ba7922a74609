package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/potgo/pot/proto/onnxpb"
	"github.com/potgo/pot/proto/potv1"
)

// elemSize is the byte size of one element in raw data, 0 for strings and
// for 4-bit types (which pack two per byte).
func elemSize(dt int32) int {
	switch onnxpb.TensorProto_DataType(dt) {
	case onnxpb.TensorProto_UINT8, onnxpb.TensorProto_INT8, onnxpb.TensorProto_BOOL,
		onnxpb.TensorProto_FLOAT8E4M3FN, onnxpb.TensorProto_FLOAT8E4M3FNUZ,
		onnxpb.TensorProto_FLOAT8E5M2, onnxpb.TensorProto_FLOAT8E5M2FNUZ:
		return 1
	case onnxpb.TensorProto_UINT16, onnxpb.TensorProto_INT16, onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_BFLOAT16:
		return 2
	case onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_INT32, onnxpb.TensorProto_UINT32:
		return 4
	case onnxpb.TensorProto_DOUBLE, onnxpb.TensorProto_INT64, onnxpb.TensorProto_UINT64, onnxpb.TensorProto_COMPLEX64:
		return 8
	case onnxpb.TensorProto_COMPLEX128:
		return 16
	}
	return 0
}

// RawSize is the number of bytes of raw data a tensor of this type and
// element count has, or -1 for types pot cannot lay out.
func RawSize(dt int32, n int64) int64 {
	switch onnxpb.TensorProto_DataType(dt) {
	case onnxpb.TensorProto_UINT4, onnxpb.TensorProto_INT4:
		return (n + 1) / 2
	}
	s := elemSize(dt)
	if s == 0 {
		return -1
	}
	return n * int64(s)
}

func numElements(dims []int64) (int64, error) {
	n := int64(1)
	for _, d := range dims {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension %d in %v", d, dims)
		}
		if d > 0 && n > math.MaxInt64/d {
			return 0, fmt.Errorf("dimensions %v overflow", dims)
		}
		n *= d
	}
	return n, nil
}

// TensorFromProto converts an ONNX tensor with its data inline (raw_data
// or the typed fields) into a pot tensor with raw little-endian data.
// External data must have been loaded first (see LoadExternalData).
func TensorFromProto(t *onnxpb.TensorProto) (*potv1.Tensor, error) {
	out := &potv1.Tensor{Name: t.GetName(), Dtype: potv1.DataType(t.GetDataType()), Dims: append([]int64(nil), t.GetDims()...)}
	if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
		return nil, fmt.Errorf("tensor %q: external data not loaded", t.GetName())
	}
	if t.Segment != nil {
		return nil, fmt.Errorf("tensor %q: segmented tensors are not supported", t.GetName())
	}
	n, err := numElements(t.GetDims())
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.GetName(), err)
	}
	dt := t.GetDataType()
	if onnxpb.TensorProto_DataType(dt) == onnxpb.TensorProto_STRING {
		if int64(len(t.GetStringData())) != n {
			return nil, fmt.Errorf("tensor %q: %d strings for dims %v", t.GetName(), len(t.GetStringData()), t.GetDims())
		}
		out.StringData = append([][]byte(nil), t.GetStringData()...)
		return out, nil
	}
	size := RawSize(dt, n)
	if size < 0 {
		return nil, fmt.Errorf("tensor %q: data type %d is not supported", t.GetName(), dt)
	}
	if t.RawData != nil {
		if int64(len(t.GetRawData())) != size {
			return nil, fmt.Errorf("tensor %q: raw_data has %d bytes, dims %v of type %s need %d", t.GetName(), len(t.GetRawData()), t.GetDims(), dtName(dt), size)
		}
		out.Data = append([]byte(nil), t.GetRawData()...)
		return out, nil
	}
	raw := make([]byte, size)
	le := binary.LittleEndian
	count := func(have int) error {
		want := n
		if onnxpb.TensorProto_DataType(dt) == onnxpb.TensorProto_COMPLEX64 || onnxpb.TensorProto_DataType(dt) == onnxpb.TensorProto_COMPLEX128 {
			want = 2 * n
		}
		if onnxpb.TensorProto_DataType(dt) == onnxpb.TensorProto_UINT4 || onnxpb.TensorProto_DataType(dt) == onnxpb.TensorProto_INT4 {
			want = (n + 1) / 2
		}
		if int64(have) != want {
			return fmt.Errorf("tensor %q: %d values for dims %v of type %s", t.GetName(), have, t.GetDims(), dtName(dt))
		}
		return nil
	}
	switch onnxpb.TensorProto_DataType(dt) {
	case onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_COMPLEX64:
		if err := count(len(t.GetFloatData())); err != nil {
			return nil, err
		}
		for i, v := range t.GetFloatData() {
			le.PutUint32(raw[4*i:], math.Float32bits(v))
		}
	case onnxpb.TensorProto_DOUBLE, onnxpb.TensorProto_COMPLEX128:
		if err := count(len(t.GetDoubleData())); err != nil {
			return nil, err
		}
		for i, v := range t.GetDoubleData() {
			le.PutUint64(raw[8*i:], math.Float64bits(v))
		}
	case onnxpb.TensorProto_INT64:
		if err := count(len(t.GetInt64Data())); err != nil {
			return nil, err
		}
		for i, v := range t.GetInt64Data() {
			le.PutUint64(raw[8*i:], uint64(v))
		}
	case onnxpb.TensorProto_UINT32, onnxpb.TensorProto_UINT64:
		if err := count(len(t.GetUint64Data())); err != nil {
			return nil, err
		}
		for i, v := range t.GetUint64Data() {
			if dt == int32(onnxpb.TensorProto_UINT32) {
				le.PutUint32(raw[4*i:], uint32(v))
			} else {
				le.PutUint64(raw[8*i:], v)
			}
		}
	default:
		// int32_data holds INT32, and the narrow types one value per entry:
		// INT8, UINT8, INT16, UINT16, BOOL, FLOAT16 and BFLOAT16 (bits),
		// FLOAT8 (bits), and INT4/UINT4 (two packed values per entry).
		if err := count(len(t.GetInt32Data())); err != nil {
			return nil, err
		}
		es := elemSize(dt)
		if onnxpb.TensorProto_DataType(dt) == onnxpb.TensorProto_UINT4 || onnxpb.TensorProto_DataType(dt) == onnxpb.TensorProto_INT4 {
			es = 1
		}
		for i, v := range t.GetInt32Data() {
			switch es {
			case 1:
				raw[i] = byte(v)
			case 2:
				le.PutUint16(raw[2*i:], uint16(v))
			case 4:
				le.PutUint32(raw[4*i:], uint32(v))
			}
		}
	}
	out.Data = raw
	return out, nil
}

// TensorToProto converts a pot tensor to an ONNX tensor with raw_data.
func TensorToProto(t *potv1.Tensor) *onnxpb.TensorProto {
	out := &onnxpb.TensorProto{
		Name:     strPtr(t.GetName()),
		DataType: int32Ptr(int32(t.GetDtype())),
		Dims:     append([]int64(nil), t.GetDims()...),
	}
	if t.GetDtype() == potv1.DataType_DATA_TYPE_STRING {
		out.StringData = append([][]byte(nil), t.GetStringData()...)
		return out
	}
	out.RawData = append([]byte{}, t.GetData()...)
	return out
}

func dtName(dt int32) string {
	if s, ok := onnxpb.TensorProto_DataType_name[dt]; ok {
		return s
	}
	return fmt.Sprintf("%d", dt)
}

func strPtr(s string) *string { return &s }
func int32Ptr(v int32) *int32 { return &v }
func int64Ptr(v int64) *int64 { return &v }
