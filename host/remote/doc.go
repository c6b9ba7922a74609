// Package remote serves target plugins over the network and connects the
// host to them.
//
// A Server (`pot target serve NAME --listen HOST:PORT`) accepts hosts
// over gRPC with mutual TLS. Each host opens a session (the Remote
// service of proto/pot/v1/remote.proto) and gets a target process of its
// own, started from the server's plugin folders; it then calls the
// ordinary Target service on the same connection with the session's id
// in the "pot-session" metadata key. Sessions share nothing, their
// number is bounded, an idle one is closed, and a stopping server lets
// the calls in flight finish for a grace period.
//
// Dial connects a host to such a server and returns a Target that the
// host uses as it uses a local target process. Errors name the endpoint
// and say, in one line, what failed: a refused certificate, a server
// without TLS, another protocol version, a full server.
//
// Certificates for a small deployment (a CA, server and client
// certificates) come from NewCA and CA.Issue (`pot certs`).
package remote
