# Adapter for the shared benchmark harness (shared/bench-anchors): lets its
# scripts run kelpie beside the anchors. bench/run.sh installs it as
# adapters/kelpie.sh in a scratch copy of the harness.
# Binary: $KELPIE_BIN. Options (spec "kelpie:OPT", comma-separated): headless,
# logdir (the units' output also kept in files: log_dir: $WORK/logs).
# shellcheck shell=bash

KELPIE_BIN=${KELPIE_BIN:-$(command -v kelpie || echo kelpie)}

adapter_version() { echo "kelpie $("$KELPIE_BIN" version 2>/dev/null | awk '{print $2}')"; }

# adapter_start MODE N CMD: N units p1..pN, each exec'ing CMD's words directly.
adapter_start() {
  local mode=$1 n=$2 cmd=$3 i w restart=${ADAPTER_RESTART:-always} argv=""
  [[ $restart == no ]] && restart=never
  [[ ${ADAPTER_OPT:-} == *headless* ]] && mode=headless
  for w in $cmd; do argv+="${argv:+, }\"$w\""; done
  {
    [[ ${ADAPTER_OPT:-} == *logdir* ]] && echo "log_dir: $WORK/logs"
    echo "processes:"
    for ((i = 1; i <= n; i++)); do
      echo "  p$i:"
      echo "    run: [$argv]"
      echo "    restart: $restart"
    done
  } >"$WORK/kelpie.yaml"
  local args="up -f $WORK/kelpie.yaml --socket $WORK/kelpie.sock"
  if [[ $mode == tui ]]; then
    tmux_start "$KELPIE_BIN $args"
    MGR_PID=$PANE_PID
  else
    setsid "$KELPIE_BIN" $args --headless >/dev/null 2>"$WORK/kelpie.stderr" </dev/null &
    MGR_PID=$!
  fi
  MGR_PIDS="kelpie=$MGR_PID"
  # With logdir the harness also times the last line's arrival in the file.
  [[ ${ADAPTER_OPT:-} == *logdir* ]] && MGR_LOGFILE=$WORK/logs/p1.log
  return 0
}

adapter_stop() {
  [[ -n $MGR_PID ]] && kill -TERM "$MGR_PID" 2>/dev/null
  wait_gone "$MGR_PID" 15 || kill -9 "$MGR_PID" 2>/dev/null
  tmux_stop
}
