package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

var keyChars = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// statePath is the checkpoint file of a key: beside the output, named
// after it.
func (s *Session) statePath(key string) (string, error) {
	if s.opts.Checkpoint == "" {
		return "", fmt.Errorf("this run keeps no checkpoints")
	}
	return s.opts.Checkpoint + "." + keyChars.ReplaceAllString(key, "_") + ".json", nil
}

// SaveState implements plugins.Host: the state is written atomically
// (temporary file, fsync, rename), so a run killed while saving keeps the
// previous checkpoint.
func (s *Session) SaveState(_ context.Context, key string, state []byte) error {
	path, err := s.statePath(key)
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
	s.mu.Lock()
	s.saved = append(s.saved, path)
	s.mu.Unlock()
	return nil
}

// LoadState implements plugins.Host: it returns a saved state only when
// the run was asked to resume.
func (s *Session) LoadState(_ context.Context, key string) ([]byte, bool, error) {
	if !s.opts.Resume {
		return nil, false, nil
	}
	path, err := s.statePath(key)
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

// RemoveCheckpoints deletes the checkpoints the run saved (after the run
// succeeded and its output is written).
func (s *Session) RemoveCheckpoints() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.saved {
		os.Remove(p)
	}
	s.saved = nil
}

// Checkpoints lists existing checkpoint files of a run (for telling the
// user about --resume).
func Checkpoints(base string) []string {
	m, _ := filepath.Glob(base + ".*.json")
	return m
}
