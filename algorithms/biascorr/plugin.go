package biascorr

import (
	"context"

	"github.com/potgo/pot/algorithms/quant"
	"github.com/potgo/pot/plugins"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
)

// FastAlgorithm is the FastBiasCorrection plugin.
type FastAlgorithm struct{}

// FullAlgorithm is the BiasCorrection plugin.
type FullAlgorithm struct{}

var (
	_ sdk.Algorithm = FastAlgorithm{}
	_ sdk.Algorithm = FullAlgorithm{}
)

// Describe implements sdk.Algorithm.
func (FastAlgorithm) Describe(context.Context) (*potv1.AlgorithmDescription, error) {
	return quant.Describe("FastBiasCorrection", "Shifts biases so that quantized layers keep the float output means, from one constant-input pass per layer."), nil
}

// Run implements sdk.Algorithm.
func (FastAlgorithm) Run(ctx context.Context, h plugins.Host, req *plugins.RunRequest) (*potv1.RunResponse, error) {
	p, err := quant.ParseParams(req.Params)
	if err != nil {
		return nil, err
	}
	plan, rep, err := Fast(ctx, h, req, p)
	if err != nil {
		return nil, err
	}
	return &potv1.RunResponse{Plan: plan, Report: quant.ReportJSON(rep)}, nil
}

// Describe implements sdk.Algorithm.
func (FullAlgorithm) Describe(context.Context) (*potv1.AlgorithmDescription, error) {
	return quant.Describe("BiasCorrection", "Shifts biases layer by layer so that the quantized model's output means match the float model's."), nil
}

// Run implements sdk.Algorithm.
func (FullAlgorithm) Run(ctx context.Context, h plugins.Host, req *plugins.RunRequest) (*potv1.RunResponse, error) {
	p, err := quant.ParseParams(req.Params)
	if err != nil {
		return nil, err
	}
	plan, rep, err := Full(ctx, h, req, p)
	if err != nil {
		return nil, err
	}
	return &potv1.RunResponse{Plan: plan, Report: quant.ReportJSON(rep)}, nil
}
