package config

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/potgo/pot/sdk/schema"
)

// Devices maps POT's target_device values to target plugins.
var Devices = map[string]string{
	"ANY": "cpu", "CPU": "cpu", "CPU_SPR": "cpu",
	"GPU": "gpu",
	"VPU": "vpu", "NPU": "vpu",
	"GNA": "gna", "GNA3": "gna", "GNA3.5": "gna",
}

// deviceNames lists Devices' keys, sorted.
func deviceNames() []string {
	return slices.Sorted(maps.Keys(Devices))
}

// Target is the target plugin of target_device: POT's device names, in
// upper case as POT writes them, map through Devices; a name with a
// lower-case letter is a plugin name, so that a vendor's target plugin
// named like a device ("npu") is the one that runs; default cpu.
func (cfg *Config) Target() string {
	d := cfg.Compression.TargetDevice
	if d == "" {
		return "cpu"
	}
	if t, ok := Devices[d]; ok {
		return t
	}
	return d
}

func (cfg *Config) parseCompression(c *checker, v any) {
	m := c.object("compression", v, []string{"target_device", "model_type", "dump_intermediate_model",
		"inplace_statistics", "inplase_statistics", "algorithms"})
	if m == nil {
		return
	}
	comp := &cfg.Compression
	if v, ok := m["target_device"]; ok {
		if s, ok := c.str("compression.target_device", v); ok {
			_, known := Devices[strings.ToUpper(s)]
			if !known && !strings.ContainsFunc(s, unicode.IsLower) {
				// An upper-case name is meant as a POT device.
				msg := fmt.Sprintf("%q is not a device (%s) nor a target plugin name", s, strings.Join(deviceNames(), ", "))
				if near := schema.Nearest(s, deviceNames()); near != "" {
					msg += fmt.Sprintf("; did you mean %q?", near)
				}
				c.add("compression.target_device", "%s", msg)
			}
			comp.TargetDevice = s
		}
	}
	if v, ok := m["model_type"]; ok && v != nil {
		if s, ok := c.enum("compression.model_type", v, []string{"None", "transformer"}); ok && s != "None" {
			comp.ModelType = s
		}
	}
	for _, k := range []string{"inplace_statistics", "inplase_statistics"} {
		if v, ok := m[k]; ok {
			if b, ok := c.boolean("compression."+k, v); ok {
				comp.InplaceStatistics = &b
			}
		}
	}
	if v, ok := m["dump_intermediate_model"]; ok {
		if b, ok := c.boolean("compression.dump_intermediate_model", v); ok {
			comp.DumpIntermediateModel = &b
		}
	}
	v, ok := m["algorithms"]
	if !ok {
		c.add("compression.algorithms", "is required (for example [{\"name\": \"DefaultQuantization\"}])")
		return
	}
	list, ok := v.([]any)
	if !ok {
		c.add("compression.algorithms", "is %s, want an array of {\"name\", \"params\"} objects", kind(v))
		return
	}
	if len(list) == 0 {
		c.add("compression.algorithms", "is empty; name at least one algorithm")
	}
	for i, item := range list {
		path := index("compression.algorithms", i)
		am := c.object(path, item, []string{"name", "params"})
		if am == nil {
			continue
		}
		a := Algorithm{Params: map[string]any{}}
		if v, ok := am["name"]; !ok {
			c.add(join(path, "name"), "is required")
		} else if s, ok := c.str(join(path, "name"), v); ok {
			if s == "" {
				c.add(join(path, "name"), "is empty")
			}
			a.Name = s
		}
		if v, ok := am["params"]; ok {
			if pm, ok := v.(map[string]any); ok {
				a.Params = pm
			} else {
				c.add(join(path, "params"), "is %s, want an object", kind(v))
			}
		}
		comp.Algorithms = append(comp.Algorithms, a)
	}
}

// AlgorithmParams returns the parameters of algorithm i as JSON, with
// the compression-wide keys copied in as POT does (target_device, and
// model_type, inplace_statistics and dump_intermediate_model when
// given), unless the algorithm sets them itself. device is the target's
// device name for target_device.
func (cfg *Config) AlgorithmParams(i int, device string) (json.RawMessage, error) {
	a := cfg.Compression.Algorithms[i]
	p := maps.Clone(a.Params)
	if p == nil {
		p = map[string]any{}
	}
	set := func(k string, v any) {
		if _, ok := p[k]; !ok {
			p[k] = v
		}
	}
	if device != "" {
		set("target_device", device)
	}
	comp := cfg.Compression
	if comp.ModelType != "" {
		set("model_type", comp.ModelType)
	}
	if comp.InplaceStatistics != nil {
		set("inplace_statistics", *comp.InplaceStatistics)
	}
	if comp.DumpIntermediateModel != nil {
		set("dump_intermediate_model", *comp.DumpIntermediateModel)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("parameters of %s: %w", a.Name, err)
	}
	return b, nil
}

// maxSubset is the largest stat_subset_size of the algorithms (0: none).
func (cfg *Config) maxSubset() int {
	n := 0
	for _, a := range cfg.Compression.Algorithms {
		if v, ok := a.Params["stat_subset_size"].(json.Number); ok {
			if k, err := v.Int64(); err == nil && int(k) > n {
				n = int(k)
			}
		}
	}
	return n
}
