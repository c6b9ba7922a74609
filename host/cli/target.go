package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/potgo/pot/host/pluginmgr"
	"github.com/potgo/pot/host/remote"
	"github.com/potgo/pot/internal/plugins"
)

// serveFlags are the flags of `pot target serve`.
type serveFlags struct {
	listen      string
	cert, key   string
	clientCA    string
	insecure    bool
	maxSessions int
	idle        time.Duration
	grace       time.Duration
}

func newTarget(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "target", Short: "Serve a target plugin to other machines"}
	f := &serveFlags{}
	serve := &cobra.Command{
		Use:   "serve NAME --listen HOST:PORT",
		Short: "Run target plugin NAME as a network service (mutual TLS) for hosts' --remote-target",
		Long: `Run target plugin NAME as a long-lived network service. Hosts connect with
--remote-target HOST:PORT; each host's session gets a target process of its
own (no model, data or state is shared between sessions), at most
--max-sessions at once. Connections use mutual TLS: the server shows
--tls-cert and accepts only hosts whose certificate --client-ca signed
(pot certs makes them). Plaintext needs --insecure and a loopback address.
SIGTERM or SIGINT stop the server: calls in flight finish (for --grace),
then the sessions' targets stop. See docs/remote.md.`,
		Example: `  pot certs --dir certs --server-host lab-npu-1.example.com
  pot target serve cpu --listen 0.0.0.0:7443 --tls-cert certs/server.pem --tls-key certs/server-key.pem --client-ca certs/ca.pem`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return serveTarget(cmd.Context(), g, f, args[0])
		},
	}
	fs := serve.Flags()
	fs.StringVar(&f.listen, "listen", "", "address to listen on, HOST:PORT (required)")
	fs.StringVar(&f.cert, "tls-cert", "", "the server's certificate (PEM)")
	fs.StringVar(&f.key, "tls-key", "", "the server's private key (PEM)")
	fs.StringVar(&f.clientCA, "client-ca", "", "CA certificate (PEM) that signs the certificates of the hosts allowed to connect")
	fs.BoolVar(&f.insecure, "insecure", false, "serve plaintext without TLS (only on a loopback address)")
	fs.IntVar(&f.maxSessions, "max-sessions", 4, "sessions (hosts' runs) served at once; each runs a target process")
	fs.DurationVar(&f.idle, "idle-timeout", 30*time.Minute, "close a session no call has used for this long (a host that died)")
	fs.DurationVar(&f.grace, "grace", 30*time.Second, "on SIGTERM, how long calls in flight may finish before they are cancelled")
	cmd.AddCommand(serve)
	return cmd
}

func serveTarget(ctx context.Context, g *globals, f *serveFlags, name string) error {
	if f.listen == "" {
		return errors.New("target serve needs --listen HOST:PORT")
	}
	var conf *tls.Config
	if f.insecure {
		if f.cert != "" || f.clientCA != "" {
			return errors.New("--insecure and --tls-cert/--client-ca exclude each other")
		}
		host, _, err := net.SplitHostPort(f.listen)
		if err != nil || !remote.LoopbackHost(host) {
			return fmt.Errorf("--insecure serves plaintext, which is allowed only on a loopback address (127.0.0.1, ::1), not %q: serve %s with --tls-cert, --tls-key and --client-ca", f.listen, f.listen)
		}
	} else {
		var err error
		if conf, err = remote.ServerTLS(f.cert, f.key, f.clientCA); err != nil {
			return err
		}
	}
	m, err := g.manager()
	if err != nil {
		return err
	}
	defer m.Close()
	if _, err := m.Find(plugins.KindTarget, name); err != nil {
		return err
	}
	serverOpts, err := g.targetOptions()
	if err != nil {
		return err
	}
	log := g.logger().Named("serve")
	start := func(ctx context.Context, threads int, options map[string]string) (plugins.Target, func(), error) {
		// Each session gets a manager of its own: the host's thread
		// budget (capped by --threads here) and its target options
		// (which decide the arithmetic, so the host's win).
		if g.threads > 0 && (threads == 0 || threads > g.threads) {
			threads = g.threads
		}
		opts := maps.Clone(serverOpts)
		if opts == nil {
			opts = map[string]string{}
		}
		maps.Copy(opts, options)
		sm, err := pluginmgr.New(pluginmgr.Options{Dirs: g.dirs(), Logger: g.logger(), LockPath: g.lockPath(),
			Timeout: g.pluginTimeout, Threads: threads, TargetOptions: opts})
		if err != nil {
			return nil, nil, err
		}
		t, err := sm.Target(ctx, name)
		if err != nil {
			sm.Close()
			return nil, nil, err
		}
		return t, sm.Close, nil
	}
	srv, err := remote.NewServer(remote.ServerOptions{Target: name, Start: start, TLS: conf, MaxSessions: f.maxSessions,
		IdleTimeout: f.idle, Grace: f.grace, Version: Version, Logger: log})
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", f.listen, err)
	}
	fmt.Fprintf(g.stderr, "pot: serving target %q on %s (%s); stop with SIGTERM\n", name, l.Addr(), map[bool]string{true: "mutual TLS", false: "plaintext"}[conf != nil])
	return srv.Serve(ctx, l)
}

