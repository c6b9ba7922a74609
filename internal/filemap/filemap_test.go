package filemap

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestMapReadWriteRelease(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	want := make([]byte, 3<<20)
	for i := range want {
		want[i] = byte(i * 7)
	}
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := Map(f, int64(len(want)))
	if err != nil {
		t.Fatal(err)
	}
	if b == nil {
		if runtime.GOOS == "linux" {
			t.Fatal("no mapping on linux")
		}
		t.Skip("no mappings on " + runtime.GOOS)
	}
	if string(b) != string(want) {
		t.Fatal("mapping differs from the file")
	}
	if !Mapped(b[100:200]) || Mapped(want) || Mapped(nil) {
		t.Fatal("Mapped is wrong")
	}
	// A written page survives Release (copy-on-write, never dropped), and
	// the file does not change.
	b[5] = 99
	Release(b)
	Release(want) // not mapped: nothing happens
	if b[5] != 99 || b[len(b)-1] != want[len(want)-1] || b[1<<20] != want[1<<20] {
		t.Fatal("data changed after Release")
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got[5] != want[5] {
		t.Fatal("writing the mapping changed the file")
	}
}
