package hwconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/suggest"
)

type fileConfig struct {
	TargetDevice       string   `json:"target_device"`
	PrimaryBitwidth    int32    `json:"primary_bitwidth"`
	InputPriorityTypes []string `json:"input_priority_types"`
	Config             struct {
		Quantization map[string]json.RawMessage `json:"quantization"`
	} `json:"config"`
	Operations []fileOp `json:"operations"`
}

type fileOp struct {
	Type         string `json:"type"`
	Quantization *struct {
		Activations stringOrList `json:"activations"`
		Weights     stringOrList `json:"weights"`
		Outputs     stringOrList `json:"outputs"`
	} `json:"quantization"`
	Attributes map[string]json.RawMessage `json:"attributes"`
}

type stringOrList []string

func (s *stringOrList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// Parse reads a config in POT's layout, maps its operation types to ONNX
// ones and expands its aliases; see ParseWarnings.
func Parse(b []byte) (*potv1.HardwareConfig, error) {
	c, _, err := ParseWarnings(b)
	return c, err
}

// ParseWarnings reads a config in POT's layout (see the package
// documentation) and returns it with what it left out or merged, one
// warning each.
//
// Operation types may be ONNX operators, DepthwiseConv, or OpenVINO
// names (POT's own configs), which map to ONNX types (ONNXTypes): an
// OpenVINO name can stand for several ONNX types and several names for
// one type. When two entries configure one ONNX type, an entry naming
// the type itself wins over one mapped to it, otherwise the first wins;
// a warning says so when they differ. Types without an ONNX counterpart
// (Parameter, Result, Assign, ReadValue, NotEqual, ShuffleChannels) are
// left out with a warning; any other unknown type is an error with the
// nearest known name.
//
// Aliases must have bits the tool represents (AllowedBits: 2 to 8, 16,
// 32), a mode and a granularity, and level bounds, when given, with
// level_low < level_high inside the signed or unsigned range of the bits.
// All problems are reported at once.
func ParseWarnings(b []byte) (*potv1.HardwareConfig, []string, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f fileConfig
	if err := dec.Decode(&f); err != nil {
		return nil, nil, err
	}
	p := &parser{}
	out := &potv1.HardwareConfig{TargetDevice: f.TargetDevice, PrimaryBitwidth: f.PrimaryBitwidth}
	if out.PrimaryBitwidth == 0 {
		out.PrimaryBitwidth = 8
	} else if !AllowedBits(out.PrimaryBitwidth) {
		p.fail("primary_bitwidth %d: %s", out.PrimaryBitwidth, bitsPolicy)
	}
	for _, t := range f.InputPriorityTypes {
		out.InputPriorityTypes = append(out.InputPriorityTypes, p.types("input_priority_types", t)...)
	}
	aliases := map[string][]*potv1.QuantizationOption{}
	names := make([]string, 0, len(f.Config.Quantization))
	for name := range f.Config.Quantization {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		opts, err := expandAlias(name, f.Config.Quantization[name])
		if err != nil {
			p.errs = append(p.errs, err)
			continue
		}
		aliases[name] = opts
	}
	expand := func(op string, list []string) []*potv1.QuantizationOption {
		var res []*potv1.QuantizationOption
		for _, a := range list {
			opts, ok := aliases[a]
			if !ok {
				if _, defined := f.Config.Quantization[a]; !defined {
					p.fail("operation %s: unknown quantization alias %q", op, a)
				}
				continue
			}
			res = append(res, opts...)
		}
		return res
	}
	type origin struct {
		from  string
		exact bool // the entry names the type itself
	}
	at := map[string]int{}
	from := map[string]origin{}
	for i, op := range f.Operations {
		types := p.types(fmt.Sprintf("operation %d", i), op.Type)
		if len(types) == 0 {
			continue
		}
		oc := &potv1.OperationConfig{Attributes: map[string]string{}}
		if op.Quantization == nil {
			oc.Agnostic = true
		} else {
			oc.Activations = expand(op.Type, op.Quantization.Activations)
			oc.Weights = expand(op.Type, op.Quantization.Weights)
			oc.Outputs = expand(op.Type, op.Quantization.Outputs)
		}
		for _, k := range slices.Sorted(maps.Keys(op.Attributes)) {
			raw := op.Attributes[k]
			var s string
			if err := json.Unmarshal(raw, &s); err == nil {
				oc.Attributes[k] = s
				continue
			}
			var groups [][]int64
			if err := json.Unmarshal(raw, &groups); err != nil {
				p.fail("operation %s: attribute %s: want a string or index groups", op.Type, k)
				continue
			}
			for _, g := range groups {
				oc.UnifiedScaleGroups = append(oc.UnifiedScaleGroups, &potv1.IntList{Values: g})
			}
		}
		for _, t := range types {
			c := proto.Clone(oc).(*potv1.OperationConfig)
			c.Type = t
			exact := t == op.Type
			j, dup := at[t]
			if !dup {
				at[t], from[t] = len(out.Operations), origin{op.Type, exact}
				out.Operations = append(out.Operations, c)
				continue
			}
			prev := from[t]
			switch {
			case exact && !prev.exact:
				out.Operations[j], from[t] = c, origin{op.Type, exact}
			case exact == prev.exact && !proto.Equal(out.Operations[j], c):
				p.warn("operations %s and %s both configure %s, differently: %s is used", prev.from, op.Type, t, prev.from)
			}
		}
	}
	if len(p.errs) > 0 {
		return nil, nil, errors.Join(p.errs...)
	}
	return out, p.warnings, nil
}

// MustParse is Parse for a config compiled into the program (go:embed),
// which its tests show good: it panics on an error.
func MustParse(b []byte) *potv1.HardwareConfig {
	c, err := Parse(b)
	if err != nil {
		panic(fmt.Sprintf("hwconfig: %v", err))
	}
	return c
}

// parser collects a config's problems and warnings.
type parser struct {
	errs     []error
	warnings []string
}

func (p *parser) fail(format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf(format, args...))
}
func (p *parser) warn(format string, args ...any) {
	p.warnings = append(p.warnings, fmt.Sprintf(format, args...))
}

