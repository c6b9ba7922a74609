package remote

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/proto/potv1"
)

// DialOptions configure a connection to a served target.
type DialOptions struct {
	// TLS is the host's TLS configuration (ClientTLS); nil connects in
	// plaintext, which only a loopback address accepts.
	TLS *tls.Config
	// Threads and TargetOptions are passed to the session's target.
	Threads       int
	TargetOptions map[string]string
	// Client names the host in the server's log.
	Client string
	// ConnectTimeout bounds connecting and opening the session; 0 means
	// 15 s.
	ConnectTimeout time.Duration
	// ProtocolVersion is the graph protocol the host speaks; 0 means
	// plugins.ProtocolVersion (tests set another).
	ProtocolVersion int
	// CallTimeout bounds every call (a server whose target hangs); 0
	// means none. A call past it is a lost connection.
	CallTimeout time.Duration
}

// Error is a failure to reach or use a served target. Lost is true when
// the connection failed (the server died, hangs or cannot be reached),
// so that the work can run elsewhere.
type Error struct {
	Endpoint string
	Reason   string
	Lost     bool
	Err      error
}

func (e *Error) Error() string { return fmt.Sprintf("remote target %s: %s", e.Endpoint, e.Reason) }
func (e *Error) Unwrap() error { return e.Err }

// IsLost reports whether err is a lost connection to a served target.
func IsLost(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Lost
}

// Target is a session on a served target; it implements plugins.Target.
type Target struct {
	// Endpoint is the server's HOST:PORT.
	Endpoint string
	desc     *potv1.TargetDescription
	server   string
	conn     *grpc.ClientConn
	session  string
	t        *plugins.TargetClient

	timeout time.Duration

	mu     sync.Mutex
	models map[[32]byte]*loaded // by content
	ids    map[string][32]byte  // model id → content
}

// loaded is a model the session holds, with the number of LoadModel
// calls it answered.
type loaded struct {
	resp *potv1.LoadModelResponse
	refs int
}

var _ plugins.Target = (*Target)(nil)

// Dial connects to a target served at endpoint (HOST:PORT) and opens a
// session on it.
func Dial(ctx context.Context, endpoint string, o DialOptions) (*Target, error) {
	fail := func(lost bool, err error) (*Target, error) {
		return nil, &Error{Endpoint: endpoint, Reason: explain(err), Lost: lost, Err: err}
	}
	host, _, err := net.SplitHostPort(endpoint)
	if err != nil {
		return fail(false, fmt.Errorf("want HOST:PORT: %w", err))
	}
	creds := insecure.NewCredentials()
	if o.TLS != nil {
		c := o.TLS.Clone()
		if c.ServerName == "" {
			c.ServerName = host
		}
		creds = credentials.NewTLS(c)
	} else if !LoopbackHost(host) {
		return fail(false, errors.New("plaintext is allowed only to a loopback address: give --tls-ca, --tls-cert and --tls-key"))
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 15 * time.Second
	}
	if o.ProtocolVersion == 0 {
		o.ProtocolVersion = plugins.ProtocolVersion
	}
	t := &Target{Endpoint: endpoint, timeout: o.CallTimeout, models: map[[32]byte]*loaded{}, ids: map[string][32]byte{}}
	conn, err := grpc.NewClient(endpoint,
		grpc.WithTransportCredentials(creds),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 20 * time.Second, Timeout: 10 * time.Second, PermitWithoutStream: true}),
		grpc.WithChainUnaryInterceptor(t.unary),
		grpc.WithChainStreamInterceptor(t.stream),
		grpc.WithDefaultCallOptions(plugins.CallOptions()...),
	)
	if err != nil {
		return fail(false, err)
	}
	octx, cancel := context.WithTimeout(ctx, o.ConnectTimeout)
	defer cancel()
	resp, err := potv1.NewRemoteClient(conn).OpenSession(octx, &potv1.OpenSessionRequest{
		ProtocolVersion: int32(o.ProtocolVersion), Client: o.Client, Threads: int32(o.Threads), TargetOptions: o.TargetOptions,
	})
	if err != nil {
		conn.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		st := status.Convert(err)
		if st.Code() == codes.Unavailable && o.TLS != nil {
			// gRPC reports a refused handshake as a closed connection;
			// a plain TLS handshake says why.
			if perr := probe(octx, endpoint, o.TLS, host); perr != nil {
				return fail(false, perr)
			}
		}
		switch st.Code() {
		case codes.FailedPrecondition, codes.ResourceExhausted, codes.Unavailable:
			if st.Code() != codes.Unavailable || st.Message() == "the server is stopping" {
				return fail(false, errors.New(st.Message()))
			}
		}
		if st.Code() == codes.Unavailable || st.Code() == codes.DeadlineExceeded {
			return fail(true, err)
		}
		return fail(false, plugins.FromStatus(err))
	}
	if v := int(resp.GetProtocolVersion()); v != o.ProtocolVersion {
		conn.Close()
		return fail(false, fmt.Errorf("the server speaks graph protocol v%d, this pot v%d: run the same pot release on both sides", v, o.ProtocolVersion))
	}
	t.conn, t.session, t.desc, t.server = conn, resp.GetSessionId(), resp.GetTarget(), resp.GetServerVersion()
	t.t = plugins.NewTargetClient(potv1.NewTargetClient(conn))
	return t, nil
}

