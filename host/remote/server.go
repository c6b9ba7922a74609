package remote

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/proto/potv1"
)

// SessionKey is the gRPC metadata key that carries the session id on
// Target calls.
const SessionKey = "pot-session"

// Starter starts a session's target process with the host's thread
// budget and target options. stop ends the process.
type Starter func(ctx context.Context, threads int, options map[string]string) (t plugins.Target, stop func(), err error)

// ServerOptions configure a Server.
type ServerOptions struct {
	// Target names the target the server runs (for logs and errors).
	Target string
	// Start starts one session's target process.
	Start Starter
	// TLS is the server's TLS configuration (ServerTLS); nil serves
	// plaintext, which Serve accepts only on a loopback address.
	TLS *tls.Config
	// MaxSessions bounds the sessions open at once; 0 means 4.
	MaxSessions int
	// IdleTimeout closes a session no call has used for that long; 0
	// means 30 minutes.
	IdleTimeout time.Duration
	// Grace is how long a stopping server lets calls in flight finish; 0
	// means 30 s.
	Grace time.Duration
	// Version is the server's pot version, told to hosts.
	Version string
	// ProtocolVersion is the graph protocol the server speaks; 0 means
	// plugins.ProtocolVersion (tests set another).
	ProtocolVersion int
	Logger          hclog.Logger
}

// Server is a target served to hosts over the network.
type Server struct {
	opts ServerOptions
	log  hclog.Logger

	mu       sync.Mutex
	sessions map[string]*session
	closed   bool
}

// session is one host's target process.
type session struct {
	id       string
	client   string
	target   plugins.Target
	stop     func()
	inFlight int
	lastUsed time.Time
}

// NewServer checks the options and returns a server.
func NewServer(opts ServerOptions) (*Server, error) {
	if opts.Start == nil {
		return nil, errors.New("remote server: no target starter")
	}
	if opts.MaxSessions < 0 {
		return nil, fmt.Errorf("--max-sessions %d: want at least 1", opts.MaxSessions)
	}
	if opts.MaxSessions == 0 {
		opts.MaxSessions = 4
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 30 * time.Minute
	}
	if opts.Grace <= 0 {
		opts.Grace = 30 * time.Second
	}
	if opts.ProtocolVersion == 0 {
		opts.ProtocolVersion = plugins.ProtocolVersion
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	return &Server{opts: opts, log: opts.Logger, sessions: map[string]*session{}}, nil
}

// Serve answers hosts on l until ctx ends, then stops: it refuses new
// calls, lets those in flight finish for the grace period, cancels the
// rest and stops every session's target. A plaintext server must listen
// on a loopback address.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	if s.opts.TLS == nil && !isLoopback(l.Addr()) {
		return fmt.Errorf("refusing to serve without TLS on %s: plaintext is allowed only on a loopback address", l.Addr())
	}
	opts := append(plugins.ServerOptions(),
		grpc.ChainUnaryInterceptor(s.logUnary),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	)
	if s.opts.TLS != nil {
		opts = append(opts, grpc.Creds(&loggedCreds{TransportCredentials: credentials.NewTLS(s.opts.TLS), log: s.log}))
	}
	g := grpc.NewServer(opts...)
	potv1.RegisterRemoteServer(g, &remoteService{s: s})
	plugins.RegisterTarget(g, &router{s: s})

	reap := time.NewTicker(min(s.opts.IdleTimeout/4, time.Minute))
	defer reap.Stop()
	served := make(chan error, 1)
	go func() { served <- g.Serve(l) }()
	s.log.Info("serving target", "target", s.opts.Target, "address", l.Addr().String(), "tls", s.opts.TLS != nil,
		"max_sessions", s.opts.MaxSessions)
	for {
		select {
		case err := <-served:
			s.closeAll()
			return err
		case <-reap.C:
			s.reapIdle(time.Now())
		case <-ctx.Done():
			s.stop(g)
			<-served
			return nil
		}
	}
}

// stop drains the server: GracefulStop, then Stop after the grace
// period; the sessions' targets stop last.
func (s *Server) stop(g *grpc.Server) {
	s.mu.Lock()
	s.closed = true
	n := len(s.sessions)
	s.mu.Unlock()
	s.log.Info("stopping: letting calls in flight finish", "sessions", n, "grace", s.opts.Grace.String())
	done := make(chan struct{})
	go func() { g.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(s.opts.Grace):
		s.log.Warn("grace period over: cancelling the calls still running")
		g.Stop()
		<-done
	}
	s.closeAll()
	s.log.Info("stopped")
}

func (s *Server) closeAll() {
	s.mu.Lock()
	all := s.sessions
	s.sessions = map[string]*session{}
	s.mu.Unlock()
	for _, ss := range all {
		ss.stop()
	}
}

