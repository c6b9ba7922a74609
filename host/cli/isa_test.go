package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestISAOption: --isa and --target-opt reach the cpu target, which
// shows the instruction model in its properties; bad values are refused.
func TestISAOption(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--isa", "avx2"}, "avx2"},
		{[]string{"--isa", "vnni"}, "vnni"},
		{[]string{"--target-opt", "isa=avx2"}, "avx2"},
	} {
		args := append(append([]string{}, tc.args...), "plugins", "describe", "target", "cpu")
		stdout, stderr, code := pot(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, stderr)
		}
		var d struct {
			Description struct {
				Properties map[string]string `json:"properties"`
			} `json:"description"`
		}
		if err := json.Unmarshal([]byte(stdout), &d); err != nil {
			t.Fatalf("%v: %v\n%s", tc.args, err, stdout)
		}
		p := d.Description.Properties
		if p["isa"] != tc.want || p["isa_default"] == "" {
			t.Errorf("%v: properties %v, want isa %s", tc.args, p, tc.want)
		}
	}
	for _, bad := range [][]string{
		{"--isa", "sse4"},
		{"--isa", "vnni", "--target-opt", "isa=avx2"},
		{"--target-opt", "isa"},
	} {
		args := append(append([]string{}, bad...), "plugins", "describe", "target", "cpu")
		_, stderr, code := pot(t, args...)
		if code == 0 || !strings.Contains(stderr, "isa") {
			t.Errorf("%v: exit %d, stderr %q", bad, code, stderr)
		}
	}
}
