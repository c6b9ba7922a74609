package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/potgo/pot/internal/testenv"
)

// server is a `pot target serve` process.
type server struct {
	cmd  *exec.Cmd
	addr string
	log  *lockedLog
}

// lockedLog is a server's stderr, written by one goroutine and read by
// the test.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) WriteString(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(s)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var servingLine = regexp.MustCompile(`serving target "[^"]+" on (\S+) `)

// startServer starts `pot target serve cpu` on ip (a free port) with the
// certificates in dir and waits until it listens.
func startServer(t *testing.T, ip, dir string) *server {
	t.Helper()
	cmd := exec.Command(filepath.Join(pluginDir, "pot"), "target", "serve", "cpu", "--listen", ip+":0",
		"--tls-cert", filepath.Join(dir, "server.pem"), "--tls-key", filepath.Join(dir, "server-key.pem"),
		"--client-ca", filepath.Join(dir, "ca.pem"), "--log-level", "info", "--threads", "1")
	cmd.Env = append(os.Environ(), "POT_PLUGIN_PATH="+pluginDir, "POT_PLUGIN_LOCK=", "XDG_CONFIG_HOME="+t.TempDir())
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, log: &lockedLog{}}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			s.log.WriteString(line + "\n")
			if m := servingLine.FindStringSubmatch(line); m != nil {
				addr <- m[1]
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	select {
	case s.addr = <-addr:
	case <-time.After(20 * time.Second):
		t.Fatalf("pot target serve on %s did not start: %s", ip, s.log)
	}
	return s
}

// certs makes a CA, a server certificate for the loopback addresses and
// a host certificate with `pot certs`.
func certs(t *testing.T, client string) string {
	t.Helper()
	dir := t.TempDir()
	_, stderr, code := pot(t, "certs", "--dir", dir, "--server-host", "127.0.0.2", "--server-host", "127.0.0.3",
		"--server-host", "127.0.0.4", "--client", client)
	if code != 0 {
		t.Fatalf("pot certs: %s", stderr)
	}
	return dir
}

// remoteRun is an accuracy-aware quantization of LeNet with evaluation:
// local, or spread over remotes.
func remoteRun(t *testing.T, out string, extra ...string) (quantizeResult, string, int) {
	t.Helper()
	args := append([]string{"quantize", "-q", "accuracy_aware", "--model", testenv.Example("models", "lenet_mnist.onnx"),
		"--data", testenv.Example("data", "mnist-calib.json"), "--eval-data", testenv.Example("data", "mnist-test.json"),
		"--target", "cpu", "--subset", "300", "--max-drop", "0.00005", "-o", out, "--json", "--log-level", "info"}, extra...)
	stdout, stderr, code := pot(t, args...)
	var res quantizeResult
	if code == 0 {
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
		}
	}
	return res, stderr, code
}

func tlsFlags(dir, client string) []string {
	return []string{"--tls-ca", filepath.Join(dir, "ca.pem"), "--tls-cert", filepath.Join(dir, client+".pem"),
		"--tls-key", filepath.Join(dir, client+"-key.pem")}
}

