package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"

	"github.com/spf13/pflag"

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

// tlsConfig is the host's TLS configuration, nil with --tls-insecure.
func (f *remoteFlags) tlsConfig() (*tls.Config, error) {
	if f.insecure {
		if f.ca != "" || f.cert != "" {
			return nil, fmt.Errorf("--tls-insecure and --tls-ca/--tls-cert exclude each other")
		}
		return nil, nil
	}
	return remote.ClientTLS(f.ca, f.cert, f.key)
}

// dial opens a session on a served target with the host's thread budget
// and target options.
func (g *globals) dial(ctx context.Context, f *remoteFlags, endpoint string) (*remote.Target, error) {
	conf, err := f.tlsConfig()
	if err != nil {
		return nil, err
	}
	opts, err := g.targetOptions()
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	return remote.Dial(ctx, endpoint, remote.DialOptions{TLS: conf, Threads: g.threads, TargetOptions: opts, Client: host + " (pot " + Version + ")"})
}
