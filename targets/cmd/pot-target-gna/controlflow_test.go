package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/sdk/target"
)

// TestRefusesControlFlowAndRecurrence: GNA's operation list has neither
// control flow nor recurrent layers; a model with them is refused with a
// reason naming each such node.
func TestRefusesControlFlowAndRecurrence(t *testing.T) {
	e := target.MustNew(config())
	lstm := &potv1.Graph{Opsets: []*potv1.OpsetImport{{Version: 14}},
		Inputs:  []*potv1.ValueInfo{{Name: "x", Dtype: potv1.DataType_DATA_TYPE_FLOAT}, {Name: "w", Dtype: potv1.DataType_DATA_TYPE_FLOAT}, {Name: "r", Dtype: potv1.DataType_DATA_TYPE_FLOAT}},
		Outputs: []*potv1.ValueInfo{{Name: "y"}},
		Nodes:   []*potv1.Node{{Name: "lstm_1", OpType: "LSTM", Inputs: []string{"x", "w", "r"}, Outputs: []string{"y"}}}}
	graphs := map[string]*potv1.Graph{"lstm": lstm}
	for _, name := range []string{"hey_jarvis_v0.1", "silero_vad"} {
		m, err := onnx.ReadFile(filepath.Join(repo, "host", "cli", "testdata", "openwakeword", name+".onnx"))
		if err != nil {
			t.Fatal(err)
		}
		if graphs[name], err = onnx.ToGraph(m); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string]string{
		"lstm":            "lstm_1 (LSTM): operator LSTM is not in GNA's operation list",
		"hey_jarvis_v0.1": "If_32 (If): operator If is not in GNA's operation list",
		"silero_vad":      "If_25 (If): operator If is not in GNA's operation list",
	} {
		resp, err := e.LoadModel(context.Background(), graphs[name])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if resp.GetModelId() != "" || !strings.Contains(strings.Join(resp.GetUnsupported(), "\n"), want) {
			t.Errorf("%s: model %q, unsupported %q, want %q", name, resp.GetModelId(), resp.GetUnsupported(), want)
		}
	}
}
