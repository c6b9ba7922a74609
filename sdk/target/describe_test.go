package target

import (
	"context"
	"fmt"
	"testing"

	"github.com/potgo/pot/proto/potv1"
)

// Describe lists the operators the target runs: a target whose check
// refuses an operator type does not list it, and LoadModel refuses a
// graph with it.
func TestDescribeListsWhatTheCheckAccepts(t *testing.T) {
	ctx := context.Background()
	all, err := newEngine(t, Config{Name: "all"}).Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	noPool := newEngine(t, Config{Name: "nopool", Check: func(n *potv1.Node) error {
		if n.GetOpType() == "MaxPool" {
			return fmt.Errorf("no pooling unit")
		}
		return nil
	}})
	d, err := noPool.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	listed := func(d *potv1.TargetDescription, op string) bool {
		for _, o := range d.GetOperators() {
			if o.GetOpType() == op && o.GetDomain() == "" {
				return true
			}
		}
		return false
	}
	if !listed(all, "MaxPool") || !listed(d, "Conv") {
		t.Fatalf("MaxPool listed without a check: %v; Conv listed with it: %v", listed(all, "MaxPool"), listed(d, "Conv"))
	}
	if listed(d, "MaxPool") {
		t.Error("the target refuses MaxPool but Describe lists it")
	}
	pools := 0 // one entry per opset version that changed MaxPool
	for _, o := range all.GetOperators() {
		if o.GetOpType() == "MaxPool" {
			pools++
		}
	}
	if len(d.GetOperators()) != len(all.GetOperators())-pools {
		t.Errorf("%d operators listed, want %d", len(d.GetOperators()), len(all.GetOperators())-pools)
	}
	resp, err := noPool.LoadModel(ctx, lenet(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetUnsupported()) == 0 {
		t.Error("LoadModel accepted LeNet's MaxPool")
	}
}