// certsFlags are the flags of `pot certs`.
type certsFlags struct {
	dir     string
	servers []string
	clients []string
	valid   time.Duration
}

func newCerts(g *globals) *cobra.Command {
	f := &certsFlags{}
	cmd := &cobra.Command{
		Use:   "certs --dir DIR --server-host NAME",
		Short: "Make a CA and the certificates of target servers and hosts (mutual TLS for pot target serve)",
		Long: `Make what mutual TLS between hosts and target servers needs, in DIR:
ca.pem and ca-key.pem (the CA; keep ca-key.pem offline), server.pem and
server-key.pem (valid for every --server-host), and one NAME.pem and
NAME-key.pem per --client (default: one named "host"). An existing CA in
DIR is reused, so running it again adds certificates signed by the same CA.
Keys are written readable by their owner only.`,
		Example: `  pot certs --dir certs --server-host 127.0.0.2 --server-host lab-npu-1.example.com --client laptop`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return makeCerts(g, f)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.dir, "dir", "", "folder to write the certificates to (required)")
	fs.StringArrayVar(&f.servers, "server-host", nil, "DNS name or IP address the target servers are reached at (repeatable)")
	fs.StringArrayVar(&f.clients, "client", []string{"host"}, "name of a host certificate to make (repeatable)")
	fs.DurationVar(&f.valid, "valid", 365*24*time.Hour, "validity of the certificates")
	return cmd
}

func makeCerts(g *globals, f *certsFlags) error {
	if f.dir == "" {
		return errors.New("certs needs --dir")
	}
	if err := os.MkdirAll(f.dir, 0o755); err != nil {
		return err
	}
	caCert, caKey := filepath.Join(f.dir, "ca.pem"), filepath.Join(f.dir, "ca-key.pem")
	ca, err := remote.ReadCA(caCert, caKey)
	switch {
	case err == nil:
		fmt.Fprintf(g.stdout, "using the CA in %s\n", caCert)
	case errors.Is(err, os.ErrNotExist):
		if ca, err = remote.NewCA("pot CA", f.valid); err != nil {
			return err
		}
		if err := remote.WriteKey(caKey, ca.Key); err != nil {
			return err
		}
		if err := remote.WriteCert(caCert, ca.Cert); err != nil {
			return err
		}
		fmt.Fprintf(g.stdout, "wrote %s and %s\n", caCert, caKey)
	default:
		return err
	}
	issue := func(name string, hosts []string, client bool) error {
		c, err := ca.Issue(name, hosts, client, time.Time{}, time.Now().Add(f.valid))
		if err != nil {
			return fmt.Errorf("certificate %s: %w", name, err)
		}
		cert, key := filepath.Join(f.dir, name+".pem"), filepath.Join(f.dir, name+"-key.pem")
		if err := remote.WriteKey(key, c.Key); err != nil {
			return err
		}
		if err := remote.WriteCert(cert, c.Cert); err != nil {
			return err
		}
		what := "host certificate"
		if !client {
			what = "server certificate for " + strings.Join(hosts, ", ")
		}
		fmt.Fprintf(g.stdout, "wrote %s and %s (%s)\n", cert, key, what)
		return nil
	}
	if len(f.servers) > 0 {
		if err := issue("server", f.servers, false); err != nil {
			return err
		}
	}
	for _, c := range f.clients {
		if c == "server" || c == "ca" || strings.ContainsAny(c, `/\`) {
			return fmt.Errorf("--client %q: want a plain name other than server and ca", c)
		}
		if err := issue(c, nil, true); err != nil {
			return err
		}
	}
	return nil
}
