//go:build unix

package outfile

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// processAlive tells whether pid is a running pot process. Where /proc
// tells the program's name, a pid reused by another program counts as
// ended.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	if comm, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm"); err == nil {
		return strings.HasPrefix(strings.TrimSpace(string(comm)), "pot")
	}
	return true
}
