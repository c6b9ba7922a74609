// Package plugins is pot's plugin transport: the go-plugin handshake and
// plugin sets, the gRPC adapters between the Go interfaces Target,
// Algorithm and Host and the pot.v1 services, chunked transfer of graphs
// and data, discovery of plugin binaries and their checksums.
//
// It is internal: plugin authors cannot import it (the compiler says
// so), package sdk re-exports what they need and hides go-plugin and
// gRPC.
package plugins
