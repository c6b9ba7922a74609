package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tailscale/hujson"

	"github.com/potgo/pot/host/dataset"
	"github.com/potgo/pot/sdk/schema"
)

// Config is a POT configuration.
type Config struct {
	// Path is the file the configuration was read from ("" when built
	// from command-line flags).
	Path string
	// Dir is the folder relative paths are resolved against.
	Dir         string
	Model       Model
	Engine      Engine
	Compression Compression
	// Warnings are keys that were accepted for compatibility with POT
	// but have no effect here.
	Warnings []string
}

// Model is the "model" section.
type Model struct {
	// Name is model_name: the name of the results folder and the output
	// file. Default: the model file's name without extension.
	Name string
	// Path is the model, resolved: an ONNX model (.onnx) or an OpenVINO
	// IR's model.xml.
	Path string
	// Weights is an IR's weights file (model.weights), resolved; empty
	// for the .bin beside the .xml.
	Weights string
}

// RemoteTLS is the host's side of mutual TLS with served targets: the CA
// of the servers' certificates and the host's certificate and key, or
// Insecure for plaintext servers on a loopback address.
type RemoteTLS struct {
	CA, Cert, Key string
	Insecure      bool
}

// Engine types.
const (
	EngineSimplified = "simplified"
	EngineDataFree   = "data_free"
)

// Engine is the "engine" section: where the samples come from.
type Engine struct {
	// Type is EngineSimplified or EngineDataFree.
	Type string
	// DataSource is the calibration data path (resolved): a folder or
	// glob of images, a descriptor, a .npy or .npz file.
	DataSource string
	// Dataset is an inline calibration descriptor (instead of DataSource).
	Dataset *dataset.Descriptor
	// EvalDataSource and EvalDataset are the evaluation data, optional.
	EvalDataSource string
	EvalDataset    *dataset.Descriptor
	// Layout is the sample layout of a bare image folder (NCHW, NHWC, CHW,
	// HWC); empty follows the model input.
	Layout string
	// Shape is the data_free sample shape (with or without the batch) of
	// the model's one input; Shapes gives them by input name.
	Shape  []int
	Shapes map[string][]int
	// Constants feed model inputs a fixed value (pot's extension; the
	// data set descriptors' "constants" key likewise).
	Constants map[string]dataset.Constant
	// Output names the model output that metrics read (pot's
	// extension); empty: the first.
	Output string
	// HWConfig is a hardware config file in POT's layout (resolved) that
	// replaces the target's (pot's extension); empty: the target's.
	HWConfig string
	// RemoteTargets are targets served by `pot target serve`, HOST:PORT,
	// used beside the local target processes (pot's extension).
	RemoteTargets []string
	// RemoteTLS is how the host reaches them (paths resolved).
	RemoteTLS RemoteTLS
	// SubsetSize is the number of data_free samples (0: default).
	SubsetSize int
	// Seed drives data_free generation.
	Seed int64
}

// Compression is the "compression" section.
type Compression struct {
	// TargetDevice as written (ANY, CPU, GPU, VPU, GNA, ... in upper case,
	// or a target plugin name). Target maps it to a plugin.
	TargetDevice string
	// ModelType is "" (None) or "transformer".
	ModelType string
	// InplaceStatistics and DumpIntermediateModel are nil unless given.
	InplaceStatistics     *bool
	DumpIntermediateModel *bool
	Algorithms            []Algorithm
}

// Algorithm is one entry of compression.algorithms.
type Algorithm struct {
	Name   string
	Params map[string]any
}

// Error lists every problem of a configuration.
type Error struct {
	// File names the configuration.
	File     string
	Problems []schema.Problem
}

// Error is one line: "FILE: path: problem" or "FILE: N problems: a; b".
func (e *Error) Error() string {
	inner := (&schema.Error{Problems: e.Problems}).Error()
	// Values quoted from the file may hold line breaks.
	inner = strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(inner)
	if e.File == "" {
		return "config: " + inner
	}
	return e.File + ": " + inner
}

// Load reads and validates a configuration file.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	dir := filepath.Dir(path)
	return Parse(b, path, dir)
}

