package metrics

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/agnivade/levenshtein"
)

// Info describes a registered metric.
type Info struct {
	// Name is the registry name.
	Name string `json:"name"`
	// HigherBetter reports whether larger values are better.
	HigherBetter bool `json:"higher_better"`
	// NeedsLabels reports whether Batch.Labels is required.
	NeedsLabels bool `json:"needs_labels"`
	// NeedsReference reports whether the float model's outputs
	// (Batch.Reference or ReferenceTopK) are required.
	NeedsReference bool `json:"needs_reference"`
	// Param describes the optional parameter written after a colon
	// ("psnr:255"); empty when the metric takes none.
	Param string `json:"param,omitempty"`
	// Description is a one-line summary.
	Description string `json:"description"`
	// Fraction reports whether a value is a fraction of the samples (k
	// of N): its resolution is 1/N.
	Fraction bool `json:"fraction,omitempty"`
}

// SignificantDigits is the precision of the values of a metric that is
// not a fraction of samples: float32 outputs reduced in float64 carry
// about six reliable decimal digits.
const SignificantDigits = 6

// Round rounds a value of this metric over samples to its precision: a
// fraction of samples to the nearest multiple of 1/samples, any other
// value to SignificantDigits significant digits. Infinities and NaN
// stay.
func (i Info) Round(v float64, samples int) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) || v == 0 {
		return v
	}
	if i.Fraction && samples > 0 {
		return math.Round(v*float64(samples)) / float64(samples)
	}
	return roundPlaces(v, SignificantDigits-1-exponent(v))
}

// RoundDrop is Drop rounded to the precision of its operands, so that it
// shows no digits the values do not have (-0.0001, not
// -0.00009999999999998899): for a fraction of samples, to the nearest
// multiple of 1/samples; otherwise it is the difference of the rounded
// values (Round), to the decimal place of the finer of them.
func (i Info) RoundDrop(reference, value float64, samples int) float64 {
	d := i.Drop(reference, value)
	if math.IsNaN(d) || math.IsInf(d, 0) || d == 0 {
		return d
	}
	if i.Fraction && samples > 0 {
		return math.Round(d*float64(samples)) / float64(samples)
	}
	r, v := i.Round(reference, samples), i.Round(value, samples)
	places := math.MinInt
	for _, x := range []float64{r, v} {
		if x != 0 {
			places = max(places, SignificantDigits-1-exponent(x))
		}
	}
	return roundPlaces(i.Drop(r, v), places)
}

// exponent is the decimal exponent of v's leading digit (v != 0).
func exponent(v float64) int { return int(math.Floor(math.Log10(math.Abs(v)))) }

// roundPlaces rounds v to places decimal places (negative: to tens,
// hundreds, ...), dividing by an exact power of ten last so that the
// result prints as the short decimal it stands for.
func roundPlaces(v float64, places int) float64 {
	if places > 300 || places < -300 {
		return v
	}
	if places >= 0 {
		p := math.Pow10(places)
		if r := math.Round(v*p) / p; !math.IsInf(v*p, 0) {
			return r
		}
		return v
	}
	p := math.Pow10(-places)
	return math.Round(v/p) * p
}

// Drop returns how much worse value is than reference for this metric:
// reference − value when higher is better, value − reference otherwise.
// A positive drop is a loss.
func (i Info) Drop(reference, value float64) float64 {
	if i.HigherBetter {
		return reference - value
	}
	return value - reference
}

// Factory creates a metric from the parameter of its spec ("" when none).
type Factory func(param string) (Metric, error)

type entry struct {
	info    Info
	factory Factory
}

var (
	mu       sync.RWMutex
	registry = map[string]entry{}
	// aliases maps POT/Accuracy Checker style names to registry names.
	aliases = map[string]string{
		"accuracy":      "top1",
		"accuracy@top1": "top1",
		"accuracy@top5": "top5",
	}
)

// Register adds a metric to the registry; it fails if the name is taken.
func Register(info Info, f Factory) error {
	mu.Lock()
	defer mu.Unlock()
	if info.Name == "" || strings.Contains(info.Name, ":") {
		return fmt.Errorf("metrics: invalid metric name %q", info.Name)
	}
	if _, ok := registry[info.Name]; ok {
		return fmt.Errorf("metrics: metric %q is already registered", info.Name)
	}
	registry[info.Name] = entry{info, f}
	return nil
}

