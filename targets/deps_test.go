package targets_test

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/potgo/pot/internal/testenv"
)

const module = "github.com/potgo/pot/"

// jsonSchema is the JSON Schema library, which the host needs and a
// target does not.
const jsonSchema = "github.com/santhosh-tekuri/jsonschema/"

// goList runs go list in the repository root and returns its lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = testenv.RepoRoot()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v: %v\n%s", args, err, stderr.String())
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// violations checks one target binary's dependencies, given as lines
// "package import import ..." (go list -deps): the main imports
// sdk/target and not the runtime; no package of pot's targets imports
// the host or the plugin transport; nothing of the host is linked, nor
// the JSON Schema library.
func violations(main string, deps []string) []string {
	var out []string
	declares := false
	for _, line := range deps {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		pkg, imports := f[0], f[1:]
		if strings.HasPrefix(pkg, module+"host/") {
			out = append(out, "links "+pkg)
		}
		if strings.HasPrefix(pkg, jsonSchema) {
			out = append(out, "links "+pkg+" (its init compiles a meta-schema at every plugin start; sdk/suggest has Nearest without it)")
		}
		if !strings.HasPrefix(pkg, module+"targets/") {
			continue
		}
		for _, imp := range imports {
			switch {
			case strings.HasPrefix(imp, module+"host/"), imp == module+"plugins", strings.HasPrefix(imp, module+"plugins/"):
				out = append(out, pkg+" imports "+imp+" (a target goes through sdk)")
			case pkg == main && strings.HasPrefix(imp, module+"targets/interp"):
				out = append(out, pkg+" imports "+imp+" (a target declares itself with sdk/target)")
			case pkg == main && imp == module+"sdk/target":
				declares = true
			}
		}
	}
	if !declares {
		out = append(out, main+" does not import sdk/target")
	}
	return out
}

// Every built-in target declares itself through sdk/target, and no
// target code depends on the host or the plugin transport directly.
func TestTargetsGoThroughTheSDK(t *testing.T) {
	mains := goList(t, "./targets/cmd/...")
	if len(mains) < 4 {
		t.Fatalf("target mains %v, want cpu, gpu, vpu and gna at least", mains)
	}
	for _, main := range mains {
		t.Run(strings.TrimPrefix(main, module+"targets/cmd/"), func(t *testing.T) {
			deps := goList(t, "-deps", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", main)
			for _, v := range violations(main, deps) {
				t.Error(v)
			}
		})
	}
}

// The check finds each kind of violation.
func TestViolations(t *testing.T) {
	const main = module + "targets/cmd/pot-target-x"
	tests := []struct {
		name string
		deps []string
		want int
	}{
		{"clean", []string{main + " " + module + "sdk/target " + module + "targets/x", module + "targets/x " + module + "sdk/plan",
			module + "sdk/target " + module + "plugins", module + "plugins"}, 0},
		{"host linked", []string{main + " " + module + "sdk/target", module + "host/cli"}, 1},
		{"transport imported", []string{main + " " + module + "sdk/target", module + "targets/x " + module + "plugins"}, 1},
		{"runtime in main", []string{main + " " + module + "sdk/target " + module + "targets/interp/ops"}, 1},
		{"no sdk/target", []string{main + " " + module + "sdk"}, 1},
		{"json schema linked", []string{main + " " + module + "sdk/target " + module + "sdk/schema", jsonSchema + "v6"}, 1},
	}
	for _, tc := range tests {
		if got := violations(main, tc.deps); len(got) != tc.want {
			t.Errorf("%s: %d violations %q, want %d", tc.name, len(got), got, tc.want)
		}
	}
}
