package gna

import (
	"context"
	"strings"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/target"
	"github.com/potgo/pot/targets/hwconfig"
)

// A model with operations outside GNA's list is refused at load, before
// any compilation, with every such node and its operation type.
func TestRefuseUnsupported(t *testing.T) {
	hw := hwconfig.MustLoad("gna")
	e := target.MustNew(target.Config{Name: "gna", Version: "test", Device: "GNA", HardwareConfig: hw, Presets: []string{"performance"},
		Check: NewChecker(hw).Check, Numerics: target.Numerics{Lower: Lowering{}.Lower}})
	g := tinyMLP()
	g.Nodes = append(g.Nodes,
		&potv1.Node{Name: "soft", OpType: "Softmax", Inputs: []string{"out"}, Outputs: []string{"p"}},
		&potv1.Node{Name: "norm", OpType: "LayerNormalization", Inputs: []string{"p"}, Outputs: []string{"q"}},
		&potv1.Node{Name: "custom", OpType: "Gelu", Domain: "com.example", Inputs: []string{"q"}, Outputs: []string{"r"}},
		&potv1.Node{Name: "k", OpType: "Constant", Outputs: []string{"c"}},
	)
	resp, err := e.LoadModel(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetModelId() != "" {
		t.Error("the model was loaded")
	}
	got := strings.Join(resp.GetUnsupported(), "\n")
	for _, want := range []string{"soft (Softmax)", "norm (LayerNormalization)", "custom (Gelu)", `domain "com.example"`} {
		if !strings.Contains(got, want) {
			t.Errorf("unsupported list lacks %q:\n%s", want, got)
		}
	}
	if len(resp.GetUnsupported()) != 3 {
		t.Errorf("%d unsupported nodes, want 3 (GNA's own operations and Constant pass):\n%s", len(resp.GetUnsupported()), got)
	}
	// The same model without them loads.
	resp, err = e.LoadModel(context.Background(), tinyMLP())
	if err != nil || resp.GetModelId() == "" {
		t.Errorf("tinyMLP: %v, %v", resp, err)
	}
}

func TestCheckerFollowsTheConfig(t *testing.T) {
	c := NewChecker(hwconfig.MustLoad("gna"))
	for op, ok := range map[string]bool{"Conv": true, "Gemm": true, "Sigmoid": true, "Exp": true, "MaxPool": true, "Concat": true,
		"Softmax": false, "BatchNormalization": false, "HardSigmoid": false, "Resize": false} {
		if err := c.Check(&potv1.Node{Name: "n", OpType: op}); (err == nil) != ok {
			t.Errorf("%s: %v", op, err)
		}
	}
}
