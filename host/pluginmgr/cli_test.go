package pluginmgr_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/potgo/pot/internal/testenv"
)

// potRun is a pot process started from a plugin folder: pot finds the
// plugins beside its own binary, and only there.
type potRun struct {
	cmd            *exec.Cmd
	stdout, stderr logBuf
	done           chan error
}

// startPot starts dir/pot with args in a new working directory.
func startPot(t *testing.T, dir string, args ...string) *potRun {
	t.Helper()
	return startPotIn(t, dir, t.TempDir(), nil, args...)
}

// startPotIn starts dir/pot with args in the working directory cwd, with
// env added to its environment (over the test's own settings: no
// $POT_PLUGIN_PATH or $POT_PLUGIN_LOCK, new user data and config
// folders).
func startPotIn(t *testing.T, dir, cwd string, env []string, args ...string) *potRun {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "pot")); err != nil {
		link(t, filepath.Join(built, "pot"), filepath.Join(dir, "pot"))
	}
	r := &potRun{cmd: exec.Command(filepath.Join(dir, "pot"), args...), done: make(chan error, 1)}
	r.cmd.Dir = cwd
	r.cmd.Env = append(os.Environ(), "POT_PLUGIN_PATH=", "POT_PLUGIN_LOCK=", "XDG_DATA_HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir())
	r.cmd.Env = append(r.cmd.Env, env...)
	r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	t.Cleanup(func() {
		r.cmd.Process.Kill()
		<-r.done
	})
	return r
}

// wait waits for pot to end and returns its exit code.
func (r *potRun) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-r.done:
		r.done <- nil
		return r.cmd.ProcessState.ExitCode()
	case <-time.After(d):
		t.Fatalf("pot still running after %s; stderr:\n%s", d, r.stderr.String())
		return -1
	}
}

func quantizeArgs(out string, extra ...string) []string {
	return append([]string{"quantize", "--model", filepath.Join(testenv.RepoRoot(), "examples", "models", "lenet_mnist.onnx"),
		"--data", filepath.Join(testenv.RepoRoot(), "examples", "data", "mnist-calib.json"), "--subset", "50", "-o", out}, extra...)
}

// pluginsUp waits until the target and the algorithm run.
func pluginsUp(t *testing.T, dir string) {
	t.Helper()
	waitProcesses(t, dir, 30*time.Second, "the target and the algorithm did not start", func(ps []string) bool {
		n := 0
		for _, p := range ps {
			if strings.Contains(p, " pot-") {
				n++
			}
		}
		return n >= 2
	})
}

// `pot quantize` with an algorithm that crashes or hangs fails with an
// error naming it and its last log lines, writes no output file and
// leaves no process behind.
func TestQuantizeWithAFaultyAlgorithm(t *testing.T) {
	tests := []struct {
		name  string
		extra []string
		want  []string
	}{
		{"Panic", nil, []string{"died during Run", "panic: simulated crash in a goroutine"}},
		{"Exit", nil, []string{"died during Run", "exit status 7"}},
		{"Hang", []string{"--plugin-timeout", "2s"}, []string{"hung in Run", "--plugin-timeout 2s"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := pluginDir(t, "pot-algorithm-"+tc.name)
			outDir := t.TempDir()
			out := filepath.Join(outDir, "out.onnx")
			r := startPot(t, dir, quantizeArgs(out, append([]string{"--algorithm", tc.name}, tc.extra...)...)...)
			if code := r.wait(t, 60*time.Second); code != 1 {
				t.Fatalf("exit code %d; stderr:\n%s", code, r.stderr.String())
			}
			stderr := r.stderr.String()
			want := append([]string{`algorithm plugin "` + tc.name + `"`, "its last log lines:", "faulty plugin about to misbehave"}, tc.want...)
			if miss := contains(stderr, want...); len(miss) > 0 {
				t.Errorf("stderr lacks %q:\n%s", miss, stderr)
			}
			if entries, _ := os.ReadDir(outDir); len(entries) != 0 {
				t.Errorf("files written: %v", entries)
			}
			waitProcesses(t, dir, 5*time.Second, "plugin processes left", noProcesses)
		})
	}
}

