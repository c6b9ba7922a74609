package pluginmgr_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/potgo/pot/internal/testenv"

	"github.com/hashicorp/go-hclog"

	"github.com/potgo/pot/host/pluginmgr"
	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/proto/potv1"
)

// built holds pot, the cpu target, the built-in algorithms and the faulty
// test plugin, built once for the package's tests.
var built string

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, &built, "./host/cmd/pot", "./targets/cmd/pot-target-cpu", "./algorithms/cmd/...", "./host/pluginmgr/testdata/faulty"))
}

// pluginDir makes a plugin folder holding the cpu target and the built-in
// algorithms plus the faulty plugin under each of the given names (as
// hard links: discovery lists a symlinked file once).
func pluginDir(t *testing.T, faulty ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"pot-target-cpu", "pot-algorithm-MinMaxQuantization", "pot-algorithm-DefaultQuantization"} {
		link(t, filepath.Join(built, name), filepath.Join(dir, name))
	}
	for _, name := range faulty {
		link(t, filepath.Join(built, "faulty"), filepath.Join(dir, name))
	}
	return dir
}

func link(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.Link(src, dst); err != nil {
		copyFile(t, src, dst)
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// manager returns a Manager over dir only, logging into buf.
func manager(t *testing.T, dir string, timeout time.Duration, buf *logBuf) *pluginmgr.Manager {
	t.Helper()
	var log hclog.Logger = hclog.NewNullLogger()
	if buf != nil {
		log = hclog.New(&hclog.LoggerOptions{Name: "pot", Level: hclog.Debug, Output: buf})
	}
	m, err := pluginmgr.New(pluginmgr.Options{Dirs: []string{dir}, Logger: log, Timeout: timeout,
		LockSearch: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// processes lists the live processes started from a file in dir (argv[0]
// under dir), zombies excluded.
func processes(dir string) []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !bytes.HasPrefix(cmd, []byte(dir+"/")) {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			continue
		}
		argv0, _, _ := bytes.Cut(cmd, []byte{0})
		out = append(out, fmt.Sprintf("%d %s", pid, filepath.Base(string(argv0))))
	}
	return out
}

// waitProcesses waits until the processes of dir satisfy ok, or fails.
func waitProcesses(t *testing.T, dir string, d time.Duration, what string, ok func([]string) bool) []string {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ps := processes(dir)
		if ok(ps) {
			return ps
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s; processes: %v", d, what, ps)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func noProcesses(ps []string) bool { return len(ps) == 0 }

// fakeHost answers an algorithm's progress and data questions and
// refuses the rest.
type fakeHost struct{}

var errFake = fmt.Errorf("the test host does not do that")

func (fakeHost) Graph(context.Context, string) (*potv1.Graph, error)     { return nil, errFake }
func (fakeHost) LoadModel(context.Context, *potv1.Graph) (string, error) { return "", errFake }
func (fakeHost) UnloadModel(context.Context, string) error               { return errFake }
func (fakeHost) Progress(context.Context, *potv1.ProgressRequest) error  { return nil }
func (fakeHost) DataInfo(context.Context) (*potv1.DataInfoResponse, error) {
	return &potv1.DataInfoResponse{}, nil
}
func (fakeHost) Infer(context.Context, *potv1.InferRequest) (*potv1.InferResponse, error) {
	return nil, errFake
}
func (fakeHost) CollectStatistics(context.Context, *potv1.StatisticsRequest) (*potv1.StatisticsResponse, error) {
	return nil, errFake
}
func (fakeHost) Evaluate(context.Context, *potv1.HostEvaluateRequest) (*potv1.HostEvaluateResponse, error) {
	return nil, errFake
}
func (fakeHost) RunAlgorithm(context.Context, *potv1.RunAlgorithmRequest) (*potv1.RunResponse, error) {
	return nil, errFake
}

func (fakeHost) SaveState(context.Context, string, []byte) error { return errFake }
func (fakeHost) LoadState(context.Context, string) ([]byte, bool, error) {
	return nil, false, nil
}

var _ plugins.Host = fakeHost{}

// logBuf collects log output from several goroutines.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func contains(s string, subs ...string) []string {
	var missing []string
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			missing = append(missing, sub)
		}
	}
	return missing
}
