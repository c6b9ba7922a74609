package onnx

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/onnxpb"
	"github.com/potgo/pot/proto/potv1"
)

// TestTypedFieldsMatchRaw checks the golden tensors of
// testdata/tensors (made by ONNX's helpers, see gen.py): the typed-field
// form decodes to the bytes ONNX writes as raw_data.
func TestTypedFieldsMatchRaw(t *testing.T) {
	typed, err := filepath.Glob(filepath.Join("testdata", "tensors", "*.typed.pb"))
	if err != nil || len(typed) < 15 {
		t.Fatalf("golden tensors missing: %v %v", typed, err)
	}
	for _, path := range typed {
		name := strings.TrimSuffix(filepath.Base(path), ".typed.pb")
		t.Run(name, func(t *testing.T) {
			tp, err := ReadTensorFile(path)
			if err != nil {
				t.Fatal(err)
			}
			rp, err := ReadTensorFile(strings.TrimSuffix(path, ".typed.pb") + ".raw.pb")
			if err != nil {
				t.Fatal(err)
			}
			if tp.RawData != nil || rp.RawData == nil {
				t.Fatalf("golden files are not typed/raw pairs")
			}
			fromTyped, err := TensorFromProto(tp)
			if err != nil {
				t.Fatal(err)
			}
			fromRaw, err := TensorFromProto(rp)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(fromTyped.GetData(), rp.GetRawData()) {
				t.Errorf("typed data decodes to % x, ONNX raw_data is % x", fromTyped.GetData(), rp.GetRawData())
			}
			if !proto.Equal(fromTyped, fromRaw) {
				t.Errorf("typed and raw tensors differ: %v vs %v", fromTyped, fromRaw)
			}
			// And back: TensorToProto writes the raw form.
			if back := TensorToProto(fromTyped); !bytes.Equal(back.GetRawData(), rp.GetRawData()) || back.GetDataType() != rp.GetDataType() {
				t.Errorf("TensorToProto = %v, want %v", back, rp)
			}
		})
	}
}

