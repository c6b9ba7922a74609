//go:build !linux

package pluginmgr

import "os/exec"

func setParentDeathSignal(*exec.Cmd) {}
