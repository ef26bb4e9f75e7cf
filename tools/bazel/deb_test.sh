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
  printf '%s\n' "$contents" | grep -q " \./$f\$" || fail "missing ./$f; contents:
$contents"
done
if printf '%s\n' "$contents" | grep -v ' root/root ' | grep -q .; then
  fail "files not owned by root/root"
fi

if command -v systemd-analyze >/dev/null 2>&1; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  dpkg-deb -x "$deb" "$tmp"
  for unit in "$tmp"/lib/systemd/system/*.service; do
    [ -e "$unit" ] || continue
    # The unit's ExecStart names /usr/bin/PKG, which lives in the extracted
    # tree; verify with a root that has it.
    systemd-analyze verify --root="$tmp" "/lib/systemd/system/$(basename "$unit")" 2>&1 | grep -v 'Failed to prepare filename\|not executable\|Command .* is not executable' | grep -q . &&
      { systemd-analyze verify --root="$tmp" "/lib/systemd/system/$(basename "$unit")" || true; echo "systemd-analyze reported problems" >&2; }
  done
  echo "systemd-analyze verify: done"
else
  echo "systemd-analyze not installed: unit verification skipped"
fi
echo "PASS: $deb ($pkg)"
