package dataset

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// Constant is the value of a model input that is the same for every
// sample. A Constant without Shape is a number that fills the input,
// whatever its shape; otherwise Values holds the elements of a tensor of
// that shape in row-major order.
type Constant struct {
	Shape  []int
	Values []float64
}

// Fill reports whether the constant is one number that fills its input.
func (c Constant) Fill() bool { return c.Shape == nil }

// String formats the constant as in a descriptor.
func (c Constant) String() string {
	if c.Fill() && len(c.Values) == 1 {
		return fmt.Sprint(c.Values[0])
	}
	return fmt.Sprintf("%s of %d values", FormatShape(c.Shape, false), len(c.Values))
}

// MarshalJSON writes the constant as a descriptor holds it.
func (c Constant) MarshalJSON() ([]byte, error) {
	if c.Fill() {
		if len(c.Values) != 1 {
			return nil, fmt.Errorf("constant without a shape holds %d values", len(c.Values))
		}
		return json.Marshal(c.Values[0])
	}
	var build func(dims []int, vals []float64) any
	build = func(dims []int, vals []float64) any {
		if len(dims) == 0 {
			return vals[0]
		}
		out := make([]any, dims[0])
		per := len(vals) / max(dims[0], 1)
		for i := range out {
			out[i] = build(dims[1:], vals[i*per:(i+1)*per])
		}
		return out
	}
	return json.Marshal(build(c.Shape, c.Values))
}

// UnmarshalJSON reads a number or a nested list of numbers.
func (c *Constant) UnmarshalJSON(b []byte) error {
	v, err := parseConstant("", b)
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// parseConstants decodes the "constants" key: an object of input names
// to numbers or nested lists of numbers.
func parseConstants(v json.RawMessage) (map[string]Constant, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(v, &raw); err != nil || raw == nil {
		return nil, errorf(ErrDescriptor, `key "constants": want an object of input names to values, got %s`, jsonKind(v))
	}
	names := make([]string, 0, len(raw))
	for k := range raw {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make(map[string]Constant, len(raw))
	for _, k := range names {
		c, err := parseConstant(k, raw[k])
		if err != nil {
			return nil, err
		}
		out[k] = c
	}
	return out, nil
}

// parseConstant decodes one constant; name is the input, for errors.
func parseConstant(name string, b json.RawMessage) (Constant, error) {
	fail := func(format string, args ...any) (Constant, error) {
		return Constant{}, errorf(ErrDescriptor, `constant %q: `+format, append([]any{name}, args...)...)
	}
	b = bytes.TrimSpace(b)
	var num float64
	if err := json.Unmarshal(b, &num); err == nil {
		if math.IsNaN(num) || math.IsInf(num, 0) {
			return fail("%v is not a finite number", num)
		}
		return Constant{Values: []float64{num}}, nil
	}
	var tree any
	if err := json.Unmarshal(b, &tree); err != nil {
		return fail("want a number or a nested list of numbers, got %s", jsonKind(b))
	}
	if _, isList := tree.([]any); !isList {
		return fail("want a number or a nested list of numbers, got %s", jsonKind(b))
	}
	var shape []int
	var vals []float64
	var walk func(v any, depth int) error
	walk = func(v any, depth int) error {
		switch x := v.(type) {
		case float64:
			if depth != len(shape) {
				return fmt.Errorf("a number at depth %d where the list nests %d deep", depth, len(shape))
			}
			vals = append(vals, x)
			return nil
		case []any:
			if depth == len(shape) {
				if len(vals) > 0 {
					return fmt.Errorf("a list at depth %d where numbers were", depth)
				}
				shape = append(shape, len(x))
			} else if shape[depth] != len(x) {
				return fmt.Errorf("rows of %d and %d values at depth %d (the list must be rectangular)", shape[depth], len(x), depth)
			}
			for _, e := range x {
				if err := walk(e, depth+1); err != nil {
					return err
				}
			}
			return nil
		}
		return fmt.Errorf("want numbers, got %v", v)
	}
	if err := walk(tree, 0); err != nil {
		return fail("%v", err)
	}
	if len(vals) == 0 || slices.Contains(shape, 0) {
		return fail("an empty list")
	}
	return Constant{Shape: shape, Values: vals}, nil
}

// ParseConstantFlag parses NAME=VALUE, VALUE being a number or a JSON
// nested list (the command line's --constant).
func ParseConstantFlag(s string) (string, Constant, error) {
	name, val, ok := strings.Cut(s, "=")
	if !ok || name == "" || val == "" {
		return "", Constant{}, fmt.Errorf("%q: want NAME=VALUE, e.g. sr=16000 or h=0", s)
	}
	c, err := parseConstant(name, json.RawMessage(val))
	if err != nil {
		return "", Constant{}, err
	}
	return name, c, nil
}

// ConstantsOf returns the constants a data set's descriptor gives, or nil.
func ConstantsOf(ds Dataset) map[string]Constant {
	if c, ok := ds.(*withConstants); ok {
		return c.consts
	}
	return nil
}

// NamedOf returns the Named view of a data set, if it has one.
func NamedOf(ds Dataset) (Named, bool) {
	if c, ok := ds.(*withConstants); ok {
		ds = c.Dataset
	}
	n, ok := ds.(Named)
	return n, ok
}

// WithConstants returns ds with constants for the inputs it does not
// feed (replacing any it had); no constants return ds as it is.
func WithConstants(ds Dataset, consts map[string]Constant) Dataset {
	if c, ok := ds.(*withConstants); ok {
		ds = c.Dataset
	}
	if len(consts) == 0 {
		return ds
	}
	return &withConstants{Dataset: ds, consts: consts}
}

// withConstants is a data set with constant inputs.
type withConstants struct {
	Dataset
	consts map[string]Constant
}

// String describes the data set and its constants.
func (c *withConstants) String() string {
	names := make([]string, 0, len(c.consts))
	for k := range c.consts {
		names = append(names, k)
	}
	sort.Strings(names)
	for i, k := range names {
		names[i] = k + "=" + c.consts[k].String()
	}
	return String(c.Dataset) + ", constants " + strings.Join(names, ", ")
}
