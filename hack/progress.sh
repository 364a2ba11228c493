#!/usr/bin/env bash
# Usage: hack/progress.sh WHAT COMMAND [ARG...]
# Runs COMMAND and, while it runs, says on stderr every 20 s that it is still WHAT, so that
# no step that can take minutes (a tool's first build, a release build) goes quiet. Exits
# with COMMAND's status.
set -uo pipefail
what=$1
shift
"$@" &
pid=$!
started=$SECONDS
(
  while sleep 20; do
    kill -0 "$pid" 2>/dev/null || exit 0
    echo "  still $what ($((SECONDS - started)) s so far)..." >&2
  done
) &
ticker=$!
wait "$pid"
status=$?
kill "$ticker" 2>/dev/null
wait "$ticker" 2>/dev/null
exit $status
