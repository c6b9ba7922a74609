package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/potgo/pot/internal/outfile"
	"github.com/potgo/pot/proto/potv1"
)

// Report is what one run did. Its JSON is report.json.
type Report struct {
	// Kind is "quantize" or "analyze".
	Kind    string    `json:"kind"`
	Tool    string    `json:"tool"`
	Created time.Time `json:"created"`

	Model       string `json:"model"`
	ModelBytes  int64  `json:"model_bytes"`
	Output      string `json:"output,omitempty"`
	OutputBytes int64  `json:"output_bytes,omitempty"`
	Target      string `json:"target"`
	Device      string `json:"device,omitempty"`
	Preset      string `json:"preset,omitempty"`
	Algorithm   string `json:"algorithm,omitempty"`
	// Seconds is the wall time of the run.
	Seconds float64 `json:"seconds"`
	// Metric compares the float and quantized models, when evaluated.
	Metric *Metric `json:"metric,omitempty"`

	// Layers is the per-layer SQNR, in graph order, over LayerSamples
	// calibration samples.
	Layers       []Layer `json:"layers"`
	LayerSamples int     `json:"layer_samples"`
	// Quantizers of the final plan.
	Quantizers []Quantizer `json:"quantizers"`
	// Trajectory of an accuracy-aware run.
	Trajectory *Trajectory `json:"trajectory,omitempty"`
	// AlgorithmReport is what the algorithm reported, verbatim.
	AlgorithmReport json.RawMessage `json:"algorithm_report,omitempty"`
	// ChainReports are the reports of every algorithm of a chain of
	// several (a configuration listing SmoothQuant then
	// DefaultQuantization), in order; AlgorithmReport is the last's.
	ChainReports []ChainReport `json:"chain_reports,omitempty"`
}

// ChainReport is what one algorithm of a chain reported, verbatim.
type ChainReport struct {
	Algorithm string          `json:"algorithm"`
	Report    json.RawMessage `json:"report"`
}

// Metric compares the float and the quantized model.
type Metric struct {
	Name         string  `json:"name"`
	Float        float64 `json:"float"`
	Quantized    float64 `json:"quantized"`
	Drop         float64 `json:"drop"`
	Samples      int     `json:"samples"`
	HigherBetter bool    `json:"higher_better"`
}

// Layer is the error of one node's output.
type Layer struct {
	Node   string `json:"node"`
	OpType string `json:"op_type"`
	Tensor string `json:"tensor"`
	// SQNR in dB of the quantized output against the float output, all
	// samples pooled (metrics.MaxDB when identical).
	SQNR float64 `json:"sqnr_db"`
	// Cosine similarity, averaged over samples.
	Cosine float64 `json:"cosine"`
	// Quantized tells whether a quantizer feeds the node.
	Quantized bool `json:"quantized"`
	// Float tells whether the plan keeps the node in float.
	Float bool `json:"float,omitempty"`
}

// Quantizer is one quantizer of the plan, its ranges summarized.
type Quantizer struct {
	ID          string   `json:"id"`
	Tensor      string   `json:"tensor,omitempty"`
	Node        string   `json:"node,omitempty"`
	Input       int      `json:"input,omitempty"`
	Weights     bool     `json:"weights"`
	Bits        int      `json:"bits"`
	Levels      int64    `json:"levels"`
	Mode        string   `json:"mode"`
	Granularity string   `json:"granularity"`
	Channels    int      `json:"channels"`
	Low         float64  `json:"low"`
	High        float64  `json:"high"`
	Consumers   []string `json:"consumers,omitempty"`
}

// Label names the quantized value: its tensor, or node:input.
func (q Quantizer) Label() string {
	if q.Tensor != "" {
		return q.Tensor
	}
	return fmt.Sprintf("%s:%d", q.Node, q.Input)
}

// Trajectory is the course of an accuracy search (see
// potv1.SearchResult).
type Trajectory struct {
	Baseline    float64     `json:"baseline"`
	DefaultDrop float64     `json:"default_drop"`
	FinalDrop   float64     `json:"final_drop"`
	Reverted    []string    `json:"reverted"`
	Iterations  []Iteration `json:"iterations"`
	// MaximalDrop is the accuracy budget, when known.
	MaximalDrop *float64 `json:"maximal_drop,omitempty"`
	// Trials of the hyperparameter search before the iterations
	// (tune_hyperparams), when it ran.
	Trials []Trial `json:"trials,omitempty"`
}

// Trial is one trial of an accuracy-aware hyperparameter search
// (potv1.SearchTrial): the base parameters it changed, its metric and
// drop on the ranking subset, whether it became the best, and for the
// winner its full-set figures and whether the search went on from it.
type Trial struct {
	Trial        int     `json:"trial"`
	Step         string  `json:"step"`
	Params       string  `json:"params"`
	Metric       float64 `json:"metric"`
	Drop         float64 `json:"drop"`
	Kept         bool    `json:"kept"`
	FullMeasured bool    `json:"full_measured,omitempty"`
	FullMetric   float64 `json:"full_metric,omitempty"`
	FullDrop     float64 `json:"full_drop,omitempty"`
	Adopted      bool    `json:"adopted,omitempty"`
}

