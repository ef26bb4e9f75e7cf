#!/bin/sh
# Bazel workspace status: stamps binaries built with stamping on (see the
# x_defs of //tools/stride/cmd/stride). STABLE_ keys invalidate stamped
# actions when they change; the others do not.
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
count=$(git rev-list --count HEAD 2>/dev/null || echo 0)
dirty=""
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null | head -1)" ]; then
  dirty="-dirty"
fi
echo "STABLE_GIT_COMMIT ${commit}${dirty}"
echo "STABLE_VERSION 0.${count}.0"
