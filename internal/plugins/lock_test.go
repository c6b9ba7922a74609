package plugins

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLockRoundTrip(t *testing.T) {
	dir := t.TempDir()
	touch(t, filepath.Join(dir, "pot-target-cpu"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "pot-algorithm-A"), []byte("abc"), 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := NewLock(Discover([]string{dir}).Binaries)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, LockFileName)
	if err := l.Write(path); err != nil {
		t.Fatal(err)
	}
	got, err := ReadLock(path)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := got.Checksum(KindAlgorithm, "A")
	if err != nil {
		t.Fatal(err)
	}
	// SHA-256("abc")
	if want := "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; strings.TrimSpace(hexOf(sum)) != want {
		t.Errorf("checksum %x", sum)
	}
	if _, err := got.Checksum(KindTarget, "gpu"); !errors.Is(err, ErrNotLocked) || !strings.Contains(err.Error(), `target plugin "gpu" is not in the lock file`) {
		t.Errorf("missing plugin: %v", err)
	}
	os.WriteFile(path, []byte(`{"version":1,"plugins":[{"kind":"target","name":"x","sha256":"zz"}]}`), 0o644)
	if _, err := ReadLock(path); err == nil || !strings.Contains(err.Error(), "bad sha256") {
		t.Errorf("bad checksum: %v", err)
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// A lock file that is named but does not exist is an error naming it and
// how to create it: a typo must not run unchecked plugins.
func TestReadLockOfAMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "my.lokc")
	l, err := ReadLock(path)
	if l != nil || !errors.Is(err, ErrNoLockFile) {
		t.Fatalf("ReadLock of a missing file = %v, %v; want an ErrNoLockFile", l, err)
	}
	if miss := "pot plugins lock --plugin-lock " + path; !strings.Contains(err.Error(), miss) || strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q is not one line suggesting %q", err, miss)
	}
}

// Without a named lock, pot uses ./pot-plugins.lock, else the user's
// lock file; the first that exists is in force.
func TestLockSearchPath(t *testing.T) {
	cwd, config := t.TempDir(), t.TempDir()
	t.Chdir(cwd)
	t.Setenv("XDG_CONFIG_HOME", config)
	user := filepath.Join(config, "pot", "plugins.lock")
	if got, want := strings.Join(LockSearchPath(), " "), filepath.Join(cwd, LockFileName)+" "+user; got != want {
		t.Errorf("LockSearchPath() = %s, want %s", got, want)
	}
	home := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("HOME", home)
	if got, want := UserLockPath(), filepath.Join(home, ".config", "pot", "plugins.lock"); got != want {
		t.Errorf("without XDG_CONFIG_HOME: UserLockPath() = %s, want %s", got, want)
	}
	t.Setenv("XDG_CONFIG_HOME", config)
	touch(t, user, 0o644)
	for _, tc := range []struct {
		name  string
		files []string
		want  string
	}{
		{"user lock only", nil, user},
		{"working directory first", []string{filepath.Join(cwd, LockFileName)}, filepath.Join(cwd, LockFileName)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, f := range tc.files {
				touch(t, f, 0o644)
			}
			got, err := FindLock(LockSearchPath())
			if err != nil || got != tc.want {
				t.Errorf("FindLock = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if got, err := FindLock([]string{filepath.Join(cwd, "none")}); got != "" || err != nil {
		t.Errorf("FindLock without a lock = %q, %v", got, err)
	}
}
