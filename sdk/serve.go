package sdk

import (
	"os"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/potgo/pot/internal/hugepages"
	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/sdk/internal/serveopt"
)

// LogLevelEnv is the environment variable through which the host passes
// its log level to plugins.
const LogLevelEnv = "POT_LOG_LEVEL"

var logger = hclog.New(&hclog.LoggerOptions{
	Level:      logLevel(),
	Output:     os.Stderr,
	JSONFormat: true,
})

func logLevel() hclog.Level {
	if l := hclog.LevelFromString(os.Getenv(LogLevelEnv)); l != hclog.NoLevel {
		return l
	}
	return hclog.Info
}

// Logger is the plugin's logger. Its JSON lines on stderr reach the host,
// which shows them under the plugin's name. Never write to stdout in a
// plugin: stdout carries the go-plugin handshake.
func Logger() hclog.Logger { return logger }

// ServeOption configures ServeTarget and ServeAlgorithm. The SDK's own
// packages make them: sdk/plugintest serves a plugin in-process with one
// (its ServeTarget and ServeAlgorithm). A plugin's main passes none.
type ServeOption = serveopt.Option

// ServeTarget serves a target plugin; call it from main. It returns only
// in test mode.
func ServeTarget(impl Target, opts ...ServeOption) {
	serve(plugins.KindTarget, &plugins.TargetPlugin{Impl: impl}, opts)
}

// ServeAlgorithm serves an algorithm plugin; call it from main. It
// returns only in test mode.
func ServeAlgorithm(impl Algorithm, opts ...ServeOption) {
	serve(plugins.KindAlgorithm, &plugins.AlgorithmPlugin{Impl: impl}, opts)
}

func serve(kind string, p plugin.Plugin, opts []ServeOption) {
	test := serveopt.Test(serveopt.Apply(opts))
	if test == nil {
		go exitWithParent()
		if _, err := hugepages.Reserve(); err != nil {
			logger.Debug("no huge pages for the heap", "error", err)
		}
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  plugins.Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{plugins.ProtocolVersion: {kind: p}},
		GRPCServer:       plugins.NewServer,
		Logger:           logger,
		Test:             test,
	})
}

// hostPID is the parent process as the plugin starts, read as early as
// possible so that a host that dies during start-up is noticed too.
var hostPID = os.Getppid()

// exitWithParent ends the plugin when the host process is gone (the
// plugin is re-parented), so that no plugin outlives a killed host.
func exitWithParent() {
	parent := hostPID
	for range time.Tick(500 * time.Millisecond) {
		if os.Getppid() != parent {
			logger.Error("host process is gone; exiting", "host_pid", parent)
			os.Exit(3)
		}
	}
}

// ThreadsEnv is the environment variable through which the host passes
// the thread budget (--threads) to target plugins.
const ThreadsEnv = "POT_THREADS"

// Threads returns the thread budget the host set for this plugin, or 0
// (all cores).
func Threads() int {
	n, err := strconv.Atoi(os.Getenv(ThreadsEnv))
	if err != nil || n < 0 {
		return 0
	}
	return n
}