func TestTensorFromProto(t *testing.T) {
	i32 := func(v ...int32) []int32 { return v }
	tests := []struct {
		name string
		t    *onnxpb.TensorProto
		want []byte // nil: error expected
		err  string
	}{
		{"int4 packed in int32_data", &onnxpb.TensorProto{DataType: proto.Int32(22), Dims: []int64{3}, Int32Data: i32(0x7f, 0x08)}, []byte{0x7f, 0x08}, ""},
		{"uint4 raw", &onnxpb.TensorProto{DataType: proto.Int32(21), Dims: []int64{4}, RawData: []byte{0x21, 0x43}}, []byte{0x21, 0x43}, ""},
		{"bfloat16 bits", &onnxpb.TensorProto{DataType: proto.Int32(16), Dims: []int64{2}, Int32Data: i32(0x3f80, 0xc000)}, []byte{0x80, 0x3f, 0x00, 0xc0}, ""},
		{"float8 bits", &onnxpb.TensorProto{DataType: proto.Int32(17), Dims: []int64{2}, Int32Data: i32(0x38, 0xb8)}, []byte{0x38, 0xb8}, ""},
		{"complex128", &onnxpb.TensorProto{DataType: proto.Int32(15), Dims: []int64{1}, DoubleData: []float64{1, -2}}, []byte{0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0xc0}, ""},
		{"raw too short", &onnxpb.TensorProto{Name: proto.String("w"), DataType: proto.Int32(1), Dims: []int64{2, 2}, RawData: make([]byte, 15)}, nil, `tensor "w": raw_data has 15 bytes, dims [2 2] of type FLOAT need 16`},
		{"raw too long", &onnxpb.TensorProto{DataType: proto.Int32(7), Dims: []int64{1}, RawData: make([]byte, 9)}, nil, "raw_data has 9 bytes"},
		{"float_data count", &onnxpb.TensorProto{DataType: proto.Int32(1), Dims: []int64{3}, FloatData: []float32{1, 2}}, nil, "float_data has 2 values, dims [3] of type FLOAT need 3"},
		{"int32_data count", &onnxpb.TensorProto{DataType: proto.Int32(3), Dims: []int64{2}, Int32Data: i32(1, 2, 3)}, nil, "int32_data has 3 values"},
		{"wrong typed field", &onnxpb.TensorProto{DataType: proto.Int32(7), Dims: []int64{1}, Int32Data: i32(1)}, nil, "int64_data has 0 values"},
		{"no data", &onnxpb.TensorProto{DataType: proto.Int32(1), Dims: []int64{4}}, nil, "float_data has 0 values"},
		{"huge dims no data", &onnxpb.TensorProto{DataType: proto.Int32(1), Dims: []int64{1 << 40, 1 << 20}}, nil, "float_data has 0 values"},
		{"dims overflow", &onnxpb.TensorProto{DataType: proto.Int32(1), Dims: []int64{1 << 40, 1 << 40}}, nil, "overflow"},
		{"size overflow", &onnxpb.TensorProto{DataType: proto.Int32(15), Dims: []int64{1 << 61}}, nil, "too large"},
		{"negative dim", &onnxpb.TensorProto{DataType: proto.Int32(1), Dims: []int64{-1}}, nil, "negative dimension -1"},
		{"unknown type", &onnxpb.TensorProto{DataType: proto.Int32(99), Dims: []int64{1}, RawData: []byte{1}}, nil, "data type 99 is not supported"},
		{"undefined type", &onnxpb.TensorProto{Dims: []int64{1}, RawData: []byte{1}}, nil, "data type UNDEFINED is not supported"},
		{"strings count", &onnxpb.TensorProto{DataType: proto.Int32(8), Dims: []int64{2}, StringData: [][]byte{[]byte("a")}}, nil, "1 strings for dims [2]"},
		{"external not loaded", &onnxpb.TensorProto{DataType: proto.Int32(1), DataLocation: onnxpb.TensorProto_EXTERNAL.Enum()}, nil, "external data not loaded"},
		{"segment", &onnxpb.TensorProto{DataType: proto.Int32(1), Segment: &onnxpb.TensorProto_Segment{}}, nil, "segmented data is not supported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := TensorFromProto(tc.t)
			if tc.want == nil {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.GetData(), tc.want) {
				t.Errorf("data = % x, want % x", got.GetData(), tc.want)
			}
		})
	}
}

func TestRawSize(t *testing.T) {
	tests := []struct {
		dt   onnxpb.TensorProto_DataType
		n    int64
		want int64
	}{
		{onnxpb.TensorProto_FLOAT, 3, 12},
		{onnxpb.TensorProto_BOOL, 3, 3},
		{onnxpb.TensorProto_INT4, 3, 2},
		{onnxpb.TensorProto_UINT4, 4, 2},
		{onnxpb.TensorProto_COMPLEX128, 2, 32},
		{onnxpb.TensorProto_STRING, 2, -1},
		{onnxpb.TensorProto_DOUBLE, 1 << 61, -1},
		{onnxpb.TensorProto_FLOAT, -1, -1},
	}
	for _, tc := range tests {
		if got := RawSize(int32(tc.dt), tc.n); got != tc.want {
			t.Errorf("RawSize(%v, %d) = %d, want %d", tc.dt, tc.n, got, tc.want)
		}
	}
}

func TestTensorToProtoStrings(t *testing.T) {
	in := &potv1.Tensor{Name: "s", Dtype: potv1.DataType_DATA_TYPE_STRING, Dims: []int64{2}, StringData: [][]byte{[]byte("a"), []byte("bc")}}
	out, err := TensorFromProto(TensorToProto(in))
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(in, out) {
		t.Errorf("string tensor round trip: %v", out)
	}
}
