#!/usr/bin/env bash
# The test suite, as README.md gives it: installs what the tests need when
# missing (tmux, node, htop and vim for the end-to-end tests, a C compiler
# for -race), then runs every Go test under the race detector.
set -euo pipefail
cd "$(dirname "$0")"
need=()
command -v tmux >/dev/null 2>&1 || need+=(tmux)
command -v node >/dev/null 2>&1 || need+=(nodejs)
# tty units: htop, vim and a shell driven through the screen (issue 12).
command -v htop >/dev/null 2>&1 || need+=(htop)
command -v vim >/dev/null 2>&1 || need+=(vim)
# go test -race needs cgo, so a C compiler.
command -v "$(go env CC 2>/dev/null || echo gcc)" >/dev/null 2>&1 || need+=(gcc libc6-dev)
if ((${#need[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "test.sh: ${need[*]} missing; the tests that need them will be skipped" >&2
  fi
fi
exec go test -race -count=1 "$@" ./...
