package pluginmgr

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// setParentDeathSignal asks Linux to kill the plugin when the host's
// thread that started it dies; the SDK's parent watch covers the rest.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// execFromFile points cmd at the open file f (through /proc/self/fd, as
// fexecve does) when f is an ELF executable, and reports whether it did;
// argv[0] stays the plugin's path. A script is started by its path: its
// interpreter opens it by name after the open file is closed.
func execFromFile(cmd *exec.Cmd, f *os.File) bool {
	var magic [4]byte
	if _, err := f.ReadAt(magic[:], 0); err != nil || string(magic[:]) != "\x7fELF" {
		return false
	}
	fd := fmt.Sprintf("/proc/self/fd/%d", f.Fd())
	if _, err := os.Stat(fd); err != nil {
		return false
	}
	cmd.Path = fd
	return true
}

// changeTime is the inode's change time, which every write, chmod or
// rename of the file moves.
func changeTime(info os.FileInfo) time.Time {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return time.Unix(st.Ctim.Sec, st.Ctim.Nsec)
	}
	return info.ModTime()
}