// types maps an operation type of the config (at where) to ONNX types,
// recording a warning for a type left out and an error for an unknown
// one.
func (p *parser) types(where, t string) []string {
	if types, ok := ONNXTypes(t); ok {
		return types
	}
	if why, ok := noONNX[t]; ok {
		p.warn("%s: %s left out: %s", where, t, why)
		return nil
	}
	msg := fmt.Sprintf("%s: unknown operation type %q (neither an ONNX operator nor an OpenVINO one pot maps)", where, t)
	if near := suggest.Nearest(t, knownNames()); near != "" {
		msg += fmt.Sprintf("; did you mean %q?", near)
	}
	p.errs = append(p.errs, errors.New(msg))
	return nil
}

// bitsPolicy says which bit widths a config may use.
const bitsPolicy = "want 2 to 8, 16 or 32 bits"

// AllowedBits reports whether a quantizer of b bits is one pot
// represents: 2 to 8 bits are stored as (u)int8 (4 bits as (u)int4 from
// opset 21), 16 as (u)int16, and 32 is GNA's accumulator width, which a
// QDQ model leaves in float. Other widths (9 to 15 bits, say) have no
// target arithmetic and no storage type of their own.
func AllowedBits(b int32) bool { return b >= 2 && b <= 8 || b == 16 || b == 32 }

// expandAlias turns one alias definition into its options, as the
// cartesian product of its list-valued fields in the order bits, mode,
// granularity.
func expandAlias(name string, raw json.RawMessage) ([]*potv1.QuantizationOption, error) {
	var a struct {
		Bits             json.RawMessage `json:"bits"`
		Mode             stringOrList    `json:"mode"`
		Granularity      stringOrList    `json:"granularity"`
		LevelLow         *int64          `json:"level_low"`
		LevelHigh        *int64          `json:"level_high"`
		UnifiedZeropoint bool            `json:"unified_zeropoint"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("alias %s: %w", name, err)
	}
	var bits []int32
	if err := json.Unmarshal(a.Bits, &bits); err != nil {
		var one int32
		if err := json.Unmarshal(a.Bits, &one); err != nil {
			return nil, fmt.Errorf("alias %s: bits: want a number or a list", name)
		}
		bits = []int32{one}
	}
	if len(a.Mode) == 0 || len(a.Granularity) == 0 {
		return nil, fmt.Errorf("alias %s: mode and granularity are required", name)
	}
	if (a.LevelLow == nil) != (a.LevelHigh == nil) {
		return nil, fmt.Errorf("alias %s: level_low and level_high go together", name)
	}
	for _, b := range bits {
		if !AllowedBits(b) {
			return nil, fmt.Errorf("alias %s: bits %d: %s", name, b, bitsPolicy)
		}
		if a.LevelLow == nil {
			continue
		}
		lo, hi := *a.LevelLow, *a.LevelHigh
		if lo >= hi {
			return nil, fmt.Errorf("alias %s: level_low %d is not below level_high %d", name, lo, hi)
		}
		signed := lo >= -(int64(1)<<(b-1)) && hi <= int64(1)<<(b-1)-1
		unsigned := lo >= 0 && hi <= int64(1)<<b-1
		if !signed && !unsigned {
			return nil, fmt.Errorf("alias %s: levels [%d, %d] do not fit %d bits ([%d, %d] or [0, %d])", name, lo, hi, b,
				-(int64(1) << (b - 1)), int64(1)<<(b-1)-1, int64(1)<<b-1)
		}
	}
	var out []*potv1.QuantizationOption
	for _, b := range bits {
		for _, m := range a.Mode {
			mode, err := parseMode(m)
			if err != nil {
				return nil, fmt.Errorf("alias %s: %w", name, err)
			}
			for _, g := range a.Granularity {
				gran, err := parseGranularity(g)
				if err != nil {
					return nil, fmt.Errorf("alias %s: %w", name, err)
				}
				o := &potv1.QuantizationOption{Alias: name, Bits: b, Mode: mode, Granularity: gran, UnifiedZeropoint: a.UnifiedZeropoint}
				if a.LevelLow != nil {
					o.HasLevels, o.LevelLow, o.LevelHigh = true, *a.LevelLow, *a.LevelHigh
				}
				out = append(out, o)
			}
		}
	}
	return out, nil
}

func parseMode(s string) (potv1.QuantizationMode, error) {
	switch s {
	case "symmetric":
		return potv1.QuantizationMode_QUANTIZATION_MODE_SYMMETRIC, nil
	case "asymmetric":
		return potv1.QuantizationMode_QUANTIZATION_MODE_ASYMMETRIC, nil
	}
	return 0, fmt.Errorf("mode %q is not symmetric or asymmetric", s)
}

func parseGranularity(s string) (potv1.Granularity, error) {
	switch s {
	case "pertensor":
		return potv1.Granularity_GRANULARITY_PER_TENSOR, nil
	case "perchannel":
		return potv1.Granularity_GRANULARITY_PER_CHANNEL, nil
	}
	return 0, fmt.Errorf("granularity %q is not pertensor or perchannel", s)
}
