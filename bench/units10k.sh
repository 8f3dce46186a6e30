#!/usr/bin/env bash
# Runs N units (default 10,000; `sleep` via argv, no shell) under one headless
# kelpie and reports: time until all are running, kelpie's threads, RSS and
# descriptors then, time until `kelpie down` has stopped them all, and whether
# anything is left. Not part of CI: it starts 10,000 processes.
#
# usage: bench/units10k.sh [N]     (KELPIE_BIN=a kelpie binary; default: built from this tree)
set -euo pipefail
n=${1:-10000}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Every unit holds two pipe read ends in kelpie; the children keep the limit
# they inherit (Go restores the original soft limit for them).
need=$((2 * n + 1024))
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$need" ]; then
  # Raising the hard limit takes CAP_SYS_RESOURCE. Without it the units
  # that find no descriptor fail to start (and say so): kelpie carries on.
  ulimit -Hn "$need" 2>/dev/null ||
    echo "warning: hard RLIMIT_NOFILE is $(ulimit -Hn) < $need and cannot be raised: some units will fail to start" >&2
fi
ulimit -Sn "$(ulimit -Hn)"
for f in /proc/sys/kernel/pid_max /proc/sys/kernel/threads-max; do
  [ "$(cat $f)" -ge $((n + 2000)) ] || { echo "$f is $(cat $f), want at least $((n + 2000))" >&2; exit 2; }
done
if [ "$(ulimit -u)" != unlimited ] && [ "$(ulimit -u)" -lt $((n + 2000)) ]; then
  ulimit -u $((n + 2000)) || { echo "ulimit -u too low" >&2; exit 2; }
fi

kelpie=${KELPIE_BIN:-}
if [ -z "$kelpie" ]; then
  (cd "$root" && go build -o "$work/kelpie" .)
  kelpie=$work/kelpie
fi
# A duration no other process uses, so leftovers can be counted exactly.
dur=3600.$$
{
  echo "processes:"
  for i in $(seq 1 "$n"); do printf '  u%d:\n    run: ["sleep", "%s"]\n    restart: never\n' "$i" "$dur"; done
} > "$work/kelpie.yaml"
sock=$work/kelpie.sock
now() { date +%s.%N; }
count() { "$kelpie" ps --json --socket "$sock" 2>/dev/null | grep -c "\"state\": \"$1\"" || true; }

t0=$(now)
"$kelpie" up --headless -f "$work/kelpie.yaml" --socket "$sock" > /dev/null 2> "$work/err.log" &
kpid=$!
# Settled: every unit running, or failed to start (crashed).
until [ $(($(count running) + $(count crashed))) -eq "$n" ]; do
  kill -0 $kpid 2>/dev/null || { echo "kelpie died:" >&2; tail "$work/err.log" >&2; exit 1; }
  [ "$(echo "$(now) - $t0 > 600" | bc)" = 1 ] && { echo "not all running after 600 s: $(count running)" >&2; exit 1; }
  sleep 0.5
done
t1=$(now)
running=$(count running)
failed=$("$kelpie" ps --socket "$sock" 2>/dev/null | grep -m1 crashed || true)
threads=$(ls /proc/$kpid/task | wc -l)
fds=$(ls /proc/$kpid/fd | wc -l)
rss=$(awk '/VmRSS/ {print $2}' /proc/$kpid/status)
sleeps=$(pgrep -cxf "sleep $dur" || true)
sleep 5 # steady state: a few stats ticks
cpu0=$(awk '{print $14 + $15}' /proc/$kpid/stat)
sleep 10
cpu1=$(awk '{print $14 + $15}' /proc/$kpid/stat)
rss2=$(awk '/VmRSS/ {print $2}' /proc/$kpid/status)
hwm=$(awk '/VmHWM/ {print $2}' /proc/$kpid/status)
t2=$(now)
"$kelpie" down --socket "$sock" > /dev/null
while kill -0 $kpid 2>/dev/null; do sleep 0.1; done
t3=$(now)
left=$(pgrep -cxf "sleep $dur" || true)
tck=$(getconf CLK_TCK)
printf 'units %d: %d running (%d sleep processes), %d failed to start, after %.1f s\n' \
  "$n" "$running" "$sleeps" $((n - running)) "$(echo "$t1 - $t0" | bc)"
[ -z "$failed" ] || echo "  e.g. $failed"
printf 'kelpie then: %d threads, %d descriptors, RSS %.1f MiB (after 15 s: %.1f MiB, peak %.1f MiB)\n' \
  "$threads" "$fds" "$(echo "$rss / 1024" | bc -l)" "$(echo "$rss2 / 1024" | bc -l)" "$(echo "$hwm / 1024" | bc -l)"
printf 'kelpie CPU while all idle: %.1f%% of one core\n' "$(echo "($cpu1 - $cpu0) * 100 / $tck / 10" | bc -l)"
printf 'down: all stopped and kelpie gone after %.1f s; left behind: %d\n' "$(echo "$t3 - $t2" | bc)" "$left"
[ "$left" -eq 0 ]
