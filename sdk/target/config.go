package target

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"runtime"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/plan"
	rt "github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/ops"
)

// Config declares a target: what it is, which operators it runs, how it
// computes, and what it tells algorithms about itself. New checks it.
type Config struct {
	// Name is the NAME of the plugin binary pot-target-NAME (required).
	Name string
	// Version is the target's version (required), such as "1.2.0".
	Version string
	// Device is the device's name as POT spells it (required), such as
	// "CPU" or "NPU"; it is also the hardware config's target_device.
	Device string

	// OpSet lists the ONNX operators (default domain) the target runs, by
	// type ("Conv", "Relu"); each must be one the runtime implements or
	// one of Operators. A model with a node of another type is refused
	// when it is loaded, with one entry per such node naming it; so is a
	// node of another domain. The operators of Operators pass, and so do
	// the quantizers
	// (QuantizeLinear, DequantizeLinear and pot's FakeQuantize), which
	// every target runs for plans and QDQ models, and Constant nodes,
	// which are data, always pass. Nil means every operator of the
	// runtime.
	OpSet []string
	// Check, when set, refuses single nodes the op set lets through (an
	// attribute value, a shape the device cannot run): an error marks
	// the node unsupported, with the error as the reason. It sees every
	// node of a loaded model, those of subgraphs included; Describe
	// lists an operator when Check accepts a node of that type and
	// domain alone.
	Check func(n *potv1.Node) error
	// Operators are operators the target implements itself, for its
	// programs only: operators the runtime lacks (in the ONNX domain or
	// a vendor's own), replacements of the runtime's, or the integer
	// kernels a Lower hook emits.
	Operators []Operator

	// Numerics is how the target computes.
	Numerics Numerics

	// HardwareConfig is published in Describe for algorithms to place
	// quantizers by (required): per operator type the allowed bits, mode
	// and granularity of activations and weights, fastest first. Write it
	// in POT's JSON layout and parse it with sdk/hwconfig.
	HardwareConfig *potv1.HardwareConfig
	// Presets the target accepts, the default first (required): some of
	// "performance", "mixed" and "accuracy".
	Presets []string
	// Capabilities are the facts about the target's arithmetic that
	// algorithms and pot branch on: the accumulator, integer-only
	// execution, the precise preset, symmetric activation products,
	// piecewise-linear activations, the float precision (FLOAT16 for a
	// device that computes in half; unset, the property
	// "float_precision" decides, float32 without it). Nil means exact
	// int32 accumulation and nothing else. New sets the rounding from
	// Numerics.Rounding (a rounding set here must be that one).
	Capabilities *potv1.TargetCapabilities
	// Properties are free-form facts shown by `pot plugins describe`.
	// New adds "rounding" for a rounding other than the default and
	// "float_precision" for float16, unless they are set.
	Properties map[string]string

	// Threads per inference; 0 means all cores (Serve sets the host's
	// budget, sdk.Threads, when it is 0).
	Threads int
	// BatchSize of inference over data sets when a request leaves it 0;
	// 0 means 64.
	BatchSize int
}

// Numerics is a target's arithmetic over the runtime, which computes in
// float32 and simulates a quantization plan with FakeQuantize nodes
// (sdk/plan.Apply) unless told otherwise.
type Numerics struct {
	// Rounding is how the quantizers round a value divided by its scale
	// to a level: the FakeQuantize nodes of plans (weights and
	// activations) and the QuantizeLinear nodes of QDQ models. The zero
	// value is RoundHalfToEven, as ONNX rounds. Kernels that a Lower
	// hook emits round as they do.
	Rounding Rounding
	// Policy, when set, sees every value a program computes (constants
	// once, node outputs after each node) and may change it in place:
	// rounding to float16, saturating to an accumulator's range.
	Policy Policy
	// Lower, when set, turns a graph and a plan into the graph the target
	// executes, for example with integer kernels (Operators); by
	// default the plan is simulated with FakeQuantize nodes (plan.Apply).
	// It must not modify g.
	Lower LowerFunc
	// LowerKeeping, when set, is used instead of Lower for requests that
	// read tensors besides the graph outputs (Infer and Evaluate outputs,
	// statistics probes): keep names them (as in the original graph), and
	// the lowered graph must still compute them, for example in float
	// where a fused integer kernel would not.
	LowerKeeping LowerKeepingFunc
}

