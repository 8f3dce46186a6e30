#!/usr/bin/env bash
# The attached screen against the local one, in one run (issue 13):
#  1. idle CPU: `kelpie up` (screen and engine in one process) against a
#     detached kelpie plus `kelpie attach`, each showing UNITS idle units in a
#     160x45 tmux pane, measured over IDLE seconds (user+system, /proc);
#  2. a child's output line on the screen: a unit prints its clock
#     (date +%s%N) every 0.3 s; tmux's pane is polled every 2 ms and each new
#     stamp's delay is taken when it first shows (the poll and capture-pane's
#     own time are in the figure: it is an upper bound); median and max of
#     SAMPLES lines, attached and local;
#  3. remote connect time through a throwaway sshd on 127.0.0.1 (its own
#     keys and -F config, as the tests make it): `kelpie ps --host` wall time,
#     and `kelpie attach --host` until the units show, median of CONNECTS,
#     without and with --ssh-control (a ControlMaster, primed once).
# Not part of CI. Needs tmux, sshd (apt-get install openssh-server), ssh-keygen.
#
# usage: bench/attach.sh [BIN]   (default: a kelpie built from this tree)
#   UNITS=20 IDLE=20 SAMPLES=30 CONNECTS=10
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-}
if [ -z "$bin" ]; then
  (cd "$root" && go build -o /tmp/kelpie-attach-bench .)
  bin=/tmp/kelpie-attach-bench
fi
export UNITS=${UNITS:-20} IDLE=${IDLE:-20} SAMPLES=${SAMPLES:-30} CONNECTS=${CONNECTS:-10}
exec python3 - "$bin" <<'EOF'
import getpass, os, re, socket, statistics, subprocess, sys, tempfile, time

BIN = sys.argv[1]
UNITS, IDLE = int(os.environ["UNITS"]), float(os.environ["IDLE"])
SAMPLES, CONNECTS = int(os.environ["SAMPLES"]), int(os.environ["CONNECTS"])
HZ = os.sysconf("SC_CLK_TCK")
tmp = tempfile.mkdtemp(prefix="kab")
TMUX = ["tmux", "-L", "kelpie-attach-bench-%d" % os.getpid()]

def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / HZ

def tmux(*a):
    return subprocess.run(TMUX + list(a), check=True, capture_output=True, text=True).stdout

def pane(argv, env=None):
    e = ["env", "TERM=xterm-256color"] + (env or [])
    tmux("new-session", "-d", "-s", "k", "-x", "160", "-y", "45", "-c", tmp, *e, *argv)
    return int(tmux("display-message", "-p", "-t", "k", "#{pane_pid}").strip())

def capture():
    return tmux("capture-pane", "-p", "-t", "k")

def close_pane():
    subprocess.run(TMUX + ["kill-server"], capture_output=True)

def wait_screen(text, limit=30):
    end = time.time() + limit
    while time.time() < end:
        if text in capture():
            return
        time.sleep(0.005)
    raise SystemExit("the screen never showed %r:\n%s" % (text, capture()))

def kelpie(*a, env=None):
    return subprocess.run([BIN, *a], cwd=tmp, check=True, capture_output=True, text=True,
                          env=dict(os.environ, **(env or {}))).stdout

def config(name, body):
    p = os.path.join(tmp, name)
    open(p, "w").write(body)
    return p

idle_cfg = config("idle.yaml", "processes:\n" + "".join(
    f"  u{i:02d}:\n    run: [\"sleep\", \"100000{i}\"]\n" for i in range(UNITS)))
tick_cfg = config("tick.yaml", "processes:\n  tick:\n    run: \"while :; do date +%s%N; sleep 0.3; done\"\n")

def measure_idle(pids):
    time.sleep(3)  # settle: the first frames, the first stats ticks
    before = sum(cpu(p) for p in pids)
    time.sleep(IDLE)
    return sum(cpu(p) for p in pids) - before

def latencies():
    got, seen = [], set()
    end = time.time() + SAMPLES * 0.3 * 4 + 10
    while len(got) < SAMPLES and time.time() < end:
        scr = capture()
        now = time.time_ns()
        for m in re.findall(r"\b(1\d{18})\b", scr):
            if m not in seen:
                seen.add(m)
                if len(seen) > 3:  # not the history shown on opening
                    got.append((now - int(m)) / 1e6)
        time.sleep(0.002)
    return got

def detach(cfg, sock):
    out = kelpie("up", "--detach", "-f", cfg, "--socket", sock)
    return int(re.search(r"pid (\d+)", out).group(1))

# 1. idle CPU
pid = pane([BIN, "up", "-f", idle_cfg, "--socket", os.path.join(tmp, "l.sock")])
wait_screen("u00")
local = measure_idle([pid])
tmux("send-keys", "-t", "k", "q"); time.sleep(1); close_pane()

sock = os.path.join(tmp, "a.sock")
server = detach(idle_cfg, sock)
client = pane([BIN, "attach", "--socket", sock])
wait_screen("u00")
attached = measure_idle([server, client])
server_only = None
tmux("send-keys", "-t", "k", "q"); time.sleep(0.5); close_pane()
print(f"idle, {UNITS} units, {IDLE:.0f} s: local screen {local:.3f} s CPU ({100*local/IDLE:.2f} %); "
      f"detached kelpie + attached screen {attached:.3f} s ({100*attached/IDLE:.2f} %): {attached/max(local,1e-9):.2f}x")
