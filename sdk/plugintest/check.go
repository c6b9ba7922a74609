package plugintest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/params"
	"github.com/potgo/pot/sdk/plan"
)

// CheckTargetDescription checks what a target says of itself: name (and
// that it is want, when want is not empty), version, device, protocol
// versions including this SDK's, a hardware config with operations, and
// supported operators.
func CheckTargetDescription(d *potv1.TargetDescription, want string) error {
	var errs []error
	if d.GetName() == "" {
		errs = append(errs, errors.New("describe: no name"))
	} else if want != "" && !strings.EqualFold(d.GetName(), want) {
		errs = append(errs, fmt.Errorf("describe: name %q, but the binary is named for %q", d.GetName(), want))
	}
	if d.GetVersion() == "" {
		errs = append(errs, errors.New("describe: no version"))
	}
	if d.GetDevice() == "" {
		errs = append(errs, errors.New("describe: no device"))
	}
	if !slices.Contains(d.GetProtocolVersions(), sdk.ProtocolVersion) {
		errs = append(errs, fmt.Errorf("describe: protocol versions %v lack %d", d.GetProtocolVersions(), sdk.ProtocolVersion))
	}
	hw := d.GetHardwareConfig()
	if len(hw.GetOperations()) == 0 {
		errs = append(errs, errors.New("describe: no hardware config operations (algorithms place quantizers by them)"))
	}
	for i, op := range hw.GetOperations() {
		if op.GetType() == "" {
			errs = append(errs, fmt.Errorf("describe: hardware config operation %d has no type", i))
		}
		for _, o := range append(append(append([]*potv1.QuantizationOption{}, op.GetActivations()...), op.GetWeights()...), op.GetOutputs()...) {
			if o.GetBits() <= 0 || o.GetMode() == potv1.QuantizationMode_QUANTIZATION_MODE_UNSPECIFIED ||
				o.GetGranularity() == potv1.Granularity_GRANULARITY_UNSPECIFIED {
				errs = append(errs, fmt.Errorf("describe: hardware config of %s: option %q lacks bits, mode or granularity", op.GetType(), o.GetAlias()))
			}
			if o.GetHasLevels() && o.GetLevelHigh() <= o.GetLevelLow() {
				errs = append(errs, fmt.Errorf("describe: hardware config of %s: option %q has levels [%d, %d]", op.GetType(), o.GetAlias(), o.GetLevelLow(), o.GetLevelHigh()))
			}
		}
	}
	if len(d.GetOperators()) == 0 {
		errs = append(errs, errors.New("describe: no supported operators"))
	}
	return errors.Join(errs...)
}

// CheckAlgorithmDescription checks what an algorithm says of itself:
// name (and that it is want, when want is not empty), version, protocol
// versions including this SDK's, a parameter schema that compiles as JSON
// Schema (draft 2020-12 unless it says otherwise) and defaults that
// satisfy it.
func CheckAlgorithmDescription(d *potv1.AlgorithmDescription, want string) error {
	var errs []error
	if d.GetName() == "" {
		errs = append(errs, errors.New("describe: no name"))
	} else if want != "" && d.GetName() != want {
		errs = append(errs, fmt.Errorf("describe: name %q, but the binary is named for %q", d.GetName(), want))
	}
	if d.GetVersion() == "" {
		errs = append(errs, errors.New("describe: no version"))
	}
	if !slices.Contains(d.GetProtocolVersions(), sdk.ProtocolVersion) {
		errs = append(errs, fmt.Errorf("describe: protocol versions %v lack %d", d.GetProtocolVersions(), sdk.ProtocolVersion))
	}
	sch, err := CompileSchema(d.GetParamsSchema())
	if err != nil {
		errs = append(errs, fmt.Errorf("describe: parameter schema: %w", err))
	} else if d.GetDefaults() != "" {
		if err := ValidateParams(sch, d.GetDefaults()); err != nil {
			errs = append(errs, fmt.Errorf("describe: defaults: %w", err))
		}
	}
	if err == nil {
		errs = append(errs, checkCapabilities(d))
	}
	return errors.Join(errs...)
}

