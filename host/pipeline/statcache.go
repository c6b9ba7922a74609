package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
)

// statsCacheValues bounds the values the statistics cache keeps (floats
// over all passes): per-sample values of a large model are collected
// again rather than kept.
const statsCacheValues = 16 << 20

// statsCache gathers the statistics of several algorithms of a chain in
// one pass over the calibration data (NNCF's statistics aggregation):
// algorithms that run later tell ahead what they will collect
// (Algorithm.Prefetch), those probes ride along the next pass on the
// same model, plan and samples, and a later request whose probes were
// all collected is answered from the values kept. Probes are matched by
// what they measure (everything but their ids), passes by model, plan
// and samples, so an answer from the cache is the value a pass of its
// own would have returned: each probe is reduced and aggregated on its
// own, in the order of the samples, whatever else the pass measures.
type statsCache struct {
	mu     sync.Mutex
	passes map[string]*statsPass
	kept   int // values held, at most statsCacheValues
	// inflight holds the prefetches under way (closed when done); a
	// collection waits for them, so that their probes join it.
	inflight map[chan struct{}]bool
	// asked holds the prefetches made (algorithm and request), so that an
	// algorithm is asked once per model, plan and parameters.
	asked map[string]bool
}

// statsPass is what the cache holds for one model, plan and samples.
type statsPass struct {
	model   string
	samples int64                            // the responses' sample count
	values  map[string]*potv1.StatisticValue // by probeKey
	pending []*potv1.StatisticProbe          // prefetched, not yet collected
}

func newStatsCache() *statsCache {
	return &statsCache{passes: map[string]*statsPass{}, asked: map[string]bool{}, inflight: map[chan struct{}]bool{}}
}

// ask reports whether a prefetch of key (an algorithm and its request)
// is to be made, the first time, and marks it under way: done ends it.
func (c *statsCache) ask(key string) (done func(), ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.asked[key] {
		return nil, false
	}
	c.asked[key] = true
	ch := make(chan struct{})
	c.inflight[ch] = true
	return func() {
		c.mu.Lock()
		delete(c.inflight, ch)
		c.mu.Unlock()
		close(ch)
	}, true
}

// prefetchWait bounds how long a statistics request waits for the
// prefetches under way: a prefetch is an optimization, and one that a
// plugin is slow to answer must not hold the pass up (its probes are
// then collected by its algorithm's own request).
var prefetchWait = 5 * time.Second

// wait waits for the prefetches under way, at most prefetchWait.
func (c *statsCache) wait(ctx context.Context) error {
	c.mu.Lock()
	var chs []chan struct{}
	for ch := range c.inflight {
		chs = append(chs, ch)
	}
	c.mu.Unlock()
	limit := time.NewTimer(prefetchWait)
	defer limit.Stop()
	for _, ch := range chs {
		select {
		case <-ch:
		case <-limit.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// digest is a key of a message: the SHA-256 of its deterministic
// encoding.
func digest(m proto.Message) string {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// passKey is the pass of a request: its model, plan and samples.
func passKey(req *potv1.StatisticsRequest) string {
	return digest(&potv1.StatisticsRequest{ModelId: req.GetModelId(), Plan: req.GetPlan(), Samples: req.GetSamples()})
}

// probeKey is what a probe measures: the probe without its id.
func probeKey(p *potv1.StatisticProbe) string {
	q := proto.CloneOf(p)
	q.Id = ""
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(q)
	return string(b)
}

func (c *statsCache) pass(key, model string) *statsPass {
	p := c.passes[key]
	if p == nil {
		p = &statsPass{model: model, values: map[string]*potv1.StatisticValue{}}
		c.passes[key] = p
	}
	return p
}

// prefetched adds the probes of requests an algorithm will make to the
// passes they belong to (the model and data ids set as the host sets
// them).
func (c *statsCache) prefetched(reqs []*potv1.StatisticsRequest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range reqs {
		p := c.pass(passKey(r), r.GetModelId())
		for _, pr := range r.GetProbes() {
			k := probeKey(pr)
			if _, ok := p.values[k]; ok || slices.ContainsFunc(p.pending, func(q *potv1.StatisticProbe) bool { return probeKey(q) == k }) {
				continue
			}
			p.pending = append(p.pending, pr)
		}
	}
}

// toCollect returns the request for what req needs that the cache does
// not hold, with the probes prefetched for its pass, or nil when the
// cache holds every probe it asks for (a request without probes goes to
// the target: it asks for the sample count). The probes get ids of their
// own (their index).
func (c *statsCache) toCollect(key string, req *potv1.StatisticsRequest) *potv1.StatisticsRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pass(key, req.GetModelId())
	var probes []*potv1.StatisticProbe
	seen := map[string]bool{}
	for _, pr := range append(slices.Clone(req.GetProbes()), p.pending...) {
		k := probeKey(pr)
		if _, ok := p.values[k]; ok || seen[k] {
			continue
		}
		seen[k] = true
		probes = append(probes, pr)
	}
	if len(probes) == 0 && len(req.GetProbes()) > 0 {
		return nil
	}
	out := &potv1.StatisticsRequest{ModelId: req.GetModelId(), Plan: req.GetPlan(), Samples: req.GetSamples()}
	for i, pr := range probes {
		q := proto.CloneOf(pr)
		q.Id = "p" + strconv.Itoa(i)
		out.Probes = append(out.Probes, q)
	}
	return out
}

// answer stores the values a collection of todo returned and answers req
// from them and the values kept: each of req's probes under its own id,
// in req's order.
func (c *statsCache) answer(key string, req, todo *potv1.StatisticsRequest, resp *potv1.StatisticsResponse) *potv1.StatisticsResponse {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pass(key, req.GetModelId())
	fresh := map[string]*potv1.StatisticValue{}
	if todo != nil {
		byID := map[string]string{}
		for _, pr := range todo.GetProbes() {
			byID[pr.GetId()] = probeKey(pr)
		}
		for _, v := range resp.GetValues() {
			k, ok := byID[v.GetProbeId()]
			if !ok {
				continue
			}
			fresh[k] = v
			if c.kept+len(v.GetValues()) <= statsCacheValues {
				p.values[k] = v
				c.kept += len(v.GetValues())
			}
		}
		p.samples = resp.GetSamples()
		// What was pending was collected (or is not kept, and a request
		// for it collects it again).
		p.pending = nil
	}
	out := &potv1.StatisticsResponse{Samples: p.samples}
	for _, pr := range req.GetProbes() {
		k := probeKey(pr)
		v := fresh[k]
		if v == nil {
			v = p.values[k]
		}
		if v == nil {
			continue // the target did not return it: as a pass of its own
		}
		out.Values = append(out.Values, &potv1.StatisticValue{ProbeId: pr.GetId(), Values: slices.Clone(v.GetValues()),
			Dims: slices.Clone(v.GetDims()), Samples: v.GetSamples()})
	}
	return out
}

// forget drops the passes of a model that was unloaded.
func (c *statsCache) forget(model string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, p := range c.passes {
		if p.model == model {
			for _, v := range p.values {
				c.kept -= len(v.GetValues())
			}
			delete(c.passes, k)
		}
	}
}
