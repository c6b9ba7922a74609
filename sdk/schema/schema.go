package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/potgo/pot/sdk/suggest"
)

// Schema is a compiled parameter schema.
type Schema struct {
	compiled *jsonschema.Schema
	doc      any
}

// Compile parses and compiles a JSON Schema (draft 2020-12).
func Compile(src string) (*Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("parameter schema is not JSON: %w", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("params.json", doc); err != nil {
		return nil, fmt.Errorf("parameter schema: %w", err)
	}
	s, err := c.Compile("params.json")
	if err != nil {
		return nil, fmt.Errorf("parameter schema: %w", err)
	}
	return &Schema{compiled: s, doc: doc}, nil
}

// Problem is one thing wrong with the parameters.
type Problem struct {
	// Path is the key path, such as "weights.bits".
	Path    string
	Message string
}

// Error lists problems, one per line after the first.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	if len(e.Problems) == 1 {
		return e.Problems[0].String()
	}
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return fmt.Sprintf("%d problems: %s", len(lines), strings.Join(lines, "; "))
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// Validate checks a parameters object (JSON) against the schema.
func (s *Schema) Validate(params []byte) error {
	if len(bytes.TrimSpace(params)) == 0 {
		params = []byte("{}")
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(params))
	if err != nil {
		return &Error{Problems: []Problem{{Message: "parameters are not valid JSON: " + err.Error()}}}
	}
	err = s.compiled.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	var problems []Problem
	s.collect(ve, &problems)
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].Path < problems[j].Path })
	// Drop duplicates (oneOf branches repeat themselves).
	out := problems[:0]
	seen := map[string]bool{}
	for _, p := range problems {
		if k := p.String(); !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	return &Error{Problems: out}
}

func (s *Schema) collect(e *jsonschema.ValidationError, out *[]Problem) {
	path := strings.Join(e.InstanceLocation, ".")
	switch k := e.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		known := s.propertiesAt(e.SchemaURL)
		for _, prop := range k.Properties {
			p := path
			if p != "" {
				p += "."
			}
			msg := "unknown key"
			if near := Nearest(prop, known); near != "" {
				msg += fmt.Sprintf("; did you mean %q?", near)
			} else if len(known) > 0 {
				msg += fmt.Sprintf(" (valid keys: %s)", strings.Join(known, ", "))
			}
			*out = append(*out, Problem{Path: p + prop, Message: msg})
		}
		return
	case *kind.Type:
		*out = append(*out, Problem{Path: path, Message: fmt.Sprintf("is %s, want %s", k.Got, strings.Join(k.Want, " or "))})
		return
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			b, _ := json.Marshal(w)
			want[i] = string(b)
		}
		got, _ := json.Marshal(k.Got)
		msg := fmt.Sprintf("%s is not one of %s", got, strings.Join(want, ", "))
		if gs, ok := k.Got.(string); ok {
			var names []string
			for _, w := range k.Want {
				if ws, ok := w.(string); ok {
					names = append(names, ws)
				}
			}
			if near := Nearest(gs, names); near != "" {
				msg += fmt.Sprintf("; did you mean %q?", near)
			}
		}
		*out = append(*out, Problem{Path: path, Message: msg})
		return
	case *kind.Required:
		for _, m := range k.Missing {
			p := path
			if p != "" {
				p += "."
			}
			*out = append(*out, Problem{Path: p + m, Message: "is required"})
		}
		return
	case *kind.Group, *kind.Schema, *kind.Reference, *kind.AllOf, *kind.AnyOf, *kind.OneOf, *kind.Not:
	default:
		if len(e.Causes) == 0 {
			*out = append(*out, Problem{Path: path, Message: e.Error()})
			return
		}
	}
	for _, c := range e.Causes {
		s.collect(c, out)
	}
}

// propertiesAt returns the property names of the schema object that a
// keyword URL (".../params.json#/$defs/tensor/additionalProperties")
// belongs to.
func (s *Schema) propertiesAt(schemaURL string) []string {
	u, err := url.Parse(schemaURL)
	if err != nil {
		return nil
	}
	node := s.doc
	parts := strings.Split(strings.TrimPrefix(u.Fragment, "/"), "/")
	if len(parts) > 0 && parts[len(parts)-1] == "additionalProperties" {
		parts = parts[:len(parts)-1]
	}
	for _, p := range parts {
		if p == "" {
			continue
		}
		p = strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~")
		switch n := node.(type) {
		case map[string]any:
			node = n[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(n) {
				return nil
			}
			node = n[i]
		default:
			return nil
		}
	}
	obj, ok := node.(map[string]any)
	if !ok {
		return nil
	}
	props, ok := obj["properties"].(map[string]any)
	if !ok {
		return nil
	}
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Nearest returns the candidate closest to s by edit distance, if it is
// close enough to be a likely typo (at most a third of the longer
// string), or "". It is suggest.Nearest.
func Nearest(s string, candidates []string) string { return suggest.Nearest(s, candidates) }
