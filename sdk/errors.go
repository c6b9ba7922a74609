package sdk

import (
	"fmt"

	"github.com/potgo/pot/internal/plugins"
)

// Error is the structured error a plugin returns from a handler: Summary
// (one line: what went wrong), Detail (why, what to do) and Node (the
// graph node it is about). It reaches pot as a Diagnostic, and the user
// as one line naming the plugin and the node:
//
//	pot: algorithm plugin "Mine": Run: node "conv1": weights out of range; use 8 bits
//
// Any other error a handler returns becomes a summary. An error a Host
// call returns is an *Error too (errors.As finds it): return it as it
// is and pot names the plugin that failed first (another algorithm, the
// target); wrap it and the failure is yours, its text in your summary.
type Error = plugins.Error

// NodeError is an error about a node of the graph; err is the summary.
func NodeError(node string, err error) *Error { return plugins.NodeError(node, err) }

// NodeErrorf is NodeError with a formatted error (%w wraps).
func NodeErrorf(node, format string, args ...any) *Error {
	return plugins.NodeError(node, fmt.Errorf(format, args...))
}
