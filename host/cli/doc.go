// Package cli is the pot command line: quantize, eval, plugins, version
// and the tools around them. Every command that writes a file writes it
// atomically and only after the work succeeded.
package cli
