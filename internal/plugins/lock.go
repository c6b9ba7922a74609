package plugins

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// LockFileName is the name of a lock file in the working directory, the
// first place pot looks for one.
const LockFileName = "pot-plugins.lock"

// LockEnv names a lock file, like --plugin-lock.
const LockEnv = "POT_PLUGIN_LOCK"

// ErrNoLockFile is wrapped by the error of ReadLock for a file that does
// not exist.
var ErrNoLockFile = errors.New("lock file does not exist")

// ErrNotLocked is wrapped by the error of Lock.Checksum for a plugin the
// lock does not list.
var ErrNotLocked = errors.New("not in the lock file")

// UserLockPath is the user's lock file, $XDG_CONFIG_HOME/pot/plugins.lock
// (~/.config/pot/plugins.lock by default), or "" without a home folder.
func UserLockPath() string {
	config := os.Getenv("XDG_CONFIG_HOME")
	if config == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		config = filepath.Join(home, ".config")
	}
	return filepath.Join(config, "pot", "plugins.lock")
}

// LockSearchPath lists where pot looks for a lock file when none is
// named, in order: pot-plugins.lock in the working directory, then the
// user's lock file (UserLockPath). The first that exists is in force.
func LockSearchPath() []string {
	var paths []string
	if abs, err := filepath.Abs(LockFileName); err == nil {
		paths = append(paths, abs)
	}
	if user := UserLockPath(); user != "" {
		paths = append(paths, user)
	}
	return paths
}

// FindLock returns the first of paths that exists, or "" when none does.
// A path that cannot be checked is an error: a lock must not be skipped
// because it could not be seen.
func FindLock(paths []string) (string, error) {
	for _, p := range paths {
		_, err := os.Stat(p)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("look for a lock file: %w", err)
		}
	}
	return "", nil
}

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

// ReadLock reads a lock file. A missing file is an error wrapping
// ErrNoLockFile.
func ReadLock(path string) (*Lock, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s; to trust the plugins installed now, run `pot plugins lock --plugin-lock %s`", ErrNoLockFile, path, path)
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
	return nil, fmt.Errorf("%s plugin %q is %w", kind, name, ErrNotLocked)
}
