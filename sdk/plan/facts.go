package plan

import (
	"strings"

	"github.com/potgo/pot/proto/potv1"
)

// legacyNeedRescale is the metadata key under which plans of plugins
// older than QuantizationPlan.need_rescale list those nodes, comma
// separated.
const legacyNeedRescale = "need_rescale"

// NeedRescale returns the nodes whose input channels an earlier
// algorithm rescaled (ActivationChannelAlignment), which get the
// saturation fix too: the plan's need_rescale, or for a plan of an older
// plugin the list in its metadata.
func NeedRescale(p *potv1.QuantizationPlan) []string {
	if n := p.GetNeedRescale(); len(n) > 0 {
		return n
	}
	var out []string
	for _, s := range strings.Split(p.GetMetadata()[legacyNeedRescale], ",") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// SetNeedRescale sets the plan's need_rescale, dropping an older plugin's
// metadata entry that NeedRescale would otherwise read.
func SetNeedRescale(p *potv1.QuantizationPlan, nodes []string) {
	p.NeedRescale = nodes
	delete(p.Metadata, legacyNeedRescale)
}
