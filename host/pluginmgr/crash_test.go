package pluginmgr_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/potgo/pot/host/pluginmgr"
	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/proto/potv1"
)

// A plugin that panics, exits or hangs in the middle of a call becomes an
// error naming it with its last log lines, and the manager stops the
// other plugins at once.
func TestAlgorithmFaultsNameThePluginAndStopTheOthers(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		exited  bool
		want    []string
	}{
		{"Panic", 0, true, []string{"died during Run: plugin process exited (exit status 2)", "panic: simulated crash in a goroutine", "goroutine "}},
		{"Exit", 0, true, []string{"died during Run", "plugin process exited (exit status 7)"}},
		{"Hang", 1500 * time.Millisecond, false, []string{"hung in Run", "no answer within the plugin timeout", "the plugin was stopped"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := pluginDir(t, "pot-algorithm-"+tc.name)
			m := manager(t, dir, tc.timeout, nil)
			ctx := context.Background()
			target, err := m.Target(ctx, "cpu")
			if err != nil {
				t.Fatal(err)
			}
			a, err := m.Algorithm(ctx, tc.name)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = a.Run(ctx, fakeHost{}, &plugins.RunRequest{Plan: &potv1.QuantizationPlan{}, Params: []byte("{}")})
			if err == nil {
				t.Fatal("Run succeeded")
			}
			t.Logf("after %s: %v", time.Since(start).Round(time.Millisecond), err)
			var pe *pluginmgr.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *pluginmgr.Error", err)
			}
			if pe.Kind != plugins.KindAlgorithm || pe.Name != tc.name || pe.Exited != tc.exited || pe.Hung == tc.exited {
				t.Errorf("error = %+v", pe)
			}
			want := append([]string{`algorithm plugin "` + tc.name + `"`, "its last log lines:",
				"[WARN] faulty plugin about to misbehave mode=" + tc.name, "[INFO] faulty plugin working"}, tc.want...)
			if miss := contains(err.Error(), want...); len(miss) > 0 {
				t.Errorf("error lacks %q:\n%v", miss, err)
			}
			if tc.timeout > 0 && !errors.Is(err, pluginmgr.ErrTimeout) {
				t.Errorf("error does not wrap ErrTimeout")
			}
			// The target was stopped by the manager, not by Close.
			deadline := time.Now().Add(5 * time.Second)
			for !target.Exited() && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if !target.Exited() {
				t.Error("the target plugin is still running after the algorithm failed")
			}
			if _, err := target.Describe(ctx); err == nil || !strings.Contains(err.Error(), tc.name) {
				t.Errorf("a call to the stopped target: %v; want the algorithm's failure", err)
			}
			waitProcesses(t, dir, 5*time.Second, "plugin processes left", noProcesses)
			if m.Failure() == nil {
				t.Error("Failure() is nil")
			}
		})
	}
}

// A target that crashes or hangs in Describe, which the manager calls as
// it starts a plugin, fails the start within the plugin deadline with an
// error naming it, and leaves no process behind.
func TestTargetFaults(t *testing.T) {
	tests := []struct {
		name string
		want string
	}{
		{"panic", "died during Describe"},
		{"exit", "died during Describe"},
		{"hang", "hung in Describe"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := pluginDir(t, "pot-target-"+tc.name)
			m := manager(t, dir, time.Second, nil)
			start := time.Now()
			_, err := m.Target(context.Background(), tc.name)
			if err == nil {
				t.Fatal("the target started")
			}
			if d := time.Since(start); d > 6*time.Second {
				t.Errorf("the failure took %s", d)
			}
			if miss := contains(err.Error(), `target plugin "`+tc.name+`"`, tc.want, "faulty plugin about to misbehave"); len(miss) > 0 {
				t.Errorf("error lacks %q:\n%v", miss, err)
			}
			waitProcesses(t, dir, 5*time.Second, "plugin processes left", noProcesses)
		})
	}
}

