package pluginmgr

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/potgo/pot/internal/plugins"
)

// Options configure a Manager.
type Options struct {
	// Dirs to search; nil means plugins.SearchPath().
	Dirs []string
	// Logger receives plugin logs, each under the plugin's name.
	Logger hclog.Logger
	// LockPath is a lock file the user named (--plugin-lock,
	// $POT_PLUGIN_LOCK): it must exist. Empty means the first existing
	// file of LockSearch, or no lock when none exists. While a lock is in
	// force, every plugin started must be listed in it with the checksum
	// of its binary.
	LockPath string
	// LockSearch lists where to look for a lock file when LockPath is
	// empty; nil means plugins.LockSearchPath().
	LockSearch []string
	// Timeout bounds every call to a plugin (for algorithms: the time
	// without any activity). 0 means no deadline.
	Timeout time.Duration
	// Threads is passed to target plugins (0 = all cores).
	Threads int
	// TargetOptions are passed to target plugins (sdk.TargetOptionsEnv),
	// such as the cpu target's "isa".
	TargetOptions map[string]string
	// StartTimeout bounds a plugin's start; 0 means 30 s.
	StartTimeout time.Duration
}

// Manager finds and runs plugins. When one of its plugins crashes or
// hangs, it stops all the others: a run cannot go on without it, and no
// process must be left behind.
type Manager struct {
	opts    Options
	bins    []plugins.Binary
	skipped []plugins.Skipped
	lock    *plugins.Lock
	mu      sync.Mutex
	procs   []*Process
	// failure is the first crash or hang; the plugins stopped because of
	// it report it instead of their own lost connection.
	failure error
}

// New discovers the plugins and reads the lock file. Files named like
// plugins that are not used (shadowed, not executable) are logged as
// warnings.
func New(opts Options) (*Manager, error) {
	if opts.Dirs == nil {
		opts.Dirs = plugins.SearchPath()
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 30 * time.Second
	}
	if opts.LockPath == "" {
		search := opts.LockSearch
		if search == nil {
			search = plugins.LockSearchPath()
		}
		path, err := plugins.FindLock(search)
		if err != nil {
			return nil, err
		}
		opts.LockPath = path
	}
	var lock *plugins.Lock
	if opts.LockPath != "" {
		var err error
		if lock, err = plugins.ReadLock(opts.LockPath); err != nil {
			return nil, err
		}
		opts.Logger.Debug("plugin lock file in force", "path", opts.LockPath, "plugins", len(lock.Plugins))
	}
	found := plugins.Discover(opts.Dirs)
	for _, s := range found.Skipped {
		if s.ShadowedBy != "" {
			opts.Logger.Warn("plugin shadowed by one earlier in the search path; it is not used", "path", s.Path, "used", s.ShadowedBy)
		} else {
			opts.Logger.Warn("plugin file cannot be run; it is not used", "path", s.Path, "problem", s.Problem)
		}
	}
	return &Manager{opts: opts, bins: found.Binaries, skipped: found.Skipped, lock: lock}, nil
}

// SetThreads changes the thread budget of the plugins started from now
// on (Options.Threads).
func (m *Manager) SetThreads(n int) {
	m.mu.Lock()
	m.opts.Threads = n
	m.mu.Unlock()
}

// Binaries lists the plugins found.
func (m *Manager) Binaries() []plugins.Binary { return m.bins }

// Skipped lists the files named like plugins that are not used: shadowed
// by another of the same name, or not runnable.
func (m *Manager) Skipped() []plugins.Skipped { return m.skipped }

// Dirs lists the folders searched.
func (m *Manager) Dirs() []string { return m.opts.Dirs }

// Lock returns the lock in force, or nil.
func (m *Manager) Lock() *plugins.Lock { return m.lock }

// LockPath is the lock file in force, or "".
func (m *Manager) LockPath() string { return m.opts.LockPath }

// Find returns the binary of a plugin, or an error saying what is wrong
// with a file of that name or listing what exists.
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
	for _, s := range m.skipped {
		if s.Kind == kind && strings.EqualFold(s.Name, name) {
			return plugins.Binary{}, fmt.Errorf("%s plugin %q cannot be run: %s", kind, name, s)
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

// Close stops every plugin the manager started and waits for them to
// end.
func (m *Manager) Close() {
	m.mu.Lock()
	procs := m.procs
	m.procs = nil
	m.mu.Unlock()
	killAll(procs)
}

// Failure returns the crash or hang that made the manager stop its
// plugins, or nil.
func (m *Manager) Failure() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.failure
}

// failed records the first crash or hang of a plugin and stops the
// other plugins.
func (m *Manager) failed(p *Process, err error) {
	m.mu.Lock()
	if m.failure == nil {
		m.failure = err
	}
	first := m.failure
	var others []*Process
	for _, q := range m.procs {
		if q != p && !q.Exited() {
			q.stoppedBy.CompareAndSwap(nil, &first)
			others = append(others, q)
		}
	}
	m.mu.Unlock()
	if len(others) > 0 {
		m.opts.Logger.Warn("stopping the other plugins", "because", p.Bin.Kind+" "+p.Bin.Name, "count", len(others))
	}
	killAll(others)
}

func (m *Manager) remove(p *Process) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, q := range m.procs {
		if q == p {
			m.procs = append(m.procs[:i], m.procs[i+1:]...)
			return
		}
	}
}

func killAll(procs []*Process) {
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Add(1)
		go func() { defer wg.Done(); p.client.Kill() }()
	}
	wg.Wait()
}
