package outfile

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// failAfter fails every write once n bytes have gone through.
type failAfter struct {
	w io.Writer
	n int
}

var errDiskFull = errors.New("injected: no space left on device")

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k, _ := f.w.Write(p[:f.n])
		f.n = 0
		return k, errDiskFull
	}
	f.n -= len(p)
	return f.w.Write(p)
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestCommitWritesAll(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "m.onnx"), filepath.Join(dir, "m.onnx.data")
	var tx Txn
	if err := tx.StageBytes(b, []byte("data")); err != nil {
		t.Fatal(err)
	}
	if err := tx.StageBytes(a, []byte("model")); err != nil {
		t.Fatal(err)
	}
	if tx.Size(a) != 5 || tx.Size(b) != 4 || tx.Size(filepath.Join(dir, "x")) != -1 {
		t.Errorf("sizes %d %d", tx.Size(a), tx.Size(b))
	}
	if _, err := os.Stat(a); !os.IsNotExist(err) {
		t.Fatalf("%s exists before Commit: %v", a, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := entries(t, dir); len(got) != 2 {
		t.Fatalf("folder holds %v, want the two files only", got)
	}
	if b, _ := os.ReadFile(a); string(b) != "model" {
		t.Errorf("%s = %q", a, b)
	}
}

// A writer failing mid-file leaves no file and no temporary file, even
// for files staged before, and the error names the file.
func TestFailureMidFileLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	first, second := filepath.Join(dir, "out.onnx.data"), filepath.Join(dir, "out.onnx")
	tx := Txn{Wrap: func(path string, w io.Writer) io.Writer {
		if path == second {
			return &failAfter{w: w, n: 1000}
		}
		return w
	}}
	if err := tx.StageBytes(first, make([]byte, 5000)); err != nil {
		t.Fatal(err)
	}
	err := tx.StageBytes(second, make([]byte, 5000))
	if !errors.Is(err, errDiskFull) || !strings.Contains(err.Error(), second) {
		t.Fatalf("error %v: want the injected failure, naming %s", err, second)
	}
	tx.Abort()
	if got := entries(t, dir); len(got) != 0 {
		t.Fatalf("folder holds %v after the failure, want nothing", got)
	}
}

func TestUnwritableFolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "out.onnx")
	var tx Txn
	err := tx.StageBytes(path, []byte("x"))
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v: want one naming %s", err, path)
	}
}

func TestCleanStale(t *testing.T) {
	dir := t.TempDir()
	// A process that has ended.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no `true` command:", err)
	}
	dead := cmd.Process.Pid
	stale := filepath.Join(dir, ".out.onnx.pot-tmp-"+strconv.Itoa(dead)+"-123")
	mine := filepath.Join(dir, ".out.onnx.pot-tmp-"+strconv.Itoa(os.Getpid())+"-456")
	other := filepath.Join(dir, ".out.onnx.tmp-789") // not ours: kept
	user := filepath.Join(dir, "out.onnx")
	for _, p := range []string{stale, mine, other, user} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	removed := CleanStale(dir)
	if len(removed) != 1 || removed[0] != stale {
		t.Errorf("removed %v, want only %s", removed, stale)
	}
	for _, p := range []string{mine, other, user} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

func TestOwnerPID(t *testing.T) {
	for name, want := range map[string]int{
		".m.onnx.pot-tmp-42-99":      42,
		".a.pot-tmp-b.pot-tmp-7-1":   7,
		"m.onnx.pot-tmp-42-99":       0,
		".m.onnx.pot-tmp-x-1":        0,
		".m.onnx.pot-tmp-42-":        0,
		".m.onnx.pot-tmp-42":         0,
		".report.json.pot-tmp-1-abc": 1,
	} {
		got, ok := ownerPID(name)
		if got != want || ok != (want != 0) {
			t.Errorf("ownerPID(%q) = %d, %v; want %d", name, got, ok, want)
		}
	}
}
