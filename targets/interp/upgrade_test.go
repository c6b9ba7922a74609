package interp_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/onnx"
	"github.com/potgo/pot/sdk/onnx/backendtest"
	"github.com/potgo/pot/sdk/opset"
	"github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/ops"
)

// upgradeBackend runs a backend test's model upgraded to opset 13, and
// the original beside it: Run fails unless both agree (within the test's
// tolerance), and returns the upgraded model's outputs for backendtest
// to compare with the reference.
type upgradeBackend struct {
	tol backendtest.Tolerance
	// refused holds the upgrader's error for the last Prepare.
	refused error
	// oldRan counts the tests where the original model ran too.
	oldRan *int
	report *opset.Report
}

func (b *upgradeBackend) Prepare(ctx context.Context, g *potv1.Graph) (backendtest.Model, error) {
	b.refused, b.report = nil, nil
	up, rep, err := opset.Upgrade(g, 13)
	if err != nil {
		b.refused = err
		return nil, &backendtest.UnsupportedError{Reason: "upgrade refused: " + err.Error()}
	}
	b.report = rep
	// The upgraded graph is a valid ONNX model.
	if _, err := onnx.FromGraph(up, nil); err != nil {
		return nil, fmt.Errorf("upgraded graph: %w", err)
	}
	newProg, err := interp.Compile(up, interp.Options{Threads: 1})
	if err != nil {
		var u *ops.UnsupportedError
		if errors.As(err, &u) {
			return nil, &backendtest.UnsupportedError{Reason: err.Error()}
		}
		return nil, fmt.Errorf("upgraded: %w", err)
	}
	m := &upgradedModel{b: b, newProg: newProg}
	if old, err := interp.Compile(g, interp.Options{Threads: 1}); err == nil {
		m.oldProg = old
	}
	return m, nil
}

type upgradedModel struct {
	b                *upgradeBackend
	oldProg, newProg *interp.Program
}

func (m *upgradedModel) Run(ctx context.Context, inputs []*potv1.Tensor) ([]*potv1.Tensor, error) {
	got, err := model{m.newProg}.Run(ctx, inputs)
	if err != nil || m.oldProg == nil {
		return got, err
	}
	old, err := model{m.oldProg}.Run(ctx, inputs)
	if err != nil {
		// The original does not run (an old form the runtime lacks): the
		// reference comparison still checks the upgraded one.
		return got, nil
	}
	if len(old) != len(got) {
		return nil, fmt.Errorf("the original model has %d outputs, the upgraded one %d", len(old), len(got))
	}
	for i := range old {
		if err := backendtest.Compare(got[i], old[i], m.b.tol); err != nil {
			return nil, fmt.Errorf("upgraded output %d differs from the original model's: %w", i, err)
		}
	}
	*m.b.oldRan++
	return got, nil
}

func (m *upgradedModel) Close() error {
	m.newProg.Close()
	if m.oldProg != nil {
		m.oldProg.Close()
	}
	return nil
}

// wantRefused lists the backend tests of opsets below 13 that the
// upgrader refuses, with a part of the reason.
var wantRefused = map[string]string{
	// Scan-8 has a batch axis; Scan-9 has none, and the rewrite (a Loop
	// over the batch) is not implemented.
	"node/test_scan_sum": "Scan-8 loops over a batch axis",
}

// TestUpgradeConformance upgrades every ONNX backend test model of an
// opset below 13 (folders node, pytorch-converted, pytorch-operator and
// simple of Debian's libonnx-testdata, or the bundled part of the node
// tests in testdata/onnx-node) to opset 13, runs it and checks its
// outputs against the test's reference outputs and against the original
// model's outputs on the same runtime.
func TestUpgradeConformance(t *testing.T) {
	var dirs []string
	for _, sub := range []string{"node", "pytorch-converted", "pytorch-operator", "simple"} {
		dirs = append(dirs, filepath.Join(backendtest.DefaultDir, sub))
	}
	if _, err := os.Stat(dirs[0]); err != nil {
		dirs = []string{filepath.Join("testdata", "onnx-node")}
		if _, err := os.Stat(dirs[0]); err != nil {
			t.Skip("ONNX backend tests not found: install Debian package libonnx-testdata")
		}
		t.Logf("libonnx-testdata not installed (Debian package libonnx-testdata): running the bundled part in %s", dirs[0])
	}
	cases, err := backendtest.Discover(dirs...)
	if err != nil {
		t.Fatal(err)
	}
	oldRan := 0
	var pass, skip, older int
	refused := map[string]string{}
	converted := map[string]int{}
	for _, dir := range cases {
		m, err := onnx.ReadFile(filepath.Join(dir, "model.onnx"))
		if err != nil {
			t.Errorf("%s: %v", dir, err)
			continue
		}
		if v, ok := onnx.DefaultOpset(m); !ok || v >= 13 {
			continue
		}
		older++
		name := filepath.Base(filepath.Dir(dir)) + "/" + filepath.Base(dir)
		b := &upgradeBackend{tol: backendtest.ToleranceFor(filepath.Base(dir)), oldRan: &oldRan}
		r := backendtest.Run(context.Background(), b, dir)
		if b.report != nil {
			for _, c := range b.report.Changes {
				converted[c.OpType]++
			}
		}
		switch {
		case b.refused != nil:
			refused[name] = b.refused.Error()
		case r.Status == backendtest.Pass:
			pass++
		case r.Status == backendtest.Fail:
			t.Errorf("FAIL %s: %s", name, r.Reason)
		case r.Status == backendtest.Skip:
			skip++
			if testing.Verbose() {
				t.Logf("SKIP %s: %s", name, r.Reason)
			}
		}
	}
	names := make([]string, 0, len(refused))
	for n := range refused {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		want, ok := wantRefused[n]
		switch {
		case !ok:
			t.Errorf("REFUSED %s: %s", n, refused[n])
		case !strings.Contains(refused[n], want):
			t.Errorf("REFUSED %s: %s; want a reason with %q", n, refused[n], want)
		default:
			t.Logf("refused %s: %s", n, refused[n])
		}
	}
	var conv []string
	for op, c := range converted {
		conv = append(conv, fmt.Sprintf("%s %d", op, c))
	}
	sort.Strings(conv)
	t.Logf("%d models below opset 13: %d passed (%d also matched the original model on the runtime), %d refused, %d skipped (runtime lacks an operator)", older, pass, oldRan, len(refused), skip)
	t.Logf("nodes converted: %s", strings.Join(conv, ", "))
}
