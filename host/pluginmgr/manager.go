package pluginmgr

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/potgo/pot/plugins"
	"github.com/potgo/pot/sdk"
)

// Options configure a Manager.
type Options struct {
	// Dirs to search; nil means plugins.SearchPath().
	Dirs []string
	// Logger receives plugin logs, each under the plugin's name.
	Logger hclog.Logger
	// LockPath is the lock file; when it exists, every plugin must match
	// its recorded checksum. Empty means plugins.LockFileName in the
	// working directory.
	LockPath string
	// Timeout bounds every call to a plugin (for algorithms: the time
	// without any activity). 0 means no deadline.
	Timeout time.Duration
	// Threads is passed to target plugins (0 = all cores).
	Threads int
	// StartTimeout bounds a plugin's start; 0 means 30 s.
	StartTimeout time.Duration
}

// Manager finds and runs plugins.
type Manager struct {
	opts  Options
	bins  []plugins.Binary
	lock  *plugins.Lock
	mu    sync.Mutex
	procs []*Process
}

// New discovers the plugins and reads the lock file.
func New(opts Options) (*Manager, error) {
	if opts.Dirs == nil {
		opts.Dirs = plugins.SearchPath()
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.LockPath == "" {
		opts.LockPath = plugins.LockFileName
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 30 * time.Second
	}
	bins, err := plugins.Discover(opts.Dirs)
	if err != nil {
		return nil, err
	}
	lock, err := plugins.ReadLock(opts.LockPath)
	if err != nil {
		return nil, err
	}
	return &Manager{opts: opts, bins: bins, lock: lock}, nil
}

// Binaries lists the plugins found.
func (m *Manager) Binaries() []plugins.Binary { return m.bins }

// Dirs lists the folders searched.
func (m *Manager) Dirs() []string { return m.opts.Dirs }

// Lock returns the lock in force, or nil.
func (m *Manager) Lock() *plugins.Lock { return m.lock }

// Find returns the binary of a plugin, or an error listing what exists.
func (m *Manager) Find(kind, name string) (plugins.Binary, error) {
	var have []string
	for _, b := range m.bins {
		if b.Kind == kind {
			if strings.EqualFold(b.Name, name) {
				return b, nil
			}
			have = append(have, b.Name)
		}
	}
	sort.Strings(have)
	list := "none"
	if len(have) > 0 {
		list = strings.Join(have, ", ")
	}
	return plugins.Binary{}, fmt.Errorf("%s plugin %q not found (no %s%s in %s); installed %s plugins: %s",
		kind, name, plugins.Prefix(kind), name, strings.Join(m.opts.Dirs, ":"), kind, list)
}

// Process is one running plugin.
type Process struct {
	Bin     plugins.Binary
	client  *plugin.Client
	logs    *ring
	timeout time.Duration
	mgr     *Manager
}

// Start launches a plugin and returns its dispensed interface.
func (m *Manager) start(ctx context.Context, kind, name string) (*Process, any, error) {
	bin, err := m.Find(kind, name)
	if err != nil {
		return nil, nil, err
	}
	var secure *plugin.SecureConfig
	if m.lock != nil {
		sum, err := m.lock.Checksum(kind, bin.Name)
		if err != nil {
			return nil, nil, err
		}
		secure = &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
	}
	cmd := exec.Command(bin.Path)
	cmd.Env = append(os.Environ(),
		sdk.LogLevelEnv+"="+m.opts.Logger.GetLevel().String(),
		fmt.Sprintf("%s=%d", sdk.ThreadsEnv, m.opts.Threads),
	)
	setParentDeathSignal(cmd)
	logs := newRing(40)
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  plugins.Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{plugins.ProtocolVersion: {kind: pluginFor(kind)}},
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           m.opts.Logger,
		Stderr:           logs,
		SecureConfig:     secure,
		StartTimeout:     m.opts.StartTimeout,
		GRPCDialOptions:  nil,
	})
	p := &Process{Bin: bin, client: client, logs: logs, timeout: m.opts.Timeout, mgr: m}
	m.mu.Lock()
	m.procs = append(m.procs, p)
	m.mu.Unlock()
	rpc, err := client.Client()
	if err != nil {
		client.Kill()
		return nil, nil, p.startError(err)
	}
	raw, err := rpc.Dispense(kind)
	if err != nil {
		client.Kill()
		return nil, nil, p.fail("start", err)
	}
	return p, raw, nil
}

func pluginFor(kind string) plugin.Plugin {
	if kind == plugins.KindTarget {
		return &plugins.TargetPlugin{}
	}
	return &plugins.AlgorithmPlugin{}
}

