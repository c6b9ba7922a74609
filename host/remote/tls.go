package remote

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/credentials"
)

// ServerTLS is the TLS configuration of a server that requires a client
// certificate signed by the CA in clientCA (PEM).
func ServerTLS(certFile, keyFile, clientCAFile string) (*tls.Config, error) {
	if certFile == "" || keyFile == "" || clientCAFile == "" {
		return nil, errors.New("mutual TLS needs --tls-cert, --tls-key and --client-ca (or --insecure on a loopback address)")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("server certificate: %w", err)
	}
	pool, err := readPool(clientCAFile)
	if err != nil {
		return nil, fmt.Errorf("--client-ca: %w", err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		// TLS 1.2 too: a host's probe of a refused handshake (probe)
		// uses it to learn why.
		MinVersion: tls.VersionTLS12,
	}, nil
}

// ClientTLS is the TLS configuration of a host that trusts the servers
// whose certificates the CA in caFile signed and shows them its own
// certificate.
func ClientTLS(caFile, certFile, keyFile string) (*tls.Config, error) {
	if caFile == "" || certFile == "" || keyFile == "" {
		return nil, errors.New("a remote target needs --tls-ca, --tls-cert and --tls-key (or --tls-insecure for a plaintext server on a loopback address)")
	}
	pool, err := readPool(caFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-ca: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("client certificate: %w", err)
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}, nil
}

func readPool(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return pool, nil
}

// loggedCreds logs the TLS handshakes a server refuses (gRPC itself only
// drops the connection).
type loggedCreds struct {
	credentials.TransportCredentials
	log hclog.Logger
}

func (c *loggedCreds) ServerHandshake(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	out, info, err := c.TransportCredentials.ServerHandshake(conn)
	if err != nil {
		c.log.Warn("refused a connection: TLS handshake failed", "peer", conn.RemoteAddr().String(), "error", err)
	}
	return out, info, err
}

func (c *loggedCreds) Clone() credentials.TransportCredentials {
	return &loggedCreds{TransportCredentials: c.TransportCredentials.Clone(), log: c.log}
}

// explain turns a failure to reach a server into one line that says
// what to do.
func explain(err error) string {
	msg := err.Error()
	has := func(s ...string) bool {
		for _, x := range s {
			if strings.Contains(msg, x) {
				return true
			}
		}
		return false
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded) || has("context deadline exceeded"):
		return "no answer in time (a server down, a firewall, or a partitioned network)"
	case has("certificate required"):
		return "the server requires a client certificate: pass --tls-cert and --tls-key"
	case has("remote error: tls: expired certificate"):
		return "the server refused this host's certificate: it has expired (renew it: pot certs)"
	case has("remote error: tls: bad certificate", "remote error: tls: unknown certificate authority"):
		return "the server refused this host's certificate: it is not signed by the server's --client-ca, or is not a client certificate (pot certs --client NAME makes one)"
	case has("certificate has expired", "not yet valid"):
		return "the server's certificate is not valid now (expired or not yet valid): " + tail(msg, "x509: ")
	case has("x509: certificate signed by unknown authority"):
		return "the server's certificate is not signed by --tls-ca"
	case has("x509: certificate is valid for", "x509: cannot validate certificate"):
		return "the server's certificate does not name this address: " + tail(msg, "x509: ")
	case has("first record does not look like a TLS handshake"):
		return "the server does not speak TLS (started with --insecure?): use --tls-insecure, or serve it with TLS"
	case has("connection refused"):
		return "connection refused (is `pot target serve` running there?)"
	case has("no such host"):
		return "no such host"
	case has("connection reset", "EOF", "broken pipe", "error reading server preface"):
		return "the server closed the connection (a TLS server refusing this host, or a server that stopped): " + tail(msg, "desc = ")
	}
	return tail(msg, "desc = ")
}

// tail returns what follows the last marker in msg (msg when absent).
func tail(msg, marker string) string {
	if i := strings.LastIndex(msg, marker); i >= 0 {
		return msg[i+len(marker):]
	}
	return msg
}
