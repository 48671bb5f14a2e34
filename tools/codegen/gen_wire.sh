#!/usr/bin/env bash
# Regenerates the wire schema bindings from proto/moeseg/v1/*.proto:
#   Sources/Wire/Generated/*.pb.swift   (public, used by the daemon, `moeseg sub` and tests)
#   tools/client/moeseg/v1/*_pb2.py     (the Python client's module)
# Needs protoc (Debian: protobuf-compiler, 3.21; its Python gencode imports under the pinned
# protobuf runtime in tools/requirements.txt) and protoc-gen-swift from apple/swift-protobuf
# 1.39.0: build it once with
#   swift build -c release --product protoc-gen-swift   (inside a swift-protobuf 1.39.0 checkout)
# and pass its path as PROTOC_GEN_SWIFT. CI never runs this: the output is committed.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
plugin="${PROTOC_GEN_SWIFT:?set PROTOC_GEN_SWIFT to the protoc-gen-swift binary}"
cd "$root"
rm -f Sources/Wire/Generated/*.pb.swift tools/client/moeseg/v1/*_pb2.py
mkdir -p Sources/Wire/Generated tools/client/moeseg/v1
protoc --plugin=protoc-gen-swift="$plugin" \
  --swift_opt=Visibility=Public --swift_opt=FileNaming=DropPath \
  --swift_out=Sources/Wire/Generated \
  -I proto proto/moeseg/v1/*.proto
protoc --python_out=tools/client -I proto proto/moeseg/v1/*.proto
echo "wrote $(ls Sources/Wire/Generated/*.pb.swift tools/client/moeseg/v1/*_pb2.py | wc -l) files"
