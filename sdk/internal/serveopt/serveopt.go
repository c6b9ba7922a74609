package serveopt

import "github.com/hashicorp/go-plugin"

// Config is what the options set. Its fields are unexported, so that the
// SDK's API, which names Option, shows nothing of go-plugin.
type Config struct {
	test *plugin.ServeTestConfig
}

// Option configures serving a plugin.
type Option func(*Config)

// InProcess serves in go-plugin's test mode: in-process, returning when
// t's context ends (sdk/plugintest).
func InProcess(t *plugin.ServeTestConfig) Option {
	return func(c *Config) { c.test = t }
}

// Apply returns the configuration opts set.
func Apply(opts []Option) Config {
	var c Config
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// Test is the test-mode configuration of c; nil outside tests. A
// function rather than a method, so that Config's method set, which the
// SDK's API reaches, stays empty.
func Test(c Config) *plugin.ServeTestConfig { return c.test }
