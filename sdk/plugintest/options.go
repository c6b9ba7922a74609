package plugintest

import (
	"time"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
)

// Option configures a conformance run.
type Option func(*config)

type config struct {
	tolerance    float64
	timeout      time.Duration
	target       sdk.Target
	targetBinary string
	algorithms   map[string]sdk.Algorithm
	pluginDir    string
	params       string
	model        *potv1.Graph
	data         *sdk.Dataset
	name         string
}

func newConfig(opts []Option) *config {
	c := &config{tolerance: 5e-3, timeout: 2 * time.Minute, params: "{}"}
	for _, o := range opts {
		o(c)
	}
	return c
}

// WithTolerance sets how far a target's statistics and outputs may be
// from the float reference, relative to the largest magnitude of the
// tensor (default 5e-3, which float16 targets meet).
func WithTolerance(rel float64) Option { return func(c *config) { c.tolerance = rel } }

// WithTimeout bounds each call of the suite (default two minutes).
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithTarget gives the target an algorithm runs against: an
// implementation, served in-process.
func WithTarget(t sdk.Target) Option { return func(c *config) { c.target = t } }

// WithTargetBinary gives the target an algorithm runs against: a target
// plugin binary, started out of process.
func WithTargetBinary(path string) Option { return func(c *config) { c.targetBinary = path } }

// WithAlgorithms gives the algorithms that the one under test may run
// through Host.RunAlgorithm, by name (called in-process).
func WithAlgorithms(m map[string]sdk.Algorithm) Option {
	return func(c *config) { c.algorithms = m }
}

// WithPluginDir gives a folder of algorithm plugin binaries
// (pot-algorithm-NAME) that the one under test may run through
// Host.RunAlgorithm.
func WithPluginDir(dir string) Option { return func(c *config) { c.pluginDir = dir } }

// WithParams sets the parameters (a JSON object) an algorithm runs with;
// they must satisfy its schema.
func WithParams(json string) Option { return func(c *config) { c.params = json } }

// WithModel replaces the model and calibration data an algorithm runs on
// (by default CNNModel(64)).
func WithModel(g *potv1.Graph, d *sdk.Dataset) Option {
	return func(c *config) { c.model, c.data = g, d }
}

// WithName sets the name the plugin must describe itself with (for
// binaries, by default the NAME of pot-KIND-NAME).
func WithName(name string) Option { return func(c *config) { c.name = name } }
