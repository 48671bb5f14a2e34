#!/usr/bin/env bash
# Regenerates Sources/Engine/Generated/onnx.pb.swift from proto/onnx/onnx.proto (the onnx
# Python package's own copy). Needs protoc (Debian: protobuf-compiler) and protoc-gen-swift
# from apple/swift-protobuf 1.39.0: build it once with
#   swift build -c release --product protoc-gen-swift   (inside a swift-protobuf checkout)
# and pass its path as PROTOC_GEN_SWIFT.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
plugin="${PROTOC_GEN_SWIFT:?set PROTOC_GEN_SWIFT to the protoc-gen-swift binary}"
protoc --plugin=protoc-gen-swift="$plugin" \
  --swift_opt=Visibility=Internal \
  --swift_out="$root/Sources/Engine/Generated" \
  -I "$root/proto/onnx" onnx.proto
echo "wrote $root/Sources/Engine/Generated/onnx.pb.swift"