// A plugin's structured error reaches the host as one clean line naming
// the plugin and the node, the node available to the caller; the plugin
// lives on.
func TestStructuredErrorNamesPluginAndNode(t *testing.T) {
	dir := pluginDir(t, "pot-algorithm-NodeError")
	m := manager(t, dir, 0, nil)
	a, err := m.Algorithm(context.Background(), "NodeError")
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Run(context.Background(), fakeHost{}, &plugins.RunRequest{Plan: &potv1.QuantizationPlan{}})
	if err == nil {
		t.Fatal("Run succeeded")
	}
	if want := `algorithm plugin "NodeError": Run: node "conv3": the layer is too wide; split it`; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	var pe *pluginmgr.Error
	if !errors.As(err, &pe) || pe.Exited || pe.Node() != "conv3" {
		t.Errorf("error = %#v", pe)
	}
	var d *plugins.Error
	if !errors.As(err, &d) || d.Node != "conv3" || d.Summary != "the layer is too wide" || d.Detail != "split it" {
		t.Errorf("diagnostic = %#v", d)
	}
	if desc, err := a.Describe(context.Background()); err != nil || desc.GetName() != "NodeError" {
		t.Errorf("Describe after the error: %v, %v", desc, err)
	}
}

// A panic inside a handler is recovered by the SDK: the call fails, the
// plugin lives on.
func TestPanicInHandlerIsAnError(t *testing.T) {
	dir := pluginDir(t, "pot-algorithm-PanicHandler")
	m := manager(t, dir, 0, nil)
	a, err := m.Algorithm(context.Background(), "PanicHandler")
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Run(context.Background(), fakeHost{}, &plugins.RunRequest{Plan: &potv1.QuantizationPlan{}})
	if err == nil || !strings.Contains(err.Error(), "plugin panicked in /pot.v1.Algorithm/Run: simulated panic in a handler") {
		t.Fatalf("Run: %v", err)
	}
	var pe *pluginmgr.Error
	if !errors.As(err, &pe) || pe.Exited {
		t.Errorf("error = %#v", pe)
	}
	d, err := a.Describe(context.Background())
	if err != nil || d.GetName() != "PanicHandler" {
		t.Errorf("Describe after the panic: %v, %v", d, err)
	}
}

// A plugin of another protocol major version is refused, naming both.
func TestOtherProtocolVersionIsRefused(t *testing.T) {
	dir := pluginDir(t, "pot-algorithm-V2")
	m := manager(t, dir, 0, nil)
	_, err := m.Algorithm(context.Background(), "V2")
	if err == nil {
		t.Fatal("a protocol 2 plugin was accepted")
	}
	if miss := contains(err.Error(), `algorithm plugin "V2"`, "speaks protocol version 2", "this pot speaks protocol version 1"); len(miss) > 0 {
		t.Errorf("error lacks %q: %v", miss, err)
	}
	waitProcesses(t, dir, 5*time.Second, "plugin processes left", noProcesses)
}

// What a plugin prints on stdout after the handshake is logged as a
// warning under its name and does not break the run.
func TestStdoutIsLoggedAsAWarning(t *testing.T) {
	dir := pluginDir(t, "pot-algorithm-Stdout")
	var logs logBuf
	m := manager(t, dir, 0, &logs)
	a, err := m.Algorithm(context.Background(), "Stdout")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Run(context.Background(), fakeHost{}, &plugins.RunRequest{Plan: &potv1.QuantizationPlan{}}); err != nil {
		t.Fatal(err)
	}
	// The line travels from the plugin's stdout pipe over go-plugin's
	// stdio stream while Run returns: wait for it before stopping the
	// plugin, which would end the stream.
	want := []string{"[WARN]  pot.pot-algorithm-Stdout: plugin wrote to stdout", "this line must not reach the handshake"}
	for deadline := time.Now().Add(10 * time.Second); len(contains(logs.String(), want...)) > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	m.Close()
	if miss := contains(logs.String(), want...); len(miss) > 0 {
		t.Errorf("log lacks %q:\n%s", miss, logs.String())
	}
}
