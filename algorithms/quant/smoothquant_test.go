package quant

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/schema"
)

// TestSmoothQuantAlphaParams: smooth_quant_alpha in the schema and the
// parser, and when it makes DefaultQuantization run SmoothQuant.
func TestSmoothQuantAlphaParams(t *testing.T) {
	s, err := schema.Compile(Schema)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		params    string
		schemaOK  bool
		parseErr  string // "" = parses
		enabled   bool
		alphaSeen bool
	}{
		{`{}`, true, "", false, false},
		{`{"model_type": "transformer"}`, true, "", false, false},
		{`{"model_type": "transformer", "smooth_quant_alpha": -1}`, true, "", false, true},
		{`{"model_type": "transformer", "smooth_quant_alpha": 0}`, true, "", true, true},
		{`{"model_type": "transformer", "smooth_quant_alpha": 0.5}`, true, "", true, true},
		{`{"model_type": "transformer", "smooth_quant_alpha": 1}`, true, "", true, true},
		{`{"smooth_quant_alpha": 0.5}`, true, "", false, true},
		{`{"model_type": "None", "smooth_quant_alpha": 0.5}`, true, "", false, true},
		{`{"model_type": "transformer", "smooth_quant_alpha": 1.5}`, false, "smooth_quant_alpha", false, false},
		{`{"smooth_quant_alpha": "high"}`, false, "smooth_quant_alpha", false, false},
	} {
		if err := s.Validate([]byte(tc.params)); (err == nil) != tc.schemaOK {
			t.Errorf("%s: schema error %v, want ok %v", tc.params, err, tc.schemaOK)
		}
		p, err := ParseParams([]byte(tc.params))
		if tc.parseErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.parseErr) {
				t.Errorf("%s: error %v, want one about %s", tc.params, err, tc.parseErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.params, err)
			continue
		}
		if p.SmoothQuantEnabled() != tc.enabled || (p.SmoothQuantAlpha != nil) != tc.alphaSeen {
			t.Errorf("%s: enabled %v (alpha %v), want %v", tc.params, p.SmoothQuantEnabled(), p.SmoothQuantAlpha, tc.enabled)
		}
	}
}

// chainHost is a host that runs the algorithms it has by answering with
// a plan naming them, and records each run's parameters.
type chainHost struct {
	sdk.Host // nil: DefaultQuantization calls nothing else
	have     []string
	runs     []run
}

// run is one RunAlgorithm call.
type run struct{ Name, Params string }

func (h *chainHost) RunAlgorithm(_ context.Context, req *potv1.RunAlgorithmRequest) (*potv1.RunResponse, error) {
	h.runs = append(h.runs, run{Name: req.GetName(), Params: req.GetParams()})
	if !slices.Contains(h.have, req.GetName()) {
		return nil, fmt.Errorf("algorithm plugin %q not found", req.GetName())
	}
	p := &potv1.QuantizationPlan{TensorUpdates: slices.Clone(req.GetPlan().GetTensorUpdates())}
	p.TensorUpdates = append(p.TensorUpdates, &potv1.Tensor{Name: req.GetName()})
	return &potv1.RunResponse{Plan: p, Report: `{}`}, nil
}

// TestDefaultRunsSmoothQuant: with smooth_quant_alpha and model_type
// transformer, DefaultQuantization runs SmoothQuant first (smooth_only,
// that α, its other parameters) and its chain from SmoothQuant's plan;
// otherwise its chain alone, with the parameters verbatim; a missing
// SmoothQuant plugin is an error naming it.
func TestDefaultRunsSmoothQuant(t *testing.T) {
	chain := []string{"ActivationChannelAlignment", "MinMaxQuantization", "FastBiasCorrection"}
	all := append([]string{SmoothQuant}, chain...)
	for _, tc := range []struct {
		name, params string
		have         []string
		want         []string // algorithms run, in order
		err          string
	}{
		{"default", `{"model_type": "transformer", "preset": "mixed"}`, all, chain, ""},
		{"disabled", `{"model_type": "transformer", "smooth_quant_alpha": -1}`, all, chain, ""},
		{"not a transformer", `{"smooth_quant_alpha": 0.5}`, all, chain, ""},
		{"transformer", `{"model_type": "transformer", "preset": "mixed", "stat_subset_size": 30, "smooth_quant_alpha": 0.8}`, all, all, ""},
		{"not installed", `{"model_type": "transformer", "smooth_quant_alpha": 0.8}`, chain, nil, "SmoothQuant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &chainHost{have: tc.have}
			resp, err := DefaultAlgorithm{}.Run(context.Background(), h, &sdk.RunRequest{Params: []byte(tc.params), Plan: &potv1.QuantizationPlan{}})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "smooth_quant_alpha") {
					t.Fatalf("error %v, want one naming %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ran []string
			for _, r := range h.runs {
				ran = append(ran, r.Name)
			}
			if !slices.Equal(ran, tc.want) {
				t.Fatalf("ran %v, want %v", ran, tc.want)
			}
			// Each step starts from the plan of the one before.
			var updates []string
			for _, u := range resp.GetPlan().GetTensorUpdates() {
				updates = append(updates, u.GetName())
			}
			if !slices.Equal(updates, tc.want) {
				t.Errorf("plan updates %v, want %v", updates, tc.want)
			}
			var rep struct {
				Steps []string `json:"steps"`
			}
			if err := json.Unmarshal([]byte(resp.GetReport()), &rep); err != nil || !slices.Equal(rep.Steps, tc.want) {
				t.Errorf("report %s (%v), want steps %v", resp.GetReport(), err, tc.want)
			}
			for _, r := range h.runs {
				if r.Name != SmoothQuant {
					if r.Params != tc.params {
						t.Errorf("%s got %s, want the parameters verbatim", r.Name, r.Params)
					}
					continue
				}
				var m map[string]any
				if err := json.Unmarshal([]byte(r.Params), &m); err != nil {
					t.Fatal(err)
				}
				if m["alpha"] != 0.8 || m["smooth_only"] != true || m["preset"] != "mixed" || m["stat_subset_size"] != 30.0 || m["smooth_quant_alpha"] != nil {
					t.Errorf("SmoothQuant's parameters %s", r.Params)
				}
			}
		})
	}
}

// TestDefaultDescribesItsChain: the algorithms DefaultQuantization's
// description says it runs (for the host to start ahead) are those its
// Run runs with the default parameters, in order; with Steps, those.
func TestDefaultDescribesItsChain(t *testing.T) {
	for _, d := range []DefaultAlgorithm{{}, {Steps: []string{"MinMaxQuantization"}}} {
		desc, err := d.Describe(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		h := &chainHost{have: []string{SmoothQuant, "ActivationChannelAlignment", "MinMaxQuantization", "FastBiasCorrection"}}
		if _, err := d.Run(context.Background(), h, &sdk.RunRequest{Params: []byte(`{}`), Plan: &potv1.QuantizationPlan{}}); err != nil {
			t.Fatal(err)
		}
		var ran []string
		for _, r := range h.runs {
			ran = append(ran, r.Name)
		}
		if got := desc.GetCapabilities().GetRuns(); !slices.Equal(got, ran) {
			t.Errorf("Steps %v: description runs %v, Run ran %v", d.Steps, got, ran)
		}
	}
}
