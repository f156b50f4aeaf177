#!/usr/bin/env bash
# Runs the real OneMap window under a virtual X server (Xvfb) and saves a screenshot.
#
# Usage: scripts/screenshot.sh [--no-build] [--out FILE.png] [--wait SECONDS] [--size WxH]
#                              [--settle SECONDS] [--bin PATH] [-- ONEMAP ARGS...]
#   --no-build     use the existing target/release/onemap instead of `cargo build --release`
#   --out          where to write the PNG (default target/screenshots/onemap.png)
#   --wait         how long to wait for the window to appear (default 60)
#   --settle       how long to let it draw after it appears (default 3)
#   --size         screen size (default 1280x800)
#   --bin          the binary to run (default $CARGO_TARGET_DIR or target, /release/onemap)
# Arguments after `--` (or any argument not listed above) go to onemap. ONEMAP_LANG=zh|en and
# other environment variables pass through to the app.
# Needs: Xvfb (apt xvfb), import (apt imagemagick); xdotool or xwininfo (apt x11-utils) are
# used to see the window appear when installed, else the script waits --settle seconds more.
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
out=target/screenshots/onemap.png
wait_seconds=60
settle_seconds=3
size=1280x800
bin="${CARGO_TARGET_DIR:-target}/release/onemap"
app_args=()
while (($#)); do
  case "$1" in
    --no-build) build=0 ;;
    --out) out="$2"; shift ;;
    --wait) wait_seconds="$2"; shift ;;
    --settle) settle_seconds="$2"; shift ;;
    --size) size="$2"; shift ;;
    --bin) bin="$2"; shift ;;
    --) shift; app_args+=("$@"); break ;;
    *) app_args+=("$1") ;;
  esac
  shift
done

die() { echo "screenshot.sh: $*" >&2; exit 1; }
for tool in Xvfb import; do
  command -v "$tool" >/dev/null 2>&1 ||
    die "'$tool' not found; install it (Debian/Ubuntu: apt-get install xvfb imagemagick)"
done

if ((build)); then
  cargo build --release --quiet --bin onemap || die "cargo build --release failed"
fi
[[ -x "$bin" ]] || die "$bin not found or not executable (build it, or pass --bin)"

# A display number nobody uses: no lock file and no socket.
display=""
for n in $(seq 99 199); do
  if [[ ! -e /tmp/.X$n-lock && ! -e /tmp/.X11-unix/X$n ]]; then display=$n; break; fi
done
[[ -n "$display" ]] || die "no free X display number between :99 and :199"

workdir="$(mktemp -d)"
xvfb_pid=""
app_pid=""
# Ends one of our own children: politely, then for sure after two seconds.
stop() {
  local pid="$1"
  if [[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null; then return 0; fi
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 20); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop "$app_pid"
  stop "$xvfb_pid"
  rm -rf "$workdir"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

Xvfb ":$display" -screen 0 "${size}x24" -nolisten tcp >"$workdir/xvfb.log" 2>&1 &
xvfb_pid=$!
export DISPLAY=":$display"
unset WAYLAND_DISPLAY # the app must use the virtual X server, not the user's Wayland session

for _ in $(seq 1 100); do
  [[ -e /tmp/.X11-unix/X$display ]] && break
  kill -0 "$xvfb_pid" 2>/dev/null || die "Xvfb exited: $(cat "$workdir/xvfb.log")"
  sleep 0.1
done
[[ -e /tmp/.X11-unix/X$display ]] || die "Xvfb did not start on :$display"

# Software OpenGL: Xvfb has no GPU. LIBGL_ALWAYS_SOFTWARE makes Mesa pick llvmpipe.
LIBGL_ALWAYS_SOFTWARE=1 "$bin" "${app_args[@]}" >"$workdir/app.log" 2>&1 &
app_pid=$!

window_exists() {
  if command -v xdotool >/dev/null 2>&1; then
    xdotool search --onlyvisible --pid "$app_pid" >/dev/null 2>&1 ||
      xdotool search --onlyvisible --name 'OneMap|应急' >/dev/null 2>&1
  elif command -v xwininfo >/dev/null 2>&1; then
    xwininfo -root -children 2>/dev/null | grep -q '"[^"]\+"'
  else
    return 1
  fi
}

have_window_probe=0
if command -v xdotool >/dev/null 2>&1 || command -v xwininfo >/dev/null 2>&1; then
  have_window_probe=1
fi
if ((have_window_probe)); then
  deadline=$((SECONDS + wait_seconds))
  until window_exists; do
    kill -0 "$app_pid" 2>/dev/null ||
      die "onemap exited before its window appeared; its output:"$'\n'"$(cat "$workdir/app.log")"
    ((SECONDS < deadline)) ||
      die "no window after ${wait_seconds}s; onemap output:"$'\n'"$(cat "$workdir/app.log")"
    sleep 0.2
  done
else
  # No way to see the window: give it a fixed time to start.
  settle_seconds=$((settle_seconds + 5))
fi
# The pointer starts mid-screen, where it would raise hover tooltips: park it in a corner.
if command -v xdotool >/dev/null 2>&1; then
  xdotool mousemove "$((${size%x*} - 1))" "$((${size#*x} - 1))" >/dev/null 2>&1 || true
fi
sleep "$settle_seconds"
kill -0 "$app_pid" 2>/dev/null ||
  die "onemap exited before the screenshot; its output:"$'\n'"$(cat "$workdir/app.log")"

mkdir -p "$(dirname "$out")"
import -display ":$display" -window root "$out" || die "import failed to capture :$display"
echo "screenshot: $out"
