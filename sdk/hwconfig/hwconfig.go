package hwconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/potgo/pot/proto/potv1"
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

// Parse reads a config in POT's layout and expands its aliases.
func Parse(b []byte) (*potv1.HardwareConfig, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f fileConfig
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	out := &potv1.HardwareConfig{TargetDevice: f.TargetDevice, PrimaryBitwidth: f.PrimaryBitwidth, InputPriorityTypes: f.InputPriorityTypes}
	if out.PrimaryBitwidth == 0 {
		out.PrimaryBitwidth = 8
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
			return nil, err
		}
		aliases[name] = opts
	}
	expand := func(op string, list []string) ([]*potv1.QuantizationOption, error) {
		var res []*potv1.QuantizationOption
		for _, a := range list {
			opts, ok := aliases[a]
			if !ok {
				return nil, fmt.Errorf("operation %s: unknown quantization alias %q", op, a)
			}
			res = append(res, opts...)
		}
		return res, nil
	}
	for _, op := range f.Operations {
		oc := &potv1.OperationConfig{Type: op.Type, Attributes: map[string]string{}}
		if op.Quantization == nil {
			oc.Agnostic = true
		} else {
			var err error
			if oc.Activations, err = expand(op.Type, op.Quantization.Activations); err != nil {
				return nil, err
			}
			if oc.Weights, err = expand(op.Type, op.Quantization.Weights); err != nil {
				return nil, err
			}
			if oc.Outputs, err = expand(op.Type, op.Quantization.Outputs); err != nil {
				return nil, err
			}
		}
		for k, raw := range op.Attributes {
			var s string
			if err := json.Unmarshal(raw, &s); err == nil {
				oc.Attributes[k] = s
				continue
			}
			var groups [][]int64
			if err := json.Unmarshal(raw, &groups); err != nil {
				return nil, fmt.Errorf("operation %s: attribute %s: want a string or index groups", op.Type, k)
			}
			for _, g := range groups {
				oc.UnifiedScaleGroups = append(oc.UnifiedScaleGroups, &potv1.IntList{Values: g})
			}
		}
		out.Operations = append(out.Operations, oc)
	}
	return out, nil
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