// LowerFunc turns a graph and a plan (nil: the float model) into the
// graph a target executes.
type LowerFunc func(g *potv1.Graph, p *potv1.QuantizationPlan) (*plan.Applied, error)

// LowerKeepingFunc is a LowerFunc whose result still computes the
// tensors keep names.
type LowerKeepingFunc func(g *potv1.Graph, p *potv1.QuantizationPlan, keep []string) (*plan.Applied, error)

// Operator is an operator a target implements itself.
type Operator struct {
	// Domain is the operator's domain: "" for ONNX, or the vendor's own
	// ("com.example.npu"), which a graph need not import.
	Domain string
	// OpType is the operator's type, such as "Gelu".
	OpType string
	// Since is the first opset version of Domain the implementation
	// serves (until another Operator of the same type with a greater
	// Since); 0 means 1.
	Since int64
	// New builds the kernel of one node, once, when a program is
	// compiled: it reads the node's attributes and constant inputs,
	// refuses what it does not implement with Unsupported, and returns
	// the Kernel that runs it.
	New func(n *Node) (Kernel, error)
}

// presets are the preset names pot knows.
var presets = map[string]bool{"performance": true, "mixed": true, "accuracy": true}

// isQuantizer reports whether an operator is a quantizer, which every
// target runs (see Config.OpSet).
func isQuantizer(domain, opType string) bool {
	switch domain {
	case "", "ai.onnx", "com.microsoft":
		return opType == "QuantizeLinear" || opType == "DequantizeLinear"
	case plan.FakeQuantizeDomain:
		return opType == plan.FakeQuantizeOp
	}
	return false
}

