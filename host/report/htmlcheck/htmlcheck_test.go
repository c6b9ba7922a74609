package htmlcheck

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDetectsConsoleErrors is the control of every use of Load: a page
// that logs an error and throws must be seen doing so.
func TestDetectsConsoleErrors(t *testing.T) {
	browser := Find()
	if browser == "" {
		t.Skip("no Chromium installed (apt-get install chromium); skipping the browser check")
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.html")
	good := filepath.Join(dir, "good.html")
	os.WriteFile(bad, []byte(`<!DOCTYPE html><html><head><link rel="icon" href="data:,"><title>bad</title></head>
<body><p id="x">x</p><script>console.error("marker-42"); notDefined();</script></body></html>`), 0o644)
	os.WriteFile(good, []byte(`<!DOCTYPE html><html><head><link rel="icon" href="data:,"><title>good</title></head>
<body><p id="y">fine</p></body></html>`), 0o644)
	res, err := Load(context.Background(), browser, bad)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(res.Console, "\n")
	if len(res.Console) != 2 || !strings.Contains(joined, "marker-42") || !strings.Contains(joined, "notDefined") {
		t.Errorf("console of the bad page = %q, want the error and the exception", res.Console)
	}
	res, err = Load(context.Background(), browser, good)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Console) != 0 || !strings.Contains(res.DOM, `<p id="y">fine</p>`) {
		t.Errorf("good page: console %q, DOM %q", res.Console, res.DOM)
	}
}
