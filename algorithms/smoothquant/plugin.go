package smoothquant

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
)

// Algorithm is the SmoothQuant plugin.
type Algorithm struct{}

var _ sdk.Algorithm = Algorithm{}

// Describe implements sdk.Algorithm.
func (Algorithm) Describe(context.Context) (*potv1.AlgorithmDescription, error) {
	return &potv1.AlgorithmDescription{
		Name:    Name,
		Version: sdk.BuildVersion,
		Description: "SmoothQuant (Xiao et al. 2023): migrates activation outliers into the weights by per-channel factors " +
			"s = max|X|^α / max|W|^(1−α) folded into constants, then quantizes with the base algorithm (DefaultQuantization).",
		ProtocolVersions: []int32{sdk.ProtocolVersion},
		ParamsSchema:     Schema,
		Defaults:         Defaults,
		Capabilities:     Capabilities(),
	}, nil
}

// Run implements sdk.Algorithm: smooth, then run the base algorithm from
// the smoothed plan with the parameters SmoothQuant does not define,
// unless smooth_only.
func (Algorithm) Run(ctx context.Context, h sdk.Host, req *sdk.RunRequest) (*potv1.RunResponse, error) {
	p, rest, ps, err := parse(req.Params)
	if err != nil {
		return nil, err
	}
	smoothed, rep, err := smooth(ctx, h, req, p, ps)
	if err != nil {
		return nil, err
	}
	log := sdk.Logger()
	log.Info("smoothed", "groups", len(rep.Smoothed), "skipped layers", len(rep.Skipped), "alpha", p.Alpha, "search", p.AlphaSearch)
	out := &potv1.RunResponse{Plan: smoothed}
	base := ""
	if p.SmoothOnly {
		rep.SmoothOnly = true
	} else {
		rep.BaseAlgorithm = p.BaseAlgorithm
		resp, err := h.RunAlgorithm(ctx, &potv1.RunAlgorithmRequest{Name: p.BaseAlgorithm, ModelId: req.ModelID, Plan: smoothed, Params: string(rest)})
		if err != nil {
			return nil, err // the host's error names the plugin
		}
		out.Plan, out.Search = resp.GetPlan(), resp.GetSearch()
		if out.Plan == nil {
			out.Plan = &potv1.QuantizationPlan{}
		}
		if r := resp.GetReport(); json.Valid([]byte(r)) {
			rep.BaseReport = json.RawMessage(r)
			base = r
		}
	}
	rep.Tables = rep.tables(base)
	b, err := json.Marshal(rep)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	out.Report = string(b)
	return out, nil
}
