package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/potgo/pot/internal/testenv"
)

// aaArgs is an accuracy-aware search that must revert layers: LeNet with
// 2-bit weights on vpu, a budget of no drop at all, evaluated on the
// 1000 calibration images to stay quick.
func aaArgs(out string) []string {
	return []string{"quantize", "-q", "accuracy_aware", "-m", testenv.Example("models", "lenet_mnist.onnx"),
		"--data", testenv.Example("data", "mnist-calib.json"), "--eval-data", testenv.Example("data", "mnist-calib.json"),
		"--target", "vpu", "--weight-bits", "2", "--subset", "300", "--max-drop", "0", "--workers", "1",
		"-o", out, "--json"}
}

type aaResult struct {
	Reports struct {
		Resumed bool `json:"resumed"`
	} `json:"reports"`
	Reverted    []string        `json:"reverted"`
	Iterations  json.RawMessage `json:"iterations"`
	FinalDrop   *float64        `json:"final_drop"`
	DefaultDrop *float64        `json:"default_drop"`
}

func potCmd(t *testing.T, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(pluginDir, "pot"), args...)
	cmd.Env = append(os.Environ(), "POT_PLUGIN_PATH="+pluginDir, "POT_PLUGIN_LOCK=", "XDG_DATA_HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir())
	return cmd
}

// TestResumeAfterKill kills an accuracy-aware search mid-way (SIGKILL,
// as a crash or an out-of-memory kill would) and resumes it: the result
// is the uninterrupted run's.
func TestResumeAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: runs three accuracy-aware searches")
	}
	dir := t.TempDir()
	// The uninterrupted run.
	ref := filepath.Join(dir, "ref.onnx")
	out, err := potCmd(t, aaArgs(ref)...).Output()
	if err != nil {
		t.Fatalf("uninterrupted run: %v", err)
	}
	var want aaResult
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(want.Reverted) < 2 {
		t.Fatalf("the search reverted %v: the test needs a case with several iterations", want.Reverted)
	}
	// Kill a run after its first iteration is checkpointed.
	got := filepath.Join(dir, "got.onnx")
	cmd := potCmd(t, aaArgs(got)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	checkpoint := got + ".AccuracyAwareQuantization.json"
	deadline := time.Now().Add(3 * time.Minute)
	for {
		var st struct {
			Iteration int `json:"iteration"`
		}
		if b, err := os.ReadFile(checkpoint); err == nil && json.Unmarshal(b, &st) == nil && st.Iteration >= 1 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no checkpoint with an iteration appeared")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if _, err := os.Stat(got); !os.IsNotExist(err) {
		t.Fatalf("the killed run left an output file (%v)", err)
	}
	// Resume.
	out, err = potCmd(t, append(aaArgs(got), "--resume")...).Output()
	if err != nil {
		t.Fatalf("resumed run: %v", err)
	}
	var res aaResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !res.Reports.Resumed {
		t.Error("the second run did not resume from the checkpoint")
	}
	if fmt.Sprint(res.Reverted) != fmt.Sprint(want.Reverted) || *res.FinalDrop != *want.FinalDrop ||
		string(res.Iterations) != string(want.Iterations) {
		t.Errorf("resumed run:\n %+v\nuninterrupted:\n %+v", res, want)
	}
	if _, err := os.Stat(checkpoint); !os.IsNotExist(err) {
		t.Errorf("the finished run kept its checkpoint (%v)", err)
	}
}
