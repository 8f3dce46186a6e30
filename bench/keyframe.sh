#!/usr/bin/env bash
# Key-to-frame benchmark: from a key press to kelpie's changed screen, with
# -n units each writing -rate lines a second, beside the same key-to-echo
# measurement against a raw `cat` in the same tmux server (the terminal
# pipeline's floor), in one run. Prints a markdown table (medians, p90, max).
#
# usage: bench/keyframe.sh [-n 100] [-r 30] [-rate 1000] [-settle 3s] [-poll control|exec]
#   KELPIE_BIN=a kelpie binary to measure (default: built from this tree)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
command -v tmux >/dev/null || { apt-get update -qq && apt-get install -y -qq tmux >/dev/null; }
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
# Build once instead of `go run`, so compile time stays out of the run.
(cd "$root" && go build -o "$bin/keyframe" ./bench/keyframe)
if [ -z "${KELPIE_BIN:-}" ]; then
  (cd "$root" && go build -o "$bin/kelpie" .)
  export KELPIE_BIN=$bin/kelpie
fi
"$bin/keyframe" "$@"
