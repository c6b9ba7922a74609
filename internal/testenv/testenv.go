package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RepoRoot returns the folder of the module's go.mod, searching up from
// the working directory (a test runs in its package's folder).
func RepoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			panic("testenv: go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Example returns the path of a file under examples/.
func Example(parts ...string) string {
	return filepath.Join(append([]string{RepoRoot(), "examples"}, parts...)...)
}

// Main is a TestMain: it builds packages (import paths relative to the
// repository root, such as "./host/cmd/pot" or "./algorithms/cmd/...")
// into a temporary folder, stores the folder in *bin, runs the tests and
// removes the folder. It returns the exit code for os.Exit.
func Main(m *testing.M, bin *string, pkgs ...string) int {
	dir, err := os.MkdirTemp("", "pot-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command("go", append([]string{"build", "-o", dir + "/"}, pkgs...)...)
	cmd.Dir = RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "testenv: build %v: %v\n%s", pkgs, err, out)
		return 1
	}
	*bin = dir
	return m.Run()
}
