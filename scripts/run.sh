#!/usr/bin/env bash
# Opens the GUI in training mode. Without a display (a server, a container),
# it says so and starts a virtual one with Xvfb, so the window still opens and
# a screenshot of it is saved for you to look at.
set -euo pipefail
bin=${1:-bin/azs-courier}
if [[ -n "${DISPLAY:-}" || -n "${WAYLAND_DISPLAY:-}" ]]; then
  exec "$bin" gui --training
fi
echo "run: no display found; starting the GUI on a virtual display (Xvfb)."
echo "run: a screenshot is written to test-output/run.png every 5 s; stop with Ctrl-C."
mkdir -p test-output
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
chmod 700 "$XDG_RUNTIME_DIR"
exec xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
  "$0" gui --training & pid=$!
  trap "kill $pid 2>/dev/null; wait $pid" EXIT INT TERM
  while kill -0 $pid 2>/dev/null; do
    sleep 5
    xwd -root -silent 2>/dev/null | convert-im6.q16 xwd:- test-output/run.png 2>/dev/null || true
  done' "$bin"
