#!/usr/bin/env bash
# Makes docs/screen.png, the README's screenshot: the built-in demo in tmux,
# captured with its colours, drawn as HTML in a font that has every glyph
# kelpie uses (✔ ↺ ‖ ▌ ▸), and photographed by headless Chromium.
#
# usage: docs/screenshot.sh [OUT.png]   (default docs/screen.png)
# Needs tmux, python3 and chromium (apt-get install -y tmux chromium
# fonts-dejavu-core); it installs tmux and chromium with apt-get as root.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$root/docs/screen.png}")
for p in tmux chromium; do
  command -v $p >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $p fonts-dejavu-core >/dev/null; }
done
work=$(mktemp -d)
trap 'tmux -L shot kill-server 2>/dev/null || true; rm -rf "$work"' EXIT
(cd "$root" && go build -o "$work/kelpie" .)
cols=128 rows=34
cd "$work" # no kelpie.yaml here: the built-in demo
tmux -L shot new-session -d -s shot -x $cols -y $rows "PATH=$work:\$PATH kelpie"
sleep 6 # let the flaky service crash twice and the sparklines fill a little
tmux -L shot send-keys -t shot Down Down
sleep 1.5
tmux -L shot capture-pane -e -p -t shot >"$work/screen.ans"
tmux -L shot send-keys -t shot q
sleep 1

python3 - "$work/screen.ans" "$work/screen.html" $cols <<'EOF'
import html, re, sys
src, dst, cols = sys.argv[1], sys.argv[2], int(sys.argv[3])
base = ["#282a36", "#ff5555", "#50fa7b", "#f1fa8c", "#bd93f9", "#ff79c6", "#8be9fd", "#bfbfbf",
        "#6272a4", "#ff6e6e", "#69ff94", "#ffffa5", "#d6acff", "#ff92df", "#a4ffff", "#ffffff"]
def c256(n):
    if n < 16: return base[n]
    if n < 232:
        n -= 16; v = [0, 95, 135, 175, 215, 255]
        return "#%02x%02x%02x" % (v[n // 36], v[n // 6 % 6], v[n % 6])
    g = 8 + 10 * (n - 232); return "#%02x%02x%02x" % (g, g, g)
fg0, bg0 = "#f8f8f2", "#1e1f29"
rows = []
for line in open(src, encoding="utf-8", errors="replace").read().split("\n"):
    st = {"fg": None, "bg": None, "b": False, "d": False, "r": False}
    out, pos = [], 0
    def span(text):
        if not text: return
        fg, bg = st["fg"] or fg0, st["bg"]
        if st["r"]: fg, bg = (bg or bg0), fg
        css = "color:%s;" % fg + ("background:%s;" % bg if bg else "")
        css += "font-weight:bold;" if st["b"] else ""
        css += "opacity:.6;" if st["d"] else ""
        out.append('<span style="%s">%s</span>' % (css, html.escape(text)))
    for m in re.finditer(r"\x1b\[([0-9;:]*)m", line):
        span(line[pos:m.start()]); pos = m.end()
        ps = [int(x or 0) for x in re.split("[;:]", m.group(1))] or [0]
        i = 0
        while i < len(ps):
            p = ps[i]
            if p == 0: st.update(fg=None, bg=None, b=False, d=False, r=False)
            elif p == 1: st["b"] = True
            elif p == 2: st["d"] = True
            elif p == 7: st["r"] = True
            elif p == 22: st["b"] = st["d"] = False
            elif p == 27: st["r"] = False
            elif 30 <= p <= 37: st["fg"] = base[p - 30]
            elif 90 <= p <= 97: st["fg"] = base[p - 90 + 8]
            elif 40 <= p <= 47: st["bg"] = base[p - 40]
            elif 100 <= p <= 107: st["bg"] = base[p - 100 + 8]
            elif p == 39: st["fg"] = None
            elif p == 49: st["bg"] = None
            elif p in (38, 48) and i + 1 < len(ps):
                key = "fg" if p == 38 else "bg"
                if ps[i + 1] == 5 and i + 2 < len(ps): st[key] = c256(ps[i + 2]); i += 2
                elif ps[i + 1] == 2 and i + 4 < len(ps): st[key] = "#%02x%02x%02x" % tuple(ps[i + 2:i + 5]); i += 4
            i += 1
    span(line[pos:])
    rows.append("".join(out))
page = """<!doctype html><meta charset="utf-8"><style>
body{margin:0;background:%s}
.win{margin:0;padding:18px 22px;background:%s;border-radius:10px}
.bar span{display:inline-block;width:12px;height:12px;border-radius:6px;margin-right:8px}
pre{margin:10px 0 0;font:15px/1.25 'DejaVu Sans Mono',monospace;color:%s;white-space:pre}
</style><div class="win"><div class="bar"><span style="background:#ff5f56"></span><span style="background:#ffbd2e"></span><span style="background:#27c93f"></span></div><pre>%s</pre></div>""" % (bg0, bg0, fg0, "\n".join(rows))
open(dst, "w", encoding="utf-8").write(page)
EOF

w=$((cols * 9 + 60)) h=$((rows * 19 + 80))
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$work/chrome" --hide-scrollbars --force-device-scale-factor=2 \
  --window-size=$w,$h --screenshot="$out" "file://$work/screen.html" 2>/dev/null
echo "wrote $out"