// Target starts a target plugin.
func (m *Manager) Target(ctx context.Context, name string) (*Target, error) {
	p, raw, err := m.start(ctx, plugins.KindTarget, name)
	if err != nil {
		return nil, err
	}
	return &Target{Process: p, t: raw.(plugins.Target)}, nil
}

// Algorithm starts an algorithm plugin.
func (m *Manager) Algorithm(ctx context.Context, name string) (*Algorithm, error) {
	p, raw, err := m.start(ctx, plugins.KindAlgorithm, name)
	if err != nil {
		return nil, err
	}
	return &Algorithm{Process: p, a: raw.(plugins.Algorithm)}, nil
}

// Close stops every plugin the manager started.
func (m *Manager) Close() {
	m.mu.Lock()
	procs := m.procs
	m.procs = nil
	m.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Add(1)
		go func() { defer wg.Done(); p.client.Kill() }()
	}
	wg.Wait()
}

// Kill stops this plugin.
func (p *Process) Kill() { p.client.Kill() }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool { return p.client.Exited() }

// Error is a failure of a plugin: it died, hung, refused to start, or
// returned an error.
type Error struct {
	Kind, Name, Path string
	Call             string
	Err              error
	// Exited is true when the plugin process ended.
	Exited bool
	// Logs are the plugin's last log lines.
	Logs []string
}

func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.Exited:
		fmt.Fprintf(&b, "%s plugin %q (%s) died during %s: %v", e.Kind, e.Name, e.Path, e.Call, e.Err)
	default:
		fmt.Fprintf(&b, "%s plugin %q: %s: %v", e.Kind, e.Name, e.Call, e.Err)
	}
	if e.Exited && len(e.Logs) > 0 {
		b.WriteString("; its last log lines:")
		for _, l := range e.Logs {
			b.WriteString("\n    ")
			b.WriteString(l)
		}
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// ErrTimeout is wrapped by errors of calls that ran past --plugin-timeout.
var ErrTimeout = errors.New("no answer within the plugin timeout")

func (p *Process) fail(call string, err error) error {
	if err == nil {
		return nil
	}
	var pe *Error
	if errors.As(err, &pe) {
		return err
	}
	e := &Error{Kind: p.Bin.Kind, Name: p.Bin.Name, Path: p.Bin.Path, Call: call, Err: cleanRPCError(err)}
	if errors.Is(err, plugins.ErrPluginExited) || p.client.Exited() {
		// Give the log reader a moment to drain the dying plugin's stderr.
		time.Sleep(50 * time.Millisecond)
		e.Exited = true
	}
	e.Logs = p.logs.Lines()
	return e
}

func (p *Process) startError(err error) error {
	switch {
	case errors.Is(err, plugin.ErrChecksumsDoNotMatch):
		return fmt.Errorf("%s plugin %q (%s) does not match its checksum in the lock file %s: the binary changed since `pot plugins lock`; refusing to run it",
			p.Bin.Kind, p.Bin.Name, p.Bin.Path, p.mgr.opts.LockPath)
	case strings.Contains(err.Error(), "incompatible API version"):
		return fmt.Errorf("%s plugin %q (%s) speaks another protocol version: %v; this pot speaks protocol version %d",
			p.Bin.Kind, p.Bin.Name, p.Bin.Path, err, plugins.ProtocolVersion)
	}
	return p.fail("start", err)
}

// cleanRPCError shortens gRPC status errors to their message.
func cleanRPCError(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, "rpc error: code = "); i >= 0 {
		rest := msg[i:]
		if j := strings.Index(rest, " desc = "); j >= 0 {
			return &rpcError{msg: msg[:i] + rest[j+len(" desc = "):], err: err}
		}
	}
	return err
}

type rpcError struct {
	msg string
	err error
}

func (e *rpcError) Error() string { return e.msg }
func (e *rpcError) Unwrap() error { return e.err }

// withTimeout gives a call the plugin deadline.
func (p *Process) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if p.timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, p.timeout)
}

// done maps the error of a call: a deadline becomes ErrTimeout and stops
// the plugin (it may be hung).
func (p *Process) done(ctx context.Context, call string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		p.client.Kill()
		return &Error{Kind: p.Bin.Kind, Name: p.Bin.Name, Path: p.Bin.Path, Call: call,
			Err: fmt.Errorf("%w (%s); the plugin was stopped", ErrTimeout, p.timeout), Logs: p.logs.Lines()}
	}
	return p.fail(call, err)
}
