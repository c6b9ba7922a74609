package config

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/potgo/pot/sdk/schema"
)

// checker walks decoded JSON and collects problems.
type checker struct {
	problems []schema.Problem
}

func (c *checker) add(path, format string, args ...any) {
	c.problems = append(c.problems, schema.Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// kind names the JSON type of a decoded value.
func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("%T", v)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// object checks that v is an object whose keys are among allowed, and
// returns it (nil when v is not an object).
func (c *checker) object(path string, v any, allowed []string) map[string]any {
	m, ok := v.(map[string]any)
	if !ok {
		c.add(path, "is %s, want an object", kind(v))
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if slices.Contains(allowed, k) {
			continue
		}
		msg := "unknown key"
		if near := schema.Nearest(k, allowed); near != "" {
			msg += fmt.Sprintf("; did you mean %q?", near)
		} else {
			msg += fmt.Sprintf(" (valid keys: %s)", strings.Join(allowed, ", "))
		}
		c.add(join(path, k), "%s", msg)
	}
	return m
}

func (c *checker) str(path string, v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		c.add(path, "is %s, want a string", kind(v))
	}
	return s, ok
}

func (c *checker) boolean(path string, v any) (bool, bool) {
	b, ok := v.(bool)
	if !ok {
		c.add(path, "is %s, want true or false", kind(v))
	}
	return b, ok
}

// integer checks for an integer >= lo.
func (c *checker) integer(path string, v any, lo int) (int, bool) {
	n, ok := v.(json.Number)
	if !ok {
		c.add(path, "is %s, want an integer", kind(v))
		return 0, false
	}
	f, err := n.Float64()
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		c.add(path, "is %s, want an integer", n)
		return 0, false
	}
	if int(f) < lo {
		c.add(path, "is %s, want at least %d", n, lo)
		return 0, false
	}
	return int(f), true
}

// enum checks for one of the values of a string enumeration.
func (c *checker) enum(path string, v any, values []string) (string, bool) {
	s, ok := c.str(path, v)
	if !ok {
		return "", false
	}
	if slices.Contains(values, s) {
		return s, true
	}
	msg := fmt.Sprintf("%q is not one of %s", s, strings.Join(values, ", "))
	if near := schema.Nearest(s, values); near != "" {
		msg += fmt.Sprintf("; did you mean %q?", near)
	}
	c.add(path, "%s", msg)
	return "", false
}
