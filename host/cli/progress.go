package cli

import (
	"github.com/potgo/pot/host/progress"
)

// newProgress reports long stages: bars on a terminal, else log lines
// at info level.
func newProgress(g *globals) *progress.Reporter {
	return progress.New(progress.Options{Writer: g.stderr, Bars: g.progressBar, Logger: g.logger()})
}
