package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// paths of a run's files.
type paths struct {
	// model is the output model.
	model string
	// create tells whether model's folder may be created.
	create bool
	// checkpoint is the base path of accuracy-aware checkpoints; it stays
	// the same across runs of one model and algorithm, so that --resume
	// finds it.
	checkpoint string
}

// outputPaths places the output: -o as given; with --output-dir (or with
// a configuration or quick mode, in ./results) POT's layout
// DIR/<name>_<algo>/<date>/optimized/<name>.onnx, or DIR/optimized/ with
// -d; else MODEL_int8.onnx beside the model.
func outputPaths(name, algo, output, outputDir string, direct, potLayout bool, model string, now time.Time) paths {
	switch {
	case output != "":
		return paths{model: output, checkpoint: output}
	case outputDir != "" || potLayout || direct:
		if outputDir == "" {
			outputDir = defaultOutputDir
		}
		if direct {
			dir := filepath.Join(outputDir, "optimized")
			return paths{model: filepath.Join(dir, name+".onnx"), create: true, checkpoint: filepath.Join(dir, name)}
		}
		run := filepath.Join(outputDir, name+"_"+algo)
		dir := filepath.Join(run, now.Format("2006-01-02_15-04-05"), "optimized")
		return paths{model: filepath.Join(dir, name+".onnx"), create: true, checkpoint: filepath.Join(run, name)}
	}
	ext := filepath.Ext(model)
	out := strings.TrimSuffix(model, ext) + "_int8.onnx"
	return paths{model: out, checkpoint: out}
}

// checkWritable fails early, before any work, when the folder of path
// cannot take the file: it does not exist (unless create, when its
// nearest existing ancestor must be a writable folder), is not a folder,
// or is not writable.
func checkWritable(path string, create bool) error {
	dir := filepath.Dir(path)
	probe := dir
	var first error // why dir itself is not usable
	for {
		info, err := os.Stat(probe)
		if err == nil {
			if !info.IsDir() {
				return fmt.Errorf("output folder %s: %s is not a folder", dir, probe)
			}
			break
		}
		if !os.IsNotExist(err) && !errors.Is(err, syscall.ENOTDIR) {
			return fmt.Errorf("output folder %s: %w", dir, err)
		}
		if first == nil {
			first = err
		}
		parent := filepath.Dir(probe)
		if parent == probe {
			return fmt.Errorf("output folder %s: %w", dir, err)
		}
		probe = parent
	}
	if probe != dir && !create {
		return fmt.Errorf("output folder %s does not exist: %w", dir, first)
	}
	f, err := os.CreateTemp(probe, ".pot-write-check-*")
	if err != nil {
		return fmt.Errorf("output folder %s is not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
