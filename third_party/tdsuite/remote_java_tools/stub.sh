#!/bin/sh
echo "stub: remote_java_tools is not available offline" >&2
exit 1
