package tensor

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/potgo/pot/proto/potv1"
)

func TestFromProtoSharedViewsFloatData(t *testing.T) {
	raw := make([]byte, 4*6)
	for i := range 6 {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(float32(i)+0.5))
	}
	p := &potv1.Tensor{Name: "w", Dtype: potv1.DataType_DATA_TYPE_FLOAT, Dims: []int64{2, 3}, Data: raw}
	got, err := FromProtoShared(p)
	if err != nil {
		t.Fatal(err)
	}
	want, err := FromProto(p)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range want.F32() {
		if got.F32()[i] != v {
			t.Fatalf("element %d: %v, want %v", i, got.F32()[i], v)
		}
	}
	if nativeLittleEndian {
		// Shared: a change to the wire bytes shows in the tensor.
		binary.LittleEndian.PutUint32(raw, math.Float32bits(7))
		if got.F32()[0] != 7 {
			t.Error("FromProtoShared copied the data")
		}
	}
	p.Data = raw[:20]
	if _, err := FromProtoShared(p); err == nil {
		t.Error("a short tensor was accepted")
	}
}
