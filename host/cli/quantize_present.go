package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/potgo/pot/host/metrics"
)

// presentQuantize prints the result of pot quantize: one JSON object
// (--json), else what was written, the measures and the accuracy search
// as lines of text.
func presentQuantize(w io.Writer, jsonOut bool, res *quantizeResult) error {
	if jsonOut {
		return printJSON(w, res)
	}
	fmt.Fprintf(w, "wrote %s: %d quantizers, target %s, preset %s, %.1f s\n", res.Output, res.Quantizers, res.Target, res.Preset, res.Seconds)
	if m := res.Metric; m != nil {
		if info, _ := metrics.Lookup(m.Name); info.NeedsReference && info.Name != "agreement" {
			// The float model compared with itself says nothing.
			fmt.Fprintf(w, "%s of the quantized model against the float model: %.4f (%d samples)\n", m.Name, m.Quantized, m.Samples)
		} else {
			fmt.Fprintf(w, "%s: float %.4f, quantized %.4f, drop %.4f (%d samples)\n", m.Name, m.Float, m.Quantized, m.Drop, m.Samples)
		}
	}
	if res.DefaultDrop != nil && res.FinalDrop != nil {
		met := "met"
		if res.BudgetMet != nil && !*res.BudgetMet {
			met = "NOT met"
		}
		fmt.Fprintf(w, "accuracy-aware: drop %.4f with the default quantization, %.4f after reverting %d layer(s) (budget %s)", *res.DefaultDrop, *res.FinalDrop, len(res.Reverted), met)
		if len(res.Reverted) > 0 {
			fmt.Fprintf(w, ": %s", strings.Join(res.Reverted, ", "))
		}
		fmt.Fprintln(w)
	}
	if res.Report != "" {
		fmt.Fprintf(w, "report: %s\n", res.Report)
	}
	return nil
}
