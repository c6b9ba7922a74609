package remote

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/proto/potv1"
)

// fake is an in-process target: it counts the models it was sent and
// evaluates by echoing the sample indices.
type fake struct {
	mu      sync.Mutex
	models  map[string]*potv1.Graph
	loads   int
	stopped bool
	block   chan struct{} // Evaluate waits on it when not nil
}

func (f *fake) Describe(context.Context) (*potv1.TargetDescription, error) {
	return &potv1.TargetDescription{Name: "fake", Device: "CPU"}, nil
}

func (f *fake) LoadModel(_ context.Context, g *potv1.Graph) (*potv1.LoadModelResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loads++
	id := fmt.Sprintf("m%d", f.loads)
	f.models[id] = g
	return &potv1.LoadModelResponse{ModelId: id}, nil
}

func (f *fake) Model(_ context.Context, id string) (*potv1.Graph, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, ok := f.models[id]
	if !ok {
		return nil, fmt.Errorf("no model %q", id)
	}
	return g, nil
}

func (f *fake) UnloadModel(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.models, id)
	return nil
}

func (f *fake) UploadData(context.Context, *plugins.Dataset) (string, error) { return "d1", nil }

func (f *fake) Infer(context.Context, *potv1.InferRequest) (*potv1.InferResponse, error) {
	return &potv1.InferResponse{}, nil
}

func (f *fake) CollectStatistics(context.Context, *potv1.StatisticsRequest) (*potv1.StatisticsResponse, error) {
	return &potv1.StatisticsResponse{}, nil
}

func (f *fake) Evaluate(ctx context.Context, req *potv1.EvaluateRequest, send func(*potv1.EvaluateResponse) error) error {
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for _, i := range req.GetSamples().GetIndices() {
		if err := send(&potv1.EvaluateResponse{Outputs: []*potv1.Tensor{{Name: fmt.Sprint(i)}}}); err != nil {
			return err
		}
	}
	return nil
}

