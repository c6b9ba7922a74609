package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/potgo/pot/proto/onnxpb"
	"github.com/potgo/pot/proto/potv1"
)

// errUnsupported marks a tensor pot cannot lay out (an element type it
// does not know, segmented data). Decoding tolerates it (the tensor
// passes through unread); conversion to a pot tensor does not.
var errUnsupported = errors.New("not supported")

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

func is4Bit(dt int32) bool {
	return dt == int32(onnxpb.TensorProto_UINT4) || dt == int32(onnxpb.TensorProto_INT4)
}

// RawSize is the number of bytes of raw data a tensor of this type and
// element count has, or -1 for types pot cannot lay out (strings, unknown
// types) and for sizes that overflow int64.
func RawSize(dt int32, n int64) int64 {
	if n < 0 {
		return -1
	}
	if is4Bit(dt) {
		return n/2 + n%2
	}
	s := int64(elemSize(dt))
	if s == 0 || n > math.MaxInt64/s {
		return -1
	}
	return n * s
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

// rawSizeOf validates t's dims and returns its element count and raw
// byte size. The error wraps errUnsupported for types pot cannot lay
// out (strings are laid out by count, with size -1).
func rawSizeOf(t *onnxpb.TensorProto) (n, size int64, err error) {
	n, err = numElements(t.GetDims())
	if err != nil {
		return 0, 0, fmt.Errorf("tensor %q: %w", t.GetName(), err)
	}
	dt := t.GetDataType()
	if dt == int32(onnxpb.TensorProto_STRING) {
		return n, -1, nil
	}
	size = RawSize(dt, n)
	if size < 0 {
		if elemSize(dt) > 0 {
			return 0, 0, fmt.Errorf("tensor %q: dims %v of type %s are too large", t.GetName(), t.GetDims(), dtName(dt))
		}
		return 0, 0, fmt.Errorf("tensor %q: data type %s is %w", t.GetName(), dtName(dt), errUnsupported)
	}
	return n, size, nil
}

// typedCount is the number of entries of the typed field that holds
// data of type dt for n elements, and the length of that field in t.
func typedCount(t *onnxpb.TensorProto, n int64) (want int64, have int, field string) {
	dt := t.GetDataType()
	want = n
	switch onnxpb.TensorProto_DataType(dt) {
	case onnxpb.TensorProto_FLOAT:
		return want, len(t.GetFloatData()), "float_data"
	case onnxpb.TensorProto_COMPLEX64:
		return 2 * n, len(t.GetFloatData()), "float_data"
	case onnxpb.TensorProto_DOUBLE:
		return want, len(t.GetDoubleData()), "double_data"
	case onnxpb.TensorProto_COMPLEX128:
		return 2 * n, len(t.GetDoubleData()), "double_data"
	case onnxpb.TensorProto_INT64:
		return want, len(t.GetInt64Data()), "int64_data"
	case onnxpb.TensorProto_UINT32, onnxpb.TensorProto_UINT64:
		return want, len(t.GetUint64Data()), "uint64_data"
	case onnxpb.TensorProto_UINT4, onnxpb.TensorProto_INT4:
		// Two 4-bit values packed in each int32_data entry's low byte.
		return n/2 + n%2, len(t.GetInt32Data()), "int32_data"
	}
	// int32_data holds INT32 and the narrow types one value per entry:
	// INT8, UINT8, INT16, UINT16, BOOL, FLOAT16 and BFLOAT16 (bits),
	// FLOAT8 (bits).
	return want, len(t.GetInt32Data()), "int32_data"
}

// checkTensor validates that an inline tensor's data agrees with its
// dims and type, without copying it. Tensors with external data are not
// checked (LoadExternalData checks them when it reads them).
func checkTensor(t *onnxpb.TensorProto) error {
	if t == nil {
		return errors.New("missing tensor")
	}
	if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
		return nil
	}
	if t.GetSegment() != nil {
		return fmt.Errorf("tensor %q: segmented data is %w", t.GetName(), errUnsupported)
	}
	n, size, err := rawSizeOf(t)
	if err != nil {
		return err
	}
	dt := t.GetDataType()
	if size < 0 { // strings
		if int64(len(t.GetStringData())) != n {
			return fmt.Errorf("tensor %q: %d strings for dims %v", t.GetName(), len(t.GetStringData()), t.GetDims())
		}
		return nil
	}
	if t.RawData != nil {
		if int64(len(t.GetRawData())) != size {
			return fmt.Errorf("tensor %q: raw_data has %d bytes, dims %v of type %s need %d", t.GetName(), len(t.GetRawData()), t.GetDims(), dtName(dt), size)
		}
		return nil
	}
	if want, have, field := typedCount(t, n); int64(have) != want {
		return fmt.Errorf("tensor %q: %s has %d values, dims %v of type %s need %d", t.GetName(), field, have, t.GetDims(), dtName(dt), want)
	}
	return nil
}

