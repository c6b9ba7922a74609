package cli

import (
	"fmt"
	"strconv"
	"strings"

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

// parseShapes parses --shape values: DIMS for a model with one input to
// generate, or NAME=DIMS per input (DIMS as 1,3,224,224).
func parseShapes(values []string) (one []int, byName map[string][]int, err error) {
	for _, v := range values {
		name, dims, named := strings.Cut(v, "=")
		if !named {
			dims, name = v, ""
		}
		var shape []int
		for _, p := range strings.Split(dims, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil || n <= 0 {
				return nil, nil, fmt.Errorf("--shape %q: want positive sizes separated by commas, e.g. 1,3,224,224 or input=1,16000", v)
			}
			shape = append(shape, n)
		}
		switch {
		case !named && one != nil:
			return nil, nil, fmt.Errorf("--shape is given twice without an input name: name each input's, as NAME=DIMS")
		case !named:
			one = shape
		default:
			if byName == nil {
				byName = map[string][]int{}
			}
			if _, dup := byName[name]; dup {
				return nil, nil, fmt.Errorf("--shape %s is given twice", name)
			}
			byName[name] = shape
		}
	}
	if one != nil && byName != nil {
		return nil, nil, fmt.Errorf("--shape: name every input's shape (NAME=DIMS) when you name one")
	}
	return one, byName, nil
}
