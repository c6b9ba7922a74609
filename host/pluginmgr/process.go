package pluginmgr

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/sdk"
)

// Process is one running plugin.
type Process struct {
	Bin     plugins.Binary
	client  *plugin.Client
	logs    *ring
	timeout time.Duration
	mgr     *Manager
	// stoppedBy is set when the manager stopped this plugin because
	// another one failed.
	stoppedBy atomic.Pointer[error]
	// exit is how the process ended ("exit status 2"), once it has.
	exit atomic.Pointer[string]
}

// exitWatch is the logger go-plugin gets for one plugin: it passes
// everything on and notes how the process ended.
type exitWatch struct {
	hclog.Logger
	p *Process
}

func (w exitWatch) Error(msg string, args ...any) {
	if msg == "plugin process exited" {
		for i := 0; i+1 < len(args); i += 2 {
			if args[i] == "error" {
				s := fmt.Sprint(args[i+1])
				w.p.exit.Store(&s)
			}
		}
	}
	w.Logger.Error(msg, args...)
}

// start launches a plugin, checks its description and returns its
// dispensed interface. While a lock is in force, the binary is checked
// against it first.
func (m *Manager) start(ctx context.Context, kind, name string) (*Process, any, error) {
	bin, err := m.Find(kind, name)
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(bin.Path)
	var pin *pinned
	if m.lock != nil {
		if pin, err = m.verify(bin, cmd); err != nil {
			return nil, nil, err
		}
		defer pin.Close()
	}
	m.mu.Lock()
	threads := m.opts.Threads
	m.mu.Unlock()
	cmd.Env = append(os.Environ(),
		sdk.LogLevelEnv+"="+m.opts.Logger.GetLevel().String(),
		fmt.Sprintf("%s=%d", sdk.ThreadsEnv, threads),
	)
	if kind == plugins.KindTarget && len(m.opts.TargetOptions) > 0 {
		cmd.Env = append(cmd.Env, sdk.TargetOptionsEnv+"="+sdk.EncodeTargetOptions(m.opts.TargetOptions))
	}
	setParentDeathSignal(cmd)
	logs := newRing(40)
	named := m.opts.Logger.Named(filepath.Base(bin.Path))
	p := &Process{Bin: bin, logs: logs, timeout: m.opts.Timeout, mgr: m}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  plugins.Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{plugins.ProtocolVersion: {kind: pluginFor(kind)}},
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           exitWatch{Logger: m.opts.Logger, p: p},
		Stderr:           logs,
		SyncStdout:       &lineLogger{log: named, ring: logs, stdout: true},
		SyncStderr:       &lineLogger{log: named, ring: logs},
		StartTimeout:     m.opts.StartTimeout,
	})
	p.client = client
	m.mu.Lock()
	m.procs = append(m.procs, p)
	m.mu.Unlock()
	refuse := func(err error) (*Process, any, error) {
		client.Kill()
		m.remove(p)
		return nil, nil, err
	}
	rpc, err := client.Client()
	if err != nil {
		return refuse(p.startError(err))
	}
	if pin != nil {
		if err := pin.started(); err != nil {
			return refuse(err)
		}
	}
	raw, err := rpc.Dispense(kind)
	if err != nil {
		return refuse(p.fail(nil, "start", err))
	}
	if err := p.checkDescription(ctx, raw); err != nil {
		return refuse(err)
	}
	return p, raw, nil
}