// Ctrl-C (SIGINT to pot) in the middle of a run stops every plugin, even
// one that ignores its context, and writes nothing.
func TestInterruptStopsEveryPlugin(t *testing.T) {
	dir := pluginDir(t, "pot-algorithm-Hang")
	outDir := t.TempDir()
	r := startPot(t, dir, quantizeArgs(filepath.Join(outDir, "out.onnx"), "--algorithm", "Hang")...)
	pluginsUp(t, dir)
	start := time.Now()
	if err := r.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := r.wait(t, 20*time.Second); code != 130 {
		t.Errorf("exit code %d, want 130; stderr:\n%s", code, r.stderr.String())
	}
	t.Logf("pot ended %s after SIGINT", time.Since(start).Round(time.Millisecond))
	if !strings.Contains(r.stderr.String(), "interrupted; no output written") {
		t.Errorf("stderr:\n%s", r.stderr.String())
	}
	// pot waits for its plugins before it exits.
	if ps := processes(dir); len(ps) != 0 {
		t.Errorf("processes left when pot ended: %v", ps)
	}
	if entries, _ := os.ReadDir(outDir); len(entries) != 0 {
		t.Errorf("files written: %v", entries)
	}
}

// A plugin ends by itself when its host is killed outright.
func TestKilledHostLeavesNoOrphans(t *testing.T) {
	dir := pluginDir(t, "pot-algorithm-Hang")
	r := startPot(t, dir, quantizeArgs(filepath.Join(t.TempDir(), "out.onnx"), "--algorithm", "Hang")...)
	pluginsUp(t, dir)
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	r.wait(t, 10*time.Second)
	waitProcesses(t, dir, 5*time.Second, "plugins outlived their killed host", noProcesses)
}

// Without the parent-death signal the host sets, the SDK's own watch
// ends a plugin whose parent is gone: here the parent is a shell that is
// killed outright.
func TestPluginWatchesItsParent(t *testing.T) {
	dir := pluginDir(t, "pot-algorithm-Hang")
	sh := exec.Command("/bin/sh", "-c", `"$1" & wait`, "sh", filepath.Join(dir, "pot-algorithm-Hang"))
	sh.Env = append(os.Environ(), "POT_PLUGIN_MAGIC_COOKIE=6b1f2c1e9a7d4b0f8e3c5a2d7f9b1c4e", "PLUGIN_PROTOCOL_VERSIONS=1")
	stdout, err := sh.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	// The plugin has started once it printed its handshake line.
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if !strings.HasPrefix(line, "1|1|unix|") {
		t.Fatalf("handshake %q, %v", line, err)
	}
	start := time.Now()
	sh.Process.Kill()
	// Wait returns once the plugin, which holds the stdout pipe, is gone.
	go sh.Wait()
	waitProcesses(t, dir, 5*time.Second, "the plugin outlived its parent", noProcesses)
	t.Logf("the plugin ended %s after its parent was killed", time.Since(start).Round(time.Millisecond))
}

// Plugin log lines reach the host's log under the plugin's name, filtered
// by --log-level.
func TestPluginLogsFollowLogLevel(t *testing.T) {
	dir := pluginDir(t, "pot-algorithm-Debug")
	const marker = "faulty plugin debug marker 4242"
	for _, tc := range []struct {
		level      string
		debugShown bool
	}{{"debug", true}, {"info", false}, {"warn", false}} {
		t.Run(tc.level, func(t *testing.T) {
			r := startPot(t, dir, quantizeArgs(filepath.Join(t.TempDir(), "out.onnx"), "--algorithm", "Debug", "--log-level", tc.level)...)
			if code := r.wait(t, 60*time.Second); code != 0 {
				t.Fatalf("exit code %d:\n%s", code, r.stderr.String())
			}
			stderr := r.stderr.String()
			if got := strings.Contains(stderr, "pot-algorithm-Debug: "+marker); got != tc.debugShown {
				t.Errorf("debug line shown = %v, want %v:\n%s", got, tc.debugShown, stderr)
			}
			// Warnings pass every level used here.
			if !strings.Contains(stderr, "[WARN]  pot.pot-algorithm-Debug: faulty plugin about to misbehave") {
				t.Errorf("the plugin's warning is not shown under its name:\n%s", stderr)
			}
			if strings.Contains(r.stdout.String(), "faulty") {
				t.Errorf("plugin logs on pot's stdout:\n%s", r.stdout.String())
			}
		})
	}
}

