#!/usr/bin/env bash
# Regenerates the Go code of proto/ with protoc (Debian protobuf-compiler)
# and the generators pinned in go.mod's tool block.
set -euo pipefail
cd "$(dirname "$0")"
tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
go build -o "$tools/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
go build -o "$tools/protoc-gen-go-grpc" google.golang.org/grpc/cmd/protoc-gen-go-grpc
export PATH="$tools:$PATH"
protoc -I . \
  --go_out=. --go_opt=module=github.com/potgo/pot/proto \
  --go-grpc_out=. --go-grpc_opt=module=github.com/potgo/pot/proto \
  pot/v1/graph.proto pot/v1/target.proto pot/v1/algorithm.proto pot/v1/diagnostic.proto pot/v1/remote.proto
protoc -I . --go_out=. --go_opt=module=github.com/potgo/pot/proto onnx/onnx.proto
