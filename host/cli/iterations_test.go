package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// pot quantize --json and report.json write the iterations of an accuracy
// search as one type (report.Iteration): the same JSON, byte for byte,
// with the field names both had (report.json gained accepted and
// reranked, which --json had).
func TestSearchIterationsJSON(t *testing.T) {
	extra := testPlugins(t, "pot-algorithm-Budget")
	dir := t.TempDir()
	stdout, stderr, code := potWith(t, extra, lenetArgs(filepath.Join(dir, "out.onnx"), "--algorithm", "Budget", "--max-drop", "0.02",
		"--json", "--report", filepath.Join(dir, "report"))...)
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, stderr)
	}
	var res struct {
		Iterations json.RawMessage `json:"iterations"`
	}
	mustJSON(t, stdout, &res)
	b, err := os.ReadFile(filepath.Join(dir, "report", "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Trajectory struct {
			Iterations json.RawMessage `json:"iterations"`
		} `json:"trajectory"`
	}
	mustJSON(t, string(b), &rep)
	// The search the Budget test algorithm reports.
	const want = `[{"iteration":1,"reverted":["/f1/Gemm"],"drop":0.01,"metric":0.89,"accepted":true,"reranked":false}]`
	for name, got := range map[string]json.RawMessage{"--json": res.Iterations, "report.json": rep.Trajectory.Iterations} {
		if compact(t, got) != want {
			t.Errorf("%s: iterations %s, want %s", name, got, want)
		}
	}
}

// compact is raw JSON without insignificant white space, its keys in
// their order.
func compact(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	return b.String()
}
