package pluginmgr

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/potgo/pot/internal/plugins"
)

// A locked plugin is started from the file that was checked: replacing
// its path after the check does not change what runs (on Linux, where the
// process is started from the open file); and a file modified or
// replaced between its check and its start is refused.
func TestLockedPluginRunsTheCheckedFile(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err == nil {
		sh, err = filepath.EvalSymlinks(sh)
	}
	if err != nil {
		t.Skip("no sh to stand in for a plugin binary:", err)
	}
	tests := []struct {
		name    string
		tamper  func(t *testing.T, path string)
		out     string // what the started process prints; "" when not checked
		refused bool
	}{
		{"untouched", func(*testing.T, string) {}, "checked\n", false},
		{"path replaced", func(t *testing.T, path string) {
			if runtime.GOOS != "linux" {
				t.Skip("a process is started from an open file on Linux only")
			}
			tmp := path + ".new"
			if err := os.WriteFile(tmp, []byte("#!/bin/sh\necho replaced\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, path); err != nil {
				t.Fatal(err)
			}
		}, "checked\n", true},
		{"modified in place", func(t *testing.T, path string) {
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write([]byte("changed"))
			f.Close()
		}, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bin := plugins.Binary{Kind: plugins.KindTarget, Name: "x", Path: filepath.Join(t.TempDir(), "pot-target-x")}
			b, err := os.ReadFile(sh)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(bin.Path, b, 0o755); err != nil {
				t.Fatal(err)
			}
			lock, err := plugins.NewLock([]plugins.Binary{bin})
			if err != nil {
				t.Fatal(err)
			}
			m := &Manager{opts: Options{LockPath: "test.lock"}, lock: lock}
			cmd := exec.Command(bin.Path, "-c", "echo checked")
			pin, err := m.verify(bin, cmd)
			if err != nil {
				t.Fatal(err)
			}
			defer pin.Close()
			tc.tamper(t, bin.Path)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if tc.out != "" && string(out) != tc.out {
				t.Errorf("the started process printed %q, want %q", out, tc.out)
			}
			err = pin.started()
			if tc.refused != (err != nil) || (tc.refused && !errors.Is(err, errChangedWhileStarting)) {
				t.Errorf("started() = %v, want refused %v", err, tc.refused)
			}
			if tc.refused && !strings.Contains(err.Error(), bin.Path) {
				t.Errorf("error %q does not name %s", err, bin.Path)
			}
		})
	}
}
