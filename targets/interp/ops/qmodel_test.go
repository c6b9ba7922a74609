package ops

import (
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/targets/interp/kernels"
	"github.com/potgo/pot/targets/interp/tensor"
)

// TestAccumulationModel: avx2 sums exactly when every activation zero
// point is within [126, 129] and no weight is -128; otherwise it keeps
// the pair saturation. vnni is always exact.
func TestAccumulationModel(t *testing.T) {
	for _, c := range []struct {
		isa  string
		zp   []int32
		w    []int8
		want kernels.QModel
	}{
		{ISAAVX2, []int32{128}, []int8{127, -127}, kernels.QExact},
		{ISAAVX2, []int32{126}, []int8{127, 127}, kernels.QExact},
		{ISAAVX2, []int32{129}, []int8{-127, -127}, kernels.QExact},
		{ISAAVX2, []int32{125}, []int8{1}, kernels.QSaturating},
		{ISAAVX2, []int32{130}, []int8{1}, kernels.QSaturating},
		{ISAAVX2, []int32{0}, []int8{1}, kernels.QSaturating},
		{ISAAVX2, []int32{128}, []int8{5, -128}, kernels.QSaturating},
		{ISAAVX2, []int32{128, 127, 0}, []int8{1}, kernels.QSaturating},
		{ISAAVX2, []int32{128, 127, 126}, []int8{1}, kernels.QExact},
		{ISAVNNI, []int32{0}, []int8{-128}, kernels.QExact},
	} {
		p := &potv1.Node{OpType: "QConv", Domain: DomainPot,
			Attributes: []*potv1.Attribute{{Name: "isa", Type: potv1.Attribute_TYPE_STRING, S: []byte(c.isa)}}}
		consts := []*tensor.Tensor{nil, tensor.From([]int{len(c.w)}, c.w), nil, tensor.From([]int{len(c.zp)}, c.zp)}
		got, err := accumulationModel(NewNode(p, 1, consts), c.w)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%s, zero points %v, weights %v: model %v, want %v", c.isa, c.zp, c.w, got, c.want)
		}
	}
	// No zero point: left to qConsts to report.
	p := &potv1.Node{OpType: "QConv", Domain: DomainPot,
		Attributes: []*potv1.Attribute{{Name: "isa", Type: potv1.Attribute_TYPE_STRING, S: []byte(ISAAVX2)}}}
	if got, err := accumulationModel(NewNode(p, 1, nil), nil); err != nil || got != kernels.QSaturating {
		t.Errorf("no zero point: %v, %v", got, err)
	}
}
