package plugins

import (
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
	bins, err := Discover([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLock(bins)
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
	if _, err := got.Checksum(KindTarget, "gpu"); err == nil || !strings.Contains(err.Error(), `target plugin "gpu" is not in the lock file`) {
		t.Errorf("missing plugin: %v", err)
	}
	if l, err := ReadLock(filepath.Join(dir, "none")); l != nil || err != nil {
		t.Errorf("missing lock file: %v, %v", l, err)
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
