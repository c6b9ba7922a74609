package target

import (
	"os"

	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/targets/fp16"
)

// Serve serves the target cfg declares as a pot plugin; call it from
// main. A Config that leaves Threads 0 gets the thread budget pot gives
// its targets (--threads). An invalid Config is logged and ends the
// process with status 1. Serve returns only in test mode (opts).
func Serve(cfg Config, opts ...sdk.ServeOption) {
	if cfg.Threads == 0 {
		cfg.Threads = sdk.Threads()
	}
	e, err := New(cfg)
	if err != nil {
		sdk.Logger().Error("invalid target configuration", "error", err)
		os.Exit(1)
	}
	sdk.ServeTarget(e, opts...)
}

// Float16Numerics is the arithmetic of a float16 device, as pot's gpu and vpu
// targets compute: every operation that is not quantized runs in half
// precision with float32 accumulation (each node's float32 outputs and
// the float32 weights rounded to half, ties to even), but the
// precision-sensitive subgraphs OpenVINO keeps in float32 (normalizations
// written out, divisions by a small eps, exponentials summed: softmax)
// and the nodes float32Nodes names stay in float32. Quantized operations
// run on exact int8 values, their outputs stored in half.
func Float16Numerics(float32Nodes ...string) Numerics {
	keep := map[string]bool{}
	for _, n := range float32Nodes {
		keep[n] = true
	}
	return Numerics{Policy: fp16.Policy{}, Lower: fp16.Lowering{Float32: keep}.Lower}
}