kelpie("down", "--socket", sock)

# 2. a line's way to the screen
def line_delay(argv, what):
    pane(argv)
    wait_screen("tick")
    got = latencies()
    tmux("send-keys", "-t", "k", "q"); time.sleep(0.5); close_pane()
    print(f"output line on the {what} screen: median {statistics.median(got):.1f} ms, max {max(got):.1f} ms, n={len(got)}")
tsock = os.path.join(tmp, "t.sock")
detach(tick_cfg, tsock)
line_delay([BIN, "attach", "--socket", tsock], "attached")
kelpie("down", "--socket", tsock)
line_delay([BIN, "up", "-f", tick_cfg, "--socket", os.path.join(tmp, "t2.sock")], "local")

# 3. remote connect time over a local sshd
sshd = "/usr/sbin/sshd"
if not os.path.exists(sshd):
    print("no sshd: remote connect time not measured (apt-get install openssh-server)")
    raise SystemExit(0)
d = os.path.join(tmp, "ssh"); os.mkdir(d)
for k in ("host_key", "client_key"):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(d, k)], check=True)
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
open(os.path.join(d, "authorized_keys"), "w").write(open(os.path.join(d, "client_key.pub")).read())
open(os.path.join(d, "known_hosts"), "w").write(f"[127.0.0.1]:{port} " + open(os.path.join(d, "host_key.pub")).read())
open(os.path.join(d, "sshd_config"), "w").write("\n".join([
    f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {d}/host_key", f"AuthorizedKeysFile {d}/authorized_keys",
    f"PidFile {d}/sshd.pid", "StrictModes no", "UsePAM no", "PasswordAuthentication no",
    "KbdInteractiveAuthentication no", "PermitRootLogin prohibit-password", "LogLevel ERROR", ""]))
open(os.path.join(d, "ssh_config"), "w").write("\n".join([
    "Host kelpie-bench", "  HostName 127.0.0.1", f"  Port {port}", f"  User {getpass.getuser()}",
    f"  IdentityFile {d}/client_key", "  IdentitiesOnly yes", "  IdentityAgent none",
    f"  UserKnownHostsFile {d}/known_hosts", "  GlobalKnownHostsFile /dev/null", "  BatchMode yes", "  LogLevel ERROR", ""]))
os.makedirs("/run/sshd", exist_ok=True)
srv = subprocess.Popen([sshd, "-D", "-E", f"{d}/sshd.log", "-f", f"{d}/sshd_config"])
run = os.path.join(d, "run"); os.mkdir(run, 0o700)
env = {"KELPIE_SSH_COMMAND": f"ssh -F {d}/ssh_config", "KELPIE_REMOTE_COMMAND": BIN, "XDG_RUNTIME_DIR": run}
try:
    for _ in range(500):
        try:
            socket.create_connection(("127.0.0.1", port)).close(); break
        except OSError:
            time.sleep(0.01)
    rsock = os.path.join(tmp, "r.sock")
    detach(idle_cfg, rsock)
    host = ["--host", "ssh://kelpie-bench", "--socket", rsock]
    def ps_times(extra):
        t = []
        for _ in range(CONNECTS):
            t0 = time.time(); kelpie("ps", *host, *extra, env=env); t.append((time.time() - t0) * 1000)
        return t
    def attach_times(extra):
        t = []
        for _ in range(CONNECTS):
            t0 = time.time()
            pane(["env", *(f"{k}={v}" for k, v in env.items()), BIN, "attach", *host, *extra])
            wait_screen("u00")
            t.append((time.time() - t0) * 1000)
            tmux("send-keys", "-t", "k", "q"); time.sleep(0.3); close_pane()
        return t
    def ssh_times(extra):
        t = []
        for _ in range(CONNECTS):
            t0 = time.time()
            subprocess.run(["ssh", "-F", f"{d}/ssh_config", "-T", *extra, "kelpie-bench", "true"], check=True)
            t.append((time.time() - t0) * 1000)
        return t
    ctl = ["-o", "ControlMaster=auto", "-o", f"ControlPath={run}/kelpie/ssh-%C", "-o", "ControlPersist=10m"]
    plain_ssh = ssh_times([])
    plain_ps, plain_attach = ps_times([]), attach_times([])
    kelpie("ps", *host, "--ssh-control", env=env)  # starts the master
    ctl_ps, ctl_attach = ps_times(["--ssh-control"]), attach_times(["--ssh-control"])
    ctl_ssh = ssh_times(ctl)
    med = statistics.median
    print(f"baseline `ssh HOST true`, median of {CONNECTS}: "
          f"{med(plain_ssh):.0f} ms without a ControlMaster, {med(ctl_ssh):.0f} ms with one")
    print(f"remote `kelpie ps --host` (connect + one request), median of {CONNECTS}: "
          f"{med(plain_ps):.0f} ms without a ControlMaster, {med(ctl_ps):.0f} ms with one")
    print(f"remote `kelpie attach --host` until the units show, median of {CONNECTS}: "
          f"{med(plain_attach):.0f} ms without a ControlMaster, {med(ctl_attach):.0f} ms with one")
    kelpie("down", "--socket", rsock)
finally:
    subprocess.run(["ssh", "-F", f"{d}/ssh_config", "-o", f"ControlPath={run}/kelpie/ssh-%C", "-O", "exit", "kelpie-bench"],
                   capture_output=True)
    srv.terminate(); srv.wait()
    close_pane()
EOF
