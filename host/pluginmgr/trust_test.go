package pluginmgr_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A lock file named with --plugin-lock or $POT_PLUGIN_LOCK that does not
// exist (a typo) is an error naming it and how to create it; no plugin
// runs unchecked.
func TestMissingNamedLockFileIsAnError(t *testing.T) {
	dir := pluginDir(t)
	missing := filepath.Join(t.TempDir(), "my.lokc")
	for _, tc := range []struct {
		name string
		env  []string
		args []string
	}{
		{"flag", nil, []string{"--plugin-lock", missing}},
		{"environment", []string{"POT_PLUGIN_LOCK=" + missing}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"plugins", "describe", "algorithm", "MinMaxQuantization"}, tc.args...)
			r := startPotIn(t, dir, t.TempDir(), tc.env, args...)
			if code := r.wait(t, 30*time.Second); code != 1 {
				t.Fatalf("exit %d, want 1; stdout %s; stderr %s", code, r.stdout.String(), r.stderr.String())
			}
			stderr := strings.TrimSpace(r.stderr.String())
			if miss := contains(stderr, "lock file does not exist: "+missing, "`pot plugins lock --plugin-lock "+missing+"`"); len(miss) > 0 || strings.Contains(stderr, "\n") {
				t.Errorf("stderr is not one line with %q: %s", miss, stderr)
			}
			if r.stdout.String() != "" {
				t.Errorf("stdout: %s", r.stdout.String())
			}
		})
	}
}

// `pot plugins lock` without --plugin-lock writes the user's lock file,
// which is in force wherever pot runs from: a changed binary is refused
// from another working directory too.
func TestLockIsInForceFromAnyFolder(t *testing.T) {
	dir := pluginDir(t)
	copyFile(t, filepath.Join(built, "faulty"), filepath.Join(dir, "pot-algorithm-Debug"))
	config := t.TempDir()
	env := []string{"XDG_CONFIG_HOME=" + config}
	user := filepath.Join(config, "pot", "plugins.lock")
	r := startPotIn(t, dir, t.TempDir(), env, "plugins", "lock")
	if code := r.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("lock: exit %d: %s", code, r.stderr.String())
	}
	if !strings.Contains(r.stdout.String(), "locked 4 plugins in "+user) {
		t.Errorf("lock: %s", r.stdout.String())
	}
	f, err := os.OpenFile(filepath.Join(dir, "pot-algorithm-Debug"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("changed"))
	f.Close()
	for _, cwd := range []string{t.TempDir(), dir} {
		r = startPotIn(t, dir, cwd, env, "plugins", "describe", "algorithm", "Debug")
		if code := r.wait(t, 30*time.Second); code != 1 {
			t.Fatalf("from %s: exit %d, want 1: %s", cwd, code, r.stderr.String())
		}
		if miss := contains(r.stderr.String(), `algorithm plugin "Debug"`, "does not match its checksum in the lock file "+user); len(miss) > 0 {
			t.Errorf("from %s: stderr lacks %q: %s", cwd, miss, r.stderr.String())
		}
	}
	// The unchanged plugins still run.
	r = startPotIn(t, dir, t.TempDir(), env, "plugins", "describe", "algorithm", "MinMaxQuantization")
	if code := r.wait(t, 30*time.Second); code != 0 {
		t.Errorf("describe of a locked plugin: exit %d: %s", code, r.stderr.String())
	}
	waitProcesses(t, dir, 5*time.Second, "plugin processes left", noProcesses)
}

// A plugin file without its execute bit is named with what is wrong
// instead of "not found", and `pot plugins list` shows it.
func TestNotExecutablePluginIsNamed(t *testing.T) {
	dir := pluginDir(t)
	noExec := filepath.Join(dir, "pot-algorithm-NoExec")
	copyFile(t, filepath.Join(built, "faulty"), noExec)
	if err := os.Chmod(noExec, 0o644); err != nil {
		t.Fatal(err)
	}
	r := startPot(t, dir, quantizeArgs(filepath.Join(t.TempDir(), "out.onnx"), "--algorithm", "NoExec")...)
	if code := r.wait(t, 30*time.Second); code != 1 {
		t.Fatalf("quantize: exit %d: %s", code, r.stderr.String())
	}
	if miss := contains(r.stderr.String(), noExec+" is not executable; chmod +x it"); len(miss) > 0 || strings.Contains(r.stderr.String(), "not found") {
		t.Errorf("stderr lacks %q or says not found: %s", miss, r.stderr.String())
	}
	r = startPot(t, dir, "plugins", "list")
	if code := r.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("list: exit %d: %s", code, r.stderr.String())
	}
	var row string
	for _, l := range strings.Split(r.stdout.String(), "\n") {
		if strings.Contains(l, noExec) {
			row = strings.Join(strings.Fields(l), " ")
		}
	}
	if want := "algorithm NoExec - - " + noExec + " not executable; chmod +x it"; row != want {
		t.Errorf("list row %q, want %q:\n%s", row, want, r.stdout.String())
	}
}