// TestRemoteTargets: three served targets on 127.0.0.2-4 with mutual
// TLS; a quantization with evaluation and an accuracy-aware search
// spread over them writes the same bytes and measures the same metric as
// a local run; one server killed mid-run leaves a run that still
// succeeds; a host with a certificate of another CA is refused.
func TestRemoteTargets(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three target servers")
	}
	dir := certs(t, "laptop")
	var servers []*server
	for _, ip := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"} {
		servers = append(servers, startServer(t, ip, dir))
	}
	remotes := func(ss ...*server) []string {
		var args []string
		for _, s := range ss {
			args = append(args, "--remote-target", s.addr)
		}
		return append(args, tlsFlags(dir, "laptop")...)
	}
	tmp := t.TempDir()
	local, stderr, code := remoteRun(t, filepath.Join(tmp, "local.onnx"))
	if code != 0 {
		t.Fatalf("local run: exit %d: %s", code, stderr)
	}

	t.Run("spread", func(t *testing.T) {
		res, stderr, code := remoteRun(t, filepath.Join(tmp, "remote.onnx"), remotes(servers...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if !regexp.MustCompile(`work spreads over target processes: local=\d+ remote=3`).MatchString(stderr) {
			t.Errorf("the log does not say the work spread over three remotes:\n%s", stderr)
		}
		sameRun(t, local, res, filepath.Join(tmp, "local.onnx"), filepath.Join(tmp, "remote.onnx"))
		for _, s := range servers {
			waitLog(t, s, "session closed")
		}
	})

	t.Run("server killed mid-run", func(t *testing.T) {
		victim := servers[1]
		go func() {
			// Kill it once it has served this run a while.
			deadline := time.Now().Add(30 * time.Second)
			for time.Now().Before(deadline) && strings.Count(victim.log.String(), "session opened") < 2 {
				time.Sleep(20 * time.Millisecond)
			}
			time.Sleep(1500 * time.Millisecond)
			victim.cmd.Process.Kill()
		}()
		res, stderr, code := remoteRun(t, filepath.Join(tmp, "killed.onnx"), remotes(servers...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if !strings.Contains(stderr, victim.addr) || !strings.Contains(stderr, "lost") {
			t.Errorf("the log does not name the lost server %s:\n%s", victim.addr, stderr)
		}
		sameRun(t, local, res, filepath.Join(tmp, "local.onnx"), filepath.Join(tmp, "killed.onnx"))
	})

	t.Run("bad certificates", func(t *testing.T) {
		other := certs(t, "stranger")
		_, stderr, code := remoteRun(t, filepath.Join(tmp, "refused.onnx"),
			append([]string{"--remote-target", servers[0].addr, "--tls-ca", filepath.Join(dir, "ca.pem")},
				"--tls-cert", filepath.Join(other, "stranger.pem"), "--tls-key", filepath.Join(other, "stranger-key.pem"))...)
		want := "pot: remote target " + servers[0].addr + ": the server refused this host's certificate"
		if code != 1 || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and %q", code, stderr, want)
		}
		if _, err := os.Stat(filepath.Join(tmp, "refused.onnx")); err == nil {
			t.Error("a refused run wrote its output")
		}
		waitLog(t, servers[0], "refused a connection: TLS handshake failed")
	})
}

// sameRun checks that a run gave the local run's result and bytes.
func sameRun(t *testing.T, local, got quantizeResult, localFile, gotFile string) {
	t.Helper()
	a, _ := os.ReadFile(localFile)
	b, err := os.ReadFile(gotFile)
	if err != nil || !bytes.Equal(a, b) {
		t.Errorf("%s differs from the local run's model (%v)", gotFile, err)
	}
	if got.Metric == nil || local.Metric == nil || *got.Metric != *local.Metric {
		t.Errorf("metric %+v, local run's %+v", got.Metric, local.Metric)
	}
	if strings.Join(got.Reverted, ",") != strings.Join(local.Reverted, ",") {
		t.Errorf("reverted %v, local run reverted %v", got.Reverted, local.Reverted)
	}
}

func waitLog(t *testing.T, s *server, text string) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if strings.Contains(s.log.String(), text) {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Errorf("server %s never logged %q:\n%s", s.addr, text, s.log)
}

// TestServeFlags: a server that would serve plaintext off loopback, or
// TLS without its files, or an unknown target, is refused in one line
// before it listens.
func TestServeFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"cpu", "--listen", "0.0.0.0:0", "--insecure"}, "--insecure serves plaintext, which is allowed only on a loopback address"},
		{[]string{"cpu", "--listen", "127.0.0.2:0"}, "mutual TLS needs --tls-cert, --tls-key and --client-ca"},
		{[]string{"cpu"}, "target serve needs --listen HOST:PORT"},
		{[]string{"nosuch", "--listen", "127.0.0.2:0", "--insecure"}, `target plugin "nosuch" not found`},
	} {
		_, stderr, code := pot(t, append([]string{"target", "serve"}, tc.args...)...)
		if code != 1 || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("pot target serve %v: exit %d, stderr %q; want exit 1 and one line with %q", tc.args, code, stderr, tc.want)
		}
	}
}
