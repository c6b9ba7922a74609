package plugintest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/potgo/pot/internal/testenv"
	"github.com/potgo/pot/sdk/plugintest"
)

// builtins holds every built-in plugin (targets/cmd/..., algorithms/cmd/...),
// built once for the package's tests.
var builtins string

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, &builtins, "./targets/cmd/...", "./algorithms/cmd/..."))
}

func builtin(t *testing.T, kind string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(builtins, "pot-"+kind+"-*"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no built-in %s plugins in %s: %v", kind, builtins, err)
	}
	return paths
}

// Every built-in target passes the conformance suite out of process.
func TestBuiltinTargets(t *testing.T) {
	for _, path := range builtin(t, "target") {
		t.Run(strings.TrimPrefix(filepath.Base(path), "pot-target-"), func(t *testing.T) {
			plugintest.TestTargetBinary(t, path)
		})
	}
}

// Every built-in algorithm passes the conformance suite out of process,
// against the cpu target, with the other built-in algorithms at hand.
func TestBuiltinAlgorithms(t *testing.T) {
	cpu := filepath.Join(builtins, "pot-target-cpu")
	for _, path := range builtin(t, "algorithm") {
		t.Run(strings.TrimPrefix(filepath.Base(path), "pot-algorithm-"), func(t *testing.T) {
			plugintest.TestAlgorithmBinary(t, path, plugintest.WithTargetBinary(cpu), plugintest.WithPluginDir(builtins))
		})
	}
}
