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
//	pot-algorithm-Budget    an accuracy search by another name: its
//	                        capabilities say it evaluates and takes the
//	                        budget in "budget" and the workers in
//	                        "parallel"; runs DefaultQuantization and
//	                        reports a made-up search (typed) and the
//	                        parameters the host set
//	pot-algorithm-OldSearch the same as a plugin of an SDK before
//	                        capabilities and typed results: no
//	                        capabilities, POT's maximal_drop and workers in
//	                        its schema, the search only in its JSON report
//	pot-target-half         a float16 device (device GPU, gpu hardware
//	                        config, Float16Numerics) that says its float
//	                        precision only in the typed capability, without
//	                        the property float_precision
//	pot-target-oldhalf      the same as a target of an SDK before the typed
//	                        float precision and rounding: only the property
//	                        float_precision says float16
//
// It is never built into bin/.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/params"
	"github.com/potgo/pot/sdk/target"
	"github.com/potgo/pot/targets/cpu"
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
	case base == plugins.Prefix(plugins.KindAlgorithm)+"Budget":
		sdk.ServeAlgorithm(search{name: "Budget", budget: "budget", workers: "parallel"})
	case base == plugins.Prefix(plugins.KindAlgorithm)+"OldSearch":
		sdk.ServeAlgorithm(search{name: "OldSearch", budget: "maximal_drop", workers: "workers", old: true})
	case name == "half" || name == "oldhalf":
		e, err := target.New(target.Config{
			Name: name, Version: "0.0.1-test", Device: "GPU",
			HardwareConfig: hwconfig.MustLoad("gpu"), Presets: []string{"performance", "mixed"}, Threads: 1,
			Capabilities: &potv1.TargetCapabilities{Accumulator: potv1.Accumulator_ACCUMULATOR_INT32, SymmetricActivationProducts: true,
				FloatPrecision: potv1.FloatPrecision_FLOAT_PRECISION_FLOAT16},
			Numerics: target.Float16Numerics(),
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "testplugins:", err)
			os.Exit(2)
		}
		sdk.ServeTarget(halfTarget{Target: e, old: name == "oldhalf"})
	case isTarget:
		low := cpu.Lowering{ISA: cpu.DefaultISA()}
		cfg := target.Config{
			Name: name, Version: "0.0.1-test", Device: "CPU",
			HardwareConfig: hwconfig.MustLoad("cpu"), Presets: presets, Threads: 1,
			Numerics: target.Numerics{Lower: low.Lower, LowerKeeping: low.LowerKeeping},
		}
		if name != "nodefail" {
			target.Serve(cfg)
			return
		}
		e, err := target.New(cfg)
		if err != nil {
			fmt.Fprintln(os.Stderr, "testplugins:", err)
			os.Exit(2)
		}
		sdk.ServeTarget(nodeFailTarget{e})
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

// halfTarget describes a float16 target typed only, or (old) by its
// property only.
type halfTarget struct {
	sdk.Target
	old bool
}

func (h halfTarget) Describe(ctx context.Context) (*potv1.TargetDescription, error) {
	d, err := h.Target.Describe(ctx)
	if err != nil {
		return nil, err
	}
	d = proto.CloneOf(d)
	if h.old {
		d.Capabilities.FloatPrecision, d.Capabilities.Rounding = potv1.FloatPrecision_FLOAT_PRECISION_UNSPECIFIED, potv1.Rounding_ROUNDING_UNSPECIFIED
		if d.GetProperties()["float_precision"] != "float16" {
			return nil, fmt.Errorf("the target says no float_precision float16: %v", d.GetProperties())
		}
	} else {
		delete(d.Properties, "float_precision")
	}
	return d, nil
}

// search pretends to search within an accuracy budget: it runs
// DefaultQuantization with the parameters that are not its own and
// reports a fixed search, with what the host set in its parameters.
type search struct {
	name, budget, workers string
	old                   bool // as a plugin built before capabilities
}

func (a search) schema() string {
	return fmt.Sprintf(`{"type": "object", "additionalProperties": true, "properties": {%q: {"type": "number"}, %q: {"type": "integer"}}}`,
		a.budget, a.workers)
}

func (a search) Describe(context.Context) (*potv1.AlgorithmDescription, error) {
	d := &potv1.AlgorithmDescription{
		Name: a.name, Version: "0.0.1-test", ProtocolVersions: []int32{plugins.ProtocolVersion},
		ParamsSchema: a.schema(), Defaults: `{}`,
	}
	if !a.old {
		d.Capabilities = &potv1.AlgorithmCapabilities{Evaluates: true, MaxDropParam: a.budget, WorkersParam: a.workers,
			PassesParamsTo: "DefaultQuantization"}
	}
	return d, nil
}

func (a search) Run(ctx context.Context, h sdk.Host, req *sdk.RunRequest) (*potv1.RunResponse, error) {
	own, rest, err := params.Split(req.Params, a.schema())
	if err != nil {
		return nil, err
	}
	resp, err := h.RunAlgorithm(ctx, &potv1.RunAlgorithmRequest{Name: "DefaultQuantization", ModelId: req.ModelID, Plan: req.Plan, Params: string(rest)})
	if err != nil {
		return nil, err
	}
	s := &potv1.SearchResult{Metric: "top1", Baseline: 0.9, MaxDrop: 0.02, DefaultDrop: 0.0300000001, FinalDrop: 0.01, FinalMetric: 0.89,
		Met: true, Reverted: []string{"/f1/Gemm"}, Evaluations: 3,
		Iterations: []*potv1.SearchIteration{{Iteration: 1, Reverted: []string{"/f1/Gemm"}, Drop: 0.01, Metric: 0.89, Accepted: true}}}
	report := map[string]any{"own": json.RawMessage(own)}
	if a.old {
		// AccuracyAwareQuantization's report before RunResponse.search.
		report["metric"], report["baseline"], report["max_drop"], report["default_drop"] = s.Metric, s.Baseline, s.MaxDrop, s.DefaultDrop
		report["final_drop"], report["final_metric"], report["met"], report["reverted"] = s.FinalDrop, s.FinalMetric, s.Met, s.Reverted
		report["iterations"] = []map[string]any{{"iteration": 1, "reverted": []string{"/f1/Gemm"}, "drop": 0.01, "metric": 0.89, "accepted": true, "reranked": false}}
		report["evaluations"] = s.Evaluations
		s = nil
	}
	b, _ := json.Marshal(report)
	return &potv1.RunResponse{Plan: resp.GetPlan(), Report: string(b), Search: s}, nil
}
