#!/usr/bin/env bash
# GUI figures under Xvfb (Mesa's software OpenGL):
#   - start to first frame: launch to the first painted pixels on the X
#     screen, polled with xwd, median of 5 (target: under 1.5 s);
#   - resident memory after a full training round trip driven through the
#     real window (AZS_COURIER_SCREENSHOT=-; target: under 200 MB);
#   - time to put the next code on screen while the animated QR plays.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in Xvfb md5sum; do
  if ! command -v "$tool" >/dev/null; then
    echo "bench-gui: $tool is not installed (make deps installs it); skipped"
    [[ ${CI:-} == true ]] && exit 1
    exit 0
  fi
done
# The screen is grabbed with xwd (x11-apps) or ImageMagick's import.
if command -v xwd >/dev/null; then
  grab() { xwd -display "$display" -root -silent | md5sum; }
  grabber="xwd"
elif command -v import >/dev/null; then
  grab() { import -display "$display" -window root -crop 200x50+0+0 rgb:- | md5sum; }
  grabber="import, ~0.1 s a grab"
else
  echo "bench-gui: neither xwd (x11-apps) nor import (imagemagick) is installed; skipped"
  [[ ${CI:-} == true ]] && exit 1
  exit 0
fi

work=$(mktemp -d)
bin=$work/azs-courier
go build -trimpath -o "$bin" .
xpid=""
apid=""
cleanup() {
  [[ -n $apid ]] && kill "$apid" 2>/dev/null || true
  [[ -n $xpid ]] && kill "$xpid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

Xvfb -displayfd 3 -screen 0 1280x900x24 -nolisten tcp >/dev/null 2>&1 3>"$work/display" &
xpid=$!
for _ in $(seq 100); do [[ -s $work/display ]] && break; sleep 0.05; done
display=":$(tr -d '[:space:]' <"$work/display")"
mkdir -m 700 "$work/xdg"
run_env=(env DISPLAY="$display" XDG_RUNTIME_DIR="$work/xdg" HOME="$work/home" AZS_COURIER_CONFIG_DIR="$work/config")
blank=$(grab)

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
first_frame() {
  rm -rf "$work/home"
  local s e
  s=$(date +%s%N)
  "${run_env[@]}" "$bin" gui >/dev/null 2>&1 &
  apid=$!
  while [[ $(grab) == "$blank" ]]; do
    if (( ($(date +%s%N) - s) > 20000000000 )); then echo 99999; kill "$apid"; wait "$apid" 2>/dev/null || true; apid=""; return; fi
    sleep 0.01
  done
  e=$(date +%s%N)
  kill "$apid"; wait "$apid" 2>/dev/null || true; apid=""
  sleep 0.3
  echo $(( (e - s) / 1000000 ))
}
ff=$(for _ in 1 2 3 4 5; do first_frame; done | median)

rm -rf "$work/home"
timeout 300 "${run_env[@]}" AZS_COURIER_SCREENSHOT=- "$bin" gui 2>"$work/tour.log" >/dev/null || { cat "$work/tour.log"; exit 1; }
get() { grep -o "$1=[0-9.]*" "$work/tour.log" | head -1 | cut -d= -f2; }

printf '%-58s %14s %12s\n' "GUI figure (Xvfb, Mesa llvmpipe)" "measured" "target"
printf '%-58s %11s ms %12s\n' "start to first frame (median of 5, poll: $grabber)" "$ff" "< 1500 ms"
printf '%-58s %11s ms %12s\n' "  of which: process start to Fyne run loop" "$(get run-loop-started-ms)" "-"
printf '%-58s %11s MB %12s\n' "resident memory before any work (run loop started)" "$(get 'rss-mb')" "-"
printf '%-58s %11s MB %12s\n' "resident memory after a full training round trip" "$(get rss-mb-after-round-trip)" "< 200 MB"
printf '%-58s %11s MB %12s\n' "  of which Go heap in use" "$(get go-heap-inuse-mb)" "-"
printf '%-58s %11s s  %12s\n' "training round trip through the window (sim delays 4.5 s)" "$(get round-trip-s)" "-"
printf '%-58s %11s ms %12s\n' "animated QR: next code on screen, mean of 30" "$(get avg)" "-"
printf '%-58s %11s ms %12s\n' "animated QR: next code on screen, worst of 30" "$(get max)" "-"
