package cli

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/potgo/pot/host/dataset"
)

// inputFlags are the flags that say how data feeds a model's inputs and
// which output metrics read; quantize, eval, analyze and bench share them.
type inputFlags struct {
	constants    []string
	metricOutput string
}

func (f *inputFlags) add(fl *pflag.FlagSet, metric bool) {
	fl.StringArrayVar(&f.constants, "constant", nil, "feed a model input a fixed value, NAME=VALUE (repeatable): a number fills the input (sr=16000, h=0), a JSON list is its value")
	if metric {
		fl.StringVar(&f.metricOutput, "metric-output", "", "the model output the metric reads (default: the first)")
	}
}

// constantMap parses --constant.
func (f *inputFlags) constantMap() (map[string]dataset.Constant, error) {
	if len(f.constants) == 0 {
		return nil, nil
	}
	out := map[string]dataset.Constant{}
	for _, s := range f.constants {
		name, c, err := dataset.ParseConstantFlag(s)
		if err != nil {
			return nil, fmt.Errorf("--constant %w", err)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("--constant %s is given twice", name)
		}
		out[name] = c
	}
	return out, nil
}
