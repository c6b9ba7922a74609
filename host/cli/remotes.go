package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"sync"

	"github.com/spf13/pflag"

	"github.com/potgo/pot/host/config"
	"github.com/potgo/pot/host/remote"
)

// remoteFlags say how the host reaches served targets.
type remoteFlags struct {
	endpoints []string
	ca        string
	cert, key string
	insecure  bool
}

// add registers the flags; endpoints only where remote targets do work.
func (f *remoteFlags) add(fs *pflag.FlagSet, endpoints bool) {
	if endpoints {
		fs.StringArrayVar(&f.endpoints, "remote-target", nil, "a target served by `pot target serve` at HOST:PORT, used beside the local target processes (repeatable; also engine.remote_targets)")
	}
	fs.StringVar(&f.ca, "tls-ca", "", "CA certificate (PEM) that signs the target servers' certificates")
	fs.StringVar(&f.cert, "tls-cert", "", "this host's certificate (PEM), signed by the servers' --client-ca")
	fs.StringVar(&f.key, "tls-key", "", "this host's private key (PEM)")
	fs.BoolVar(&f.insecure, "tls-insecure", false, "connect to target servers in plaintext (servers on a loopback address started with --insecure)")
}

// given reports whether any TLS flag is set.
func (f *remoteFlags) given() bool { return f.ca != "" || f.cert != "" || f.key != "" || f.insecure }

// tls is the flags' TLS settings as a configuration's.
func (f *remoteFlags) tls() config.RemoteTLS {
	return config.RemoteTLS{CA: f.ca, Cert: f.cert, Key: f.key, Insecure: f.insecure}
}

// clientTLS is the host's TLS configuration, nil when insecure.
func clientTLS(t config.RemoteTLS) (*tls.Config, error) {
	if t.Insecure {
		if t.CA != "" || t.Cert != "" {
			return nil, fmt.Errorf("--tls-insecure and --tls-ca/--tls-cert exclude each other")
		}
		return nil, nil
	}
	return remote.ClientTLS(t.CA, t.Cert, t.Key)
}

// dial opens a session on a served target with the host's thread budget
// and target options.
func (g *globals) dial(ctx context.Context, f *remoteFlags, endpoint string) (*remote.Target, error) {
	return g.dialTLS(ctx, f.tls(), endpoint)
}

func (g *globals) dialTLS(ctx context.Context, t config.RemoteTLS, endpoint string) (*remote.Target, error) {
	conf, err := clientTLS(t)
	if err != nil {
		return nil, err
	}
	opts, err := g.targetOptions()
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	return remote.Dial(ctx, endpoint, remote.DialOptions{TLS: conf, Threads: g.threads, TargetOptions: opts,
		Client: host + " (pot " + Version + ")", CallTimeout: g.pluginTimeout})
}

// dialAll opens a session on every endpoint, in parallel. A server that
// cannot be reached (down, partitioned) is left out with a warning; one
// that refuses this host (certificates, protocol version, full) fails
// the run. Every session opened is closed by the returned function.
func (g *globals) dialAll(ctx context.Context, t config.RemoteTLS, endpoints []string) ([]*remote.Target, func(), error) {
	out := make([]*remote.Target, len(endpoints))
	errs := make([]error, len(endpoints))
	var wg sync.WaitGroup
	for i, e := range endpoints {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = g.dialTLS(ctx, t, e)
		}()
	}
	wg.Wait()
	closeAll := func() {
		for _, r := range out {
			if r != nil {
				r.Close()
			}
		}
	}
	var kept []*remote.Target
	for i, err := range errs {
		switch {
		case err == nil:
			kept = append(kept, out[i])
		case remote.IsLost(err) && ctx.Err() == nil:
			g.logger().Warn("remote target unavailable; the run goes on without it", "error", err)
		default:
			closeAll()
			return nil, func() {}, err
		}
	}
	return kept, closeAll, nil
}
