package pluginmgr

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal asks Linux to kill the plugin when the host's
// thread that started it dies; the SDK's parent watch covers the rest.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
