// Package pluginmgr starts and supervises plugin processes for the host:
// it finds binaries, checks them against the lock file, starts them with
// go-plugin, forwards their logs, gives every call a deadline, and turns
// a plugin that dies or hangs into an error naming it with its last log
// lines.
package pluginmgr
