package progress

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

func TestBarsOnTerminal(t *testing.T) {
	var buf bytes.Buffer
	yes := true
	r := New(Options{Writer: &buf, Bars: true, Terminal: &yes})
	if !r.Bars() {
		t.Fatal("no bars on a terminal")
	}
	r.Update("statistics", 0, 1000, "")
	time.Sleep(150 * time.Millisecond) // past the bar's throttle
	r.Update("statistics", 400, 1000, "")
	time.Sleep(150 * time.Millisecond)
	r.Update("statistics", 1000, 1000, "")
	out := buf.String()
	for _, want := range []string{"statistics", "400/1000", "1000/1000", "samples/s", "100%"} {
		if !strings.Contains(out, want) {
			t.Errorf("bar output lacks %q:\n%q", want, out)
		}
	}
	// The time estimate is drawn as [elapsed:left].
	if !regexp.MustCompile(`\[\d+s:\d+s\]`).MatchString(out) {
		t.Errorf("bar output has no [elapsed:left] estimate:\n%q", out)
	}
	if !strings.HasSuffix(out, "\n") {
		t.Errorf("finished bar does not end its line: %q", out)
	}
}

func TestLinesWhenNotTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	var logs bytes.Buffer
	log := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Info})
	p := New(Options{Writer: w, Bars: true, Logger: log, Interval: time.Nanosecond})
	if p.Bars() {
		t.Fatal("bars drawn into a pipe")
	}
	p.Update("evaluate", 0, 100, "")
	time.Sleep(2 * time.Millisecond)
	p.Update("evaluate", 50, 100, "")
	p.Update("evaluate", 100, 100, "")
	out := logs.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d log lines, want start, progress and end:\n%s", len(lines), out)
	}
	for i, want := range []string{"evaluate: started", "percent=50", "evaluate: done"} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d = %q, want %q", i, lines[i], want)
		}
	}
	if !strings.Contains(lines[1], "eta=") || !strings.Contains(lines[1], "per_second=") {
		t.Errorf("progress line lacks rate or ETA: %q", lines[1])
	}
	if strings.ContainsAny(out, "\r\x1b") {
		t.Errorf("control characters in log lines: %q", out)
	}
}

func TestLinesAreThrottled(t *testing.T) {
	var logs bytes.Buffer
	no := false
	log := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Info})
	p := New(Options{Bars: true, Terminal: &no, Logger: log, Interval: time.Hour})
	for i := int64(0); i <= 1000; i++ {
		p.Update("statistics", i, 1000, "")
	}
	if n := strings.Count(logs.String(), "\n"); n != 2 {
		t.Errorf("%d lines for one stage within the interval, want 2 (start, end):\n%s", n, logs.String())
	}
}

func TestInterleavedStagesAndClose(t *testing.T) {
	var buf bytes.Buffer
	yes := true
	p := New(Options{Writer: &buf, Bars: true, Terminal: &yes})
	p.Update("iteration", 0, 5, "")
	p.Update("evaluate", 0, 10, "")
	p.Update("evaluate", 10, 10, "")
	time.Sleep(150 * time.Millisecond) // past the bar's throttle
	p.Update("iteration", 1, 5, "reverted conv1")
	p.Close()
	if len(p.stages) != 0 {
		t.Errorf("stages left after Close: %v", p.stages)
	}
	if !strings.Contains(buf.String(), "reverted conv1") {
		t.Errorf("message not drawn: %q", buf.String())
	}
}

// A stage's message appears in its log lines when it has one, and an
// empty one leaves no msg="" behind.
func TestLinesShowOnlyNonEmptyMessages(t *testing.T) {
	tests := []struct {
		name, msg string
		want      string // in every line; "" means no msg= at all
	}{
		{"empty", "", ""},
		{"given", "layer conv1", `msg="layer conv1"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			no := false
			log := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Info})
			p := New(Options{Bars: true, Terminal: &no, Logger: log, Interval: time.Nanosecond})
			p.Update("statistics", 0, 10, tc.msg)
			time.Sleep(2 * time.Millisecond)
			p.Update("statistics", 5, 10, tc.msg)
			p.Update("statistics", 10, 10, tc.msg)
			lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
			if len(lines) != 3 {
				t.Fatalf("%d log lines, want start, progress and end:\n%s", len(lines), logs.String())
			}
			for i, l := range lines {
				if tc.want == "" && strings.Contains(l, "msg=") {
					t.Errorf("line %d has a msg without a message: %q", i, l)
				}
				if tc.want != "" && !strings.Contains(l, tc.want) {
					t.Errorf("line %d lacks %s: %q", i, tc.want, l)
				}
			}
		})
	}
}
