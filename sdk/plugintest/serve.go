package plugintest

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/sdk"
	"github.com/potgo/pot/sdk/internal/serveopt"
)

// Conn is a plugin the kit talks to over go-plugin.
type Conn struct {
	// Target or Algorithm is set, by the plugin's kind.
	Target    sdk.Target
	Algorithm sdk.Algorithm
	// Path of the binary; empty in-process.
	Path   string
	client *plugin.Client
}

// Exited reports whether an out-of-process plugin has ended.
func (c *Conn) Exited() bool { return c.client != nil && c.client.Exited() }

// ServeTarget serves impl in-process through go-plugin's test mode (the
// SDK's own serve path: gRPC, chunking, message limits, panic recovery)
// and returns a client of it. It stops at the end of the test.
func ServeTarget(t testing.TB, impl sdk.Target) sdk.Target {
	raw := serveInProcess(t, plugins.KindTarget, func(opt sdk.ServeOption) { sdk.ServeTarget(impl, opt) })
	return raw.(sdk.Target)
}

// ServeAlgorithm serves impl in-process like ServeTarget.
func ServeAlgorithm(t testing.TB, impl sdk.Algorithm) sdk.Algorithm {
	raw := serveInProcess(t, plugins.KindAlgorithm, func(opt sdk.ServeOption) { sdk.ServeAlgorithm(impl, opt) })
	return raw.(sdk.Algorithm)
}

func serveInProcess(t testing.TB, kind string, serve func(sdk.ServeOption)) any {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	reattach := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	go serve(serveopt.InProcess(&plugin.ServeTestConfig{Context: ctx, ReattachConfigCh: reattach, CloseCh: closed}))
	var rc *plugin.ReattachConfig
	select {
	case rc = <-reattach:
	case <-closed:
		cancel()
		t.Fatalf("plugintest: the %s plugin stopped serving at once", kind)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("plugintest: the %s plugin did not start serving", kind)
	}
	hs := plugins.Handshake
	hs.ProtocolVersion = plugins.ProtocolVersion
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  hs,
		Plugins:          pluginSet(kind), // a reattached client dispenses from Plugins
		Reattach:         rc,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           testLogger(t),
	})
	rpc, err := client.Client()
	if err != nil {
		cancel()
		t.Fatalf("plugintest: connect to the in-process %s plugin: %v", kind, err)
	}
	raw, err := rpc.Dispense(kind)
	if err != nil {
		cancel()
		t.Fatalf("plugintest: dispense the %s plugin: %v", kind, err)
	}
	t.Cleanup(func() {
		// Close asks the server to shut down (go-plugin's Shutdown call
		// stops the gRPC server), after which serving ends by itself.
		// Cancelling the serve context at the same time would make
		// go-plugin stop the server a second time, concurrently with the
		// first (a data race inside go-plugin's GRPCServer.Stop): cancel
		// only if serving does not end.
		rpc.Close()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			cancel()
			<-closed
		}
		cancel()
	})
	return raw
}

// StartTarget starts a target plugin binary as pot does and returns the
// connection. The plugin is stopped at the end of the test.
func StartTarget(t testing.TB, path string) *Conn {
	t.Helper()
	c := start(t, plugins.KindTarget, path)
	c.Target = c.raw.(sdk.Target)
	return &c.Conn
}

// StartAlgorithm starts an algorithm plugin binary like StartTarget.
func StartAlgorithm(t testing.TB, path string) *Conn {
	t.Helper()
	c := start(t, plugins.KindAlgorithm, path)
	c.Algorithm = c.raw.(sdk.Algorithm)
	return &c.Conn
}

type started struct {
	Conn
	raw any
}

func start(t testing.TB, kind, path string) *started {
	t.Helper()
	cmd := exec.Command(path)
	cmd.Env = append(os.Environ(), sdk.LogLevelEnv+"=debug")
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  plugins.Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{plugins.ProtocolVersion: pluginSet(kind)},
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           testLogger(t),
		StartTimeout:     time.Minute,
	})
	t.Cleanup(client.Kill)
	rpc, err := client.Client()
	if err != nil {
		t.Fatalf("plugintest: start %s: %v", path, err)
	}
	raw, err := rpc.Dispense(kind)
	if err != nil {
		t.Fatalf("plugintest: dispense %s: %v", path, err)
	}
	return &started{Conn: Conn{Path: path, client: client}, raw: raw}
}

func pluginSet(kind string) plugin.PluginSet {
	if kind == plugins.KindTarget {
		return plugin.PluginSet{kind: &plugins.TargetPlugin{}}
	}
	return plugin.PluginSet{kind: &plugins.AlgorithmPlugin{}}
}

// Build builds the main package pkg (a path such as "." or
// "./cmd/pot-target-mine", relative to the test's folder) into a
// temporary folder and returns the binary's path. The binary is named
// like the package's folder, which should follow pot's naming
// convention (pot-target-NAME, pot-algorithm-NAME); name overrides it.
func Build(t testing.TB, pkg string, name ...string) string {
	t.Helper()
	abs, err := filepath.Abs(pkg)
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Base(abs)
	if len(name) > 0 {
		base = name[0]
	}
	out := filepath.Join(t.TempDir(), base)
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = abs
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("plugintest: go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// nameOf returns NAME of a binary named pot-KIND-NAME, or "".
func nameOf(kind, path string) string {
	base := strings.TrimSuffix(filepath.Base(path), ".exe")
	if n, ok := strings.CutPrefix(base, plugins.Prefix(kind)); ok {
		return n
	}
	return ""
}

// testLogger logs go-plugin's and the plugin's lines into the test log
// (until the test ends).
func testLogger(t testing.TB) hclog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(w.stop)
	return hclog.New(&hclog.LoggerOptions{Name: "plugintest", Level: hclog.Debug, Output: w})
}

type testWriter struct {
	mu      sync.Mutex
	t       testing.TB
	stopped bool
}

func (w *testWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.t.Log(strings.TrimRight(string(b), "\n"))
	}
	return len(b), nil
}

func (w *testWriter) stop() {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
}

var _ io.Writer = (*testWriter)(nil)