// pki is a CA with a server certificate for 127.0.0.1 and a client
// certificate, written to a folder.
type pki struct {
	dir string
	ca  *CA
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	ca, err := NewCA("test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p := &pki{dir: t.TempDir(), ca: ca}
	must(t, WriteCert(p.path("ca.pem"), ca.Cert))
	p.issue(t, "server", []string{"127.0.0.1", "localhost"}, false, time.Time{}, time.Now().Add(time.Hour))
	p.issue(t, "client", nil, true, time.Time{}, time.Now().Add(time.Hour))
	return p
}

func (p *pki) path(name string) string { return filepath.Join(p.dir, name) }

func (p *pki) issue(t *testing.T, name string, hosts []string, client bool, from, to time.Time) {
	t.Helper()
	c, err := p.ca.Issue(name, hosts, client, from, to)
	must(t, err)
	must(t, WriteCert(p.path(name+".pem"), c.Cert))
	must(t, WriteKey(p.path(name+"-key.pem"), c.Key))
}

func (p *pki) serverTLS(t *testing.T) *tls.Config {
	c, err := ServerTLS(p.path("server.pem"), p.path("server-key.pem"), p.path("ca.pem"))
	must(t, err)
	return c
}

func (p *pki) clientTLS(t *testing.T, name string) *tls.Config {
	c, err := ClientTLS(p.path("ca.pem"), p.path(name+".pem"), p.path(name+"-key.pem"))
	must(t, err)
	return c
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// served runs a server of fakes on 127.0.0.1 and returns its address,
// the fakes it started and a function that stops it.
type served struct {
	addr   string
	srv    *Server
	mu     sync.Mutex
	fakes  []*fake
	stop   func()
	block  chan struct{}
	starts atomic.Int32
}

func serve(t *testing.T, tlsConf *tls.Config, opts ServerOptions) *served {
	return serveBlocking(t, tlsConf, opts, nil)
}

// serveBlocking is serve with targets whose Evaluate waits for block to
// close (nil: no wait).
func serveBlocking(t *testing.T, tlsConf *tls.Config, opts ServerOptions, block chan struct{}) *served {
	t.Helper()
	s := &served{block: block}
	opts.Target = "fake"
	opts.TLS = tlsConf
	opts.Start = func(context.Context, int, map[string]string) (plugins.Target, func(), error) {
		s.starts.Add(1)
		f := &fake{models: map[string]*potv1.Graph{}, block: block}
		s.mu.Lock()
		s.fakes = append(s.fakes, f)
		s.mu.Unlock()
		return f, func() { f.mu.Lock(); f.stopped = true; f.mu.Unlock() }, nil
	}
	srv, err := NewServer(opts)
	must(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l) }()
	s.addr, s.srv = l.Addr().String(), srv
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
	t.Cleanup(s.stop)
	return s
}

func graph(name string) *potv1.Graph { return &potv1.Graph{Name: name} }

func TestSessionOverMutualTLS(t *testing.T) {
	p := newPKI(t)
	s := serve(t, p.serverTLS(t), ServerOptions{})
	ctx := context.Background()
	tg, err := Dial(ctx, s.addr, DialOptions{TLS: p.clientTLS(t, "client"), Client: "test"})
	must(t, err)
	if got := tg.Description().GetName(); got != "fake" {
		t.Errorf("description name %q, want fake", got)
	}
	// The same content is sent once; another content is sent.
	r1, err := tg.LoadModel(ctx, graph("a"))
	must(t, err)
	r2, err := tg.LoadModel(ctx, graph("a"))
	must(t, err)
	r3, err := tg.LoadModel(ctx, graph("b"))
	must(t, err)
	if r1.GetModelId() != r2.GetModelId() || r1.GetModelId() == r3.GetModelId() {
		t.Errorf("model ids %s %s %s: want the first two equal, the third different", r1.GetModelId(), r2.GetModelId(), r3.GetModelId())
	}
	if n := s.fakes[0].loads; n != 2 {
		t.Errorf("target received %d models, want 2", n)
	}
	// One unload of two loads keeps the model.
	must(t, tg.UnloadModel(ctx, r1.GetModelId()))
	if _, err := tg.Model(ctx, r1.GetModelId()); err != nil {
		t.Errorf("model gone after one of two unloads: %v", err)
	}
	var got []string
	err = tg.Evaluate(ctx, &potv1.EvaluateRequest{Samples: &potv1.Samples{Indices: []int64{3, 1, 2}}}, func(r *potv1.EvaluateResponse) error {
		got = append(got, r.GetOutputs()[0].GetName())
		return nil
	})
	must(t, err)
	if strings.Join(got, ",") != "3,1,2" {
		t.Errorf("evaluate streamed %v, want 3,1,2", got)
	}
	must(t, tg.Close())
	if n := s.srv.Sessions(); n != 0 {
		t.Errorf("%d sessions open after Close, want 0", n)
	}
	if !s.fakes[0].stopped {
		t.Error("the session's target was not stopped by Close")
	}
}

func TestSessionsShareNothing(t *testing.T) {
	p := newPKI(t)
	s := serve(t, p.serverTLS(t), ServerOptions{})
	ctx := context.Background()
	a, err := Dial(ctx, s.addr, DialOptions{TLS: p.clientTLS(t, "client")})
	must(t, err)
	defer a.Close()
	b, err := Dial(ctx, s.addr, DialOptions{TLS: p.clientTLS(t, "client")})
	must(t, err)
	defer b.Close()
	r, err := a.LoadModel(ctx, graph("secret"))
	must(t, err)
	if _, err := b.Model(ctx, r.GetModelId()); err == nil {
		t.Fatal("a second session read the first session's model")
	}
	if s.starts.Load() != 2 {
		t.Errorf("%d target processes for 2 sessions", s.starts.Load())
	}
}

func TestMaxSessions(t *testing.T) {
	p := newPKI(t)
	s := serve(t, p.serverTLS(t), ServerOptions{MaxSessions: 1})
	ctx := context.Background()
	a, err := Dial(ctx, s.addr, DialOptions{TLS: p.clientTLS(t, "client")})
	must(t, err)
	_, err = Dial(ctx, s.addr, DialOptions{TLS: p.clientTLS(t, "client")})
	if err == nil || !strings.Contains(err.Error(), "busy: 1 of 1 sessions") {
		t.Fatalf("second session: %v, want busy", err)
	}
	must(t, a.Close())
	b, err := Dial(ctx, s.addr, DialOptions{TLS: p.clientTLS(t, "client")})
	must(t, err)
	b.Close()
}

// TestRefusedConnections: every refusal is one line naming the endpoint
// and the reason.
func TestRefusedConnections(t *testing.T) {
	p := newPKI(t)
	other := newPKI(t) // another CA
	p.issue(t, "expired", nil, true, time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour))
	s := serve(t, p.serverTLS(t), ServerOptions{})
	foreign := p.clientTLS(t, "client")
	foreign.Certificates = other.clientTLS(t, "client").Certificates
	noCert := p.clientTLS(t, "client")
	noCert.Certificates = nil
	expiredServer := newPKI(t)
	expiredServer.issue(t, "server", []string{"127.0.0.1"}, false, time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour))
	old := serve(t, expiredServer.serverTLS(t), ServerOptions{})
	plain := serve(t, nil, ServerOptions{})
	v2 := serve(t, p.serverTLS(t), ServerOptions{ProtocolVersion: plugins.ProtocolVersion + 1})

	cases := []struct {
		name, addr string
		tls        *tls.Config
		want       string
	}{
		{"client cert of another CA", s.addr, foreign, "refused this host's certificate: it is not signed by the server's --client-ca"},
		{"no client cert", s.addr, noCert, "requires a client certificate"},
		{"expired client cert", s.addr, p.clientTLS(t, "expired"), "it has expired"},
		{"server of another CA", s.addr, other.clientTLS(t, "client"), "not signed"},
		{"expired server cert", old.addr, expiredServer.clientTLS(t, "client"), "server's certificate is not valid now"},
		{"plaintext server", plain.addr, p.clientTLS(t, "client"), "does not speak TLS"},
		{"other protocol version", v2.addr, p.clientTLS(t, "client"), fmt.Sprintf("graph protocol v%d asked, this server speaks v%d", plugins.ProtocolVersion, plugins.ProtocolVersion+1)},
		{"nothing listening", "127.0.0.1:1", p.clientTLS(t, "client"), "connection refused"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Dial(context.Background(), c.addr, DialOptions{TLS: c.tls, ConnectTimeout: 3 * time.Second})
			if err == nil {
				t.Fatal("connected")
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) || !strings.HasPrefix(msg, "remote target "+c.addr+": ") || strings.Contains(msg, "\n") || strings.Contains(msg, "rpc error") {
				t.Errorf("error %q\nwant one line naming %s and containing %q", msg, c.addr, c.want)
			}
		})
	}
}

