package cli

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/potgo/pot/internal/bigmodel"
	"github.com/potgo/pot/proto/onnxpb"
	"github.com/potgo/pot/sdk/onnx"
)

// TestBigModel quantizes a model of 2.5 GiB of float32 weights in
// external data (issue 16) and measures the peak memory of pot and of
// its plugin processes. It is out of `make test`: run it with
// `make bigmodel` (POT_BIGMODEL=DIR keeps the generated model in DIR
// between runs; it needs about 4 GiB of disk).
func TestBigModel(t *testing.T) {
	dir := os.Getenv("POT_BIGMODEL")
	if dir == "" {
		t.Skip("set POT_BIGMODEL=DIR (or run make bigmodel) to quantize a 2.5 GiB model")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	spec := bigmodel.Default
	model, calib := filepath.Join(dir, "model.onnx"), filepath.Join(dir, "calib.npy")
	var weights int64
	if fi, err := os.Stat(model + ".data"); err == nil {
		weights = fi.Size()
	} else {
		start := time.Now()
		f, err := bigmodel.Write(dir, spec)
		if err != nil {
			t.Fatal(err)
		}
		weights = f.WeightBytes
		t.Logf("generated %s: %d bytes of weights in %.1f s", model, weights, time.Since(start).Seconds())
	}
	out := filepath.Join(dir, "out.onnx")
	os.Remove(out)
	os.Remove(out + ".data")
	cmd := exec.Command(filepath.Join(pluginDir, "pot"), "quantize", "-m", model, "--data", calib, "-o", out)
	cmd.Env = append(os.Environ(), "POT_PLUGIN_PATH="+pluginDir, "XDG_DATA_HOME="+t.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	peaks := map[string]int64{} // program name -> peak resident bytes
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
poll:
	for {
		for pid, name := range processTree(cmd.Process.Pid) {
			if hwm := vmHWM(pid); hwm > peaks[name] {
				peaks[name] = hwm
			}
		}
		select {
		case err = <-done:
			break poll
		case <-time.After(100 * time.Millisecond):
		}
	}
	wall := time.Since(start)
	if err != nil {
		t.Fatalf("pot quantize: %v\n%s", err, stderr.String())
	}
	mib := func(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
	t.Logf("weights %s, wall %.1f s", mib(weights), wall.Seconds())
	for name, p := range peaks {
		t.Logf("peak RSS %-28s %s (%.2f × weights)", name, mib(p), float64(p)/float64(weights))
	}
	host, target := peaks["pot"], peaks["pot-target-cpu"]
	if host == 0 || target == 0 {
		t.Fatalf("no memory figures for pot and its target: %v", peaks)
	}
	for _, p := range []string{out, out + ".data"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("output: %v", err)
		}
		t.Logf("output %s: %s", filepath.Base(p), mib(fi.Size()))
	}
	if fi, _ := os.Stat(out); fi.Size() > 1<<20 {
		t.Errorf("%s is %d bytes: the weights should be in %s.data", out, fi.Size(), out)
	}
	m, err := onnx.ReadFile(out)
	if err != nil {
		t.Fatalf("output does not load: %v", err)
	}
	int8s := 0
	for _, in := range m.GetGraph().GetInitializer() {
		if in.GetDataType() == int32(onnxpb.TensorProto_INT8) && len(in.GetDims()) == 2 {
			int8s++
		}
	}
	if int8s != spec.Layers {
		t.Errorf("output holds %d int8 weight matrices, want %d", int8s, spec.Layers)
	}
	if host+target > 2*weights {
		t.Errorf("pot %s + target %s = %s: over twice the weights (%s)", mib(host), mib(target), mib(host+target), mib(2*weights))
	}
}

// processTree returns pid and its descendants, with their program names.
func processTree(root int) map[int]string {
	children := map[int][]int{}
	names := map[int]string{}
	es, _ := os.ReadDir("/proc")
	for _, e := range es {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(b)
		i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if i < 0 || j < i {
			continue
		}
		f := strings.Fields(s[j+1:])
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		children[ppid] = append(children[ppid], pid)
		names[pid] = s[i+1 : j]
		if exe, err := os.Readlink("/proc/" + e.Name() + "/exe"); err == nil {
			names[pid] = filepath.Base(exe) // comm is cut at 15 characters
		}
	}
	tree := map[int]string{}
	var walk func(int)
	walk = func(p int) {
		tree[p] = names[p]
		for _, c := range children[p] {
			walk(c)
		}
	}
	walk(root)
	return tree
}

// vmHWM is a process's peak resident set size in bytes (0 if unknown).
func vmHWM(pid int) int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
