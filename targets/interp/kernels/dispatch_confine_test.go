package kernels

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/potgo/pot/internal/testenv"
)

// The dispatch switches are for tests: no production file of the module
// (nor of the example plugins) calls them, so the kernels a program runs
// are always the ones the CPU's features chose.
func TestDispatchSwitchesAreTestOnly(t *testing.T) {
	root := testenv.RepoRoot()
	call := regexp.MustCompile(`\b(UseAssembly|UseQAssembly|useQuadKernel|useQ512Kernels)\(`)
	self := filepath.Join(root, "targets", "interp", "kernels")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(src), "\n") {
			code, _, _ := strings.Cut(line, "//")
			if !call.MatchString(code) || strings.HasPrefix(strings.TrimSpace(code), "func ") {
				continue
			}
			if filepath.Dir(path) == self {
				// The package's own files may only define the switches.
				t.Errorf("%s:%d: the kernels package flips its own dispatch: %s", path, i+1, strings.TrimSpace(line))
				continue
			}
			t.Errorf("%s:%d: production code flips kernel dispatch: %s", path, i+1, strings.TrimSpace(line))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