// TensorFromProto converts an ONNX tensor with its data inline (raw_data
// or the typed fields) into a pot tensor with raw little-endian data.
// External data must have been loaded first (see LoadExternalData).
// The data length is validated against the dims before anything is
// allocated, so a hostile tensor cannot claim a huge size. Raw data is
// shared with t, not copied (a large model's weights are held once).
func TensorFromProto(t *onnxpb.TensorProto) (*potv1.Tensor, error) {
	if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
		return nil, fmt.Errorf("tensor %q: external data not loaded", t.GetName())
	}
	if err := checkTensor(t); err != nil {
		return nil, err
	}
	out := &potv1.Tensor{Name: t.GetName(), Dtype: potv1.DataType(t.GetDataType()), Dims: append([]int64(nil), t.GetDims()...)}
	dt := t.GetDataType()
	if dt == int32(onnxpb.TensorProto_STRING) {
		out.StringData = append([][]byte(nil), t.GetStringData()...)
		return out, nil
	}
	if t.RawData != nil {
		out.Data = t.GetRawData() // shared, not copied: weights are held once
		return out, nil
	}
	out.Data = typedToRaw(t)
	return out, nil
}

// typedToRaw lays out a tensor's typed-field data as raw little-endian
// bytes. t must have passed checkTensor.
func typedToRaw(t *onnxpb.TensorProto) []byte {
	dt := t.GetDataType()
	_, size, _ := rawSizeOf(t)
	raw := make([]byte, size)
	le := binary.LittleEndian
	switch onnxpb.TensorProto_DataType(dt) {
	case onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_COMPLEX64:
		for i, v := range t.GetFloatData() {
			le.PutUint32(raw[4*i:], math.Float32bits(v))
		}
	case onnxpb.TensorProto_DOUBLE, onnxpb.TensorProto_COMPLEX128:
		for i, v := range t.GetDoubleData() {
			le.PutUint64(raw[8*i:], math.Float64bits(v))
		}
	case onnxpb.TensorProto_INT64:
		for i, v := range t.GetInt64Data() {
			le.PutUint64(raw[8*i:], uint64(v))
		}
	case onnxpb.TensorProto_UINT32:
		for i, v := range t.GetUint64Data() {
			le.PutUint32(raw[4*i:], uint32(v))
		}
	case onnxpb.TensorProto_UINT64:
		for i, v := range t.GetUint64Data() {
			le.PutUint64(raw[8*i:], v)
		}
	default:
		es := elemSize(dt)
		if is4Bit(dt) {
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
	return raw
}

// TensorToProto converts a pot tensor to an ONNX tensor with raw_data.
// It does not validate the data length (FromGraph does). The data is
// shared with t, not copied.
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
	out.RawData = t.GetData() // shared, not copied
	return out
}

// checkPotTensor validates that a pot tensor's data agrees with its dims
// and type, so that FromGraph never writes a tensor ONNX cannot read.
func checkPotTensor(t *potv1.Tensor) error {
	n, err := numElements(t.GetDims())
	if err != nil {
		return fmt.Errorf("tensor %q: %w", t.GetName(), err)
	}
	dt := int32(t.GetDtype())
	if t.GetDtype() == potv1.DataType_DATA_TYPE_STRING {
		if int64(len(t.GetStringData())) != n {
			return fmt.Errorf("tensor %q: %d strings for dims %v", t.GetName(), len(t.GetStringData()), t.GetDims())
		}
		return nil
	}
	size := RawSize(dt, n)
	if size < 0 {
		return fmt.Errorf("tensor %q: data type %s with dims %v cannot be laid out", t.GetName(), dtName(dt), t.GetDims())
	}
	if int64(len(t.GetData())) != size {
		if t.GetDataSize() > 0 && len(t.GetData()) == 0 {
			return fmt.Errorf("tensor %q: data (%d bytes) was sent in chunks and not reassembled", t.GetName(), t.GetDataSize())
		}
		return fmt.Errorf("tensor %q: data has %d bytes, dims %v of type %s need %d", t.GetName(), len(t.GetData()), t.GetDims(), dtName(dt), size)
	}
	return nil
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
