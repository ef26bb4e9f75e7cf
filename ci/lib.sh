# shellcheck shell=bash
# ci/lib.sh: set-up shared by ci/test, ci/stride and ci/bench. Sourced, not run.
#
# Installs what is missing, idempotently, and says what it is doing:
#   - Debian packages: Bazel 4.2.3 (bazel-bootstrap) and the rule sets it
#     needs offline, git, and the tools tests call (systemd for
#     systemd-analyze);
#   - Go (Debian's golang-go if no `go` is on PATH);
#   - the pinned Go modules of go.mod (through the Go module proxy);
#   - buildifier, built from the pinned buildtools module.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export ROOT
STRIDE_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/stride
export STRIDE_CACHE

say() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 2; }

# Debian packages the build and the tests need.
APT_PACKAGES=(bazel-bootstrap bazel-skylib bazel-platforms bazel-rules-java git ca-certificates systemd aptly gnupg lintian protobuf-compiler gcc libc6-dev haproxy chromium)

_apt_updated=""
apt_install() {
  local missing=() p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get: install them by hand (this set-up supports Debian bookworm or newer)"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "missing packages ${missing[*]}: run as root or install sudo"
    sudo=sudo
  fi
  say "installing Debian packages: ${missing[*]}"
  if [ -z "$_apt_updated" ]; then
    $sudo apt-get update -qq >&2 || die "apt-get update failed: is Debian's package archive reachable? (check /etc/apt/sources.list and the network)"
    _apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
    die "apt-get install ${missing[*]} failed: is Debian's package archive reachable?"
}

ensure_go() {
  if ! command -v go >/dev/null; then
    say "no go on PATH: installing Debian's golang-go"
    apt_install golang-go
  fi
  command -v go >/dev/null || die "no go on PATH: install Go 1.19 or newer (https://go.dev/doc/install) or Debian's golang-go"
  local v
  v=$(go env GOVERSION)
  case "$v" in
    go1.1[0-8]|go1.1[0-8].*|go1.[0-9]|go1.[0-9].*) die "go is $v; the build needs Go 1.19 or newer on PATH" ;;
  esac
}

ensure_modules() {
  # Offline first: quiet when every module is in the cache already; only
  # a missing module goes to the proxy, and then we say so.
  if (cd "$ROOT" && GOPROXY=off go mod download >/dev/null 2>&1); then
    return 0
  fi
  say "downloading pinned Go modules (go.sum-checked)"
  (cd "$ROOT" && go mod download) ||
    die "go mod download failed: is the Go module proxy reachable? (GOPROXY=$(go env GOPROXY))"
}

# buildifier, built from the buildtools version go.mod pins.
BUILDIFIER=""
ensure_buildifier() {
  local version
  version=$(cd "$ROOT" && go list -m -f '{{.Version}}' github.com/bazelbuild/buildtools)
  BUILDIFIER=$STRIDE_CACHE/bin/buildifier-$version
  if [ ! -x "$BUILDIFIER" ]; then
    say "building buildifier $version"
    mkdir -p "$STRIDE_CACHE/bin"
    (cd "$ROOT" && go build -o "$BUILDIFIER.tmp" github.com/bazelbuild/buildtools/buildifier) &&
      mv "$BUILDIFIER.tmp" "$BUILDIFIER"
  fi
  export BUILDIFIER
}

# protoc-gen-go at go.mod's protobuf version, so the drift test of
# third_party/bazel_proto (generated query-proto bindings) runs.
ensure_protoc_gen_go() {
  local version
  version=$(cd "$ROOT" && go list -m -f '{{.Version}}' google.golang.org/protobuf)
  local dir=$STRIDE_CACHE/protoc-gen-go-$version
  if [ ! -x "$dir/protoc-gen-go" ]; then
    say "installing protoc-gen-go $version"
    GOBIN=$dir GOFLAGS=-mod=mod go install "google.golang.org/protobuf/cmd/protoc-gen-go@$version" ||
      die "go install protoc-gen-go@$version failed: is the Go module proxy reachable?"
  fi
  export PATH=$dir:$PATH
}

# setup installs what is missing; it prints nothing when nothing is.
setup() {
  apt_install "${APT_PACKAGES[@]}"
  ensure_go
  ensure_modules
  ensure_protoc_gen_go
  command -v bazel >/dev/null || die "bazel-bootstrap is installed but no bazel on PATH"
}

# bazel runs Bazel in the repository root; startup options (such as
# --output_base) go in user.bazelrc, which .bazelrc imports.
bazel_in_root() {
  (cd "$ROOT" && bazel "$@")
}