// unary and stream add the session id to every call.
func (t *Target) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if t.session != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, SessionKey, t.session)
	}
	return invoker(ctx, method, req, reply, cc, opts...)
}

func (t *Target) stream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	if t.session != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, SessionKey, t.session)
	}
	return streamer(ctx, desc, cc, method, opts...)
}

// deadline bounds a call by CallTimeout.
func (t *Target) deadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if t.timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, t.timeout)
}

// Description is the session's target, as the server described it when
// the session opened.
func (t *Target) Description() *potv1.TargetDescription { return t.desc }

// ServerVersion is the pot version of the server.
func (t *Target) ServerVersion() string { return t.server }

// Close ends the session and the connection.
func (t *Target) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := potv1.NewRemoteClient(t.conn).CloseSession(ctx, &potv1.CloseSessionRequest{SessionId: t.session})
	if cerr := t.conn.Close(); err == nil {
		err = cerr
	}
	return err
}

// wrap names the endpoint in a failure; a failed connection is Lost.
func (t *Target) wrap(call string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	switch status.Code(err) {
	case codes.Unavailable:
		return &Error{Endpoint: t.Endpoint, Reason: call + ": connection lost (" + tail(status.Convert(err).Message(), "desc = ") + ")", Lost: true, Err: err}
	case codes.DeadlineExceeded:
		return &Error{Endpoint: t.Endpoint, Reason: call + ": no answer before the deadline (--plugin-timeout)", Lost: true, Err: err}
	case codes.NotFound:
		if msg := status.Convert(err).Message(); strings.Contains(msg, "is not open on this server") {
			return &Error{Endpoint: t.Endpoint, Reason: call + ": " + msg, Lost: true, Err: err}
		}
	}
	var pe *plugins.Error
	if errors.As(err, &pe) {
		return fmt.Errorf("remote target %s: %w", t.Endpoint, err)
	}
	return &Error{Endpoint: t.Endpoint, Reason: call + ": " + explain(err), Err: err}
}

// Describe implements plugins.Target.
func (t *Target) Describe(ctx context.Context) (*potv1.TargetDescription, error) {
	ctx, cancel := t.deadline(ctx)
	defer cancel()
	d, err := t.t.Describe(ctx)
	return d, t.wrap("Describe", err)
}

