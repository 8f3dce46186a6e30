#!/usr/bin/env bash
# IPC benchmark, one command: Node fork() parent + Node child (reference),
# Go parent + Go child over kelpie's ipc.Conn, and kelpie's ipc.Conn parent +
# a stock Node child, side by side in the same run. Prints a markdown table
# (medians over -r runs) and the target ratios.
#
# usage: bench/ipc.sh [-p 100000] [-t 1000000] [-r 3] [-warm 1000]
#   quick run: bench/ipc.sh -p 10000 -t 100000 -r 1
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
# Build once instead of `go run`, so compile time stays out of the run.
go build -o "$bin/bench-ipc" ./bench/ipc
"$bin/bench-ipc" "$@"
