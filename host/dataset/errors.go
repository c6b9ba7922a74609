package dataset

import (
	"fmt"

	"github.com/agnivade/levenshtein"
)

// kindError is an error of one of the sentinel kinds (ErrDescriptor,
// ErrEmpty, ...) whose message does not repeat the sentinel's text.
type kindError struct {
	kind  error
	msg   string
	cause error
}

func (e *kindError) Error() string {
	if e.cause != nil {
		return e.msg + ": " + e.cause.Error()
	}
	return e.msg
}

func (e *kindError) Unwrap() []error {
	if e.cause != nil {
		return []error{e.kind, e.cause}
	}
	return []error{e.kind}
}

// errorf returns an error of the given kind with a formatted message.
func errorf(kind error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// wrapf returns an error of the given kind with a formatted message,
// followed by and wrapping cause.
func wrapf(kind, cause error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...), cause: cause}
}

// nearest returns the candidate closest to s by Levenshtein distance, if
// it is close enough to be a plausible typo.
func nearest(s string, candidates []string) (string, bool) {
	best, bestD := "", -1
	for _, c := range candidates {
		d := levenshtein.ComputeDistance(s, c)
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD < 0 || bestD > max(2, len(s)/3) {
		return "", false
	}
	return best, true
}

// Suggest formats a " (did you mean %q?)" hint naming the candidate
// closest to s, or returns "" when none is close.
func Suggest(s string, candidates []string) string { return suggest(s, candidates) }

// suggest formats a " (did you mean %q?)" hint, or "" without a close
// candidate.
func suggest(s string, candidates []string) string {
	if c, ok := nearest(s, candidates); ok {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return ""
}
