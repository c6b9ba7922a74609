// Package params helps an algorithm that passes parameters on to another
// one (AccuracyAwareQuantization passes what is not its own to its base
// algorithm): Split separates its own keys, those its schema defines,
// from the ones it passes on.
//
// Declare the receiver in the description
// (AlgorithmCapabilities.passes_params_to) and publish a schema of your
// own keys only, open to others ("additionalProperties": true): pot then
// checks the passed-on keys against the receiver's schema, and a key
// that is no algorithm's gets "did you mean" from the algorithm with the
// nearest one.
package params

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// Properties returns the names of the top-level properties of a JSON
// Schema, sorted, and whether the schema admits other keys (it does not
// set "additionalProperties" to false).
func Properties(schema string) (names []string, open bool, err error) {
	if len(bytes.TrimSpace([]byte(schema))) == 0 {
		return nil, true, nil
	}
	var doc struct {
		Properties           map[string]json.RawMessage `json:"properties"`
		AdditionalProperties json.RawMessage            `json:"additionalProperties"`
	}
	if err := json.Unmarshal([]byte(schema), &doc); err != nil {
		return nil, false, fmt.Errorf("parameter schema: %w", err)
	}
	for k := range doc.Properties {
		names = append(names, k)
	}
	slices.Sort(names)
	return names, string(bytes.TrimSpace(doc.AdditionalProperties)) != "false", nil
}

// Split separates a parameters object (JSON) into the keys ownSchema
// defines at its top level (own) and the others (rest), each a JSON
// object ("{}" when empty; keys in sorted order, values as given).
func Split(raw json.RawMessage, ownSchema string) (own, rest json.RawMessage, err error) {
	names, _, err := Properties(ownSchema)
	if err != nil {
		return nil, nil, err
	}
	return SplitKeys(raw, names)
}

// SplitKeys is Split with the own keys listed.
func SplitKeys(raw json.RawMessage, ownKeys []string) (own, rest json.RawMessage, err error) {
	all := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &all); err != nil {
			return nil, nil, fmt.Errorf("params: %w", err)
		}
	}
	mine := map[string]json.RawMessage{}
	for _, k := range ownKeys {
		if v, ok := all[k]; ok {
			mine[k] = v
			delete(all, k)
		}
	}
	if own, err = json.Marshal(mine); err != nil {
		return nil, nil, fmt.Errorf("params: %w", err)
	}
	if rest, err = json.Marshal(all); err != nil {
		return nil, nil, fmt.Errorf("params: %w", err)
	}
	return own, rest, nil
}
