package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPluginErrorsAreOneCleanLine: a plugin that fails with an error about
// a node (an sdk.Error, or a target's) makes the command line print one
// line naming the plugin that failed and the node, however many plugins
// the error passed through, and never gRPC's "rpc error".
func TestPluginErrorsAreOneCleanLine(t *testing.T) {
	extra := testPlugins(t, "pot-algorithm-NodeFail", "pot-algorithm-Relay", "pot-target-nodefail")
	tests := []struct {
		name string
		args []string
		want string // the whole line, or its start
	}{
		{"algorithm", []string{"--algorithm", "NodeFail"},
			`pot: algorithm plugin "NodeFail": Run: node "/c2/Conv": its weights do not fit in 3 bits; give it 8 bits`},
		{"algorithm run by another", []string{"--algorithm", "Relay"},
			`pot: algorithm plugin "NodeFail": Run: node "/c2/Conv": its weights do not fit in 3 bits; give it 8 bits`},
		{"built-in algorithm three levels down", []string{"-q", "accuracy_aware", "--weight-bits", "4"},
			`pot: algorithm plugin "MinMaxQuantization": Run: node "/c1/Conv": weights: the target allows 8-bit symmetric perchannel, 8-bit asymmetric perchannel, not 4-bit`},
		{"target", []string{"--target", "nodefail"},
			`pot: algorithm plugin "MinMaxQuantization": Run: collect statistics: target plugin "nodefail": CollectStatistics: node "/c1/Conv": statistics overflow float32`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out.onnx")
			stdout, stderr, code := potWith(t, extra, lenetArgs(out, tc.args...)...)
			if code == 0 {
				t.Fatalf("exit status 0; stdout: %s", stdout)
			}
			var lines []string
			for _, l := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
				if strings.HasPrefix(l, "pot: ") {
					lines = append(lines, l)
				}
			}
			if len(lines) != 1 || lines[0] != tc.want {
				t.Errorf("stderr:\n%s\nwant the line\n%s", stderr, tc.want)
			}
			if strings.Contains(stderr, "rpc error") || strings.Contains(stderr, "code = ") {
				t.Errorf("gRPC's error text reached the user:\n%s", stderr)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("files written: %v", entries)
			}
		})
	}
}
