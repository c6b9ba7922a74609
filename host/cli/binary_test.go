package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// potBin runs the real pot binary (built in TestMain) in folder dir with
// the test plugins.
func potBin(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(pluginDir, "pot"), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "POT_PLUGIN_PATH="+pluginDir, "POT_PLUGIN_LOCK=", "XDG_DATA_HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir())
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return o.String(), e.String(), ee.ExitCode()
		}
		t.Fatalf("run pot: %v", err)
	}
	return o.String(), e.String(), 0
}

// mustJSON decodes the one JSON line a command printed.
func mustJSON(t *testing.T, stdout string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(stdout), v); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, stdout)
	}
}

// writeNPY writes a float32 .npy file of the given shape.
func writeNPY(t *testing.T, path string, shape []int) {
	t.Helper()
	n := 1
	dims := make([]string, len(shape))
	for i, d := range shape {
		n *= d
		dims[i] = strconv.Itoa(d)
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	header := "{'descr': '<f4', 'fortran_order': False, 'shape': (" + tuple + "), }"
	pad := 64 - (10+len(header)+1)%64
	header += strings.Repeat(" ", pad%64) + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	b.WriteByte(byte(len(header)))
	b.WriteByte(byte(len(header) >> 8))
	b.WriteString(header)
	for i := 0; i < n; i++ {
		b.Write([]byte{0, 0, 0x80, 0x3f}) // 1.0
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