// reapIdle closes the sessions that no call has used for IdleTimeout
// (a host that died without closing its session).
func (s *Server) reapIdle(now time.Time) {
	s.mu.Lock()
	var idle []*session
	for id, ss := range s.sessions {
		if ss.inFlight == 0 && now.Sub(ss.lastUsed) > s.opts.IdleTimeout {
			idle = append(idle, ss)
			delete(s.sessions, id)
		}
	}
	s.mu.Unlock()
	for _, ss := range idle {
		s.log.Warn("closing idle session", "session", ss.id, "client", ss.client, "idle", s.opts.IdleTimeout.String())
		ss.stop()
	}
}

// Sessions is the number of open sessions.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// acquire returns the session of a Target call and marks it busy; the
// caller must call release.
func (s *Server) acquire(ctx context.Context) (*session, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	ids := md.Get(SessionKey)
	if len(ids) != 1 {
		return nil, status.Error(codes.FailedPrecondition, "no session: call OpenSession first and send its id as "+SessionKey+" metadata")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.sessions[ids[0]]
	if ss == nil {
		return nil, status.Errorf(codes.NotFound, "session %s is not open on this server (closed after being idle, or the server restarted)", ids[0])
	}
	ss.inFlight++
	ss.lastUsed = time.Now()
	return ss, nil
}

func (s *Server) release(ss *session) {
	s.mu.Lock()
	ss.inFlight--
	ss.lastUsed = time.Now()
	s.mu.Unlock()
}

// logUnary logs the calls of the Remote service at info level and the
// failures of every unary call at warn level.
func (s *Server) logUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	resp, err := h(ctx, req)
	if err != nil {
		s.log.Warn("call failed", "method", info.FullMethod, "peer", peerOf(ctx), "error", err)
	}
	return resp, err
}

func peerOf(ctx context.Context) string {
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		return p.Addr.String()
	}
	return ""
}

// remoteService implements the Remote service.
type remoteService struct {
	potv1.UnimplementedRemoteServer
	s *Server
}

func (r *remoteService) OpenSession(ctx context.Context, req *potv1.OpenSessionRequest) (*potv1.OpenSessionResponse, error) {
	s := r.s
	if v := int(req.GetProtocolVersion()); v != s.opts.ProtocolVersion {
		return nil, status.Errorf(codes.FailedPrecondition, "graph protocol v%d asked, this server speaks v%d: run the same pot release on both sides (server %s)",
			v, s.opts.ProtocolVersion, s.opts.Version)
	}
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return nil, status.Error(codes.Unavailable, "the server is stopping")
	case len(s.sessions) >= s.opts.MaxSessions:
		s.mu.Unlock()
		return nil, status.Errorf(codes.ResourceExhausted, "the server is busy: %d of %d sessions open (--max-sessions)", len(s.sessions), s.opts.MaxSessions)
	}
	// Reserve the slot while the target starts.
	id := newID()
	ss := &session{id: id, client: req.GetClient(), inFlight: 1, lastUsed: time.Now(), stop: func() {}}
	s.sessions[id] = ss
	s.mu.Unlock()

	t, stop, err := s.opts.Start(ctx, int(req.GetThreads()), req.GetTargetOptions())
	if err == nil {
		var d *potv1.TargetDescription
		if d, err = t.Describe(ctx); err == nil {
			s.mu.Lock()
			if s.closed || s.sessions[id] != ss {
				// The server stopped (or reaped the slot) while the
				// target started: it must not outlive the server.
				delete(s.sessions, id)
				s.mu.Unlock()
				stop()
				return nil, status.Error(codes.Unavailable, "the server is stopping")
			}
			ss.target, ss.stop = t, stop
			ss.inFlight--
			s.mu.Unlock()
			s.log.Info("session opened", "session", id, "client", req.GetClient(), "peer", peerOf(ctx), "threads", req.GetThreads())
			return &potv1.OpenSessionResponse{SessionId: id, ProtocolVersion: int32(s.opts.ProtocolVersion), ServerVersion: s.opts.Version, Target: d}, nil
		}
		stop()
	}
	s.mu.Lock()
	delete(s.sessions, id)
	s.mu.Unlock()
	return nil, fmt.Errorf("start target %q: %w", s.opts.Target, err)
}

func (r *remoteService) CloseSession(_ context.Context, req *potv1.CloseSessionRequest) (*potv1.CloseSessionResponse, error) {
	s := r.s
	s.mu.Lock()
	ss := s.sessions[req.GetSessionId()]
	delete(s.sessions, req.GetSessionId())
	s.mu.Unlock()
	if ss != nil {
		ss.stop()
		s.log.Info("session closed", "session", ss.id, "client", ss.client)
	}
	return &potv1.CloseSessionResponse{}, nil
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// isLoopback reports whether a listener's address is a loopback one.
func isLoopback(a net.Addr) bool {
	host, _, err := net.SplitHostPort(a.String())
	return err == nil && LoopbackHost(host)
}

// LoopbackHost reports whether host ("localhost" or an IP address) is a
// loopback one: the only addresses plaintext is allowed on.
func LoopbackHost(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}
