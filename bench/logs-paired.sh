#!/usr/bin/env bash
# Log ingestion with log_dir:, paired with `| cat > file` rep by rep, with
# nothing beside the runs. bench_logs.sh (the shared harness, the figure of
# record) watches the manager while its child runs (an awk on /proc and a
# sleep every 50 ms, a tracker every 100 ms) and not its `| cat > file`
# baseline; this is the same measure without the watchers, as a second
# view. Per rep: `| cat > file`, then each kelpie headless and in a tmux
# TUI, its unit started with kelpie (as the harness does). It prints the
# median of the per-rep ratios: the child's wall over the same rep's
# `| cat > file`.
#
# usage: bench/logs-paired.sh [REPS]   (default 15)
#   BASE=a git revision: also measure kelpie built at BASE, as kelpie-base
#   HARNESS=path to bench-anchors (for its benchtool writer)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
harness=${HARNESS:-$root/../shared/bench-anchors}
reps=${1:-15}
command -v tmux >/dev/null || { apt-get update -qq && apt-get install -y -qq tmux >/dev/null; }
work=$(mktemp -d)
trap 'tmux kill-session -t kelpie-paired 2>/dev/null || true; rm -rf "$work"' EXIT
bt=$work/benchtool
(cd "$harness/tools" && go build -o "$bt" .)
(cd "$root" && go build -o "$work/kelpie" .)
bins=("$work/kelpie")
if [ -n "${BASE:-}" ]; then
  git -C "$root" worktree add -q --detach "$work/base" "$BASE"
  (cd "$work/base" && go build -o "$work/kelpie-base" .)
  git -C "$root" worktree remove --force "$work/base"
  bins+=("$work/kelpie-base")
fi

wall() { awk -F= '/elapsed/{print $2}' "$1"; }
flood() { "$bt" writer -n 1000000 -size 100 -mode buf -result "$1"; }
cat_run() { flood "$work/r" | cat >"$work/out.log"; wall "$work/r"; rm -f "$work/out.log" "$work/r"; sync; sleep 0.3; }
kelpie_run() { # BIN MODE
  rm -rf "$work/logs" "$work/res"
  printf 'log_dir: %s/logs\nprocesses:\n  p1:\n    run: ["%s", "writer", "-n", "1000000", "-size", "100", "-mode", "buf", "-result", "%s/res"]\n    restart: never\n' \
    "$work" "$bt" "$work" >"$work/k.yaml"
  local pid=""
  if [ "$2" = tui ]; then
    tmux new-session -d -s kelpie-paired -x 120 -y 34 "$1 up -f $work/k.yaml --socket $work/s.sock"
  else
    "$1" up -f "$work/k.yaml" --headless --socket "$work/s.sock" >/dev/null 2>&1 &
    pid=$!
  fi
  for _ in $(seq 1 1500); do [ -f "$work/res" ] && break; sleep 0.02; done
  sleep 0.2
  if [ "$2" = tui ]; then tmux kill-session -t kelpie-paired; else kill -INT "$pid"; wait "$pid" || true; fi
  wall "$work/res"
  rm -rf "$work/logs"; sync; sleep 0.3
}

declare -A ratios
for ((i = 1; i <= reps; i++)); do
  c=$(cat_run)
  for b in "${bins[@]}"; do
    for mode in headless tui; do
      k=$(kelpie_run "$b" $mode)
      ratios["$(basename "$b") $mode"]+="$(awk -v k="$k" -v c="$c" 'BEGIN{print k/c}') "
    done
  done
  echo "rep $i/$reps: | cat > file $c s" >&2
done
for key in "${!ratios[@]}"; do
  printf '%s\n' ${ratios[$key]} | sort -n |
    awk -v key="$key" '{a[NR]=$1} END{printf "%-32s median %.3f [%.2f-%.2f] of %d\n", key, a[int((NR+1)/2)], a[1], a[NR], NR}'
done | sort
