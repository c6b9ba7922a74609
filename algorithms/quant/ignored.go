package quant

import (
	"fmt"
	"regexp"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
)

// IgnoredMatcher returns a function telling whether a node is in the
// ignored scope (by name, name pattern, or type with attribute values).
// A scope name that matches no node is an error, since it is almost
// always a typo.
func (p *Params) IgnoredMatcher(x *graph.Index) (func(*potv1.Node) bool, error) {
	ig := p.Ignored
	if ig == nil {
		return func(*potv1.Node) bool { return false }, nil
	}
	names := map[string]bool{}
	for _, s := range ig.Scope {
		if x.Node(s) == nil {
			return nil, fmt.Errorf("ignored.scope: no node named %q in the model", s)
		}
		names[s] = true
	}
	var pats []*regexp.Regexp
	for _, s := range ig.Patterns {
		re, err := regexp.Compile(s)
		if err != nil {
			return nil, fmt.Errorf("ignored.patterns: %q: %w", s, err)
		}
		pats = append(pats, re)
	}
	return func(n *potv1.Node) bool {
		if ig.SkipModel || names[n.GetName()] {
			return true
		}
		for _, re := range pats {
			if re.MatchString(n.GetName()) {
				return true
			}
		}
		for _, op := range ig.Operations {
			if op.Type != n.GetOpType() && op.Type != HWType(x, n) {
				continue
			}
			if attributesMatch(n, op.Attributes) {
				return true
			}
		}
		return false
	}, nil
}

func attributesMatch(n *potv1.Node, want map[string]any) bool {
	for k, v := range want {
		a := graph.Attr(n, k)
		if a == nil {
			return false
		}
		switch a.GetType() {
		case potv1.Attribute_TYPE_INT:
			f, ok := v.(float64)
			if !ok || int64(f) != a.GetI() {
				return false
			}
		case potv1.Attribute_TYPE_FLOAT:
			f, ok := v.(float64)
			if !ok || float32(f) != a.GetF() {
				return false
			}
		case potv1.Attribute_TYPE_STRING:
			s, ok := v.(string)
			if !ok || s != string(a.GetS()) {
				return false
			}
		case potv1.Attribute_TYPE_INTS:
			l, ok := v.([]any)
			if !ok || len(l) != len(a.GetInts()) {
				return false
			}
			for i, e := range l {
				f, ok := e.(float64)
				if !ok || int64(f) != a.GetInts()[i] {
					return false
				}
			}
		default:
			return false
		}
	}
	return true
}

func cloneOption(o *potv1.QuantizationOption) *potv1.QuantizationOption {
	return proto.Clone(o).(*potv1.QuantizationOption)
}

// transformerIgnored are the operation types model_type "transformer"
// leaves in float (POT's get_ignored_operations).
var transformerIgnored = map[string]bool{
	"Add": true, "Pow": true, "Squeeze": true, "Mul": true, "Sub": true, "ReduceMean": true, "SquaredDifference": true,
}

// Skip returns the predicate of nodes not to quantize: the ignored scope,
// POT's ignored patterns, and for model_type "transformer" its ignored
// operation types (by hardware type: the ReduceMean that stands for a
// decomposed layer normalization is an MVN, which POT's list does not
// hold) and divisions by a constant (which OpenVINO turns into the
// Multiply that the list holds).
func (p *Params) Skip(x *graph.Index, device string) (func(*potv1.Node) bool, error) {
	scope, err := p.IgnoredMatcher(x)
	if err != nil {
		return nil, err
	}
	patterns := IgnoredPatterns(x)
	transformer := p.ModelType == "transformer"
	return func(n *potv1.Node) bool {
		if scope(n) {
			return true
		}
		if _, ok := patterns[n.GetName()]; ok {
			return true
		}
		return transformer && (transformerIgnored[HWType(x, n)] || transformerDivisor(x, n))
	}, nil
}
