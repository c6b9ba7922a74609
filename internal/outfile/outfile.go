// Package outfile writes a run's output files as one group: each file is
// written to a temporary file in its destination folder, and all are
// renamed into place only once every one was written and synced. A
// failure, or an abort, removes every temporary file, so a run leaves
// either all its outputs or none of them (never a partial file).
//
// Temporary files are named ".NAME.pot-tmp-PID-RANDOM" (NAME the final
// file's name, PID the writing process). A run killed outright (SIGKILL)
// can leave only such files; CleanStale removes them on a later run.
package outfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// tmpMarker is the part of a temporary file's name after the final
// file's name.
const tmpMarker = ".pot-tmp-"

// Txn is a group of output files being written. The zero value is ready
// to use; a Txn is not safe for concurrent use.
type Txn struct {
	staged []staged
	// Wrap, when set, wraps the writer of every file (tests use it to
	// inject write failures).
	Wrap func(path string, w io.Writer) io.Writer
	// BeforeCommit, when set, runs once all files are staged, just before
	// the first rename (tests use it to stop a run at that point).
	BeforeCommit func()
}

type staged struct {
	tmp, path string
	size      int64
}

// Size is the size of the file staged for path, or -1.
func (t *Txn) Size(path string) int64 {
	for _, s := range t.staged {
		if filepath.Clean(s.path) == filepath.Clean(path) {
			return s.size
		}
	}
	return -1
}

// TempPattern is the os.CreateTemp pattern of path's temporary files.
func TempPattern(path string) string {
	return "." + filepath.Base(path) + tmpMarker + strconv.Itoa(os.Getpid()) + "-*"
}

// Stage writes a file that becomes path at Commit: fill writes its
// content to a temporary file in path's folder, which is then synced.
// On error the temporary file is removed and the error names path. The
// file keeps the permissions of an existing regular file at path, else
// 0644.
func (t *Txn) Stage(path string, fill func(io.Writer) error) error {
	for _, s := range t.staged {
		if filepath.Clean(s.path) == filepath.Clean(path) {
			return fmt.Errorf("write %s: the run writes this file twice", path)
		}
	}
	f, err := os.CreateTemp(filepath.Dir(path), TempPattern(path))
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
		mode = fi.Mode().Perm()
	}
	var w io.Writer = f
	if t.Wrap != nil {
		w = t.Wrap(path, f)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	err = fill(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	var size int64
	if err == nil {
		var fi os.FileInfo
		if fi, err = f.Stat(); err == nil {
			size = fi.Size()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	t.staged = append(t.staged, staged{tmp: tmp, path: path, size: size})
	return nil
}

// StageBytes stages a file holding b.
func (t *Txn) StageBytes(path string, b []byte) error {
	return t.Stage(path, func(w io.Writer) error { _, err := w.Write(b); return err })
}

// Abort removes every staged temporary file. It is safe to call after
// Commit (it then does nothing) and more than once.
func (t *Txn) Abort() {
	for _, s := range t.staged {
		os.Remove(s.tmp)
	}
	t.staged = nil
}

// Commit renames every staged file into place, in the order staged, and
// syncs their folders. If a rename fails, the files not yet renamed are
// removed, and so are those this Commit already put in place (an older
// file they replaced is not restored), so that no mixture of old and new
// outputs is left.
func (t *Txn) Commit() error {
	if t.BeforeCommit != nil {
		t.BeforeCommit()
	}
	defer func() { t.staged = nil }()
	dirs := map[string]bool{}
	for i, s := range t.staged {
		if err := os.Rename(s.tmp, s.path); err != nil {
			for _, r := range t.staged[i:] {
				os.Remove(r.tmp)
			}
			for _, r := range t.staged[:i] {
				os.Remove(r.path)
			}
			return fmt.Errorf("write %s: %w", s.path, err)
		}
		dirs[filepath.Dir(s.path)] = true
	}
	for d := range dirs {
		syncDir(d)
	}
	return nil
}

// syncDir makes renames durable where the platform allows syncing a
// folder; failure is not an error (the data itself is synced).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// CleanStale removes the temporary files that runs which no longer exist
// left in dir (see the package comment): those whose owning process has
// ended, or whose process id now belongs to a program other than pot. A
// temporary file of a live pot process, such as a concurrent run writing
// to the same folder, is kept. It returns the files removed; a folder
// that cannot be read is not an error (the run fails later, with a
// clearer one, if it cannot write there).
func CleanStale(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var removed []string
	for _, e := range entries {
		pid, ok := ownerPID(e.Name())
		if !ok || !e.Type().IsRegular() || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if err := os.Remove(p); err == nil || errors.Is(err, os.ErrNotExist) {
			removed = append(removed, p)
		}
	}
	return removed
}

// ownerPID parses the process id out of a temporary file's name.
func ownerPID(name string) (int, bool) {
	if !strings.HasPrefix(name, ".") {
		return 0, false
	}
	i := strings.LastIndex(name, tmpMarker)
	if i < 0 {
		return 0, false
	}
	rest := name[i+len(tmpMarker):]
	j := strings.IndexByte(rest, '-')
	if j <= 0 || j == len(rest)-1 {
		return 0, false
	}
	pid, err := strconv.Atoi(rest[:j])
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, true
}
