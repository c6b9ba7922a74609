package cli

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/potgo/pot/internal/outfile"
	"github.com/potgo/pot/internal/testenv"
	"github.com/potgo/pot/sdk/onnx"
)

// quickArgs quantizes LeNet on a few samples into out.
func quickArgs(out string, more ...string) []string {
	return append([]string{"quantize", "--model", testenv.Example("models", "lenet_mnist.onnx"),
		"--data", testenv.Example("data", "mnist-calib.json"), "--subset", "20", "-o", out}, more...)
}

// listDir returns the names in dir (nil when it does not exist).
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// failingWriter fails once n bytes have gone through (a full disk).
type failingWriter struct {
	w io.Writer
	n int
}

var errInjected = errors.New("injected write failure: no space left on device")

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k, _ := f.w.Write(p[:f.n])
		f.n = 0
		return k, errInjected
	}
	f.n -= len(p)
	return f.w.Write(p)
}

// A write failing in the middle of any output file (model or report)
// leaves no output file, no temporary file and no folder the run made,
// and the error names the file.
func TestWriteFailureLeavesNothing(t *testing.T) {
	for _, victim := range []string{"out.onnx", "report.json", "report.html"} {
		t.Run(victim, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out.onnx")
			reportDir := filepath.Join(dir, "report")
			var failed string
			saved := newTxn
			newTxn = func() *outfile.Txn {
				return &outfile.Txn{Wrap: func(path string, w io.Writer) io.Writer {
					if filepath.Base(path) == victim {
						failed = path
						return &failingWriter{w: w, n: 1000}
					}
					return w
				}}
			}
			t.Cleanup(func() { newTxn = saved })
			_, stderr, code := pot(t, quickArgs(out, "--report", reportDir)...)
			if code == 0 {
				t.Fatal("the run succeeded despite the failing writer")
			}
			if failed == "" || !strings.Contains(stderr, failed) || !strings.Contains(stderr, errInjected.Error()) {
				t.Errorf("stderr %q: want the failure, naming %s", stderr, failed)
			}
			if got := listDir(t, dir); len(got) != 0 {
				t.Errorf("%s holds %v after the failure, want nothing (report/, made by the run, removed)", dir, got)
			}
		})
	}
}

// A folder that cannot be written is refused before any work, naming it.
func TestReadOnlyOutputFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	if f, err := os.CreateTemp(dir, "probe"); err == nil {
		f.Close()
		t.Skip("permissions do not stop this user (root) from writing; the failing-writer test covers the write path")
	}
	out := filepath.Join(dir, "out.onnx")
	_, stderr, code := pot(t, quickArgs(out)...)
	if code == 0 || !strings.Contains(stderr, dir) || !strings.Contains(stderr, "not writable") {
		t.Fatalf("exit %d, stderr %q: want a refusal naming %s", code, stderr, dir)
	}
	if got := listDir(t, dir); len(got) != 0 {
		t.Errorf("%s holds %v", dir, got)
	}
}

func TestOutputPathChecks(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "lenet.onnx")
	b, err := os.ReadFile(testenv.Example("models", "lenet_mnist.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(input, b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, out string
		want      []string
	}{
		{"existing folder", dir, []string{dir, "is a folder"}},
		{"the input", input, []string{input, "is the input model"}},
		{"the input by another name", filepath.Join(dir, ".", "sub", "..", "lenet.onnx"), []string{"is the input model"}},
		{"missing parent", filepath.Join(dir, "no", "such", "out.onnx"), []string{filepath.Join(dir, "no", "such"), "does not exist"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := quickArgs(c.out)
			args[2] = input
			_, stderr, code := pot(t, args...)
			if code == 0 {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q lacks %q", stderr, w)
				}
			}
			after, err := os.ReadFile(input)
			if err != nil || string(after) != string(b) {
				t.Errorf("the input changed: %v", err)
			}
		})
	}
}

// A run killed (SIGKILL) just before its outputs are renamed into place
// leaves only temporary files; the next run writing there removes them
// and writes complete outputs.
func TestKilledRunLeavesOnlyTempFiles(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.onnx")
	reportDir := filepath.Join(dir, "report")
	marker := filepath.Join(t.TempDir(), "held")
	cmd := exec.Command(filepath.Join(pluginDir, "pot"), quickArgs(out, "--report", reportDir)...)
	cmd.Env = append(os.Environ(), "POT_PLUGIN_PATH="+pluginDir, "XDG_DATA_HOME="+t.TempDir(), holdEnv+"="+marker)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // to kill the plugins too
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			cmd.Wait()
		}
	}()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if _, err := os.Stat(marker); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the run never reached the point before its renames")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	killed = true
	var temps []string
	for _, d := range []string{dir, reportDir} {
		for _, name := range listDir(t, d) {
			if name == "report" && d == dir {
				continue
			}
			if !strings.HasPrefix(name, ".") || !strings.Contains(name, ".pot-tmp-") {
				t.Errorf("killed run left %s in %s, want only temporary files", name, d)
			}
			temps = append(temps, filepath.Join(d, name))
		}
	}
	if len(temps) != 3 { // model, report.json, report.html
		t.Errorf("temporary files %v: want the model's and the report's", temps)
	}

	if _, stderr, code := pot(t, quickArgs(out, "--report", reportDir)...); code != 0 {
		t.Fatalf("second run: exit %d: %s", code, stderr)
	}
	for _, p := range temps {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("stale %s not removed: %v", p, err)
		}
	}
	if got := listDir(t, dir); strings.Join(got, " ") != "out.onnx report" {
		t.Errorf("%s holds %v", dir, got)
	}
	if got := listDir(t, reportDir); strings.Join(got, " ") != "report.html report.json" {
		t.Errorf("%s holds %v", reportDir, got)
	}
	if _, err := onnx.ReadFile(out); err != nil {
		t.Errorf("output does not load: %v", err)
	}
}