// `pot plugins lock` records checksums; a binary changed afterwards is
// refused with a message naming it and how to re-lock, and so is one
// added afterwards.
func TestLockRefusesAChangedBinary(t *testing.T) {
	dir := pluginDir(t)
	copyFile(t, filepath.Join(built, "faulty"), filepath.Join(dir, "pot-algorithm-Debug"))
	lock := filepath.Join(t.TempDir(), "pot-plugins.lock")
	r := startPot(t, dir, "plugins", "lock", "--plugin-lock", lock)
	if code := r.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("lock: exit %d: %s", code, r.stderr.String())
	}
	if !strings.Contains(r.stdout.String(), "locked 4 plugins") {
		t.Errorf("lock: %s", r.stdout.String())
	}
	r = startPot(t, dir, "plugins", "describe", "algorithm", "Debug", "--plugin-lock", lock)
	if code := r.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("describe of a locked plugin: exit %d: %s", code, r.stderr.String())
	}
	// Change the binary (a rebuild would do the same).
	f, err := os.OpenFile(filepath.Join(dir, "pot-algorithm-Debug"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("changed"))
	f.Close()
	r = startPot(t, dir, "plugins", "describe", "algorithm", "Debug", "--plugin-lock", lock)
	if code := r.wait(t, 30*time.Second); code != 1 {
		t.Fatalf("describe of a changed plugin: exit %d: %s", code, r.stderr.String())
	}
	if miss := contains(r.stderr.String(), `algorithm plugin "Debug"`, filepath.Join(dir, "pot-algorithm-Debug"),
		"does not match its checksum in the lock file "+lock, "refusing to run it", "`pot plugins lock --plugin-lock "+lock+"`"); len(miss) > 0 {
		t.Errorf("stderr lacks %q: %s", miss, r.stderr.String())
	}
	// A plugin installed after the lock is not trusted either.
	link(t, filepath.Join(built, "faulty"), filepath.Join(dir, "pot-algorithm-Exit"))
	r = startPot(t, dir, "plugins", "describe", "algorithm", "Exit", "--plugin-lock", lock)
	if code := r.wait(t, 30*time.Second); code != 1 {
		t.Errorf("describe of an unlocked plugin: exit %d: %s", code, r.stderr.String())
	}
	if miss := contains(r.stderr.String(), `algorithm plugin "Exit" is not in the lock file `+lock, filepath.Join(dir, "pot-algorithm-Exit"),
		"`pot plugins lock --plugin-lock "+lock+"`"); len(miss) > 0 {
		t.Errorf("stderr lacks %q: %s", miss, r.stderr.String())
	}
	waitProcesses(t, dir, 5*time.Second, "plugin processes left", noProcesses)
}

// `pot plugins describe` prints JSON with the negotiated protocol, and
// the hardware config and operators of a target or the parameter schema
// of an algorithm; `pot plugins list` shows the protocol versions.
func TestDescribeAndList(t *testing.T) {
	dir := pluginDir(t)
	type desc struct {
		Kind        string `json:"kind"`
		Name        string `json:"name"`
		Path        string `json:"path"`
		Protocol    int    `json:"protocol_version"`
		Description struct {
			Name             string          `json:"name"`
			Version          string          `json:"version"`
			ProtocolVersions []int           `json:"protocol_versions"`
			HardwareConfig   json.RawMessage `json:"hardware_config"`
			Operators        []any           `json:"operators"`
			ParamsSchema     map[string]any  `json:"params_schema"`
			Defaults         map[string]any  `json:"defaults"`
		} `json:"description"`
	}
	for _, tc := range []struct{ kind, name string }{{"target", "cpu"}, {"algorithm", "MinMaxQuantization"}} {
		r := startPot(t, dir, "plugins", "describe", tc.kind, tc.name)
		if code := r.wait(t, 30*time.Second); code != 0 {
			t.Fatalf("exit %d: %s", code, r.stderr.String())
		}
		var d desc
		if err := json.Unmarshal([]byte(r.stdout.String()), &d); err != nil {
			t.Fatalf("%v:\n%s", err, r.stdout.String())
		}
		if d.Kind != tc.kind || d.Name != tc.name || d.Path != filepath.Join(dir, "pot-"+tc.kind+"-"+tc.name) ||
			d.Protocol != 1 || d.Description.Name != tc.name || fmt.Sprint(d.Description.ProtocolVersions) != "[1]" {
			t.Errorf("%s %s: %+v", tc.kind, tc.name, d)
		}
		if tc.kind == "target" && (len(d.Description.HardwareConfig) < 100 || len(d.Description.Operators) < 50) {
			t.Errorf("target without hardware config or operators: %s", r.stdout.String())
		}
		if tc.kind == "algorithm" && (d.Description.ParamsSchema["type"] != "object" || d.Description.Defaults == nil) {
			t.Errorf("algorithm without parameter schema or defaults: %s", r.stdout.String())
		}
	}
	r := startPot(t, dir, "plugins", "list")
	if code := r.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("exit %d: %s", code, r.stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(r.stdout.String()), "\n")
	if len(lines) != 4 || strings.Join(strings.Fields(lines[0]), " ") != "KIND NAME VERSION PROTOCOL PATH STATUS" {
		t.Fatalf("list:\n%s", r.stdout.String())
	}
	if f := strings.Fields(lines[3]); f[0] != "target" || f[1] != "cpu" || f[3] != "1" || f[5] != "ok" {
		t.Errorf("list row %q", lines[3])
	}
}

