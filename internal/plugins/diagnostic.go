package plugins

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/potgo/pot/proto/potv1"
)

// Error is the structured error of a plugin call: what went wrong
// (Summary), why and what to do (Detail), and the graph node it is about
// (Node). A handler that returns one has it cross the wire as a
// potv1.Diagnostic in the details of the gRPC status; a handler that
// returns any other error has its text as the summary (and as the node
// the one an error of its chain names with a method Node() string). The caller gets
// an *Error back, with a clean message (no "rpc error: code = ...").
//
// Kind, Name and Call name the plugin that failed first when the error
// passed through others: the host sets them on the error of a plugin it
// ran for another (RunAlgorithm, or a target call an algorithm asked
// for), and they survive an algorithm returning the error unchanged.
// Plugins leave them empty.
type Error struct {
	Summary string
	Detail  string
	Node    string

	Kind, Name, Call string

	// Err is the cause, on the side that made the error. It does not
	// cross the wire; when Summary is empty its text is the summary.
	Err error

	// status is the gRPC status a received error was decoded from.
	status *status.Status
}

// NodeError is an error about one node of the graph.
func NodeError(node string, err error) *Error {
	return &Error{Node: node, Err: err}
}

// Error renders the error on one line but for a multi-line detail:
// [KIND plugin "NAME": CALL: ][node "NODE": ]SUMMARY[; DETAIL]. The node is
// left out when the summary names it already.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Name != "" {
		fmt.Fprintf(&b, "%s plugin %q: ", e.Kind, e.Name)
		if e.Call != "" {
			b.WriteString(e.Call + ": ")
		}
	}
	sum := e.summary()
	if node := fmt.Sprintf("node %q", e.Node); e.Node != "" && !strings.Contains(sum, node) {
		b.WriteString(node + ": ")
	}
	b.WriteString(sum)
	if e.Detail != "" {
		b.WriteString("; " + e.Detail)
	}
	return b.String()
}

func (e *Error) summary() string {
	if e.Summary == "" && e.Err != nil {
		return e.Err.Error()
	}
	return e.Summary
}

func (e *Error) Unwrap() error { return e.Err }

// GRPCStatus is the status a received error came with (its code, for
// status.Code); for an error made here, codes.Unknown.
func (e *Error) GRPCStatus() *status.Status {
	if e.status != nil {
		return e.status
	}
	return status.New(codes.Unknown, e.Error())
}

// Diagnostic is the wire form of err.
func Diagnostic(err error) *potv1.Diagnostic {
	var e *Error
	if !errors.As(err, &e) {
		return &potv1.Diagnostic{Summary: CleanMessage(err.Error()), Node: nodeOf(err)}
	}
	if err.Error() != e.Error() {
		// Context added around it: the whole text is the summary, the
		// failure is the plugin's own.
		return &potv1.Diagnostic{Summary: CleanMessage(err.Error()), Node: e.Node}
	}
	return &potv1.Diagnostic{Summary: CleanMessage(e.summary()), Detail: e.Detail, Node: e.Node,
		PluginKind: e.Kind, PluginName: e.Name, Call: e.Call}
}

// nodeOf is the node named by the innermost error of err's chain that
// has a method Node() string (such as a runtime's error of one node
// inside a control-flow node's), or "".
func nodeOf(err error) string {
	node := ""
	for ; err != nil; err = errors.Unwrap(err) {
		if n, ok := err.(interface{ Node() string }); ok && n.Node() != "" {
			node = n.Node()
		}
	}
	return node
}

// StatusError is the gRPC status error a handler's err becomes: the code
// of a status err carries (a context error's code; else Unknown), a
// Diagnostic in the details, and as the message the rendered diagnostic,
// for peers that read only the message.
func StatusError(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) && e == err && e.status != nil && len(e.status.Details()) > 0 {
		return e.status.Err() // passed on unchanged
	}
	code := codes.Unknown
	var gs interface{ GRPCStatus() *status.Status }
	switch {
	case errors.As(err, &gs) && gs.GRPCStatus() != nil:
		code = gs.GRPCStatus().Code()
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	}
	d := Diagnostic(err)
	st, serr := status.New(code, diagnosticError(d).Error()).WithDetails(d)
	if serr != nil {
		return status.Error(code, diagnosticError(d).Error())
	}
	return st.Err()
}

// FromStatus turns the error of a call into an *Error when it is a gRPC
// status with a Diagnostic, or, from a peer of an older SDK, a plain
// failure (codes Unknown and Internal) whose message becomes the
// summary. Other errors (the connection's) are returned as they are.
func FromStatus(err error) error {
	if _, ok := err.(interface{ GRPCStatus() *status.Status }); !ok {
		return err
	}
	if _, ok := err.(*Error); ok {
		return err
	}
	s := status.Convert(err)
	for _, det := range s.Details() {
		if d, ok := det.(*potv1.Diagnostic); ok {
			e := diagnosticError(d)
			e.status = s
			return e
		}
	}
	if c := s.Code(); c == codes.Unknown || c == codes.Internal {
		return &Error{Summary: CleanMessage(s.Message()), status: s}
	}
	return err
}

func diagnosticError(d *potv1.Diagnostic) *Error {
	return &Error{Summary: d.GetSummary(), Detail: d.GetDetail(), Node: d.GetNode(),
		Kind: d.GetPluginKind(), Name: d.GetPluginName(), Call: d.GetCall()}
}

// rpcPrefix is how gRPC-Go prints a status error.
var rpcPrefix = regexp.MustCompile(`rpc error: code = [A-Za-z]+ desc = `)

// CleanMessage removes gRPC's "rpc error: code = X desc = " from a message
// (errors of older peers nest them).
func CleanMessage(s string) string { return rpcPrefix.ReplaceAllString(s, "") }

// diagnoseUnary and diagnoseStream turn every handler error into a status
// with a Diagnostic (StatusError).
func diagnoseUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	resp, err := h(ctx, req)
	return resp, StatusError(err)
}

func diagnoseStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	return StatusError(h(srv, ss))
}
