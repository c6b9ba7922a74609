//go:build !linux

package pluginmgr

import (
	"os"
	"os/exec"
	"time"
)

func setParentDeathSignal(*exec.Cmd) {}

// execFromFile: only Linux starts a program from an open file here.
func execFromFile(*exec.Cmd, *os.File) bool { return false }

func changeTime(info os.FileInfo) time.Time { return info.ModTime() }
