package pluginmgr

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// ring keeps the last lines a plugin wrote to stderr, for error messages.
// When the plugin crashes with a Go panic or fatal error, the lines
// before the crash and the start of the crash report are kept apart, so
// that a long stack trace cannot push them out.
type ring struct {
	mu    sync.Mutex
	lines []string
	max   int
	part  []byte
	// before and crash are set from the first "panic: " or "fatal error: "
	// line on.
	before []string
	crash  []string
}

// Shown lines: the last showLines in general; around a crash, up to
// crashBefore lines before it and crashLines of its report.
const (
	showLines   = 12
	crashBefore = 6
	crashLines  = 8
)

func newRing(n int) *ring { return &ring{max: n} }

// Write implements io.Writer (go-plugin copies the plugin's raw stderr
// here, line by line).
func (r *ring) Write(b []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range b {
		if c == '\n' {
			r.push(string(r.part))
			r.part = r.part[:0]
			continue
		}
		r.part = append(r.part, c)
	}
	return len(b), nil
}

func (r *ring) push(line string) {
	line = strings.TrimRight(line, " \t\r")
	if strings.TrimSpace(line) == "" {
		return
	}
	line = readable(line)
	switch {
	case r.crash != nil:
		if len(r.crash) < crashLines {
			r.crash = append(r.crash, strings.TrimSpace(line))
		}
	case strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: "):
		r.before = append([]string(nil), r.lines[max(0, len(r.lines)-crashBefore):]...)
		r.crash = []string{line}
	}
	r.lines = append(r.lines, line)
	if len(r.lines) > r.max {
		r.lines = r.lines[len(r.lines)-r.max:]
	}
}

// Lines returns the lines to show, oldest first.
func (r *ring) Lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.crash != nil {
		return append(append([]string(nil), r.before...), r.crash...)
	}
	lines := r.lines
	if len(r.part) > 0 {
		lines = append(append([]string(nil), lines...), readable(string(r.part)))
	}
	if len(lines) > showLines {
		lines = lines[len(lines)-showLines:]
	}
	return append([]string(nil), lines...)
}

// readable turns an hclog JSON line into "[LEVEL] message k=v ...".
func readable(line string) string {
	if !strings.HasPrefix(line, "{") {
		return line
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		return line
	}
	level, _ := m["@level"].(string)
	msg, _ := m["@message"].(string)
	var kv []string
	for k, v := range m {
		if strings.HasPrefix(k, "@") || k == "timestamp" {
			continue
		}
		kv = append(kv, fmt.Sprintf("%s=%v", k, v))
	}
	sort.Strings(kv)
	s := fmt.Sprintf("[%s] %s", strings.ToUpper(level), msg)
	if len(kv) > 0 {
		s += " " + strings.Join(kv, " ")
	}
	return s
}

// lineLogger receives what a plugin writes to its os.Stdout and os.Stderr
// after the handshake (go-plugin forwards both over its stdio stream) and
// logs it line by line under the plugin's name.
type lineLogger struct {
	log    hclog.Logger
	ring   *ring
	stdout bool
	mu     sync.Mutex
	part   []byte
}

func (w *lineLogger) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range b {
		if c != '\n' {
			w.part = append(w.part, c)
			continue
		}
		line := string(w.part)
		w.part = w.part[:0]
		if strings.TrimSpace(line) == "" {
			continue
		}
		if w.stdout {
			w.log.Warn("plugin wrote to stdout (plugins must log to stderr)", "line", line)
			w.ring.Write([]byte("[STDOUT] " + line + "\n"))
			continue
		}
		w.log.Info(line)
		w.ring.Write([]byte(line + "\n"))
	}
	return len(b), nil
}