// LoadModel implements plugins.Target. A graph the session holds already
// (same content) is not sent again.
func (t *Target) LoadModel(ctx context.Context, g *potv1.Graph) (*potv1.LoadModelResponse, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(g)
	if err != nil {
		return nil, fmt.Errorf("remote target %s: encode model: %w", t.Endpoint, err)
	}
	key := sha256.Sum256(b)
	t.mu.Lock()
	if m, ok := t.models[key]; ok {
		m.refs++
		t.mu.Unlock()
		return m.resp, nil
	}
	t.mu.Unlock()
	ctx, cancel := t.deadline(ctx)
	defer cancel()
	resp, err := t.t.LoadModel(ctx, g)
	if err != nil {
		return nil, t.wrap("LoadModel", err)
	}
	if resp.GetModelId() != "" {
		t.mu.Lock()
		t.models[key] = &loaded{resp: resp, refs: 1}
		t.ids[resp.GetModelId()] = key
		t.mu.Unlock()
	}
	return resp, nil
}

// Model implements plugins.Target.
func (t *Target) Model(ctx context.Context, id string) (*potv1.Graph, error) {
	ctx, cancel := t.deadline(ctx)
	defer cancel()
	g, err := t.t.Model(ctx, id)
	return g, t.wrap("FetchModel", err)
}

// UnloadModel implements plugins.Target: the model leaves the session
// when every LoadModel of its content is matched by an UnloadModel.
func (t *Target) UnloadModel(ctx context.Context, id string) error {
	t.mu.Lock()
	if key, ok := t.ids[id]; ok {
		if m := t.models[key]; m.refs > 1 {
			m.refs--
			t.mu.Unlock()
			return nil
		}
		delete(t.models, key)
		delete(t.ids, id)
	}
	t.mu.Unlock()
	ctx, cancel := t.deadline(ctx)
	defer cancel()
	return t.wrap("UnloadModel", t.t.UnloadModel(ctx, id))
}

// UploadData implements plugins.Target.
func (t *Target) UploadData(ctx context.Context, d *plugins.Dataset) (string, error) {
	ctx, cancel := t.deadline(ctx)
	defer cancel()
	id, err := t.t.UploadData(ctx, d)
	return id, t.wrap("UploadData", err)
}

// Infer implements plugins.Target.
func (t *Target) Infer(ctx context.Context, req *potv1.InferRequest) (*potv1.InferResponse, error) {
	ctx, cancel := t.deadline(ctx)
	defer cancel()
	r, err := t.t.Infer(ctx, req)
	return r, t.wrap("Infer", err)
}

// CollectStatistics implements plugins.Target.
func (t *Target) CollectStatistics(ctx context.Context, req *potv1.StatisticsRequest) (*potv1.StatisticsResponse, error) {
	ctx, cancel := t.deadline(ctx)
	defer cancel()
	r, err := t.t.CollectStatistics(ctx, req)
	return r, t.wrap("CollectStatistics", err)
}

// Evaluate implements plugins.Target.
func (t *Target) Evaluate(ctx context.Context, req *potv1.EvaluateRequest, send func(*potv1.EvaluateResponse) error) error {
	ctx, cancel := t.deadline(ctx)
	defer cancel()
	return t.wrap("Evaluate", t.t.Evaluate(ctx, req, send))
}

// probe makes a TLS handshake with the server and returns its failure.
// It caps the version at TLS 1.2, where the server checks the client's
// certificate within the handshake, so a refusal comes back as the
// server's alert rather than as a connection closed later.
func probe(ctx context.Context, endpoint string, conf *tls.Config, host string) error {
	c := conf.Clone()
	c.MaxVersion = tls.VersionTLS12
	c.MinVersion = tls.VersionTLS12
	if c.ServerName == "" {
		c.ServerName = host
	}
	d := tls.Dialer{Config: c, NetDialer: &net.Dialer{Timeout: 5 * time.Second}}
	conn, err := d.DialContext(ctx, "tcp", endpoint)
	if err != nil && len(c.Certificates) == 0 && strings.Contains(err.Error(), "handshake failure") {
		return fmt.Errorf("certificate required: %w", err)
	}
	if err != nil {
		return err
	}
	conn.Close()
	return nil
}

// LostConnection reports whether the connection to the server failed, so
// that the host may run the call elsewhere.
func (e *Error) LostConnection() bool { return e.Lost }

// String names the session's server: "remote target HOST:PORT".
func (t *Target) String() string { return "remote target " + t.Endpoint }