// TrialsOf returns the trials of a search's hyperparameter search; nil
// when there were none.
func TrialsOf(s *potv1.SearchResult) []Trial {
	var out []Trial
	for _, t := range s.GetTrials() {
		out = append(out, Trial{Trial: int(t.GetTrial()), Step: t.GetStep(), Params: t.GetParams(), Metric: t.GetMetric(),
			Drop: t.GetDrop(), Kept: t.GetKept(), FullMeasured: t.GetFullMeasured(), FullMetric: t.GetFullMetric(),
			FullDrop: t.GetFullDrop(), Adopted: t.GetAdopted()})
	}
	return out
}

// Iteration is one step of an accuracy search (potv1.SearchIteration):
// the layers it reverted (to float, or on integer-only targets to the
// precise plan), the drop and metric after it, whether its plan was kept
// and whether the remaining candidates were ranked again. report.json
// (Trajectory) and pot quantize --json (its iterations) write it alike.
type Iteration struct {
	Iteration int      `json:"iteration"`
	Reverted  []string `json:"reverted"`
	Drop      float64  `json:"drop"`
	Metric    float64  `json:"metric"`
	Accepted  bool     `json:"accepted"`
	Reranked  bool     `json:"reranked"`
}

// IterationsOf returns the iterations of a search, an empty list (not
// nil: [] in JSON) when there are none. The lists are copies.
func IterationsOf(s *potv1.SearchResult) []Iteration {
	its := make([]Iteration, 0, len(s.GetIterations()))
	for _, it := range s.GetIterations() {
		its = append(its, Iteration{Iteration: int(it.GetIteration()), Reverted: append([]string{}, it.GetReverted()...),
			Drop: it.GetDrop(), Metric: it.GetMetric(), Accepted: it.GetAccepted(), Reranked: it.GetReranked()})
	}
	return its
}

// TrajectoryOf is the trajectory of an algorithm's search result; nil
// for nil.
func TrajectoryOf(s *potv1.SearchResult) *Trajectory {
	if s == nil {
		return nil
	}
	budget := s.GetMaxDrop()
	return &Trajectory{Baseline: s.GetBaseline(), DefaultDrop: s.GetDefaultDrop(), FinalDrop: s.GetFinalDrop(),
		Reverted: nonNil(s.GetReverted()), Iterations: IterationsOf(s), MaximalDrop: &budget, Trials: TrialsOf(s)}
}

// nonNil keeps an empty list a list in JSON.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Quantizers summarizes a plan's quantizers.
func Quantizers(p *potv1.QuantizationPlan) []Quantizer {
	out := make([]Quantizer, 0, len(p.GetQuantizers()))
	for _, q := range p.GetQuantizers() {
		s := Quantizer{
			ID: q.GetId(), Tensor: q.GetLocation().GetTensor(), Node: q.GetLocation().GetNode(),
			Input: int(q.GetLocation().GetInput()), Weights: q.GetWeights(), Bits: int(q.GetBits()),
			Levels: q.GetLevels(), Mode: modeName(q.GetMode()), Granularity: granularityName(q.GetGranularity()),
			Channels: len(q.GetInputLow()), Consumers: q.GetConsumers(),
			Low: math.Inf(1), High: math.Inf(-1),
		}
		for _, v := range q.GetInputLow() {
			s.Low = math.Min(s.Low, float64(v))
		}
		for _, v := range q.GetInputHigh() {
			s.High = math.Max(s.High, float64(v))
		}
		if math.IsInf(s.Low, 0) || math.IsInf(s.High, 0) {
			s.Low, s.High = 0, 0
		}
		out = append(out, s)
	}
	return out
}

func modeName(m potv1.QuantizationMode) string {
	switch m {
	case potv1.QuantizationMode_QUANTIZATION_MODE_SYMMETRIC:
		return "symmetric"
	case potv1.QuantizationMode_QUANTIZATION_MODE_ASYMMETRIC:
		return "asymmetric"
	}
	return m.String()
}

func granularityName(g potv1.Granularity) string {
	switch g {
	case potv1.Granularity_GRANULARITY_PER_TENSOR:
		return "pertensor"
	case potv1.Granularity_GRANULARITY_PER_CHANNEL:
		return "perchannel"
	}
	return g.String()
}

// Write writes report.json and report.html into dir, creating it: both
// or neither (see Stage).
func (r *Report) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	tx := &outfile.Txn{}
	if err := r.Stage(tx, dir); err != nil {
		tx.Abort()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// Stager stages the files of a group written atomically: each becomes
// its path when the caller commits the group.
type Stager interface {
	Stage(path string, fill func(io.Writer) error) error
}

// Stage renders the report and stages report.json and report.html (whose
// charts are inline) in dir, which must exist, with s; the caller
// commits them together with the run's other outputs.
func (r *Report) Stage(s Stager, dir string) error {
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	var page bytes.Buffer
	if err := r.HTML(&page); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{"report.json", append(js, '\n')}, {"report.html", page.Bytes()}} {
		if err := s.Stage(filepath.Join(dir, f.name), func(w io.Writer) error { _, err := w.Write(f.data); return err }); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	return nil
}
