package graph_test

import (
	"fmt"
	"testing"

	"github.com/potgo/pot/internal/testenv"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

// TestDomains: the domains of the opsets and nodes of the example
// models and of quantized graphs, as each helper sees them.
func TestDomains(t *testing.T) {
	g := readGraph(t, testenv.Example("models", "resnet_fmnist.onnx"))
	for _, tc := range []struct {
		domain string
		want   string // IsONNXDomain, CanonicalDomain
	}{
		{g.GetOpsets()[0].GetDomain(), `true ""`}, // the exporter's ""
		{g.GetNodes()[0].GetDomain(), `true ""`},
		{"ai.onnx", `true ""`},
		{"ai.pot", `false "ai.pot"`}, // FakeQuantize's
		{"com.microsoft", `false "com.microsoft"`},
		{"ai.onnx.ml", `false "ai.onnx.ml"`},
		{"AI.ONNX", `false "AI.ONNX"`},
	} {
		if got := fmt.Sprintf("%v %q", graph.IsONNXDomain(tc.domain), graph.CanonicalDomain(tc.domain)); got != tc.want {
			t.Errorf("domain %q: %s, want %s", tc.domain, got, tc.want)
		}
		n := &potv1.Node{OpType: "Relu", Domain: tc.domain}
		if graph.IsONNX(n) != graph.IsONNXDomain(tc.domain) {
			t.Errorf("IsONNX of a node of domain %q disagrees with IsONNXDomain", tc.domain)
		}
	}
}
