package pluginmgr

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// ring keeps the last lines a plugin wrote to stderr, for error messages.
type ring struct {
	mu    sync.Mutex
	lines []string
	max   int
	part  []byte
}

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
	line = strings.TrimSpace(line)
	if line == "" {
		return
	}
	r.lines = append(r.lines, readable(line))
	if len(r.lines) > r.max {
		r.lines = r.lines[len(r.lines)-r.max:]
	}
}

// Lines returns the kept lines, oldest first; at most the last 12.
func (r *ring) Lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	lines := r.lines
	if r.part != nil && len(r.part) > 0 {
		lines = append(append([]string(nil), lines...), readable(string(r.part)))
	}
	if len(lines) > 12 {
		lines = lines[len(lines)-12:]
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
		if strings.HasPrefix(k, "@") {
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
