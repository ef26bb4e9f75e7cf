#!/bin/sh
# Regenerates build/build.pb.go from build.proto (Bazel's query proto, copied
# verbatim from Bazel 4.2.3: /usr/share/bazel/embedded_tools/src/main/protobuf/
# in Debian's bazel-bootstrap). Needs protoc (Debian: protobuf-compiler) and
# protoc-gen-go at the google.golang.org/protobuf version in go.mod:
#   GOFLAGS=-mod=mod go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.31.0
# build/regen_test.go fails when the checked-in file drifts from this output.
set -eu
cd "$(dirname "$0")"
out=${1:-build}
protoc --proto_path=. \
  --go_out="$out" \
  --go_opt=paths=source_relative \
  --go_opt=Mbuild.proto=github.com/strideci/monorepo/third_party/bazel_proto/build \
  build.proto
