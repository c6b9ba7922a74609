package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/potgo/pot/host/dataset"
	"github.com/potgo/pot/host/feed"
)

// engineKeys are the keys of the engine section. device, the request
// numbers, data_type and generate_data are POT's and accepted.
var engineKeys = []string{"type", "data_source", "dataset", "eval_data_source", "eval_dataset", "layout",
	"device", "stat_requests_number", "eval_requests_number", "data_type", "generate_data", "shape",
	"subset_size", "seed", "constants", "output", "hw_config", "remote_targets", "remote_tls"}

func (cfg *Config) parseEngine(c *checker, v any) {
	m, ok := v.(map[string]any)
	if !ok {
		c.add("engine", "is %s, want an object", kind(v))
		return
	}
	e := &cfg.Engine
	typ := ""
	if v, ok := m["type"]; ok {
		typ, _ = c.str("engine.type", v)
	} else if _, ok := m["data_source"]; ok {
		typ = EngineSimplified
	} else if _, ok := m["dataset"]; ok {
		typ = EngineSimplified
	}
	_, ac := m["config"]
	_, acDatasets := m["datasets"]
	if typ == "accuracy_checker" || (typ == "" && (ac || acDatasets)) {
		c.add("engine.type", `"accuracy_checker" is not supported: pot has no Accuracy Checker; use "simplified" with `+
			`"data_source" (a folder of images or a data set descriptor) and "eval_data_source" for labelled evaluation data`)
		return
	}
	c.object("engine", v, engineKeys)
	switch typ {
	case EngineSimplified, EngineDataFree:
	case "":
		c.add("engine.type", `is required: "simplified" (with "data_source") or "data_free"`)
		return
	default:
		c.enum("engine.type", typ, []string{EngineSimplified, EngineDataFree})
		return
	}
	e.Type = typ
	for _, k := range []string{"device", "stat_requests_number", "eval_requests_number"} {
		if _, ok := m[k]; ok {
			cfg.Warnings = append(cfg.Warnings, "engine."+k+" is ignored: compression.target_device chooses the target")
		}
	}
	e.DataSource, e.Dataset = cfg.dataRef(c, m, "data_source", "dataset", typ == EngineSimplified)
	e.EvalDataSource, e.EvalDataset = cfg.dataRef(c, m, "eval_data_source", "eval_dataset", false)
	if v, ok := m["layout"]; ok {
		if s, ok := c.enum("engine.layout", v, []string{"NCHW", "NHWC", "CHW", "HWC"}); ok {
			e.Layout = s
		}
	}
	if v, ok := m["seed"]; ok {
		if n, ok := c.integer("engine.seed", v, 0); ok {
			e.Seed = int64(n)
		}
	}
	if v, ok := m["constants"]; ok {
		b, _ := json.Marshal(v)
		d, err := dataset.ParseDescriptor([]byte(`{"format": "npz", "file": "-", "constants": ` + string(b) + `}`))
		if err != nil {
			c.add("engine.constants", "%s", strings.TrimPrefix(err.Error(), dataset.ErrDescriptor.Error()+": "))
		} else {
			e.Constants = d.Constants
		}
	}
	if v, ok := m["output"]; ok {
		e.Output, _ = c.str("engine.output", v)
	}
	if v, ok := m["hw_config"]; ok {
		if s, ok := c.str("engine.hw_config", v); ok {
			if s == "" {
				c.add("engine.hw_config", "is empty")
			} else {
				e.HWConfig = cfg.Resolve(s)
			}
		}
	}
	cfg.parseRemote(c, m)
	if typ == EngineSimplified {
		for _, k := range []string{"data_type", "generate_data", "shape", "subset_size"} {
			if _, ok := m[k]; ok {
				c.add("engine."+k, `applies to the "data_free" engine only`)
			}
		}
		return
	}
	if v, ok := m["data_type"]; ok {
		if s, ok := c.str("engine.data_type", v); ok && s != "image" {
			c.add("engine.data_type", "%q: only \"image\" data can be generated", s)
		}
	}
	if v, ok := m["generate_data"]; ok {
		if _, ok := c.boolean("engine.generate_data", v); ok {
			cfg.Warnings = append(cfg.Warnings, "engine.generate_data is ignored: data_free samples are generated in memory")
		}
	}
	if v, ok := m["shape"]; ok {
		shapeList := func(path string, v any) []int {
			list, ok := v.([]any)
			if !ok || len(list) == 0 {
				c.add(path, "is %s, want an array of positive integers such as [1, 3, 224, 224]", kind(v))
				return nil
			}
			var out []int
			for i, d := range list {
				if n, ok := c.integer(index(path, i), d, 1); ok {
					out = append(out, n)
				}
			}
			return out
		}
		if byName, ok := v.(map[string]any); ok {
			e.Shapes = map[string][]int{}
			for name, sv := range byName {
				e.Shapes[name] = shapeList("engine.shape."+name, sv)
			}
		} else {
			e.Shape = shapeList("engine.shape", v)
		}
	}
	e.SubsetSize = 300
	if n := cfg.maxSubset(); n > 0 {
		e.SubsetSize = n
	}
	if v, ok := m["subset_size"]; ok {
		if n, ok := c.integer("engine.subset_size", v, 1); ok {
			e.SubsetSize = n
		}
	}
}