// mustRegister registers a built-in metric.
func mustRegister(info Info, f Factory) {
	if err := Register(info, f); err != nil {
		panic(err)
	}
}

func init() {
	noParam := func(name string, mk func() Metric) Factory {
		return func(p string) (Metric, error) {
			if p != "" {
				return nil, fmt.Errorf("metric %q takes no parameter (got %q)", name, p)
			}
			return mk(), nil
		}
	}
	mustRegister(Info{Name: "top1", HigherBetter: true, NeedsLabels: true, Fraction: true,
		Description: "top-1 accuracy: fraction of samples whose best class is the label"},
		noParam("top1", func() Metric { return NewTopK(1) }))
	mustRegister(Info{Name: "top5", HigherBetter: true, NeedsLabels: true, Fraction: true,
		Description: "top-5 accuracy: fraction of samples whose label is among the 5 best classes"},
		noParam("top5", func() Metric { return NewTopK(5) }))
	mustRegister(Info{Name: "agreement", HigherBetter: true, NeedsReference: true, Fraction: true,
		Description: "annotation-free accuracy: fraction of samples whose best class equals the float model's"},
		noParam("agreement", NewAgreement))
	mustRegister(Info{Name: "sqnr", HigherBetter: true, NeedsReference: true,
		Description: "signal-to-quantization-noise ratio of the outputs against the float model, in dB"},
		noParam("sqnr", NewSQNR))
	mustRegister(Info{Name: "cosine", HigherBetter: true, NeedsReference: true,
		Description: "cosine similarity of the outputs with the float model's"},
		noParam("cosine", NewCosine))
	mustRegister(Info{Name: "mse", NeedsReference: true,
		Description: "mean squared error of the outputs against the float model's"},
		noParam("mse", NewMSE))
	mustRegister(Info{Name: "psnr", HigherBetter: true, NeedsReference: true,
		Param:       "data range, e.g. psnr:255 (default: the float outputs' peak-to-peak range)",
		Description: "peak signal-to-noise ratio of the outputs against the float model's, in dB"},
		func(p string) (Metric, error) {
			if p == "" {
				return NewPSNR(0), nil
			}
			r, err := strconv.ParseFloat(p, 64)
			if err != nil || !(r > 0) || r > 1e300 {
				return nil, fmt.Errorf("metric \"psnr\": data range %q is not a positive number", p)
			}
			return NewPSNR(r), nil
		})
}

// splitSpec splits "name:param" and resolves aliases.
func splitSpec(spec string) (name, param string) {
	name, param, _ = strings.Cut(strings.TrimSpace(spec), ":")
	name = strings.ToLower(strings.TrimSpace(name))
	if a, ok := aliases[name]; ok {
		name = a
	}
	return name, strings.TrimSpace(param)
}

// Lookup returns the Info of a metric name or spec ("psnr:255").
func Lookup(spec string) (Info, bool) {
	name, _ := splitSpec(spec)
	mu.RLock()
	defer mu.RUnlock()
	e, ok := registry[name]
	return e.info, ok
}

// Names returns the registered metric names, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// All returns the Info of every registered metric, sorted by name.
func All() []Info {
	names := Names()
	out := make([]Info, 0, len(names))
	for _, n := range names {
		i, _ := Lookup(n)
		out = append(out, i)
	}
	return out
}

// New creates the metric of a spec: a name ("top1") optionally followed by
// a colon and a parameter ("psnr:255"). An unknown name gives an error
// listing the known ones and suggesting the nearest.
func New(spec string) (Metric, error) {
	name, param := splitSpec(spec)
	mu.RLock()
	e, ok := registry[name]
	mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown metric %q%s (known: %s)", spec, suggest(name, Names()), strings.Join(Names(), ", "))
	}
	return e.factory(param)
}

// Default returns the name of the default metric for a data set: top1
// with labels, agreement (with the float model) without.
func Default(labelled bool) string {
	if labelled {
		return "top1"
	}
	return "agreement"
}

// suggest formats a " (did you mean %q?)" hint for a near candidate.
func suggest(s string, candidates []string) string {
	best, bestD := "", -1
	for _, c := range candidates {
		if d := levenshtein.ComputeDistance(s, c); bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD < 0 || bestD > max(2, len(s)/3) {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}
