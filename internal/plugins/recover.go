package plugins

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// panicLog writes to the process's real stderr, captured before
// go-plugin's Serve redirects os.Stderr to its stdio stream, in hclog's
// JSON form so that the host shows the line under the plugin's name.
var panicLog = hclog.New(&hclog.LoggerOptions{Output: os.Stderr, JSONFormat: true, Level: hclog.Error})

// recoverUnary turns a panic in a plugin's handler into an Internal error
// carrying the panic value, so that no panic crosses the plugin boundary.
// The stack goes to the plugin's stderr (and so to the host's log).
func recoverUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError(info.FullMethod, r)
		}
	}()
	return h(ctx, req)
}

func recoverStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError(info.FullMethod, r)
		}
	}()
	return h(srv, ss)
}

func panicError(method string, r any) error {
	panicLog.Error("panic in a plugin handler", "method", method, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	return status.Errorf(codes.Internal, "plugin panicked in %s: %v", method, r)
}