// Two plugins of one kind and name in the searched folders: the first in
// search order is used, commands keep working, the other is named in a
// warning and listed as shadowed.
func TestDuplicatePluginsAreNamed(t *testing.T) {
	dir := pluginDir(t)
	other := t.TempDir() // --plugin-path comes first in the search order
	copyFile(t, filepath.Join(built, "faulty"), filepath.Join(other, "pot-target-cpu"))
	copyFile(t, filepath.Join(built, "pot-algorithm-MinMaxQuantization"), filepath.Join(other, "pot-algorithm-MinMaxQuantization"))
	used, shadowed := filepath.Join(other, "pot-target-cpu"), filepath.Join(dir, "pot-target-cpu")
	warning := []string{"[WARN]  pot: plugin shadowed by one earlier in the search path; it is not used", "path=" + shadowed, "used=" + used}
	r := startPot(t, dir, "plugins", "list", "--json", "--plugin-path", other)
	if code := r.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("list: exit %d: %s", code, r.stderr.String())
	}
	if miss := contains(r.stderr.String(), warning...); len(miss) > 0 {
		t.Errorf("stderr lacks %q: %s", miss, r.stderr.String())
	}
	var rows []map[string]string
	if err := json.Unmarshal([]byte(r.stdout.String()), &rows); err != nil {
		t.Fatalf("%v: %s", err, r.stdout.String())
	}
	var cpu []string
	for _, row := range rows {
		if row["kind"] == "target" && row["name"] == "cpu" {
			cpu = append(cpu, row["path"]+" "+row["status"]+" "+row["version"])
			if row["status"] == "shadowed" && !strings.Contains(row["problem"], "shadowed by "+used) {
				t.Errorf("shadowed row %v does not name %s", row, used)
			}
		}
	}
	if want := []string{used + " ok 0.0.1-test", shadowed + " shadowed "}; strings.Join(cpu, "|") != strings.Join(want, "|") {
		t.Errorf("cpu rows %q, want %q", cpu, want)
	}
	// A run with a duplicate algorithm works and warns.
	copies := t.TempDir()
	copyFile(t, filepath.Join(built, "pot-algorithm-MinMaxQuantization"), filepath.Join(copies, "pot-algorithm-MinMaxQuantization"))
	r = startPot(t, dir, quantizeArgs(filepath.Join(t.TempDir(), "out.onnx"), "--plugin-path", copies, "--algorithm", "MinMaxQuantization")...)
	if code := r.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("quantize: exit %d: %s", code, r.stderr.String())
	}
	if miss := contains(r.stderr.String(), "plugin shadowed by one earlier in the search path", "path="+filepath.Join(dir, "pot-algorithm-MinMaxQuantization"),
		"used="+filepath.Join(copies, "pot-algorithm-MinMaxQuantization")); len(miss) > 0 {
		t.Errorf("quantize: stderr lacks %q: %s", miss, r.stderr.String())
	}
}