func TestPlaintextOnlyOnLoopback(t *testing.T) {
	srv, err := NewServer(ServerOptions{Start: func(context.Context, int, map[string]string) (plugins.Target, func(), error) { return nil, nil, nil }})
	must(t, err)
	l := fakeListener{addr: &net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 7000}}
	if err := srv.Serve(context.Background(), l); err == nil || !strings.Contains(err.Error(), "plaintext is allowed only on a loopback") {
		t.Errorf("Serve on 10.1.2.3 without TLS: %v", err)
	}
	if _, err := Dial(context.Background(), "10.1.2.3:7000", DialOptions{}); err == nil || !strings.Contains(err.Error(), "plaintext is allowed only to a loopback") {
		t.Errorf("Dial 10.1.2.3 without TLS: %v", err)
	}
	s := serve(t, nil, ServerOptions{})
	tg, err := Dial(context.Background(), s.addr, DialOptions{})
	must(t, err)
	tg.Close()
}

type fakeListener struct {
	net.Listener
	addr net.Addr
}

func (l fakeListener) Addr() net.Addr { return l.addr }

// TestStopLetsCallsFinish: a call in flight when the server stops
// completes; a call after the stop fails as a lost connection.
func TestStopLetsCallsFinish(t *testing.T) {
	p := newPKI(t)
	block := make(chan struct{})
	s2 := serveBlocking(t, p.serverTLS(t), ServerOptions{Grace: 10 * time.Second}, block)
	ctx := context.Background()
	tg, err := Dial(ctx, s2.addr, DialOptions{TLS: p.clientTLS(t, "client")})
	must(t, err)
	done := make(chan error, 1)
	var n int
	go func() {
		done <- tg.Evaluate(ctx, &potv1.EvaluateRequest{Samples: &potv1.Samples{Indices: []int64{1, 2}}}, func(*potv1.EvaluateResponse) error { n++; return nil })
	}()
	waitFor(t, func() bool { s2.srv.mu.Lock(); defer s2.srv.mu.Unlock(); return anyBusy(s2.srv) })
	stopped := make(chan struct{})
	go func() { s2.stop(); close(stopped) }()
	time.Sleep(100 * time.Millisecond)
	close(block)
	must(t, <-done)
	if n != 2 {
		t.Errorf("in-flight evaluation sent %d results, want 2", n)
	}
	<-stopped
	err = tg.Evaluate(ctx, &potv1.EvaluateRequest{}, func(*potv1.EvaluateResponse) error { return nil })
	if !IsLost(err) {
		t.Errorf("call after stop: %v, want a lost connection", err)
	}
	if !s2.fakes[0].stopped {
		t.Error("stopping the server left the session's target running")
	}
}

