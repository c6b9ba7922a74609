#!/bin/sh
# Generates the Python stubs of pot's protocol (proto/pot/v1) and of the
# go-plugin broker into gen/ beside this script. Needs Debian's
# python3-grpc-tools (and python3-grpcio, python3-protobuf to run).
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../../.."
out="${1:-$here/gen}"
mkdir -p "$out"
/usr/bin/python3 -m grpc_tools.protoc -I "$root/proto" -I "$here" \
  --python_out="$out" --grpc_python_out="$out" \
  pot/v1/graph.proto pot/v1/target.proto pot/v1/algorithm.proto plugin_broker.proto
touch "$out/pot/__init__.py" "$out/pot/v1/__init__.py"
