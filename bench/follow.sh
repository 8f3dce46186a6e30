#!/usr/bin/env bash
# `kelpie logs --follow` of a flood into /dev/null: lines per second delivered
# to the follower and the CPU of both kelpie processes (the server, `up
# --headless` to /dev/null, and the client, `logs -F`), for one or more
# kelpie binaries in the same run, median of RUNS runs each. Not part of CI.
#
# usage: bench/follow.sh [BIN...]   (default: a kelpie built from this tree)
#   LINES=1000000 lines in the flood (seq 1 LINES, one write(2) per 4 KiB)
#   RUNS=3        runs per binary
#   LOGBUF=64MiB  the unit's log_buffer: by default the ring holds the whole
#                 flood, so the follower is measured, not the lines it lost
#   CLIENT=0      no `logs -F`: measures `up --headless` alone (the flood's
#                 ingestion and the headless printer), timed by its writes
# e.g. git worktree add /tmp/k-main main && (cd /tmp/k-main && go build -o /tmp/kelpie-before .)
#      bench/follow.sh /tmp/kelpie-before
#
# A run: the server starts the flood unit, which waits for a file; the client
# connects; the file appears; the run ends when the client has written
# nothing for a second. lines/s = (LINES - lines the client was told it
# missed) / (last write - start). CPU is user+system seconds over the run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bins=("$@")
if [ ${#bins[@]} -eq 0 ]; then
  (cd "$root" && go build -o /tmp/kelpie-follow-bench .)
  bins=(/tmp/kelpie-follow-bench)
fi
export LINES=${LINES:-1000000} RUNS=${RUNS:-3} LOGBUF=${LOGBUF:-64MiB} CLIENT=${CLIENT:-1}
exec python3 - "${bins[@]}" <<'EOF'
import os, re, statistics, subprocess, sys, tempfile, time

LINES, RUNS = int(os.environ["LINES"]), int(os.environ["RUNS"])
HZ = os.sysconf("SC_CLK_TCK")

def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / HZ

def wchar(pid):
    for l in open(f"/proc/{pid}/io"):
        if l.startswith("wchar:"):
            return int(l.split()[1])

def run(bin):
    d = tempfile.mkdtemp(prefix="kelpie-follow-")
    sock = os.path.join(d, "k.sock")
    with open(os.path.join(d, "kelpie.yaml"), "w") as f:
        f.write("processes:\n  flood:\n    log_buffer: %s\n    run: \"while [ ! -e go ]; do sleep 0.01; done; seq 1 %d; exec sleep 1000\"\n" % (os.environ["LOGBUF"], LINES))
    null = open(os.devnull, "w")
    srv = subprocess.Popen([bin, "up", "-f", d + "/kelpie.yaml", "--socket", sock, "--headless"],
                           cwd=d, stdout=null, stderr=open(d + "/srv.err", "w"), start_new_session=True)
    deadline = time.time() + 10
    while subprocess.run([bin, "ps", "--socket", sock], stdout=null, stderr=null).returncode != 0:
        if time.time() > deadline:
            sys.exit("server did not start: " + open(d + "/srv.err").read())
        time.sleep(0.05)
    cerr = open(d + "/cli.err", "w")
    cli = srv
    if os.environ["CLIENT"] != "0":
        cli = subprocess.Popen([bin, "logs", "flood", "-F", "-n", "0", "--socket", sock],
                               cwd=d, stdout=null, stderr=cerr)
    time.sleep(0.5)  # let the client connect and settle
    c0s, c0c = cpu(srv.pid), cpu(cli.pid)
    t0 = time.time()
    open(os.path.join(d, "go"), "w").close()
    last, tlast = wchar(cli.pid), t0
    while True:
        time.sleep(0.005)
        w = wchar(cli.pid)
        now = time.time()
        if w != last:
            last, tlast = w, now
        elif now - tlast > 1.0 and last > 0:
            break
    c1s, c1c = cpu(srv.pid), cpu(cli.pid)
    if cli is not srv:
        cli.kill(); cli.wait()
    subprocess.run([bin, "down", "--socket", sock], stdout=null, stderr=null)
    srv.wait(timeout=30)
    missed = sum(int(m) for m in re.findall(r"(\d+) lines of flood dropped", open(d + "/cli.err").read()))
    el = tlast - t0
    return (LINES - missed) / el, el, missed, c1s - c0s, c1c - c0c

print(f"{LINES} lines, log_buffer {os.environ['LOGBUF']}, client {os.environ['CLIENT'] != '0'}, median of {RUNS} runs")
print(f"{'binary':32} {'lines/s':>10} {'elapsed':>8} {'missed':>8} {'srv cpu':>8} {'cli cpu':>8}")
for bin in sys.argv[1:]:
    rs = [run(bin) for _ in range(RUNS)]
    med = [statistics.median(r[i] for r in rs) for i in range(5)]
    print(f"{bin:32} {med[0]:10.0f} {med[1]:7.2f}s {med[2]:8.0f} {med[3]:7.2f}s {med[4]:7.2f}s", flush=True)
    for r in rs:
        print(f"{'':32} {r[0]:10.0f} {r[1]:7.2f}s {r[2]:8.0f} {r[3]:7.2f}s {r[4]:7.2f}s")
EOF
