package cli

import (
	"sync"

	"github.com/hashicorp/go-hclog"
)

// progress reports long stages as log lines.
type progress struct {
	log  hclog.Logger
	mu   sync.Mutex
	last map[string]int64
}

func newProgress(g *globals) *progress {
	return &progress{log: g.logger(), last: map[string]int64{}}
}

// Update implements pipeline.Progress.
func (p *progress) Update(stage string, done, total int64, msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if done == 0 || done == total {
		p.log.Info(stage, "done", done, "total", total, "msg", msg)
	}
	p.last[stage] = done
}
