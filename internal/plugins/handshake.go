package plugins

import (
	"math"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// ProtocolVersion is the major version of the graph protocol this build
// speaks. It is the N of the protobuf package pot.vN and the key of
// go-plugin's VersionedPlugins.
const ProtocolVersion = 1

// Plugin kinds, which are also the names in a go-plugin plugin set.
const (
	KindTarget    = "target"
	KindAlgorithm = "algorithm"
)

// Handshake is shared by the host and every plugin. The cookie is not a
// security measure: it stops a user from running a plugin binary by hand.
var Handshake = plugin.HandshakeConfig{
	MagicCookieKey:   "POT_PLUGIN_MAGIC_COOKIE",
	MagicCookieValue: "6b1f2c1e9a7d4b0f8e3c5a2d7f9b1c4e",
}

// MaxMessageSize bounds one gRPC message in either direction. Large
// tensors travel in chunks of ChunkSize, far below it; the limit is
// raised from gRPC's 4 MiB default so that a big plan or statistics
// answer never hits it.
const MaxMessageSize = 256 << 20

// ChunkSize is the size of the pieces graphs and data travel in.
const ChunkSize = 2 << 20

// ServerOptions are the gRPC options every plugin server uses.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageSize),
		grpc.MaxSendMsgSize(MaxMessageSize),
		grpc.ChainUnaryInterceptor(diagnoseUnary, recoverUnary),
		grpc.ChainStreamInterceptor(diagnoseStream, recoverStream),
	}
}

// CallOptions are the gRPC call options of clients of plugin services.
func CallOptions() []grpc.CallOption {
	return []grpc.CallOption{grpc.MaxCallRecvMsgSize(math.MaxInt32), grpc.MaxCallSendMsgSize(math.MaxInt32)}
}

// NewServer builds a plugin's gRPC server; go-plugin calls it with its own
// options.
func NewServer(opts []grpc.ServerOption) *grpc.Server {
	return grpc.NewServer(append(opts, ServerOptions()...)...)
}
