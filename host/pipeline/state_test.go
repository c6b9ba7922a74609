package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCheckpointPath(t *testing.T) {
	c := newCheckpointStore("/out/lenet_int8.onnx", false)
	tests := []struct{ key, want string }{
		{"search", "/out/lenet_int8.onnx.search.json"},
		{"AccuracyAware/ranking v2", "/out/lenet_int8.onnx.AccuracyAware_ranking_v2.json"},
		{"../../etc", "/out/lenet_int8.onnx..._.._etc.json"}, // no separator survives
		{"a:b*c", "/out/lenet_int8.onnx.a_b_c.json"},
	}
	for _, tc := range tests {
		if got, err := c.path(tc.key); err != nil || got != tc.want {
			t.Errorf("path(%q) = %q, %v; want %q", tc.key, got, err, tc.want)
		}
	}
	if _, err := newCheckpointStore("", true).path("search"); err == nil || err.Error() != "this run keeps no checkpoints" {
		t.Errorf("path without a base: %v", err)
	}
}

func TestCheckpointSaveLoad(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "lenet_int8.onnx")
	ctx := context.Background()
	// A first run saves twice under one key: the second replaces the first.
	first := &Session{states: newCheckpointStore(base, false)}
	for _, state := range []string{`{"iteration":1}`, `{"iteration":2}`} {
		if err := first.SaveState(ctx, "search", []byte(state)); err != nil {
			t.Fatal(err)
		}
	}
	if err := first.SaveState(ctx, "ranking", []byte(`[3,1,2]`)); err != nil {
		t.Fatal(err)
	}
	if got := listDir(t, dir); !slices.Equal(got, []string{"lenet_int8.onnx.ranking.json", "lenet_int8.onnx.search.json"}) {
		t.Errorf("files after saving: %v (no temporary file should be left)", got)
	}
	// Without --resume the run sees no state.
	if b, ok, err := first.LoadState(ctx, "search"); b != nil || ok || err != nil {
		t.Errorf("LoadState without resume = %q, %v, %v", b, ok, err)
	}
	// A resumed run reads the last state saved, and nothing for a key
	// never saved.
	resumed := &Session{states: newCheckpointStore(base, true)}
	tests := []struct {
		key  string
		want string
		ok   bool
	}{{"search", `{"iteration":2}`, true}, {"ranking", `[3,1,2]`, true}, {"other", "", false}}
	for _, tc := range tests {
		b, ok, err := resumed.LoadState(ctx, tc.key)
		if err != nil || ok != tc.ok || string(b) != tc.want {
			t.Errorf("LoadState(%q) = %q, %v, %v; want %q, %v", tc.key, b, ok, err, tc.want, tc.ok)
		}
	}
	if got := Checkpoints(base); len(got) != 2 {
		t.Errorf("Checkpoints = %v, want the two saved", got)
	}
	// Only what a run saved goes when it succeeds: the resumed run saved
	// nothing yet, the first run both.
	resumed.RemoveCheckpoints()
	if got := Checkpoints(base); len(got) != 2 {
		t.Errorf("Checkpoints after the resumed run removed its own = %v, want 2", got)
	}
	first.RemoveCheckpoints()
	if got := listDir(t, dir); len(got) != 0 {
		t.Errorf("files left after RemoveCheckpoints: %v", got)
	}
	first.RemoveCheckpoints() // twice is harmless
}

func TestCheckpointErrors(t *testing.T) {
	ctx := context.Background()
	none := &Session{states: newCheckpointStore("", true)}
	if err := none.SaveState(ctx, "search", []byte("{}")); err == nil || err.Error() != "this run keeps no checkpoints" {
		t.Errorf("SaveState without checkpoints: %v", err)
	}
	if _, _, err := none.LoadState(ctx, "search"); err == nil {
		t.Error("LoadState with --resume but no checkpoints: no error")
	}
	dir := t.TempDir()
	missing := &Session{states: newCheckpointStore(filepath.Join(dir, "gone", "model.onnx"), true)}
	if err := missing.SaveState(ctx, "search", []byte("{}")); err == nil || !strings.HasPrefix(err.Error(), "save checkpoint: ") {
		t.Errorf("SaveState into a missing folder: %v", err)
	}
	// A checkpoint that cannot be read (a folder in its place) is an
	// error, not a missing state.
	base := filepath.Join(dir, "model.onnx")
	if err := os.Mkdir(base+".search.json", 0o755); err != nil {
		t.Fatal(err)
	}
	if _, _, err := (&Session{states: newCheckpointStore(base, true)}).LoadState(ctx, "search"); err == nil || !strings.HasPrefix(err.Error(), "read checkpoint: ") {
		t.Errorf("LoadState of a folder: %v", err)
	}
	if got := listDir(t, dir); !slices.Equal(got, []string{"model.onnx.search.json"}) {
		t.Errorf("files after failures: %v", got)
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
