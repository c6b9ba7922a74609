// Package htmlcheck opens an HTML file in headless Chromium and returns
// what the page logged to its console (errors, warnings, uncaught
// exceptions) and its DOM, so that tests can assert that a generated page
// loads cleanly in a real browser.
package htmlcheck

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Candidates are the browser binaries looked for, in order ($CHROMIUM
// first when set).
var Candidates = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Find returns the path of a Chromium binary, or "" when none is
// installed.
func Find() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	for _, c := range Candidates {
		if path, err := exec.LookPath(c); err == nil {
			return path
		}
	}
	return ""
}

// Result of loading a page.
type Result struct {
	// Console holds the page's console messages, one per entry.
	Console []string
	// DOM is the serialized document after load.
	DOM string
}

// consoleLine matches Chromium's log lines of console messages:
// [pid:tid:date:INFO:CONSOLE(12)] "message", source: file:///x.html (12)
// (newer builds write CONSOLE:12] instead).
var consoleLine = regexp.MustCompile(`:CONSOLE[:(]\d*\)?\] (.*)`)

// Load opens the HTML file at path in headless Chromium (the binary at
// browser) and returns its console messages and DOM.
func Load(ctx context.Context, browser, path string) (*Result, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	profile, err := os.MkdirTemp("", "htmlcheck-profile-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(profile)
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	u := url.URL{Scheme: "file", Path: abs}
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-extensions", "--no-first-run",
		"--user-data-dir="+profile, "--enable-logging=stderr", "--v=0",
		"--virtual-time-budget=2000", "--dump-dom", u.String())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %w: %s", browser, err, lastLines(stderr.String(), 5))
	}
	res := &Result{DOM: stdout.String()}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if m := consoleLine.FindStringSubmatch(line); m != nil {
			res.Console = append(res.Console, m[1])
		}
	}
	if !strings.Contains(res.DOM, "<html") {
		return nil, fmt.Errorf("%s printed no DOM for %s: %s", browser, path, lastLines(stderr.String(), 5))
	}
	return res, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " | ")
}
