// Command testplugins holds the plugins of the command line's end-to-end
// tests that pot does not ship. It is built once per test run and linked
// into a plugin folder under several names; the name says what it is:
//
//	pot-algorithm-BadPlan   runs DefaultQuantization, then adds a copy of
//	                        its first quantizer on the tensor "nope",
//	                        which no model has
//	pot-target-perfonly     the cpu target (device CPU, cpu hardware
//	                        config) publishing only the performance preset
//	pot-target-nomixed      the same, publishing performance and accuracy
//	pot-algorithm-NodeFail  fails with a structured error (sdk.Error) about
//	                        node /c2/Conv
//	pot-algorithm-Relay     runs NodeFail and returns its error unchanged
//	pot-target-nodefail     the cpu target, whose statistics fail on node
//	                        /c1/Conv
//
// It is never built into bin/.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/plugins"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/targets/cpu"
	"github.com/potgo/pot/targets/engine"
	"github.com/potgo/pot/targets/hwconfig"
)

// targetPresets are the presets of each test target.
var targetPresets = map[string][]string{
	"perfonly": {"performance"},
	"nomixed":  {"performance", "accuracy"},
	"nodefail": {"performance", "mixed"},
}

func main() {
	base := filepath.Base(os.Args[0])
	name := strings.TrimPrefix(base, plugins.Prefix(plugins.KindTarget))
	presets, isTarget := targetPresets[name]
	switch {
	case base == plugins.Prefix(plugins.KindAlgorithm)+"BadPlan":
		sdk.ServeAlgorithm(badPlan{})
	case base == plugins.Prefix(plugins.KindAlgorithm)+"NodeFail":
		sdk.ServeAlgorithm(failing{name: "NodeFail"})
	case base == plugins.Prefix(plugins.KindAlgorithm)+"Relay":
		sdk.ServeAlgorithm(failing{name: "Relay", relay: "NodeFail"})
	case isTarget:
		low := cpu.Lowering{ISA: cpu.DefaultISA()}
		var t sdk.Target = engine.New(engine.Config{
			Name: name, Version: "0.0.1-test", Device: "CPU",
			HardwareConfig: hwconfig.MustLoad("cpu"), Presets: presets, Threads: 1,
			Lower: low.Lower, LowerKeeping: low.LowerKeeping,
		})
		if name == "nodefail" {
			t = nodeFailTarget{t}
		}
		sdk.ServeTarget(t)
	default:
		fmt.Fprintf(os.Stderr, "testplugins: unknown name %s\n", base)
		os.Exit(2)
	}
}

type badPlan struct{}

func (badPlan) Describe(context.Context) (*potv1.AlgorithmDescription, error) {
	return &potv1.AlgorithmDescription{
		Name: "BadPlan", Version: "0.0.1-test", ProtocolVersions: []int32{plugins.ProtocolVersion},
		ParamsSchema: `{"type": "object"}`, Defaults: `{}`,
	}, nil
}

func (badPlan) Run(ctx context.Context, h sdk.Host, req *sdk.RunRequest) (*potv1.RunResponse, error) {
	resp, err := h.RunAlgorithm(ctx, &potv1.RunAlgorithmRequest{Name: "DefaultQuantization", ModelId: req.ModelID,
		Plan: req.Plan, Params: string(req.Params)})
	if err != nil {
		return nil, err
	}
	p := resp.GetPlan()
	if len(p.GetQuantizers()) == 0 {
		return nil, fmt.Errorf("DefaultQuantization placed no quantizer to copy")
	}
	q := proto.Clone(p.GetQuantizers()[0]).(*potv1.Quantizer)
	q.Id, q.Location = "nope", &potv1.Location{Tensor: "nope"}
	p.Quantizers = append(p.Quantizers, q)
	return &potv1.RunResponse{Plan: p, Report: `{}`}, nil
}

// failing fails Run with a structured error about a node, or (relay)
// runs another algorithm and returns its error unchanged.
type failing struct{ name, relay string }

func (a failing) Describe(context.Context) (*potv1.AlgorithmDescription, error) {
	return &potv1.AlgorithmDescription{
		Name: a.name, Version: "0.0.1-test", ProtocolVersions: []int32{plugins.ProtocolVersion},
		ParamsSchema: `{"type": "object"}`, Defaults: `{}`,
	}, nil
}

func (a failing) Run(ctx context.Context, h sdk.Host, req *sdk.RunRequest) (*potv1.RunResponse, error) {
	if a.relay != "" {
		_, err := h.RunAlgorithm(ctx, &potv1.RunAlgorithmRequest{Name: a.relay, ModelId: req.ModelID, Plan: req.Plan, Params: string(req.Params)})
		if err == nil {
			err = fmt.Errorf("%s did not fail", a.relay)
		}
		return nil, err
	}
	return nil, &sdk.Error{Summary: "its weights do not fit in 3 bits", Detail: "give it 8 bits", Node: "/c2/Conv"}
}

// nodeFailTarget fails every statistics request on a node.
type nodeFailTarget struct{ sdk.Target }

func (nodeFailTarget) CollectStatistics(context.Context, *potv1.StatisticsRequest) (*potv1.StatisticsResponse, error) {
	return nil, sdk.NodeErrorf("/c1/Conv", "statistics overflow float32")
}
