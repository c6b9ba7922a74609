package pipeline

import (
	"crypto/sha256"
	"fmt"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
)

// evalKey identifies a full-set evaluation.
func evalKey(model string, plan *potv1.QuantizationPlan, data, distance, metric string, conf float64) string {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(plan)
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%g\x00", model, data, distance, metric, conf)
	h.Write(b)
	return string(h.Sum(nil))
}

// evalCacheSize bounds the evaluations kept.
const evalCacheSize = 8

// evalCache keeps the last few evaluations by key (evalKey), the oldest
// leaving first. It is safe for concurrent use; the answers it gives and
// keeps are copies.
type evalCache struct {
	size int

	mu      sync.Mutex
	entries []cachedEval
}

type cachedEval struct {
	key  string
	resp *potv1.HostEvaluateResponse
}

// newEvalCache returns a cache of at most size evaluations.
func newEvalCache(size int) *evalCache { return &evalCache{size: size} }

// get returns a copy of the evaluation kept under key.
func (c *evalCache) get(key string) (*potv1.HostEvaluateResponse, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.entries {
		if e.key == key {
			return proto.Clone(e.resp).(*potv1.HostEvaluateResponse), true
		}
	}
	return nil, false
}

// put keeps a copy of r under key, unless the key is kept already.
func (c *evalCache) put(key string, r *potv1.HostEvaluateResponse) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.entries {
		if e.key == key {
			return
		}
	}
	c.entries = append(c.entries, cachedEval{key, proto.Clone(r).(*potv1.HostEvaluateResponse)})
	if len(c.entries) > c.size {
		c.entries = c.entries[1:]
	}
}

// floatRefs keeps the float model's predictions per data set id; safe
// for concurrent use.
type floatRefs struct {
	mu   sync.Mutex
	byID map[string]*floatRef
}

func newFloatRefs() *floatRefs { return &floatRefs{byID: map[string]*floatRef{}} }

func (r *floatRefs) get(id string) (*floatRef, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ref, ok := r.byID[id]
	return ref, ok
}

func (r *floatRefs) put(id string, ref *floatRef) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byID[id] = ref
}

// floatOutputsMax bounds the float32 values the float model's outputs
// kept per data set may hold (64 Mi values, 256 MiB): a classifier's
// logits over a large evaluation set fit many times over, a segmentation
// model's masks are inferred again each time instead.
const floatOutputsMax = 64 << 20

// floatOutputCache keeps the float model's whole first output per data
// set id, for sets whose outputs hold at most max values; safe for
// concurrent use. The rows it hands out are shared: callers only read
// them.
type floatOutputCache struct {
	max int

	mu   sync.Mutex
	byID map[string][][]float32
}

func newFloatOutputCache(max int) *floatOutputCache {
	return &floatOutputCache{max: max, byID: map[string][][]float32{}}
}

func (c *floatOutputCache) get(id string) ([][]float32, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rows, ok := c.byID[id]
	return rows, ok
}

func (c *floatOutputCache) has(id string) bool {
	_, ok := c.get(id)
	return ok
}

// put keeps rows under id unless they hold more than max values.
func (c *floatOutputCache) put(id string, rows [][]float32) {
	n := 0
	for _, r := range rows {
		n += len(r)
	}
	if n > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byID[id] = rows
}