// Parse validates a configuration. name identifies it in errors; dir is
// the folder relative paths start from.
func Parse(data []byte, name, dir string) (*Config, error) {
	std, err := hujson.Standardize(data)
	if err != nil {
		return nil, &Error{File: name, Problems: []schema.Problem{{Message: "not JSON: " + err.Error()}}}
	}
	dec := json.NewDecoder(bytes.NewReader(std))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return nil, &Error{File: name, Problems: []schema.Problem{{Message: "not JSON: " + jsonError(std, err)}}}
	}
	cfg := &Config{Path: name, Dir: dir}
	c := &checker{}
	m := c.object("", root, []string{"model", "engine", "compression", "optimizer"})
	if m != nil {
		if _, ok := m["optimizer"]; ok {
			c.add("optimizer", "global optimizers (Tpe) are not supported; remove the section")
		}
		for _, sec := range []string{"model", "engine", "compression"} {
			if _, ok := m[sec]; !ok {
				c.add(sec, "is required")
			}
		}
		if v, ok := m["model"]; ok {
			cfg.parseModel(c, v)
		}
		if v, ok := m["compression"]; ok {
			cfg.parseCompression(c, v)
		}
		if v, ok := m["engine"]; ok {
			cfg.parseEngine(c, v)
		}
	}
	if len(c.problems) > 0 {
		return nil, &Error{File: name, Problems: c.problems}
	}
	return cfg, nil
}

// jsonError places a decoding error at its line and column.
func jsonError(data []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int64(-1)
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 {
		return err.Error()
	}
	line := 1 + bytes.Count(data[:min(int(off), len(data))], []byte("\n"))
	return fmt.Sprintf("line %d: %v", line, err)
}

func (cfg *Config) parseModel(c *checker, v any) {
	m := c.object("model", v, []string{"model_name", "model", "weights", "cascade"})
	if m == nil {
		return
	}
	if _, ok := m["cascade"]; ok {
		c.add("model.cascade", "model cascades are not supported: running one model on another's outputs needs an engine of its own "+
			"(POT's cascades needed a custom Engine too); quantize each model of the cascade with its own configuration, "+
			"with calibration data captured at its input (docs/usage.md, \"Model cascades\")")
	}
	if v, ok := m["model_name"]; ok {
		if s, ok := c.str("model.model_name", v); ok {
			if s == "" || strings.ContainsAny(s, `/\`) {
				c.add("model.model_name", "%q is not a file name", s)
			}
			cfg.Model.Name = s
		}
	}
	weights := ""
	if v, ok := m["weights"]; ok {
		weights, _ = c.str("model.weights", v)
	}
	v, ok := m["model"]
	if _, cascade := m["cascade"]; !ok && cascade {
		return // the cascade's refusal says what to give instead
	}
	if !ok {
		c.add("model.model", "is required (the path of an ONNX model or an OpenVINO IR's model.xml)")
		return
	}
	s, ok := c.str("model.model", v)
	if !ok {
		return
	}
	switch strings.ToLower(filepath.Ext(s)) {
	case ".bin":
		c.add("model.model", "%s is an OpenVINO IR weights file; give the IR's model.xml in model.model and the .bin in model.weights", s)
		return
	case ".xml":
		if weights != "" {
			cfg.Model.Weights = cfg.Resolve(weights)
		}
	default:
		if weights != "" {
			cfg.Warnings = append(cfg.Warnings, "model.weights is ignored: ONNX models hold their weights")
		}
	}
	if s == "" {
		c.add("model.model", "is empty")
		return
	}
	cfg.Model.Path = cfg.Resolve(s)
}

// ModelName is model_name, or the model file's base name.
func (cfg *Config) ModelName() string {
	if cfg.Model.Name != "" {
		return cfg.Model.Name
	}
	base := filepath.Base(cfg.Model.Path)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// Resolve makes a path of the configuration usable: relative paths are
// taken from the configuration's folder, or from the working folder when
// only there they exist. Globs and missing paths resolve against the
// configuration's folder.
func (cfg *Config) Resolve(p string) string {
	if p == "" || filepath.IsAbs(p) || cfg.Dir == "" {
		return p
	}
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[2:])
		}
	}
	rel := filepath.Join(cfg.Dir, p)
	if exists(rel) {
		return rel
	}
	if exists(p) {
		return p
	}
	return rel
}

func exists(p string) bool {
	if _, err := os.Stat(p); err == nil {
		return true
	}
	m, _ := filepath.Glob(p)
	return len(m) > 0
}