// dataRef reads a data reference given either as a path (pathKey) or as
// an inline descriptor (inlineKey).
func (cfg *Config) dataRef(c *checker, m map[string]any, pathKey, inlineKey string, required bool) (string, *dataset.Descriptor) {
	pv, hasPath := m[pathKey]
	iv, hasInline := m[inlineKey]
	switch {
	case hasPath && hasInline:
		c.add("engine."+inlineKey, "give either %s or %s, not both", pathKey, inlineKey)
		return "", nil
	case hasPath:
		s, ok := c.str("engine."+pathKey, pv)
		if ok && s == "" {
			c.add("engine."+pathKey, "is empty")
		}
		return cfg.Resolve(s), nil
	case hasInline:
		b, _ := json.Marshal(iv)
		if _, ok := iv.(map[string]any); !ok {
			c.add("engine."+inlineKey, "is %s, want a data set descriptor object", kind(iv))
			return "", nil
		}
		d, err := dataset.ParseDescriptor(b)
		if err != nil {
			c.add("engine."+inlineKey, "%s", strings.TrimPrefix(err.Error(), dataset.ErrDescriptor.Error()+": "))
			return "", nil
		}
		return "", d
	case required:
		c.add("engine."+pathKey, "is required: a folder of images, a data set descriptor (.json), a .npy or .npz file")
	}
	return "", nil
}

// Open opens the calibration data and, when the engine names some, the
// evaluation data, for a model with these inputs.
func (cfg *Config) Open(inputs []feed.Input) (calib, eval dataset.Dataset, err error) {
	e := cfg.Engine
	opts := []dataset.Option{dataset.WithInputNames(feed.Names(inputs))}
	if in, ok := feed.Main(inputs, e.Constants); ok {
		// Images are shaped for the one input the data feeds.
		opts = append(opts, dataset.WithInputShape(in.Shape))
	}
	if e.Layout != "" {
		opts = append(opts, dataset.WithDefaults(dataset.Descriptor{Layout: e.Layout}))
	}
	switch e.Type {
	case EngineDataFree:
		if calib, err = Generate(inputs, e.Shape, e.Shapes, e.Constants, e.SubsetSize, e.Seed); err != nil {
			return nil, nil, err
		}
	default:
		if calib, err = cfg.open("engine.dataset", e.DataSource, e.Dataset, opts); err != nil {
			return nil, nil, err
		}
	}
	if e.EvalDataSource != "" || e.EvalDataset != nil {
		if eval, err = cfg.open("engine.eval_dataset", e.EvalDataSource, e.EvalDataset, opts); err != nil {
			return nil, nil, err
		}
	}
	return calib, eval, nil
}

func (cfg *Config) open(name, path string, d *dataset.Descriptor, opts []dataset.Option) (dataset.Dataset, error) {
	if d != nil {
		if cfg.Path != "" {
			name = cfg.Path + " " + name
		}
		return dataset.OpenDescriptor(name, cfg.Dir, *d, opts...)
	}
	if path == "" {
		return nil, errors.New("no data given")
	}
	ds, err := dataset.Open(path, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w", err)
	}
	return ds, nil
}

// parseRemote reads engine.remote_targets (a list of HOST:PORT) and
// engine.remote_tls ({"ca", "cert", "key"} paths, or {"insecure": true}).
func (cfg *Config) parseRemote(c *checker, m map[string]any) {
	e := &cfg.Engine
	if v, ok := m["remote_targets"]; ok {
		list, isList := v.([]any)
		if !isList {
			c.add("engine.remote_targets", "is %s, want an array of \"HOST:PORT\" strings", kind(v))
		}
		for i, x := range list {
			if s, ok := c.str(index("engine.remote_targets", i), x); ok {
				if _, _, err := net.SplitHostPort(s); err != nil || s == "" {
					c.add(index("engine.remote_targets", i), "%q is not HOST:PORT", s)
					continue
				}
				e.RemoteTargets = append(e.RemoteTargets, s)
			}
		}
	}
	v, ok := m["remote_tls"]
	if !ok {
		return
	}
	t := c.object("engine.remote_tls", v, []string{"ca", "cert", "key", "insecure"})
	for _, f := range []struct {
		key string
		dst *string
	}{{"ca", &e.RemoteTLS.CA}, {"cert", &e.RemoteTLS.Cert}, {"key", &e.RemoteTLS.Key}} {
		key, dst := f.key, f.dst
		if x, ok := t[key]; ok {
			if s, ok := c.str("engine.remote_tls."+key, x); ok && s != "" {
				*dst = cfg.Resolve(s)
			}
		}
	}
	if x, ok := t["insecure"]; ok {
		e.RemoteTLS.Insecure, _ = c.boolean("engine.remote_tls.insecure", x)
	}
}
