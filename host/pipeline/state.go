package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
)

var keyChars = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// checkpointStore keeps algorithm checkpoints as files BASE.KEY.json
// (Options.Checkpoint, Options.Resume) and remembers those it wrote.
type checkpointStore struct {
	base   string // "": the run keeps no checkpoints
	resume bool   // load returns what earlier runs saved

	mu    sync.Mutex
	saved []string // checkpoint files written
}

func newCheckpointStore(base string, resume bool) *checkpointStore {
	return &checkpointStore{base: base, resume: resume}
}

// path is the checkpoint file of a key: beside the output, named after
// it.
func (c *checkpointStore) path(key string) (string, error) {
	if c.base == "" {
		return "", fmt.Errorf("this run keeps no checkpoints")
	}
	return c.base + "." + keyChars.ReplaceAllString(key, "_") + ".json", nil
}

// save writes a state atomically (temporary file, fsync, rename), so a
// run killed while saving keeps the previous checkpoint.
func (c *checkpointStore) save(key string, state []byte) error {
	path, err := c.path(key)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".pot-checkpoint-*")
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(state); err != nil {
		tmp.Close()
		return fmt.Errorf("save checkpoint: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save checkpoint: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	c.mu.Lock()
	c.saved = append(c.saved, path)
	c.mu.Unlock()
	return nil
}

// load returns a saved state only when the run was asked to resume.
func (c *checkpointStore) load(key string) ([]byte, bool, error) {
	if !c.resume {
		return nil, false, nil
	}
	path, err := c.path(key)
	if err != nil {
		return nil, false, err
	}
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read checkpoint: %w", err)
	}
	return b, true, nil
}

// remove deletes the checkpoints saved.
func (c *checkpointStore) remove() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.saved {
		os.Remove(p)
	}
	c.saved = nil
}

// SaveState implements plugins.Host: the state is written atomically
// (temporary file, fsync, rename), so a run killed while saving keeps the
// previous checkpoint.
func (s *Session) SaveState(_ context.Context, key string, state []byte) error {
	return s.states.save(key, state)
}

// LoadState implements plugins.Host: it returns a saved state only when
// the run was asked to resume.
func (s *Session) LoadState(_ context.Context, key string) ([]byte, bool, error) {
	return s.states.load(key)
}

// RemoveCheckpoints deletes the checkpoints the run saved (after the run
// succeeded and its output is written).
func (s *Session) RemoveCheckpoints() {
	s.states.remove()
}

// Checkpoints lists existing checkpoint files of a run (for telling the
// user about --resume).
func Checkpoints(base string) []string {
	m, _ := filepath.Glob(base + ".*.json")
	return m
}