// checkCapabilities checks that the parameters the capabilities name are
// in the schema, that an algorithm that passes keys on admits them, and
// that the algorithms it says it runs are others, named.
func checkCapabilities(d *potv1.AlgorithmDescription) error {
	c := d.GetCapabilities()
	if c == nil {
		return nil
	}
	names, open, err := params.Properties(d.GetParamsSchema())
	if err != nil {
		return fmt.Errorf("describe: parameter schema: %w", err)
	}
	var errs []error
	for _, p := range []struct{ field, key string }{
		{"max_drop_param", c.GetMaxDropParam()}, {"workers_param", c.GetWorkersParam()}, {"passes_params_to_param", c.GetPassesParamsToParam()},
		{"followed_param", c.GetFollowedParam()},
	} {
		if p.key != "" && !slices.Contains(names, p.key) {
			errs = append(errs, fmt.Errorf("describe: capabilities: %s %q is not a property of the parameter schema", p.field, p.key))
		}
	}
	if c.GetPassesParamsTo() != "" && !open {
		errs = append(errs, fmt.Errorf("describe: capabilities: the algorithm passes parameters on to %s, but its schema refuses keys it does not define (additionalProperties: false)", c.GetPassesParamsTo()))
	}
	if c.GetPassesParamsTo() == d.GetName() && d.GetName() != "" {
		errs = append(errs, fmt.Errorf("describe: capabilities: passes_params_to names the algorithm itself"))
	}
	for i, r := range c.GetRuns() {
		switch {
		case r == "":
			errs = append(errs, fmt.Errorf("describe: capabilities: runs[%d] is empty", i))
		case r == d.GetName():
			errs = append(errs, fmt.Errorf("describe: capabilities: runs names the algorithm itself"))
		}
	}
	return errors.Join(errs...)
}

// CompileSchema compiles a JSON Schema document, checking it against its
// draft's meta-schema.
func CompileSchema(schema string) (*jsonschema.Schema, error) {
	if strings.TrimSpace(schema) == "" {
		return nil, errors.New("empty")
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(schema))
	if err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("params.schema.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("params.schema.json")
}

// ValidateParams validates a JSON document against a compiled schema.
func ValidateParams(sch *jsonschema.Schema, params string) error {
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(params))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return sch.Validate(v)
}

// CheckPlan checks that a plan is valid on graph g, as the host checks
// every plan an algorithm returns (sdk/plan.Validate: quantizer ids,
// locations in g and its subgraphs, bits, levels, ranges, per-channel
// lengths, duplicates, unified groups, tensor updates, precision
// overrides), and that sdk/plan can apply it.
func CheckPlan(g *potv1.Graph, p *potv1.QuantizationPlan) error {
	if err := plan.Validate(g, p); err != nil {
		var inv *plan.InvalidError
		if errors.As(err, &inv) {
			errs := make([]error, len(inv.Problems))
			for i, pr := range inv.Problems {
				errs[i] = errors.New(pr)
			}
			return errors.Join(errs...)
		}
		return err
	}
	if _, err := plan.Apply(g, p); err != nil {
		return fmt.Errorf("the plan does not apply: %w", err)
	}
	return nil
}

// validJSONObject reports whether s is a JSON object.
func validJSONObject(s string) bool {
	var m map[string]any
	return json.Unmarshal([]byte(s), &m) == nil
}

// CheckPrefetch checks the statistics requests an algorithm tells ahead
// of its run (sdk.Prefetcher) on graph g: each has probes, with ids
// unique within it, on tensors of g (its inputs and node outputs).
func CheckPrefetch(g *potv1.Graph, reqs []*potv1.StatisticsRequest) error {
	tensors := map[string]bool{}
	for _, vi := range g.GetInputs() {
		tensors[vi.GetName()] = true
	}
	for _, n := range g.GetNodes() {
		for _, o := range n.GetOutputs() {
			tensors[o] = true
		}
	}
	var errs []error
	for i, r := range reqs {
		if len(r.GetProbes()) == 0 {
			errs = append(errs, fmt.Errorf("request %d has no probes", i))
		}
		ids := map[string]bool{}
		for _, p := range r.GetProbes() {
			if ids[p.GetId()] {
				errs = append(errs, fmt.Errorf("request %d: probe id %q twice", i, p.GetId()))
			}
			ids[p.GetId()] = true
			if !tensors[p.GetTensor()] {
				errs = append(errs, fmt.Errorf("request %d: probe %q on %q, not a tensor of the model", i, p.GetId(), p.GetTensor()))
			}
		}
	}
	return errors.Join(errs...)
}
