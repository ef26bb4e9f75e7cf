#!/bin/sh
# deb_test.sh DEB PACKAGE FILE...: checks a .deb built by deb_package.
# - dpkg-deb -I: the control file names the package, version, architecture,
#   maintainer and description;
# - dpkg-deb -c: every FILE is in the package, owned by root;
# - systemd-analyze verify on each unit, when systemd-analyze is installed.
set -eu
deb=$1
pkg=$2
shift 2
fail() { echo "FAIL: $deb: $*" >&2; exit 1; }

info=$(dpkg-deb -I "$deb") || fail "dpkg-deb -I failed"
for field in "Package: $pkg" "Version: " "Architecture: " "Maintainer: " "Description: "; do
  printf '%s\n' "$info" | grep -q "^ $field" || fail "control lacks '$field'"
done
contents=$(dpkg-deb -c "$deb") || fail "dpkg-deb -c failed"
for f in "$@"; do
  case "$f" in -*) continue ;; esac # flags Bazel passes to every test (--test_arg)
  printf '%s\n' "$contents" | grep -q " \./$f\$" || fail "missing ./$f; contents:
$contents"
done
if printf '%s\n' "$contents" | grep -v ' root/root ' | grep -q .; then
  fail "files not owned by root/root"
fi

if command -v systemd-analyze >/dev/null 2>&1; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  dpkg-deb -x "$deb" "$tmp/root"
  mkdir -p "$tmp/units"
  for unit in "$tmp"/root/lib/systemd/system/*.service; do
    [ -e "$unit" ] || continue
    name=$(basename "$unit")
    # Point Exec*= at the extracted binaries, so verify checks them too.
    sed -E "s|^(Exec[A-Za-z]*=[-@:+!]*)/|\1$tmp/root/|" "$unit" > "$tmp/units/$name"
    out=$(cd "$tmp/units" && systemd-analyze verify "./$name" 2>&1 | grep -v 'sysinit.target' || true)
    [ -z "$out" ] || fail "systemd-analyze verify $name:
$out"
    echo "systemd-analyze verify $name: ok"
  done
else
  echo "systemd-analyze not installed: unit verification skipped"
fi
echo "PASS: $deb ($pkg)"
