package biascorr

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/potgo/pot/algorithms/quant"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/onnx"
)

type graphHost struct {
	sdk.Host
	g *potv1.Graph
}

func (h *graphHost) Graph(context.Context, string) (*potv1.Graph, error) { return h.g, nil }

// TestSkipsLayersInSubgraphs: bias correction leaves the layers of If
// branches (hey_jarvis's verifier Gemms) alone and says why, without
// failing.
func TestSkipsLayersInSubgraphs(t *testing.T) {
	g, err := onnx.ReadGraph(filepath.Join("..", "..", "host", "cli", "testdata", "openwakeword", "hey_jarvis_v0.1.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	in := &potv1.QuantizationPlan{}
	for _, n := range []string{"Gemm_34", "Gemm_47"} {
		in.Quantizers = append(in.Quantizers, &potv1.Quantizer{Id: "w:" + n, Weights: true, Consumers: []string{n}})
	}
	p, err := quant.ParseParams(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range []func(context.Context, sdk.Host, *sdk.RunRequest, *quant.Params) (*potv1.QuantizationPlan, *Report, error){Fast, Full} {
		out, rep, err := run(context.Background(), &graphHost{g: g}, &sdk.RunRequest{ModelID: "m", Plan: in}, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.GetTensorUpdates()) != 0 || len(rep.Corrected) != 0 {
			t.Errorf("corrected %v", rep.Corrected)
		}
		for _, n := range []string{"Gemm_34", "Gemm_47"} {
			if !strings.Contains(rep.Skipped[n], `then_branch of If "If_32"`) {
				t.Errorf("%s: skipped because %q", n, rep.Skipped[n])
			}
		}
	}
}
