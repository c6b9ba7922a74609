package plugintest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
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

// CheckPlan checks that a plan is valid on graph g: quantizer ids are
// unique, locations exist in the graph (and a node input port holds the
// tensor), levels and ranges are consistent and non-empty, per-tensor
// quantizers have one range and per-channel ones one per channel, weight
// quantizers sit on constants, unified groups share ranges, tensor
// updates replace initializers of the same type and shape, precision
// overrides name nodes, and sdk/plan can apply the plan.
func CheckPlan(g *potv1.Graph, p *potv1.QuantizationPlan) error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	nodes := map[string]*potv1.Node{}
	tensors := map[string]bool{}
	inits := map[string]*potv1.Tensor{}
	shapes := map[string][]int64{}
	for _, n := range g.GetNodes() {
		nodes[n.GetName()] = n
		for _, o := range n.GetOutputs() {
			tensors[o] = true
		}
	}
	for _, vi := range append(append(append([]*potv1.ValueInfo{}, g.GetInputs()...), g.GetOutputs()...), g.GetValueInfo()...) {
		tensors[vi.GetName()] = tensors[vi.GetName()] || slices.Contains(g.GetInputs(), vi)
		if vi.GetHasShape() {
			dims := make([]int64, len(vi.GetShape()))
			for i, d := range vi.GetShape() {
				dims[i] = d.GetSize()
				if _, ok := d.GetValue().(*potv1.Dim_Size); !ok {
					dims[i] = -1
				}
			}
			shapes[vi.GetName()] = dims
		}
	}
	for _, t := range g.GetInitializers() {
		tensors[t.GetName()] = true
		inits[t.GetName()] = t
		shapes[t.GetName()] = t.GetDims()
	}
	ids := map[string]bool{}
	groups := map[string]*potv1.Quantizer{}
	for i, q := range p.GetQuantizers() {
		id := q.GetId()
		if id == "" {
			add("quantizer %d has no id", i)
			id = fmt.Sprintf("#%d", i)
		} else if ids[id] {
			add("quantizer id %q is used twice", id)
		}
		ids[id] = true
		loc := q.GetLocation()
		switch {
		case loc.GetTensor() == "":
			add("quantizer %q has no location", id)
		case !tensors[loc.GetTensor()]:
			add("quantizer %q: tensor %q is not in the graph", id, loc.GetTensor())
		}
		if loc.GetNode() != "" {
			n := nodes[loc.GetNode()]
			switch {
			case n == nil:
				add("quantizer %q: node %q is not in the graph", id, loc.GetNode())
			case loc.GetInput() < 0 || int(loc.GetInput()) >= len(n.GetInputs()):
				add("quantizer %q: node %q has no input %d", id, loc.GetNode(), loc.GetInput())
			case n.GetInputs()[loc.GetInput()] != loc.GetTensor():
				add("quantizer %q: input %d of node %q is %q, not %q", id, loc.GetInput(), loc.GetNode(), n.GetInputs()[loc.GetInput()], loc.GetTensor())
			}
		}
		if q.GetWeights() && inits[loc.GetTensor()] == nil {
			add("quantizer %q quantizes weights, but %q is not a constant", id, loc.GetTensor())
		}
		if q.GetLevels() < 2 {
			add("quantizer %q has %d levels", id, q.GetLevels())
		}
		if (q.GetLevelLow() != 0 || q.GetLevelHigh() != 0) && q.GetLevelHigh()-q.GetLevelLow()+1 != q.GetLevels() {
			add("quantizer %q: levels [%d, %d] are not %d levels", id, q.GetLevelLow(), q.GetLevelHigh(), q.GetLevels())
		}
		n := len(q.GetInputLow())
		if n == 0 || len(q.GetInputHigh()) != n || len(q.GetOutputLow()) != n || len(q.GetOutputHigh()) != n {
			add("quantizer %q: ranges have lengths %d/%d/%d/%d, want equal and non-zero", id,
				n, len(q.GetInputHigh()), len(q.GetOutputLow()), len(q.GetOutputHigh()))
			continue
		}
		for c := 0; c < n; c++ {
			il, ih, ol, oh := q.GetInputLow()[c], q.GetInputHigh()[c], q.GetOutputLow()[c], q.GetOutputHigh()[c]
			if !finite(il, ih, ol, oh) || !(ih > il) || !(oh > ol) {
				add("quantizer %q: channel %d: range [%g, %g] -> [%g, %g] is empty or not finite", id, c, il, ih, ol, oh)
				break
			}
		}
		switch q.GetGranularity() {
		case potv1.Granularity_GRANULARITY_PER_CHANNEL:
			dims := shapes[loc.GetTensor()]
			axis := int(q.GetAxis())
			if dims != nil && (axis < 0 || axis >= len(dims)) {
				add("quantizer %q: channel axis %d outside the %d dimensions of %q", id, axis, len(dims), loc.GetTensor())
			} else if dims != nil && dims[axis] > 0 && int64(n) != dims[axis] {
				add("quantizer %q: %d per-channel ranges for %d channels of %q (axis %d)", id, n, dims[axis], loc.GetTensor(), axis)
			}
		default:
			if n != 1 {
				add("quantizer %q is per-tensor with %d ranges", id, n)
			}
		}
		if grp := q.GetUnifiedGroup(); grp != "" {
			if first, ok := groups[grp]; ok {
				if !slices.Equal(first.GetInputLow(), q.GetInputLow()) || !slices.Equal(first.GetInputHigh(), q.GetInputHigh()) {
					add("quantizers %q and %q of unified group %q have different ranges", first.GetId(), id, grp)
				}
			} else {
				groups[grp] = q
			}
		}
	}
	for _, u := range p.GetTensorUpdates() {
		orig := inits[u.GetName()]
		switch {
		case orig == nil:
			add("tensor update %q: no such initializer", u.GetName())
		case orig.GetDtype() != u.GetDtype() || !slices.Equal(orig.GetDims(), u.GetDims()):
			add("tensor update %q: %v %v replaces %v %v", u.GetName(), u.GetDtype(), u.GetDims(), orig.GetDtype(), orig.GetDims())
		case len(orig.GetData()) != len(u.GetData()):
			add("tensor update %q: %d bytes replace %d", u.GetName(), len(u.GetData()), len(orig.GetData()))
		}
	}
	for _, pr := range p.GetPrecisions() {
		if nodes[pr.GetNode()] == nil {
			add("precision override of node %q: no such node", pr.GetNode())
		}
	}
	if len(errs) == 0 {
		if _, err := plan.Apply(g, p); err != nil {
			add("the plan does not apply: %w", err)
		}
	}
	return errors.Join(errs...)
}

func finite(v ...float32) bool {
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return false
		}
	}
	return true
}

// validJSONObject reports whether s is a JSON object.
func validJSONObject(s string) bool {
	var m map[string]any
	return json.Unmarshal([]byte(s), &m) == nil
}