// A plugin whose description contradicts its binary (another name, or
// protocol versions without the one negotiated in the handshake) is
// refused with one line naming the binary and both values; `pot plugins
// list` keeps its version column clean and shows the problem in its
// status.
func TestMisdescribedPluginIsRefused(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{"Misnamed", []string{`describes itself as "SomeoneElse"`, "pot-algorithm-NAME"}},
		{"BadProtocol", []string{"protocol versions [2]", "negotiated protocol version 1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := pluginDir(t, "pot-algorithm-"+tc.name)
			bin := filepath.Join(dir, "pot-algorithm-"+tc.name)
			want := append([]string{`algorithm plugin "` + tc.name + `" (` + bin + `)`, "refusing to run it"}, tc.want...)
			for _, args := range [][]string{
				{"plugins", "describe", "algorithm", tc.name},
				quantizeArgs(filepath.Join(t.TempDir(), "out.onnx"), "--algorithm", tc.name),
			} {
				r := startPot(t, dir, args...)
				if code := r.wait(t, 60*time.Second); code != 1 {
					t.Fatalf("%s: exit %d: %s", args[0], code, r.stderr.String())
				}
				stderr := strings.TrimSpace(r.stderr.String())
				if miss := contains(stderr, want...); len(miss) > 0 || strings.Count(stderr, "\n") > 0 {
					t.Errorf("%s: stderr is not one line with %q:\n%s", args[0], miss, stderr)
				}
			}
			r := startPot(t, dir, "plugins", "list", "--json")
			if code := r.wait(t, 30*time.Second); code != 0 {
				t.Fatalf("list: exit %d: %s", code, r.stderr.String())
			}
			var rows []map[string]string
			if err := json.Unmarshal([]byte(r.stdout.String()), &rows); err != nil {
				t.Fatalf("%v: %s", err, r.stdout.String())
			}
			found := false
			for _, row := range rows {
				if row["name"] != tc.name {
					if row["status"] != "ok" || row["version"] == "" {
						t.Errorf("row %v", row)
					}
					continue
				}
				found = true
				if row["version"] != "" || row["protocols"] != "" || row["status"] != "error" || len(contains(row["problem"], want...)) > 0 {
					t.Errorf("row %v: want no version, status error, problem with %q", row, want)
				}
			}
			if !found {
				t.Errorf("list lacks %s: %s", tc.name, r.stdout.String())
			}
			waitProcesses(t, dir, 5*time.Second, "plugin processes left", noProcesses)
		})
	}
}

// A relative --plugin-path runs the plugins it lists: a bare file name
// must not be looked up in $PATH, where another binary of that name may
// be.
func TestRelativePluginPathRunsTheFileListed(t *testing.T) {
	dir := pluginDir(t)
	impostor := t.TempDir()
	copyFile(t, filepath.Join(built, "faulty"), filepath.Join(impostor, "pot-target-cpu"))
	env := []string{"PATH=" + impostor + string(os.PathListSeparator) + os.Getenv("PATH")}
	r := startPotIn(t, dir, dir, env, "plugins", "describe", "target", "cpu", "--plugin-path", ".")
	if code := r.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("exit %d: %s", code, r.stderr.String())
	}
	var d struct {
		Path        string `json:"path"`
		Description struct {
			Device string `json:"device"`
		} `json:"description"`
	}
	if err := json.Unmarshal([]byte(r.stdout.String()), &d); err != nil {
		t.Fatalf("%v: %s", err, r.stdout.String())
	}
	if d.Path != filepath.Join(dir, "pot-target-cpu") || d.Description.Device == "TEST" {
		t.Errorf("described %s, device %s; want %s, not the faulty target in $PATH", d.Path, d.Description.Device, filepath.Join(dir, "pot-target-cpu"))
	}
}