func anyBusy(s *Server) bool {
	for _, ss := range s.sessions {
		if ss.inFlight > 0 {
			return true
		}
	}
	return false
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not reached in 5 s")
}

func TestIdleSessionsAreClosed(t *testing.T) {
	p := newPKI(t)
	s := serve(t, p.serverTLS(t), ServerOptions{IdleTimeout: time.Hour})
	tg, err := Dial(context.Background(), s.addr, DialOptions{TLS: p.clientTLS(t, "client")})
	must(t, err)
	s.srv.reapIdle(time.Now().Add(30 * time.Minute))
	if s.srv.Sessions() != 1 {
		t.Fatal("a session idle for less than the timeout was closed")
	}
	s.srv.reapIdle(time.Now().Add(2 * time.Hour))
	if s.srv.Sessions() != 0 || !s.fakes[0].stopped {
		t.Fatal("an idle session was kept")
	}
	_, err = tg.Describe(context.Background())
	if err == nil || !strings.Contains(err.Error(), "is not open on this server") || !IsLost(err) {
		t.Errorf("call on a reaped session: %v", err)
	}
}

// TestHungCallIsLost: a call that outlives CallTimeout (a server whose
// target hangs) fails as a lost connection, so the host runs it
// elsewhere.
func TestHungCallIsLost(t *testing.T) {
	p := newPKI(t)
	block := make(chan struct{})
	defer close(block)
	s := serveBlocking(t, p.serverTLS(t), ServerOptions{Grace: time.Second}, block)
	tg, err := Dial(context.Background(), s.addr, DialOptions{TLS: p.clientTLS(t, "client"), CallTimeout: 300 * time.Millisecond})
	must(t, err)
	defer tg.Close()
	start := time.Now()
	err = tg.Evaluate(context.Background(), &potv1.EvaluateRequest{Samples: &potv1.Samples{Indices: []int64{1}}}, func(*potv1.EvaluateResponse) error { return nil })
	if !IsLost(err) || !strings.Contains(err.Error(), "no answer before the deadline") {
		t.Fatalf("hung call: %v, want a lost connection past the deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("hung call returned after %v", d)
	}
}
