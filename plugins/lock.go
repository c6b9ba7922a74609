package plugins

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
)

// LockFileName is the default name of the lock file, looked up in the
// working directory.
const LockFileName = "pot-plugins.lock"

// Lock records the SHA-256 checksum of each trusted plugin binary.
type Lock struct {
	Version int         `json:"version"`
	Plugins []LockEntry `json:"plugins"`
}

// LockEntry is one trusted binary.
type LockEntry struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// FileSHA256 returns the hex SHA-256 of a file.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// NewLock computes the checksums of binaries.
func NewLock(bins []Binary) (*Lock, error) {
	l := &Lock{Version: 1}
	for _, b := range bins {
		sum, err := FileSHA256(b.Path)
		if err != nil {
			return nil, fmt.Errorf("checksum %s: %w", b.Path, err)
		}
		l.Plugins = append(l.Plugins, LockEntry{Kind: b.Kind, Name: b.Name, Path: b.Path, SHA256: sum})
	}
	sort.Slice(l.Plugins, func(i, j int) bool {
		a, b := l.Plugins[i], l.Plugins[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Name < b.Name
	})
	return l, nil
}

// Write saves the lock atomically.
func (l *Lock) Write(path string) error {
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".pot-lock-*")
	if err != nil {
		return fmt.Errorf("write lock file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write lock file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write lock file: %w", err)
	}
	return os.Rename(tmp.Name(), path)
}

// ReadLock reads a lock file; a missing file gives (nil, nil).
func ReadLock(path string) (*Lock, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read lock file: %w", err)
	}
	var l Lock
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("lock file %s: %w", path, err)
	}
	for _, e := range l.Plugins {
		if _, err := hex.DecodeString(e.SHA256); err != nil || len(e.SHA256) != 64 {
			return nil, fmt.Errorf("lock file %s: %s plugin %q: bad sha256 %q", path, e.Kind, e.Name, e.SHA256)
		}
	}
	return &l, nil
}

// Checksum returns the recorded checksum of a plugin, or an error when
// the lock does not list it.
func (l *Lock) Checksum(kind, name string) ([]byte, error) {
	for _, e := range l.Plugins {
		if e.Kind == kind && e.Name == name {
			return hex.DecodeString(e.SHA256)
		}
	}
	return nil, fmt.Errorf("%s plugin %q is not in the lock file; run `pot plugins lock` to trust the plugins installed now", kind, name)
}