// validate checks c and returns its operator registry (nil without
// Operators) and op set (nil without OpSet).
func (c *Config) validate() (*ops.Registry, map[string]bool, error) {
	var errs []error
	for _, f := range []struct{ name, v string }{{"Name", c.Name}, {"Version", c.Version}, {"Device", c.Device}} {
		if f.v == "" {
			errs = append(errs, fmt.Errorf("%s is empty", f.name))
		}
	}
	if len(c.HardwareConfig.GetOperations()) == 0 {
		errs = append(errs, errors.New("HardwareConfig is missing or lists no operation"))
	}
	if len(c.Presets) == 0 {
		errs = append(errs, errors.New("Presets is empty"))
	}
	for _, p := range c.Presets {
		if !presets[p] {
			errs = append(errs, fmt.Errorf("preset %q is not one of %v", p, slices.Sorted(maps.Keys(presets))))
		}
	}
	if pp := c.Capabilities.GetPrecisePreset(); pp != "" && !slices.Contains(c.Presets, pp) {
		errs = append(errs, fmt.Errorf("the precise preset %q is not among the presets %v", pp, c.Presets))
	}
	if !c.Numerics.Rounding.Valid() {
		errs = append(errs, fmt.Errorf("rounding %v is not one of the Round constants", c.Numerics.Rounding))
	} else if r := c.Capabilities.GetRounding(); r != potv1.Rounding_ROUNDING_UNSPECIFIED && r != roundingProto(c.Numerics.Rounding) {
		errs = append(errs, fmt.Errorf("Capabilities say rounding %v, Numerics %v: leave the capability unset, New sets it from Numerics", r, c.Numerics.Rounding))
	}
	var reg *ops.Registry
	if len(c.Operators) > 0 {
		reg = ops.NewRegistry()
	}
	for _, op := range c.Operators {
		if op.OpType == "" || op.New == nil {
			errs = append(errs, fmt.Errorf("operator %q of domain %q: OpType and New are required", op.OpType, op.Domain))
			continue
		}
		if err := reg.Register(op.Domain, op.OpType, max(op.Since, 1), ops.Factory(op.New)); err != nil {
			errs = append(errs, err)
		}
	}
	var set map[string]bool
	if c.OpSet != nil {
		set = map[string]bool{}
		known := map[string]bool{}
		for _, op := range rt.Registered() {
			if op.Domain == ops.DomainONNX {
				known[op.OpType] = true
			}
		}
		for _, op := range c.Operators {
			if graph.IsONNXDomain(op.Domain) {
				known[op.OpType] = true
			}
		}
		for _, op := range c.OpSet {
			if !known[op] {
				errs = append(errs, fmt.Errorf("op set: %q is not an ONNX operator the runtime or Operators implement", op))
			}
			set[op] = true
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, fmt.Errorf("target %q: %w", c.Name, err)
	}
	return reg, set, nil
}

// defaults fills in the zero values that have one.
func (c *Config) defaults() {
	if c.Threads <= 0 {
		c.Threads = runtime.NumCPU()
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 64
	}
	if c.Capabilities == nil {
		// Said, so that no algorithm falls back to rules of the device
		// name.
		c.Capabilities = &potv1.TargetCapabilities{Accumulator: potv1.Accumulator_ACCUMULATOR_INT32}
	} else {
		c.Capabilities = proto.CloneOf(c.Capabilities)
	}
	// The rounding is said, typed for the host (which writes integer
	// weights rounded so) and, when it is not the default, as a property
	// for display and older hosts; so is a float16 precision.
	c.Capabilities.Rounding = roundingProto(c.Numerics.Rounding)
	props := maps.Clone(c.Properties)
	if props == nil {
		props = map[string]string{}
	}
	if r := c.Numerics.Rounding; r != RoundHalfToEven {
		if _, ok := props["rounding"]; !ok {
			props["rounding"] = r.String()
		}
	}
	if _, ok := props["float_sums"]; !ok {
		// How the runtime's float convolutions sum on this machine: a
		// host compares it with its remote targets' (ops.FloatSums).
		props["float_sums"] = ops.FloatSums()
	}
	if c.Capabilities.FloatPrecision == potv1.FloatPrecision_FLOAT_PRECISION_UNSPECIFIED {
		// From the property, as pot reads a target that does not say it.
		c.Capabilities.FloatPrecision = sdk.Capabilities(&potv1.TargetDescription{Capabilities: c.Capabilities, Properties: props}).GetFloatPrecision()
	}
	if c.Capabilities.FloatPrecision == potv1.FloatPrecision_FLOAT_PRECISION_FLOAT16 {
		if _, ok := props["float_precision"]; !ok {
			props["float_precision"] = "float16"
		}
	}
	if len(props) > 0 || c.Properties != nil {
		c.Properties = props
	}
}

// roundingProto is the protocol's name of a rounding
// (TargetCapabilities.rounding); ROUNDING_UNSPECIFIED for an invalid one.
func roundingProto(r Rounding) potv1.Rounding {
	switch r {
	case RoundHalfToEven:
		return potv1.Rounding_ROUNDING_HALF_TO_EVEN
	case RoundHalfAwayFromZero:
		return potv1.Rounding_ROUNDING_HALF_AWAY_FROM_ZERO
	case RoundHalfUp:
		return potv1.Rounding_ROUNDING_HALF_UP
	case RoundTowardZero:
		return potv1.Rounding_ROUNDING_TOWARD_ZERO
	case RoundDown:
		return potv1.Rounding_ROUNDING_DOWN
	}
	return potv1.Rounding_ROUNDING_UNSPECIFIED
}

// options are the runtime's compile options for the target.
func (e *Engine) options() rt.Options {
	return rt.Options{Threads: e.cfg.Threads, Policy: e.cfg.Numerics.Policy, Rounding: e.cfg.Numerics.Rounding, Kernels: e.kernels}
}

// check returns why the target cannot run n, or nil.
func (e *Engine) check(n *potv1.Node) error {
	domain, op := n.GetDomain(), n.GetOpType()
	if e.opSet != nil && !isQuantizer(domain, op) && !(op == "Constant" && graph.IsONNXDomain(domain)) {
		own := false
		if e.kernels != nil {
			_, own = e.kernels.Lookup(domain, op, math.MaxInt64)
		}
		switch {
		case own:
		case !graph.IsONNXDomain(domain):
			return fmt.Errorf("operator %s of domain %q is not in the op set of target %s", op, domain, e.cfg.Name)
		case !e.opSet[op]:
			return fmt.Errorf("operator %s is not in the op set of target %s", op, e.cfg.Name)
		}
	}
	if e.cfg.Check != nil {
		return e.cfg.Check(n)
	}
	return nil
}
