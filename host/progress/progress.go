// Package progress shows the progress of pot's long stages (reading
// data, statistics collection, evaluation, algorithm iterations): a
// progress bar with count, rate and estimated time left on stderr when
// stderr is a terminal, and plain log lines otherwise (logs, CI, pipes),
// so that no control characters reach a file.
package progress

import (
	"io"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Options of a Reporter.
type Options struct {
	// Writer receives the bars; default os.Stderr.
	Writer io.Writer
	// Bars allows bars; false always logs lines.
	Bars bool
	// Terminal overrides terminal detection of Writer (nil: detect).
	Terminal *bool
	// Logger receives the plain lines (at Info); default a null logger.
	Logger hclog.Logger
	// Interval is the least time between two plain lines of one stage
	// (start and end are always logged); default 10 s.
	Interval time.Duration
}

// Reporter implements the pipeline's Progress interface. It is safe for
// concurrent use.
type Reporter struct {
	opts   Options
	bars   bool
	mu     sync.Mutex
	stages map[string]*stage
	active string // stage whose bar is on screen
}

type stage struct {
	start    time.Time
	lastLine time.Time
	total    int64
	bar      *progressbar.ProgressBar
}

// New returns a Reporter that draws bars when opts.Bars is set and the
// writer is a terminal, else logs lines.
func New(opts Options) *Reporter {
	if opts.Writer == nil {
		opts.Writer = os.Stderr
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.Interval == 0 {
		opts.Interval = 10 * time.Second
	}
	tty := false
	if opts.Terminal != nil {
		tty = *opts.Terminal
	} else {
		tty = IsTerminal(opts.Writer)
	}
	return &Reporter{opts: opts, bars: opts.Bars && tty, stages: map[string]*stage{}}
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Bars reports whether the Reporter draws bars.
func (r *Reporter) Bars() bool { return r.bars }

// Update reports done of total units of a stage (total 0: unknown). A
// stage ends when done == total.
func (r *Reporter) Update(name string, done, total int64, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	st, ok := r.stages[name]
	if !ok || (done == 0 && st.total == 0 && total > 0) {
		st = &stage{start: now, total: total}
		r.stages[name] = st
		if !r.bars {
			r.opts.Logger.Info(name+": started", withMsg([]any{"total", total}, msg)...)
			st.lastLine = now
		}
	}
	if total > 0 {
		st.total = total
	}
	finished := total > 0 && done >= total
	if r.bars {
		r.draw(name, st, done, msg, finished)
	} else {
		r.line(name, st, now, done, msg, finished)
	}
	if finished {
		delete(r.stages, name)
	}
}

// draw updates the stage's bar, clearing another stage's bar first.
func (r *Reporter) draw(name string, st *stage, done int64, msg string, finished bool) {
	if r.active != name {
		if other, ok := r.stages[r.active]; ok && other.bar != nil {
			_ = other.bar.Clear()
		}
		r.active = name
	}
	desc := name
	if msg != "" {
		desc += " (" + msg + ")"
	}
	if st.bar == nil {
		max := st.total
		if max <= 0 {
			max = -1 // a spinner
		}
		st.bar = progressbar.NewOptions64(max,
			progressbar.OptionSetWriter(r.opts.Writer),
			progressbar.OptionSetDescription(desc),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("samples"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionThrottle(100*time.Millisecond),
		)
	} else {
		st.bar.Describe(desc)
		if st.total > 0 && st.bar.GetMax64() != st.total {
			st.bar.ChangeMax64(st.total)
		}
	}
	_ = st.bar.Set64(done)
	if finished {
		_ = st.bar.Finish()
		_, _ = io.WriteString(r.opts.Writer, "\n")
		r.active = ""
	}
}

// line logs the stage at its start, its end and at most every Interval.
func (r *Reporter) line(name string, st *stage, now time.Time, done int64, msg string, finished bool) {
	elapsed := now.Sub(st.start)
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(done) / s
	}
	switch {
	case finished:
		r.opts.Logger.Info(name+": done", withMsg([]any{"count", done, "seconds", round(elapsed.Seconds()), "per_second", round(rate)}, msg)...)
	case now.Sub(st.lastLine) >= r.opts.Interval:
		st.lastLine = now
		args := []any{"done", done, "total", st.total, "per_second", round(rate)}
		if st.total > 0 && rate > 0 {
			left := time.Duration(float64(st.total-done) / rate * float64(time.Second))
			args = append(args, "percent", round(100*float64(done)/float64(st.total)), "eta", left.Round(time.Second).String())
		}
		r.opts.Logger.Info(name, withMsg(args, msg)...)
	}
}

// withMsg adds the stage's message to log arguments when there is one
// (an empty one would print msg="").
func withMsg(args []any, msg string) []any {
	if msg != "" {
		args = append(args, "msg", msg)
	}
	return args
}

func round(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }

// Close ends every bar still drawn (an interrupted run).
func (r *Reporter) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, st := range r.stages {
		if st.bar != nil {
			_ = st.bar.Exit()
		}
		delete(r.stages, name)
	}
}
