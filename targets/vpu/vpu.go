// Package vpu holds what the vpu target adds to the float16 policy of
// package fp16: the check of the VPU's per-tensor zero point on
// asymmetric per-channel weights (hardware config alias q8_a_ch,
// unified_zeropoint).
//
// The simulation honours the plan as given: each quantizer's zero point
// per channel is derived from its ranges (plan.ParamsOf) and simulated as
// such. The VPU stores one zero point per weight tensor, so the
// algorithm side must give the channels of an asymmetric per-channel
// weight quantizer ranges with one common zero point (POT's
// tune_range_unify_zp: average the zero points, then widen each channel's
// range around the averaged one). Lower reports the quantizers that do
// not, so that a plan the device cannot store is visible in the logs.
package vpu

import (
	"fmt"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/plan"
	"github.com/potgo/pot/targets/fp16"
)

// ZeroPointIssues lists the asymmetric per-channel weight quantizers of
// a plan whose channels do not share one zero point, with their zero
// point spread.
func ZeroPointIssues(p *potv1.QuantizationPlan) ([]string, error) {
	var out []string
	for _, q := range p.GetQuantizers() {
		if !q.GetWeights() || q.GetMode() != potv1.QuantizationMode_QUANTIZATION_MODE_ASYMMETRIC || len(q.GetInputLow()) < 2 {
			continue
		}
		pr, err := plan.ParamsOf(q)
		if err != nil {
			return nil, err
		}
		lo, hi := pr.Zero[0], pr.Zero[0]
		for _, z := range pr.Zero {
			lo, hi = min(lo, z), max(hi, z)
		}
		if lo != hi {
			out = append(out, fmt.Sprintf("quantizer %s: zero points %g..%g over %d channels", q.GetId(), lo+float32(pr.LevelLow), hi+float32(pr.LevelLow), len(pr.Zero)))
		}
	}
	return out, nil
}

// Lower returns the vpu target's lowering: l.Lower, with warn called
// once per plan that has asymmetric per-channel weights without a unified
// zero point (warn may be nil).
func Lower(l fp16.Lowering, warn func(msg string, issues []string)) func(*potv1.Graph, *potv1.QuantizationPlan) (*plan.Applied, error) {
	return func(g *potv1.Graph, p *potv1.QuantizationPlan) (*plan.Applied, error) {
		issues, err := ZeroPointIssues(p)
		if err != nil {
			return nil, err
		}
		if len(issues) > 0 && warn != nil {
			warn("the plan has asymmetric per-channel weights without a unified zero point, which the VPU cannot store; simulated as given", issues)
		}
		return l.Lower(g, p)
	}
}