// Kill stops this plugin and waits for it to end.
func (p *Process) Kill() {
	p.client.Kill()
	p.mgr.remove(p)
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool { return p.client.Exited() }

// Protocol is the protocol version negotiated with the plugin.
func (p *Process) Protocol() int { return p.client.NegotiatedVersion() }

// Error is a failure of a plugin: it died, hung, refused to start, or
// returned an error.
type Error struct {
	Kind, Name, Path string
	Call             string
	Err              error
	// Exited is true when the plugin process ended during the call.
	Exited bool
	// Hung is true when the call ran past the plugin timeout (the plugin
	// was then stopped).
	Hung bool
	// Logs are the plugin's last log lines.
	Logs []string
}

func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.Exited:
		fmt.Fprintf(&b, "%s plugin %q (%s) died during %s: %v", e.Kind, e.Name, e.Path, e.Call, e.Err)
	case e.Hung:
		fmt.Fprintf(&b, "%s plugin %q (%s) hung in %s: %v", e.Kind, e.Name, e.Path, e.Call, e.Err)
	default:
		if d, ok := e.Err.(*plugins.Error); ok && d.Name != "" {
			// The plugin that failed first (this one, or one it ran).
			b.WriteString(d.Error())
			break
		}
		fmt.Fprintf(&b, "%s plugin %q: %s: %v", e.Kind, e.Name, e.Call, e.Err)
	}
	if (e.Exited || e.Hung) && len(e.Logs) > 0 {
		b.WriteString("; its last log lines:")
		for _, l := range e.Logs {
			b.WriteString("\n    ")
			b.WriteString(l)
		}
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Node is the graph node the failure is about, when the plugin said
// (plugins.Error.Node).
func (e *Error) Node() string {
	var d *plugins.Error
	if errors.As(e.Err, &d) {
		return d.Node
	}
	return ""
}

// ErrTimeout is wrapped by errors of calls that ran past --plugin-timeout.
var ErrTimeout = errors.New("no answer within the plugin timeout")

// fail turns the error of a call into an *Error naming the plugin. ctx
// is the call's context (nil at start).
func (p *Process) fail(ctx context.Context, call string, err error) error {
	if err == nil {
		return nil
	}
	var pe *Error
	if errors.As(err, &pe) {
		return err
	}
	if first := p.stoppedBy.Load(); first != nil {
		return *first
	}
	if ctx != nil && ctx.Err() != nil && errors.Is(context.Cause(ctx), context.Canceled) {
		// The caller gave up (Ctrl-C): not the plugin's fault.
		return fmt.Errorf("%s plugin %q: %s: %w", p.Bin.Kind, p.Bin.Name, call, context.Canceled)
	}
	if d, ok := err.(*plugins.Error); ok && d.Name == "" {
		// The plugin's own diagnostic: it names this plugin from now on,
		// also for a plugin the host passes it on to.
		own := *d
		own.Kind, own.Name, own.Call = p.Bin.Kind, p.Bin.Name, call
		err = &own
	}
	e := &Error{Kind: p.Bin.Kind, Name: p.Bin.Name, Path: p.Bin.Path, Call: call, Err: cleanRPCError(err)}
	if errors.Is(err, plugins.ErrPluginExited) || status.Code(err) == codes.Unavailable || p.client.Exited() {
		// The connection broke: wait for go-plugin to see the process end
		// (it drains the plugin's stderr first, so the logs are complete).
		if p.waitExit(3 * time.Second) {
			e.Exited = true
			how := e.Err.Error()
			if s := p.exit.Load(); s != nil {
				how = *s
			}
			e.Err = fmt.Errorf("%w (%s)", plugins.ErrPluginExited, how)
		}
	}
	e.Logs = p.logs.Lines()
	if e.Exited {
		p.mgr.failed(p, e)
	}
	return e
}

// waitExit waits up to d for the process to end.
func (p *Process) waitExit(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for !p.client.Exited() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// hung reports a call that ran past the timeout: the plugin is stopped,
// and so are the others.
func (p *Process) hung(call string) error {
	p.client.Kill()
	e := &Error{Kind: p.Bin.Kind, Name: p.Bin.Name, Path: p.Bin.Path, Call: call, Hung: true,
		Err: fmt.Errorf("%w (--plugin-timeout %s); the plugin was stopped", ErrTimeout, p.timeout), Logs: p.logs.Lines()}
	p.mgr.failed(p, e)
	return e
}

var versionRE = regexp.MustCompile(`Plugin version: (\d+)`)

func (p *Process) startError(err error) error {
	switch {
	case strings.Contains(err.Error(), "incompatible API version"):
		theirs := "another"
		if m := versionRE.FindStringSubmatch(err.Error()); m != nil {
			theirs = m[1]
		}
		return fmt.Errorf("%s plugin %q (%s) speaks protocol version %s, but this pot speaks protocol version %d; use a build of the plugin for protocol %d (pot.v%d)",
			p.Bin.Kind, p.Bin.Name, p.Bin.Path, theirs, plugins.ProtocolVersion, plugins.ProtocolVersion, plugins.ProtocolVersion)
	}
	e := &Error{Kind: p.Bin.Kind, Name: p.Bin.Name, Path: p.Bin.Path, Call: "start", Err: err, Logs: p.logs.Lines()}
	e.Exited = p.client.Exited()
	return e
}

// cleanRPCError removes gRPC's "rpc error: code = X desc = " from an
// error's text (the connection's errors, or an older plugin's).
func cleanRPCError(err error) error {
	if msg := plugins.CleanMessage(err.Error()); msg != err.Error() {
		return &rpcError{msg: msg, err: err}
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

// done maps the error of a call: a deadline stops the plugin (it may be
// hung) and becomes a timeout error.
func (p *Process) done(ctx context.Context, call string, err error) error {
	if err == nil {
		return nil
	}
	if timedOut(ctx) && p.stoppedBy.Load() == nil {
		return p.hung(call)
	}
	return p.fail(ctx, call, err)
}

// timedOut reports whether a call failed at its deadline. The plugin's
// gRPC server enforces the deadline too and may reset the stream a moment
// before the caller's own timer fires, so a call ending within a small
// margin of its deadline counts as timed out.
func timedOut(ctx context.Context) bool {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return true
	}
	deadline, ok := ctx.Deadline()
	return ok && time.Until(deadline) < 250*time.Millisecond
}
