package adaround

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/potgo/pot/host/qdq"
	"github.com/potgo/pot/internal/testenv"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/graph"
	"github.com/potgo/pot/sdk/plan"
	"github.com/potgo/pot/sdk/plugintest"
)

// bin holds the vpu target (4-bit weights) and the algorithm plugins (DefaultQuantization
// and those it runs, AdaRound too), built once for the package's tests.
var bin string

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, &bin, "./targets/cmd/pot-target-vpu", "./algorithms/cmd/..."))
}

// The plugin passes the conformance kit, in-process and as the binary
// pot runs, quantizing with DefaultQuantization through the host first.
func TestConformance(t *testing.T) {
	opts := []plugintest.Option{
		plugintest.WithTargetBinary(filepath.Join(bin, "pot-target-vpu")),
		plugintest.WithPluginDir(bin),
		plugintest.WithParams(`{"iterations": 200, "weights": {"bits": 4}}`),
	}
	t.Run("in-process", func(t *testing.T) { plugintest.TestAlgorithm(t, Algorithm{}, opts...) })
	t.Run("binary", func(t *testing.T) {
		plugintest.TestAlgorithmBinary(t, filepath.Join(bin, "pot-algorithm-"+Name), opts...)
	})
}

const module = "github.com/potgo/pot/"

// The plugin (its main and every package of pot it links) uses nothing
// of pot outside sdk/ and proto/potv1 but its own package, and the SDK
// brings what it needs. Test files may use more (host/qdq, to check the
// export): go list -deps without -test leaves them out.
func TestImportsOnlyTheSDK(t *testing.T) {
	for _, pkg := range []string{"./algorithms/cmd/pot-algorithm-AdaRound", "./algorithms/adaround"} {
		cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", pkg)
		cmd.Dir = testenv.RepoRoot()
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, stderr.String())
		}
		for _, v := range importViolations(strings.Split(strings.TrimSpace(string(out)), "\n")) {
			t.Errorf("%s: %s", pkg, v)
		}
	}
}

// importViolations reads go list -deps lines "package import ..." and
// returns the imports of pot's packages outside the SDK made by the
// plugin's own packages (algorithms/...).
func importViolations(lines []string) []string {
	var out []string
	for _, line := range lines {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], module+"algorithms/") {
			continue
		}
		for _, imp := range f[1:] {
			if !strings.HasPrefix(imp, module) || imp == module+"sdk" || strings.HasPrefix(imp, module+"sdk/") ||
				imp == module+"proto/potv1" || imp == module+"algorithms/adaround" {
				continue
			}
			out = append(out, f[0]+" imports "+imp)
		}
	}
	return out
}

func TestImportViolations(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  int
	}{
		{"sdk only", []string{module + "algorithms/cmd/pot-algorithm-AdaRound " + module + "algorithms/adaround " + module + "sdk",
			module + "algorithms/adaround gonum.org/v1/gonum/mat " + module + "sdk/plan " + module + "proto/potv1",
			module + "sdk " + module + "internal/plugins"}, 0},
		{"another algorithm", []string{module + "algorithms/adaround " + module + "algorithms/quant"}, 1},
		{"the host", []string{module + "algorithms/adaround " + module + "host/qdq " + module + "internal/plugins"}, 2},
	}
	for _, tc := range tests {
		if got := importViolations(tc.lines); len(got) != tc.want {
			t.Errorf("%s: %q, want %d violations", tc.name, got, tc.want)
		}
	}
}

// The learned weights lie on the quantizer's grid: the QDQ export, which
// rounds w'/s, writes exactly the learned levels (first layer of LeNet,
// 4-bit per-channel weights, real images).
func TestExportWritesLearnedLevels(t *testing.T) {
	g, x, n := firstConv(t, "lenet_mnist.onnx")
	q := weightQuantizer(t, x, n, 15, true, true)
	l, pr, w, mom := realLayer(t, "lenet_mnist.onnx", "mnist/calib-1000-images-idx3-ubyte.gz", 0.1307, 0.3081,
		func(*graph.Index, *potv1.Node) *potv1.Quantizer { return q })
	lw, err := l.learn(context.Background(), pr, w, mom, defaults().options())
	if err != nil {
		t.Fatal(err)
	}
	if lw.flipped == 0 || !(lw.learned < lw.nearest) {
		t.Fatalf("learned error %g, nearest %g, %g flipped: want a rounding that differs from nearest and is better", lw.learned, lw.nearest, lw.flipped)
	}
	p := &potv1.QuantizationPlan{Quantizers: []*potv1.Quantizer{q}}
	plan.SetTensorUpdate(p, graph.FloatTensor(l.weight, l.dims, lw.values))
	out, _, err := qdq.Export(g, p)
	if err != nil {
		t.Fatal(err)
	}
	var stored *potv1.Tensor
	for _, t := range out.GetInitializers() {
		if strings.HasPrefix(t.GetName(), l.weight+"_quantized") {
			stored = t
		}
	}
	if stored == nil || stored.GetDtype() != potv1.DataType_DATA_TYPE_INT8 || len(stored.GetData()) != len(lw.levels) {
		t.Fatalf("exported weights %v", stored)
	}
	for i, b := range stored.GetData() {
		if got, want := int64(int8(b)), lw.levels[i]+q.GetLevelLow(); got != want {
			t.Fatalf("weight %d: exported level %d, learned %d", i, got, want)
		}
	}
}

// The report's tables: a row per layer in the report's order with its
// errors and flipped share, the skipped layers sorted, then the base
// report's tables.
func TestReportTables(t *testing.T) {
	rep := &Report{
		Layers:  []LayerReport{{Layer: "b", Nearest: 0.3, Learned: 0.1, Flipped: 0.2}, {Layer: "a", Nearest: 0.02, Learned: 0.01, Flipped: 0.1}},
		Skipped: map[string]string{"z": "no weights", "y": "ignored"},
		Base:    json.RawMessage(`{"tables": [{"title": "base", "columns": ["x"], "rows": [[1]]}]}`),
	}
	tables := rep.tables()
	if len(tables) != 3 || tables[2].Title != "base" {
		t.Fatalf("tables %+v", tables)
	}
	for i, l := range rep.Layers {
		row := tables[0].Rows[i]
		if len(row) != len(tables[0].Columns) || row[0] != l.Layer || row[1] != l.Nearest || row[2] != l.Learned || row[3] != l.Flipped {
			t.Errorf("row %d %v for %+v", i, row, l)
		}
	}
	if sk := tables[1].Rows; len(sk) != 2 || sk[0][0] != "y" || sk[1][1] != "no weights" {
		t.Errorf("skipped rows %v", sk)
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Fatal(err)
	}
}
