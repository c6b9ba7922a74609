package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/potgo/pot/internal/outfile"
	"github.com/potgo/pot/sdk/onnx"
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
// -d; else MODEL_int8.onnx beside the model. An IR output (format ir) is
// <name>.xml (and .bin) in the same places, MODEL_int8.xml beside the
// model.
func outputPaths(name, algo, output, outputDir string, direct, potLayout bool, model string, now time.Time, format string) paths {
	ext := ".onnx"
	if format == formatIR {
		ext = ".xml"
	}
	switch {
	case output != "":
		return paths{model: output, checkpoint: output}
	case outputDir != "" || potLayout || direct:
		if outputDir == "" {
			outputDir = defaultOutputDir
		}
		if direct {
			dir := filepath.Join(outputDir, "optimized")
			return paths{model: filepath.Join(dir, name+ext), create: true, checkpoint: filepath.Join(dir, name)}
		}
		run := filepath.Join(outputDir, name+"_"+algo)
		dir := filepath.Join(run, now.Format("2006-01-02_15-04-05"), "optimized")
		return paths{model: filepath.Join(dir, name+ext), create: true, checkpoint: filepath.Join(run, name)}
	}
	out := strings.TrimSuffix(model, filepath.Ext(model)) + "_int8" + ext
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
	// Named as the run's temporary files, so that a later run removes it
	// should this one be killed right here.
	f, err := os.CreateTemp(probe, outfile.TempPattern(filepath.Join(probe, "pot-write-check")))
	if err != nil {
		return fmt.Errorf("output folder %s is not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// newTxn returns the transaction a run writes its outputs through. Tests
// replace it to inject write failures.
var newTxn = func() *outfile.Txn { return &outfile.Txn{} }

// holdEnv names a test-only hook: when set to a file path, a run writes
// that file once all its outputs are staged and then waits (at most two
// minutes) before renaming them into place, so that a test can kill it
// at that point. Never set it otherwise.
const holdEnv = "POT_TEST_HOLD_BEFORE_COMMIT"

// outputTxn is the transaction of a run's outputs, with the test hook of
// holdEnv.
func outputTxn() *outfile.Txn {
	tx := newTxn()
	if marker := os.Getenv(holdEnv); marker != "" {
		tx.BeforeCommit = func() {
			os.WriteFile(marker, []byte(strconv.Itoa(os.Getpid())), 0o644)
			time.Sleep(2 * time.Minute)
		}
	}
	return tx
}

// checkOutputModel refuses an output path that is a folder or that is
// the input model itself.
func checkOutputModel(out, in string) error {
	if fi, err := os.Stat(out); err == nil && fi.IsDir() {
		return fmt.Errorf("output %s is a folder: give the output model's file name (-o DIR/model.onnx)", out)
	}
	if sameFile(out, in) {
		return fmt.Errorf("output %s is the input model: pot does not overwrite its input; choose another -o", out)
	}
	return nil
}

// checkOutputData refuses an output whose files would replace the input
// model's external data files.
func checkOutputData(out string, opts onnx.WriteOptions, in onnx.ModelFiles) error {
	if !opts.ExternalData {
		return nil
	}
	data := out + ".data"
	for _, f := range in.External {
		if sameFile(data, f) {
			return fmt.Errorf("output %s: its external data file %s is the input model's; choose another -o", out, data)
		}
	}
	return nil
}

// sameFile tells whether a and b name one existing file (or the same
// path).
func sameFile(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}

// outputOptions chooses how the output model is written. When the input
// model keeps its tensors in external data files, so does the output
// (OUT.data beside it), whatever its size: the layout the user chose for
// a large model is kept, and the tensors are streamed to the file
// instead of the model being serialized whole in memory. Otherwise one
// file, unless it would exceed protobuf's 2 GiB limit (then WriteFile
// moves tensors out anyway).
func outputOptions(in onnx.ModelFiles) onnx.WriteOptions {
	return onnx.WriteOptions{ExternalData: len(in.External) > 0}
}

// makeDirs creates dir and its missing parents, and returns a function
// that removes those it created (when empty), for a run that fails.
func makeDirs(dir string) (undo func(), err error) {
	var created []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		created = append(created, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	undo = func() {
		for _, d := range created {
			os.Remove(d) // only empty folders go
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		undo()
		return func() {}, err
	}
	return undo, nil
}

// Output formats of quantize.
const (
	formatONNX = "onnx"
	formatIR   = "ir"
)

// outputFormat resolves --output-format: as given, else ir when the
// output file ends in .xml, else onnx.
func outputFormat(flag, output string) (string, error) {
	switch strings.ToLower(flag) {
	case "":
		if strings.EqualFold(filepath.Ext(output), ".xml") {
			return formatIR, nil
		}
		return formatONNX, nil
	case formatONNX:
		if strings.EqualFold(filepath.Ext(output), ".xml") {
			return "", fmt.Errorf("--output-format onnx with -o %s: an ONNX model is not an .xml file (--output-format ir writes OpenVINO IR)", output)
		}
		return formatONNX, nil
	case formatIR:
		if output != "" && !strings.EqualFold(filepath.Ext(output), ".xml") {
			return "", fmt.Errorf("--output-format ir with -o %s: OpenVINO IR is MODEL.xml with MODEL.bin beside it; name the .xml", output)
		}
		return formatIR, nil
	}
	return "", fmt.Errorf("--output-format %q is not onnx or ir", flag)
}

// irBin is the weights file of an IR model.xml: model.bin beside it.
func irBin(xml string) string {
	return strings.TrimSuffix(xml, filepath.Ext(xml)) + ".bin"
}
