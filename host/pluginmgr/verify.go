package pluginmgr

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"

	"github.com/potgo/pot/internal/plugins"
)

// pinned is a plugin binary opened and checked against the lock file.
// Where the system allows it, the process is started from the open file
// itself, so that what runs is what was checked even if the path is
// replaced in between; in any case the file must not change until the
// plugin has started.
type pinned struct {
	f    *os.File
	info os.FileInfo
	bin  plugins.Binary
	lock string
	// byFD is true when cmd runs the open file (not its path).
	byFD bool
}

// verify checks bin against the lock in force and points cmd at the file
// checked. The caller closes the result once the plugin has started.
func (m *Manager) verify(bin plugins.Binary, cmd *exec.Cmd) (*pinned, error) {
	lock := m.opts.LockPath
	relock := fmt.Sprintf("to trust the plugins installed now, run `pot plugins lock --plugin-lock %s`", lock)
	want, err := m.lock.Checksum(bin.Kind, bin.Name)
	if err != nil {
		return nil, fmt.Errorf("%w %s (binary %s); refusing to run it; %s", err, lock, bin.Path, relock)
	}
	f, err := os.Open(bin.Path)
	if err != nil {
		return nil, fmt.Errorf("%s plugin %q: checksum: %w", bin.Kind, bin.Name, err)
	}
	info, err := f.Stat()
	if err == nil {
		h := sha256.New()
		if _, err = io.Copy(h, f); err == nil && !bytes.Equal(h.Sum(nil), want) {
			f.Close()
			return nil, fmt.Errorf("%s plugin %q (%s) does not match its checksum in the lock file %s: the binary changed since `pot plugins lock`; refusing to run it; if you trust the new binary, run `pot plugins lock --plugin-lock %s`",
				bin.Kind, bin.Name, bin.Path, lock, lock)
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s plugin %q: checksum of %s: %w", bin.Kind, bin.Name, bin.Path, err)
	}
	return &pinned{f: f, info: info, bin: bin, lock: lock, byFD: execFromFile(cmd, f)}, nil
}

// errChangedWhileStarting is wrapped by the error of a plugin binary that
// changed between its check and its start.
var errChangedWhileStarting = errors.New("changed while it was starting")

// started checks, once the plugin runs, that the file checked is the file
// that was started: it was not modified, and when it was started by its
// path, the path still leads to it.
func (p *pinned) started() error {
	now, err := p.f.Stat()
	same := err == nil && now.Size() == p.info.Size() && now.ModTime().Equal(p.info.ModTime()) &&
		changeTime(now).Equal(changeTime(p.info))
	if same && !p.byFD {
		at, err := os.Stat(p.bin.Path)
		same = err == nil && os.SameFile(at, now)
	}
	if !same {
		return fmt.Errorf("%s plugin %q (%s) %w, after its check against the lock file %s; refusing to run it",
			p.bin.Kind, p.bin.Name, p.bin.Path, errChangedWhileStarting, p.lock)
	}
	return nil
}

func (p *pinned) Close() { p.f.Close() }

// checkDescription asks a started plugin to describe itself and refuses
// it when the description contradicts the binary: its name must be the
// NAME of pot-KIND-NAME, and its protocol versions must include the one
// negotiated in the handshake.
func (p *Process) checkDescription(ctx context.Context, raw any) error {
	ctx, cancel := p.withTimeout(ctx)
	defer cancel()
	var (
		name   string
		protos []int32
		err    error
	)
	switch d := raw.(type) {
	case plugins.Target:
		td, derr := d.Describe(ctx)
		name, protos, err = td.GetName(), td.GetProtocolVersions(), derr
	case plugins.Algorithm:
		ad, derr := d.Describe(ctx)
		name, protos, err = ad.GetName(), ad.GetProtocolVersions(), derr
	default:
		return fmt.Errorf("%s plugin %q: unexpected plugin type %T", p.Bin.Kind, p.Bin.Name, raw)
	}
	if err != nil {
		return p.done(ctx, "Describe", err)
	}
	if name != p.Bin.Name {
		return fmt.Errorf("%s plugin %q (%s) describes itself as %q: the name in its description must be the NAME of its file %sNAME; refusing to run it",
			p.Bin.Kind, p.Bin.Name, p.Bin.Path, name, plugins.Prefix(p.Bin.Kind))
	}
	if v := p.Protocol(); !slices.Contains(protos, int32(v)) {
		return fmt.Errorf("%s plugin %q (%s) describes itself as speaking protocol versions %v, but its handshake negotiated protocol version %d; refusing to run it",
			p.Bin.Kind, p.Bin.Name, p.Bin.Path, protos, v)
	}
	return nil
}
