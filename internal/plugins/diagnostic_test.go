package plugins

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/potv1"
)

func TestErrorText(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"summary", &Error{Summary: "bad"}, "bad"},
		{"cause as summary", &Error{Err: errors.New("cause")}, "cause"},
		{"node", &Error{Summary: "bad", Node: "conv1"}, `node "conv1": bad`},
		{"node already named", &Error{Summary: `node "conv1" (Conv): bad`, Node: "conv1"}, `node "conv1" (Conv): bad`},
		{"detail", &Error{Summary: "bad", Detail: "use 8 bits", Node: "c"}, `node "c": bad; use 8 bits`},
		{"origin", &Error{Summary: "bad", Node: "c", Kind: "algorithm", Name: "X", Call: "Run"}, `algorithm plugin "X": Run: node "c": bad`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestDiagnosticRoundTrip sends errors through StatusError and
// FromStatus as a handler's error and its caller's: the caller gets a
// clean *Error with the node, the origin of an error passed on
// unchanged, and the status code.
func TestDiagnosticRoundTrip(t *testing.T) {
	relayed := FromStatus(StatusError(&Error{Summary: "bad", Node: "c", Kind: "algorithm", Name: "Inner", Call: "Run"}))
	tests := []struct {
		name string
		err  error
		want *potv1.Diagnostic
		text string
		code codes.Code
	}{
		{"plain error", errors.New("out of memory"), &potv1.Diagnostic{Summary: "out of memory"}, "out of memory", codes.Unknown},
		{"structured", &Error{Summary: "bad", Detail: "why", Node: "c"}, &potv1.Diagnostic{Summary: "bad", Detail: "why", Node: "c"},
			`node "c": bad; why`, codes.Unknown},
		{"node error", NodeError("c", fmt.Errorf("range: %w", errors.New("inf"))), &potv1.Diagnostic{Summary: "range: inf", Node: "c"},
			`node "c": range: inf`, codes.Unknown},
		{"wrapped: the wrapper's failure", fmt.Errorf("align: %w", &Error{Summary: "bad", Node: "c", Detail: "why"}),
			&potv1.Diagnostic{Summary: `align: node "c": bad; why`, Node: "c"}, `align: node "c": bad; why`, codes.Unknown},
		{"passed on unchanged", relayed, &potv1.Diagnostic{Summary: "bad", Node: "c", PluginKind: "algorithm", PluginName: "Inner", Call: "Run"},
			`algorithm plugin "Inner": Run: node "c": bad`, codes.Unknown},
		{"cancelled", fmt.Errorf("evaluate: %w", context.Canceled), &potv1.Diagnostic{Summary: "evaluate: context canceled"},
			"evaluate: context canceled", codes.Canceled},
		{"status of another call", status.Error(codes.Unimplemented, "method Foo not implemented"),
			&potv1.Diagnostic{Summary: "method Foo not implemented"}, "method Foo not implemented", codes.Unimplemented},
		{"an error naming its node", fmt.Errorf("infer: %w", &nodeErr{"If_1", &nodeErr{"Mul_93", errors.New("inf")}}),
			&potv1.Diagnostic{Summary: `infer: node "If_1": node "Mul_93": inf`, Node: "Mul_93"}, `infer: node "If_1": node "Mul_93": inf`, codes.Unknown},
		{"nested message of an older peer", errors.New("rpc error: code = Unknown desc = inner failed"),
			&potv1.Diagnostic{Summary: "inner failed"}, "inner failed", codes.Unknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			serr := StatusError(tc.err)
			st := status.Convert(serr)
			if st.Code() != tc.code || st.Message() != tc.text {
				t.Errorf("status %v %q, want %v %q", st.Code(), st.Message(), tc.code, tc.text)
			}
			got := FromStatus(serr)
			var e *Error
			if !errors.As(got, &e) {
				t.Fatalf("FromStatus = %T %v, want an *Error", got, got)
			}
			if !proto.Equal(Diagnostic(e), tc.want) {
				t.Errorf("diagnostic %v, want %v", Diagnostic(e), tc.want)
			}
			if got.Error() != tc.text {
				t.Errorf("received %q, want %q", got.Error(), tc.text)
			}
			if status.Code(got) != tc.code {
				t.Errorf("code %v, want %v", status.Code(got), tc.code)
			}
		})
	}
}

func TestFromStatusOlderPeer(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string // "" when returned as it is
	}{
		{"nil", nil, ""},
		{"not a status", errors.New("local"), ""},
		{"plain failure", status.Error(codes.Unknown, "rpc error: code = Unknown desc = weights of c: no"), "weights of c: no"},
		{"panic", status.Error(codes.Internal, "plugin panicked in Run: boom"), "plugin panicked in Run: boom"},
		{"connection lost", status.Error(codes.Unavailable, "connection closed"), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := FromStatus(tc.err)
			if tc.want == "" {
				if got != tc.err {
					t.Errorf("FromStatus = %v, want the error as it is", got)
				}
				return
			}
			if e, ok := got.(*Error); !ok || e.Error() != tc.want || status.Code(got) != status.Code(tc.err) {
				t.Errorf("FromStatus = %T %v (code %v), want %q", got, got, status.Code(got), tc.want)
			}
		})
	}
}

// nodeErr is an error of a node outside the SDK (as a target's runtime's).
type nodeErr struct {
	node string
	err  error
}

func (e *nodeErr) Error() string { return fmt.Sprintf("node %q: %v", e.node, e.err) }
func (e *nodeErr) Unwrap() error { return e.err }
func (e *nodeErr) Node() string  { return e.node }
