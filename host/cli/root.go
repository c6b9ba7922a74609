package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"

	"github.com/potgo/pot/host/pluginmgr"
	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/sdk"
)

// Version of pot, set at build time with -ldflags.
var Version = "dev"

// globals are the flags every command shares.
type globals struct {
	logLevel      string
	pluginTimeout time.Duration
	pluginPath    string
	lockFile      string
	threads       int
	jsonOut       bool
	progressBar   bool
	targetOpts    []string
	isa           string
	stdout        io.Writer
	stderr        io.Writer
}

// Main runs the pot command line with os.Args and returns the exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
}

// Run runs the command line with args and returns the exit code. Errors
// are printed as one line on stderr.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	g := &globals{stdout: stdout, stderr: stderr}
	root := newRoot(g)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		fmt.Fprintln(stderr, "pot: interrupted; no output written")
		return 130
	}
	fmt.Fprintf(stderr, "pot: %s\n", oneLine(err.Error()))
	return 1
}

func newRoot(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "pot",
		Short: "Post-training quantization of ONNX and OpenVINO IR models for CPU, GPU, VPU and GNA targets",
		Long: `pot turns a float ONNX model (or OpenVINO IR) and a few hundred samples
into an int8 (or mixed-precision) QDQ ONNX model (or IR with FakeQuantize
layers) for a chosen device, following OpenVINO's Post-training
Optimization Tool. Algorithms and device targets are plugins,
each in its own process.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.logLevel, "log-level", "warn", "log level: trace, debug, info, warn, error (POT's CRITICAL, ERROR, WARNING, INFO, DEBUG too)")
	pf.DurationVar(&g.pluginTimeout, "plugin-timeout", 10*time.Minute, "deadline of each plugin call (for algorithms: of inactivity)")
	pf.StringVar(&g.pluginPath, "plugin-path", "", "extra plugin folders, colon-separated (also $POT_PLUGIN_PATH)")
	pf.StringVar(&g.lockFile, "plugin-lock", "", "plugin lock file, which must exist (also $"+plugins.LockEnv+"); without one, pot uses ./"+plugins.LockFileName+", else $XDG_CONFIG_HOME/pot/plugins.lock (~/.config/pot/plugins.lock), whichever exists first; while a lock is in force, only the plugins it lists, unchanged, run")
	pf.IntVar(&g.threads, "threads", 0, "threads per target process (0: all cores)")
	pf.BoolVar(&g.progressBar, "progress-bar", true, "progress bars with rate and time left on stderr when it is a terminal (=false: log lines at info level)")
	root.AddCommand(newQuantize(g), newEval(g), newAnalyze(g), newPlugins(g), newVersion(g))
	pf.StringArrayVar(&g.targetOpts, "target-opt", nil, "option for the target plugin, KEY=VALUE (repeatable), e.g. isa=avx2")
	pf.StringVar(&g.isa, "isa", "", "cpu target instruction model: vnni (exact int32 accumulation) or avx2 (int16 pair saturation of uncentred activations); default: the host CPU's (shorthand for --target-opt isa=...)")
	root.AddCommand(newBench(g), newConformance(g), newUpgrade(g), newConvert(g), newTarget(g), newCerts(g))
	return root
}

// logLevel maps POT's level names (CRITICAL, WARNING, ...) to hclog's.
func logLevel(s string) string {
	switch s = strings.ToLower(s); s {
	case "critical":
		return "error"
	case "warning":
		return "warn"
	}
	return s
}

// logger is the host's logger, on stderr, at --log-level.
func (g *globals) logger() hclog.Logger {
	level := hclog.LevelFromString(logLevel(g.logLevel))
	if level == hclog.NoLevel {
		level = hclog.Warn
	}
	return hclog.New(&hclog.LoggerOptions{Name: "pot", Level: level, Output: g.stderr})
}

func (g *globals) validate() error {
	if hclog.LevelFromString(logLevel(g.logLevel)) == hclog.NoLevel {
		return fmt.Errorf("--log-level %q is not one of trace, debug, info, warn, error (or POT's CRITICAL, ERROR, WARNING, INFO, DEBUG)", g.logLevel)
	}
	return nil
}

// lockPath is the lock file the user named (--plugin-lock, else
// $POT_PLUGIN_LOCK), or "".
func (g *globals) lockPath() string {
	if g.lockFile != "" {
		return g.lockFile
	}
	return os.Getenv(plugins.LockEnv)
}

// dirs are the plugin folders: --plugin-path, then the search path; nil
// means the search path alone.
func (g *globals) dirs() []string {
	var dirs []string
	if g.pluginPath != "" {
		for _, d := range strings.Split(g.pluginPath, ":") {
			if d != "" {
				dirs = append(dirs, d)
			}
		}
		dirs = append(dirs, defaultDirs()...)
	}
	return dirs
}

// manager discovers plugins and reads the lock file in force.
func (g *globals) manager() (*pluginmgr.Manager, error) {
	if err := g.validate(); err != nil {
		return nil, err
	}
	dirs := g.dirs()
	opts, err := g.targetOptions()
	if err != nil {
		return nil, err
	}
	return pluginmgr.New(pluginmgr.Options{
		Dirs:          dirs,
		Logger:        g.logger(),
		LockPath:      g.lockPath(),
		Timeout:       g.pluginTimeout,
		Threads:       g.threads,
		TargetOptions: opts,
	})
}

// targetOptions are the --target-opt items, with --isa as isa=VALUE.
func (g *globals) targetOptions() (map[string]string, error) {
	opts, err := sdk.ParseOptionList(g.targetOpts)
	if err != nil {
		return nil, err
	}
	if g.isa != "" {
		if g.isa != "vnni" && g.isa != "avx2" {
			return nil, fmt.Errorf("--isa %q: want vnni or avx2", g.isa)
		}
		if v, ok := opts["isa"]; ok && v != g.isa {
			return nil, fmt.Errorf("--isa %s and --target-opt isa=%s disagree", g.isa, v)
		}
		opts["isa"] = g.isa
	}
	return opts, nil
}

// printJSON writes v as one line of JSON.
func printJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

// oneLine keeps an error message on one line: line breaks (from quoted
// file content or a plugin's log) become "; ".
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	var parts []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}
