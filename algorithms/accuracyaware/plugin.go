package accuracyaware

import (
	"context"

	"github.com/potgo/pot/algorithms/quant"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
)

// Algorithm is the AccuracyAwareQuantization plugin.
type Algorithm struct{}

var _ sdk.Algorithm = Algorithm{}

// Describe implements sdk.Algorithm.
func (Algorithm) Describe(context.Context) (*potv1.AlgorithmDescription, error) {
	d := quant.Describe(Name, "Quantizes with the base algorithm, then returns the layers that hurt accuracy most to float until the drop is within maximal_drop.")
	d.ParamsSchema = Schema
	d.Defaults = Defaults
	d.Capabilities = Capabilities()
	return d, nil
}

// Run implements sdk.Algorithm.
func (Algorithm) Run(ctx context.Context, h sdk.Host, req *sdk.RunRequest) (*potv1.RunResponse, error) {
	plan, rep, err := Run(ctx, h, req)
	if err != nil {
		return nil, err
	}
	return &potv1.RunResponse{Plan: plan, Report: quant.ReportJSON(rep), Search: rep.Result()}, nil
}
